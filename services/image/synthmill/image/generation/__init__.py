"""Making images: the diffusers pipeline loader, the batch engine, schedulers, prompt embeddings and PNG."""
