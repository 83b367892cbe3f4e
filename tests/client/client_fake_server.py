"""A stand-in server for Stack tests: grpc.health.v1 on `SYNTHMILL_<KIND>_PORT`, SERVING at once.

It remains only for a child dying while loading, on cue and without a torch import: FAKE_DIE_EARLY=<kind>
makes that kind exit with code 4 before it serves. Everything else the Stack tests use real servers for.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc


def main() -> int:
    kind = next(k for k in ("text", "image", "gateway") if f"SYNTHMILL_{k.upper()}_PORT" in os.environ)
    port = os.environ[f"SYNTHMILL_{kind.upper()}_PORT"]
    if os.environ.get("FAKE_DIE_EARLY") == kind:
        return 4
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    stop.wait()
    server.stop(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
