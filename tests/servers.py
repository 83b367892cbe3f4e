"""Real server processes on free loopback ports, for the tests and the benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from synthmill.common.tls import sync_channel

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_serving(
    target: str,
    proc: subprocess.Popen | None = None,
    timeout: float = 300.0,
    credentials: grpc.ChannelCredentials | None = None,
) -> None:
    """Blocks until the grpc.health.v1 status of `target` is SERVING (over TLS with `credentials`)."""
    deadline = time.monotonic() + timeout
    with sync_channel(target, credentials) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"server for {target} exited with {proc.returncode}")
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.2)
    raise TimeoutError(f"{target} not SERVING after {timeout}s")


class ServerProcess:
    """A real `python -m synthmill.KIND` server process on a loopback port, configured by env."""

    def __init__(self, kind: str, env: dict[str, str], log_path: Path, args: list[str] | None = None):
        self.kind = kind
        self.port = free_port()
        self.target = f"127.0.0.1:{self.port}"
        prefix = f"SYNTHMILL_{kind.upper()}_"
        self.env = {**os.environ, f"{prefix}HOST": "127.0.0.1", f"{prefix}PORT": str(self.port), **env}
        self.log_path = log_path
        self.args = args or []
        self.proc: subprocess.Popen | None = None

    def start(self, wait: bool = True) -> ServerProcess:
        cmd = [sys.executable, "-m", f"synthmill.{self.kind}", *self.args]
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        if wait:
            try:
                wait_serving(self.target, self.proc)
            except Exception:
                print(self.log_path.read_text()[-4000:])
                raise
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None
