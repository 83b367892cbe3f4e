"""The gateway: durable dataset jobs over the text and image inference servers (no torch)."""
