"""`python -m synthmill.common.probe [--http] [--tls-ca PEM [--tls-cert PEM --tls-key PEM]] HOST:PORT`:
exits 0 when the server's grpc.health.v1 status is SERVING (with `--http`: when the HTTP service answers
`GET /` with 200), 1 otherwise. Used by container health checks (like grpc_health_probe) and by the local
stack launcher; the TLS flags reach servers that serve TLS or mutual TLS."""

from __future__ import annotations

import argparse
import ssl
import sys
import urllib.request
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


def answers_http(target: str, timeout: float = 3.0, ca: Path | None = None) -> bool:
    """`GET /` answers 200: over HTTPS, verified against `ca`, when `ca` is given."""
    context = ssl.create_default_context(cafile=str(ca)) if ca else None
    url = f"{'https' if ca else 'http'}://{target}/"
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as reply:
            return reply.status == 200
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synthmill.common.probe")
    parser.add_argument("--tls-ca", type=Path, help="CA of the server's certificate")
    parser.add_argument("--tls-cert", type=Path, help="client certificate, for servers with mutual TLS")
    parser.add_argument("--tls-key", type=Path, help="its private key")
    parser.add_argument("--http", action="store_true", help="the HTTP service: GET / answers 200")
    parser.add_argument("target", nargs="?", default="localhost:50051")
    args = parser.parse_args(argv)
    if args.http:
        return 0 if answers_http(args.target, ca=args.tls_ca) else 1
    credentials = channel_credentials(args.tls_ca, args.tls_cert, args.tls_key, prefix="--")
    return 0 if is_serving(args.target, credentials=credentials) else 1


if __name__ == "__main__":
    sys.exit(main())
