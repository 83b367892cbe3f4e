"""The HTTP face of synthmill: seed 003's REST API, the A1111 `/sdapi/v1` subset, SSE progress, job
files and the `/ui` page. A torch-free client of the Gateway gRPC API; it keeps no jobs of its own."""
