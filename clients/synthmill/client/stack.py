"""The local stack: text, image and gateway servers as child processes, started and stopped together.

    with Stack(text_model="tiny-llama", image_models=["tiny-sd"], gateway_port=free_port(), ...) as stack:
        with Client(stack.gateway_target) as client:
            ...

Each child is `python -m synthmill.<kind>`, configured only through `SYNTHMILL_<KIND>_*` variables.
`start` returns once every child's grpc.health.v1 status is SERVING (and the HTTP service, when it has
a port, answers `GET /`); if one dies, all are stopped. The stack speaks clear text on loopback: a TLS
setting in its environment is refused at `start` rather than probed in vain until the timeout.
Inside `stop_on_signals()`, SIGINT and SIGTERM only set `stopping`, at any moment (loading included):
`start` then stops the children and returns early, and `run_until_signal` returns 0.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from synthmill.common.probe import answers_http, is_serving

KINDS = ("text", "image", "gateway")
# The module each child runs with `python -m`; tests swap in stand-ins.
MODULES = {kind: f"synthmill.{kind}" for kind in (*KINDS, "http")}
_TLS_SETTING = re.compile(r"SYNTHMILL_(TEXT|IMAGE|GATEWAY|HTTP)_(UPSTREAM_)?TLS_(CERT|KEY|CA)")


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on `host` right now, for stacks that must not clash (tests, the demo, benchmarks)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class StackError(RuntimeError):
    """A child failed to start or died."""


class StopRequest:
    """A stop flag that a signal handler may set. A `threading.Event` may not: its lock can be held by
    the very thread the handler interrupts. `SimpleQueue.put` is reentrant, so it carries the request."""

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[bool] = queue.SimpleQueue()
        self._set = False

    def set(self) -> None:
        self._requests.put(True)

    def is_set(self) -> bool:
        self._set = self._set or not self._requests.empty()
        return self._set

    def wait(self, timeout: float) -> bool:
        """True once a stop is requested; False after `timeout` seconds without one."""
        if not self.is_set():
            with contextlib.suppress(queue.Empty):
                self._set = self._requests.get(timeout=timeout)
        return self._set


@dataclass
class Child:
    kind: str
    port: int
    env: dict[str, str]
    log_path: Path | None = None
    proc: subprocess.Popen | None = None
    serving: bool = False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-chars:]


@dataclass
class Stack:
    """Ports are the caller's choice (defaults: gateway 50051, text 50052, image 50053)."""

    text_model: str | None = None
    image_models: Sequence[str] = ()
    device: str | None = None
    output_dir: str | Path | None = None
    host: str = "127.0.0.1"
    gateway_port: int = 50051
    text_port: int = 50052
    image_port: int = 50053
    # The HTTP service (API and /ui) is started too when it has a port.
    http_port: int | None = None
    # Lets the servers listen on a non-loopback `host` without API keys or mutual TLS.
    allow_unauthenticated: bool = False
    # Lets them take API keys on a non-loopback `host` without TLS.
    allow_cleartext: bool = False
    # Children's stdout/stderr go to `<log_dir>/<kind>.log`; None lets them share this terminal.
    log_dir: str | Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    startup_timeout: float = 900.0
    stop_timeout: float = 20.0
    on_status: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr, flush=True))
    modules: Mapping[str, str] = field(default_factory=lambda: dict(MODULES))
    children: dict[str, Child] = field(default_factory=dict, init=False)
    stopping: StopRequest = field(default_factory=StopRequest, init=False)

    @property
    def dial_host(self) -> str:
        return "127.0.0.1" if self.host in ("", "0.0.0.0", "::", "[::]") else self.host

    @property
    def gateway_target(self) -> str:
        return f"{self.dial_host}:{self.gateway_port}"

    @property
    def ui_url(self) -> str:
        return f"http://{self.dial_host}:{self.http_port}/ui"

    @property
    def kinds(self) -> tuple[str, ...]:
        return (*KINDS, "http") if self.http_port else KINDS

    def target(self, kind: str) -> str:
        return f"{self.dial_host}:{self._port(kind)}"

    def _port(self, kind: str) -> int:
        ports = {"text": self.text_port, "image": self.image_port, "gateway": self.gateway_port}
        return ports[kind] if kind in ports else self.http_port

    def child_env(self, kind: str) -> dict[str, str]:
        """The `SYNTHMILL_<KIND>_*` variables a child gets (on top of this process's environment)."""
        prefix = f"SYNTHMILL_{kind.upper()}_"
        env = {f"{prefix}HOST": self.host, f"{prefix}PORT": str(self._port(kind))}
        if self.allow_unauthenticated:
            env[f"{prefix}ALLOW_UNAUTHENTICATED"] = "1"
        if self.allow_cleartext:
            env[f"{prefix}ALLOW_CLEARTEXT"] = "1"
        if kind == "text" and self.text_model:
            env[f"{prefix}MODEL"] = self.text_model
        if kind == "image" and self.image_models:
            env[f"{prefix}MODELS"] = ",".join(self.image_models)
        if kind in ("text", "image") and self.device:
            env[f"{prefix}DEVICE"] = self.device
        if kind == "gateway":
            env[f"{prefix}TEXT_TARGET"] = f"{self.dial_host}:{self.text_port}"
            env[f"{prefix}IMAGE_TARGET"] = f"{self.dial_host}:{self.image_port}"
            if self.output_dir is not None:
                env[f"{prefix}OUTPUT_DIR"] = str(Path(self.output_dir).expanduser().resolve())
        if kind == "http":
            env[f"{prefix}GATEWAY"] = self.gateway_target
        return env

    # ------------------------------------------------------------------------------------------ lifecycle

    @contextlib.contextmanager
    def stop_on_signals(self) -> Iterator[Stack]:
        """While inside, SIGINT and SIGTERM set `stopping` (instead of raising wherever they land)."""
        previous = {
            sig: signal.signal(sig, lambda *_: self.stopping.set()) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def start(self) -> Stack:
        """Starts the three servers and waits until each is SERVING; stops them all on any failure,
        and when `stopping` is set before they all serve (then `stopping.is_set()` tells the caller)."""
        tls = sorted(k for k, v in {**os.environ, **self.env}.items() if v and _TLS_SETTING.fullmatch(k))
        if tls:
            raise StackError(
                f"the local stack runs in clear text on loopback; unset {', '.join(tls)}, or start TLS "
                "servers one by one with `synthmill serve`"
            )
        if self.log_dir is not None:
            Path(self.log_dir).mkdir(parents=True, exist_ok=True)
        try:
            for kind in self.kinds:
                if not self.stopping.is_set():
                    self._spawn(kind)
            self._wait_serving()
        except BaseException:
            self.stop()
            raise
        if self.stopping.is_set():
            self.stop()
        return self

    def _spawn(self, kind: str) -> None:
        env = {**os.environ, **self.env, **self.child_env(kind)}
        log_path = Path(self.log_dir) / f"{kind}.log" if self.log_dir is not None else None
        child = Child(kind, self._port(kind), env, log_path)
        out = open(log_path, "ab") if log_path else None
        try:
            child.proc = subprocess.Popen(
                [sys.executable, "-m", self.modules[kind]],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT if out else None,
            )
        finally:
            if out is not None:
                out.close()
        self.children[kind] = child
        what = {"text": self.text_model, "image": ",".join(self.image_models)}.get(kind) or "default model"
        detail = f" ({what})" if kind != "gateway" else ""
        self.on_status(f"{kind}: starting on {self.dial_host}:{child.port}{detail}")

    def _wait_serving(self) -> None:
        started = time.monotonic()
        last_report = started
        while not self.stopping.is_set():
            self.check_alive()
            for kind, child in self.children.items():
                ready = answers_http if kind == "http" else is_serving
                if not child.serving and ready(f"{self.dial_host}:{child.port}", timeout=1.0):
                    child.serving = True
                    self.on_status(f"{kind}: SERVING after {time.monotonic() - started:.1f}s")
            waiting = [k for k, c in self.children.items() if not c.serving]
            if not waiting:
                return
            now = time.monotonic()
            if now - started > self.startup_timeout:
                raise StackError(f"not SERVING after {self.startup_timeout:.0f}s: {', '.join(waiting)}")
            if now - last_report > 10:
                self.on_status(f"still loading: {', '.join(waiting)} ({now - started:.0f}s)")
                last_report = now
            self.stopping.wait(0.25)  # the next health poll, or a stop

    def check_alive(self) -> None:
        """Raises StackError naming the first child that exited (with its log tail when logged)."""
        for kind, child in self.children.items():
            if child.proc is not None and child.proc.poll() is not None:
                tail = child.log_tail()
                raise StackError(
                    f"{kind} server exited with code {child.proc.returncode}" + (f"\n{tail}" if tail else "")
                )

    def stop(self) -> None:
        """SIGTERM to every child at once; whoever is still up after `stop_timeout` is killed."""
        alive = [c for c in self.children.values() if c.alive()]
        for child in alive:
            child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for child in alive:
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.on_status(f"{child.kind}: no exit after {self.stop_timeout:.0f}s, killing")
                child.proc.kill()
                child.proc.wait()
        if alive:
            self.on_status("stack stopped")

    def run_until_signal(self) -> int:
        """Blocks until SIGINT/SIGTERM (returns 0) or a child dies (returns 1); then stops the stack."""
        code = 0
        try:
            with self.stop_on_signals():
                while not self.stopping.wait(0.5):
                    try:
                        self.check_alive()
                    except StackError as exc:
                        self.on_status(f"error: {exc}")
                        code = 1
                        break
        finally:
            self.on_status("stopping the stack")
            self.stop()
        return code

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
