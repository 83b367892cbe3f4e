"""`python -m synthmill.common.probe HOST:PORT`: exits 0 when the server's grpc.health.v1
status is SERVING, 1 otherwise. Used by container health checks (like grpc_health_probe)."""

from __future__ import annotations

import sys

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


if __name__ == "__main__":
    sys.exit(0 if is_serving(sys.argv[1] if len(sys.argv) > 1 else "localhost:50051") else 1)
