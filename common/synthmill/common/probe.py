"""`python -m synthmill.common.probe [--http] HOST:PORT`: exits 0 when the server's grpc.health.v1
status is SERVING (with `--http`: when the HTTP service answers `GET /` with 200), 1 otherwise. Used by
container health checks (like grpc_health_probe) and by the local stack launcher."""

from __future__ import annotations

import sys
import urllib.request

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def is_serving(target: str, timeout: float = 3.0) -> bool:
    with grpc.insecure_channel(target) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout
            )
        except grpc.RpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def answers_http(target: str, timeout: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://{target}/", timeout=timeout) as reply:
            return reply.status == 200
    except OSError:
        return False


if __name__ == "__main__":
    args = sys.argv[1:]
    check = answers_http if args[:1] == ["--http"] else is_serving
    args = [a for a in args if a != "--http"]
    sys.exit(0 if check(args[0] if args else "localhost:50051") else 1)
