"""`python -m synthmill.common.probe [--tls-ca PEM [--tls-cert PEM --tls-key PEM]] HOST:PORT`: exits
0 when the server's grpc.health.v1 status is SERVING, 1 otherwise. Used by container health checks
(like grpc_health_probe); the TLS flags reach servers that serve TLS or mutual TLS."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from synthmill.common.tls import channel_credentials, sync_channel


def is_serving(target: str, timeout: float = 3.0, credentials: grpc.ChannelCredentials | None = None) -> bool:
    with sync_channel(target, credentials) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout
            )
        except grpc.RpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synthmill.common.probe")
    parser.add_argument("--tls-ca", type=Path, help="CA of the server's certificate")
    parser.add_argument("--tls-cert", type=Path, help="client certificate, for servers with mutual TLS")
    parser.add_argument("--tls-key", type=Path, help="its private key")
    parser.add_argument("target", nargs="?", default="localhost:50051")
    args = parser.parse_args(argv)
    credentials = channel_credentials(args.tls_ca, args.tls_cert, args.tls_key, prefix="--")
    return 0 if is_serving(args.target, credentials=credentials) else 1


if __name__ == "__main__":
    sys.exit(main())
