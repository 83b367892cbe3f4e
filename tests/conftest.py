"""Fixtures shared by every test: free loopback ports and real server processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_serving(target: str, proc: subprocess.Popen | None = None, timeout: float = 300.0) -> None:
    """Blocks until the grpc.health.v1 status of `target` is SERVING."""
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(target) as channel:
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


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator:
    """Starts real servers; every one is stopped at the end of the test."""
    started: list[ServerProcess] = []

    def start(kind: str, env: dict[str, str] | None = None, args: list[str] | None = None, wait: bool = True):
        server = ServerProcess(kind, env or {}, tmp_path / f"{kind}-{len(started)}.log", args)
        started.append(server)
        return server.start(wait=wait)

    yield start
    for server in started:
        server.stop()


@dataclass
class Upstreams:
    """Text and image servers on the fast random-weight models, shared by a test session."""

    text: ServerProcess
    image: ServerProcess


@pytest.fixture(scope="session")
def tiny_upstreams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstreams]:
    logs = tmp_path_factory.mktemp("upstream-logs")
    text = ServerProcess("text", {"SYNTHMILL_TEXT_MODEL": "tiny-llama"}, logs / "text.log")
    image = ServerProcess("image", {"SYNTHMILL_IMAGE_MODELS": "tiny-sd"}, logs / "image.log")
    text.start(wait=False)
    image.start(wait=False)
    try:
        for server in (text, image):
            wait_serving(server.target, server.proc)
        yield Upstreams(text, image)
    finally:
        text.stop()
        image.stop()


@pytest.fixture
def gateway_factory(server_factory, tiny_upstreams: Upstreams, tmp_path: Path):
    """Starts a real gateway over the shared tiny servers; returns (server, output_dir)."""

    def start(env: dict[str, str] | None = None, output_dir: Path | None = None, wait: bool = True):
        output_dir = output_dir or tmp_path / "out"
        env = {
            "SYNTHMILL_GATEWAY_TEXT_TARGET": tiny_upstreams.text.target,
            "SYNTHMILL_GATEWAY_IMAGE_TARGET": tiny_upstreams.image.target,
            "SYNTHMILL_GATEWAY_OUTPUT_DIR": str(output_dir),
            **(env or {}),
        }
        return server_factory("gateway", env, wait=wait)

    return start
