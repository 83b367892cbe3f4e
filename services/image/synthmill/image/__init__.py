"""The image inference server: Stable Diffusion-family txt2img over gRPC, with dynamic batching."""
