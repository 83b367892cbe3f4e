"""Real server processes on free loopback ports, for the tests: the suite's one `wait_serving`, and
`free_port` (the stack's, re-exported). Every text and image server runs on the CPU with one torch
thread (`pinned`)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from synthmill.client.stack import free_port
from synthmill.common.tls import sync_channel

__all__ = ["HttpProcess", "ServerProcess", "free_port", "pinned", "start_http", "wait_serving"]

ROOT = Path(__file__).resolve().parents[1]
SERVING = health_pb2.HealthCheckResponse.SERVING
# Reconnect every 50 ms, not after gRPC's default 1 s+ backoff: a watcher connects as soon as the port opens.
FAST_RECONNECT = [
    ("grpc.initial_reconnect_backoff_ms", 50),
    ("grpc.min_reconnect_backoff_ms", 50),
    ("grpc.max_reconnect_backoff_ms", 50),
]


def wait_serving(
    target: str,
    proc: subprocess.Popen | None = None,
    service: str = "",
    credentials: grpc.ChannelCredentials | None = None,
) -> list[int]:
    """Blocks until the grpc.health.v1 status of `service` at `target` is SERVING, on a health Watch
    stream (each change is pushed; nothing is polled), and returns the distinct statuses it saw on
    the way; over TLS with `credentials`. Raises if `proc` exits first."""
    seen: list[int] = []
    with sync_channel(target, credentials, FAST_RECONNECT) as channel:
        call = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service=service), wait_for_ready=True
        )
        if proc is not None:  # a server that dies before it serves ends the watch
            threading.Thread(target=lambda: (proc.wait(), call.cancel()), daemon=True).start()
        try:
            for reply in call:
                if seen[-1:] != [reply.status]:
                    seen.append(reply.status)
                if reply.status == SERVING:
                    return seen
        except grpc.RpcError as exc:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"server for {target} exited with {proc.returncode}") from exc
            raise
        finally:
            call.cancel()
    raise RuntimeError(f"the health watch of {target} ended before SERVING: {seen}")


def pinned(kind: str) -> dict[str, str]:
    """What every test's text and image server runs with: the CPU, so tests that assert cpu/float32
    hold on a GPU host too, and one torch thread. Servers, the test process and a busy neighbour share
    two cores here: torch's default of a thread per core oversubscribes them (SmolLM2's rows test took
    138 s with it against 62 s with one thread, on the same loaded machine)."""
    if kind not in ("text", "image"):
        return {}
    prefix = f"SYNTHMILL_{kind.upper()}_"
    return {f"{prefix}DEVICE": "cpu", f"{prefix}THREADS": "1"}


class ServerProcess:
    """A real `python -m synthmill.KIND` server process on a loopback port, configured by env."""

    def __init__(self, kind: str, env: dict[str, str], log_path: Path, args: list[str] | None = None):
        self.kind = kind
        self.port = free_port()
        self.target = f"127.0.0.1:{self.port}"
        prefix = f"SYNTHMILL_{kind.upper()}_"
        self.env = {
            **os.environ,
            f"{prefix}HOST": "127.0.0.1",
            f"{prefix}PORT": str(self.port),
            **pinned(kind),
            **env,
        }
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


class HttpProcess(ServerProcess):
    """The HTTP service as a real process. It has no grpc.health.v1: it is ready once uvicorn says it
    listens, a line read from its output as it is printed (nothing polled); the output goes to the log."""

    READY = "Uvicorn running on"

    def start(self, wait: bool = True) -> HttpProcess:
        cmd = [sys.executable, "-m", "synthmill.http"]
        self.proc = subprocess.Popen(
            cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT
        )
        ready = threading.Event()

        def copy() -> None:
            with open(self.log_path, "ab") as log:
                for line in self.proc.stdout:
                    log.write(line)
                    log.flush()
                    if self.READY.encode() in line:
                        ready.set()
            ready.set()  # EOF: the process is gone

        threading.Thread(target=copy, daemon=True).start()
        ready.wait()
        if self.proc.poll() is not None:
            raise RuntimeError(
                f"http service exited with {self.proc.returncode}: {self.log_path.read_text()[-3000:]}"
            )
        return self


def start_http(gateway_target: str, log_path: Path, env: dict[str, str] | None = None) -> HttpProcess:
    """The HTTP service in front of `gateway_target`, with `env` added to its environment."""
    return HttpProcess("http", {"SYNTHMILL_HTTP_GATEWAY": gateway_target, **(env or {})}, log_path).start()
