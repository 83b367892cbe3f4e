"""The image server process: gRPC servicer, dynamic batcher, settings and metrics (no torch here)."""
