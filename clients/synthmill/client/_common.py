"""Pieces shared by `Client` and `AsyncClient`: the target, API key and TLS, channel options, states, watch resumption, downloads."""

from __future__ import annotations

import datetime
import functools
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import grpc

from synthmill.client.errors import SynthmillError, from_rpc_error
from synthmill.common.states import TERMINAL_STATES
from synthmill.common.tls import channel_credentials
from synthmill.v1 import gateway_pb2

DEFAULT_TARGET = "localhost:50051"
# The HTTP service's port unless set (its settings and `synthmill up` both start from it).
DEFAULT_HTTP_PORT = 8000
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
]
# How long `watch` keeps reconnecting to an unavailable gateway before it gives up, and its backoff.
RECONNECT_TIMEOUT = 120.0
BACKOFF_START, BACKOFF_MAX = 0.2, 3.0


def resolve_target(target: str | None = None) -> str:
    """`target`, else `$SYNTHMILL_GATEWAY`, else `localhost:50051`."""
    return target or os.environ.get("SYNTHMILL_GATEWAY") or DEFAULT_TARGET


@dataclass(frozen=True)
class Access:
    """How a client reaches the gateway: its API key (`$SYNTHMILL_API_KEY`) and the CA that signed the
    gateway's TLS certificate (`$SYNTHMILL_TLS_CA`; unset dials clear text)."""

    api_key: str | None = None
    tls_ca: Path | None = None

    @classmethod
    def resolve(cls, api_key: str | None = None, tls_ca: str | Path | None = None) -> Access:
        ca = tls_ca or os.environ.get("SYNTHMILL_TLS_CA") or None
        return cls(api_key or os.environ.get("SYNTHMILL_API_KEY") or None, Path(ca) if ca else None)

    def credentials(self) -> grpc.ChannelCredentials | None:
        return channel_credentials(self.tls_ca, prefix="SYNTHMILL_")

    def authorize(self, stub: Any) -> Any:
        """`stub` with the API key sent on every call (`authorization: Bearer <key>`)."""
        return Authorized(stub, (("authorization", f"Bearer {self.api_key}"),)) if self.api_key else stub


class Authorized:
    """A stub whose every method call carries `metadata`."""

    def __init__(self, stub: Any, metadata: tuple[tuple[str, str], ...]):
        self._stub = stub
        self._metadata = metadata

    def __getattr__(self, name: str) -> Any:
        return functools.partial(getattr(self._stub, name), metadata=self._metadata)


def parse_state(state: int | str | None) -> int:
    """A JobState from its number or name: 2, "running", "RUNNING", "JOB_STATE_RUNNING"; None is all."""
    if state is None or state == "":
        return gateway_pb2.JOB_STATE_UNSPECIFIED
    if isinstance(state, int):
        return state
    name = state.strip().upper()
    if not name.startswith("JOB_STATE_"):
        name = "JOB_STATE_" + name
    try:
        return gateway_pb2.JobState.Value(name)
    except ValueError:
        names = ", ".join(state_name(v).lower() for v in gateway_pb2.JobState.values() if v)
        raise ValueError(f"unknown job state {state!r}; expected one of {names}") from None


def list_request(
    state: int | str | None = None,
    page_size: int = 0,
    page_token: str = "",
    kind: str = "",
    created_after: datetime.datetime | None = None,
    created_before: datetime.datetime | None = None,
) -> gateway_pb2.ListJobsRequest:
    """A ListJobs request: one page (`page_size` 0 is the gateway's 50) of the jobs in `state`, of
    `kind`, submitted in [created_after, created_before), from `page_token` on."""
    request = gateway_pb2.ListJobsRequest(
        state=parse_state(state), page_size=page_size, page_token=page_token, kind=kind
    )
    for field, when in (("created_after", created_after), ("created_before", created_before)):
        if when is not None:
            getattr(request, field).FromDatetime(when.astimezone(datetime.UTC))
    return request


def state_name(state: int) -> str:
    """`JOB_STATE_RUNNING` → `"RUNNING"`."""
    return gateway_pb2.JobState.Name(state).removeprefix("JOB_STATE_")


def is_terminal_event(event: gateway_pb2.JobEvent) -> bool:
    return event.WhichOneof("event") == "state" and event.state.state in TERMINAL_STATES


def retryable(exc: grpc.RpcError) -> bool:
    """Errors a watcher rides out by reconnecting: the gateway restarting or the network blinking."""
    return exc.code() == grpc.StatusCode.UNAVAILABLE


class Downloader:
    """Writes a job's FileChunks under `dest`, each file to a temp file renamed into place on its last chunk."""

    def __init__(self, dest: str | Path):
        self.dest = Path(dest)
        self.dest.mkdir(parents=True, exist_ok=True)
        self.root = self.dest.resolve()
        self.written: list[Path] = []
        self._open: dict[str, tuple[BinaryIO, Path, int]] = {}

    def _target(self, rel: str) -> Path:
        pure = PurePosixPath(rel)
        if not rel or pure.is_absolute() or ".." in pure.parts:
            raise SynthmillError(grpc.StatusCode.DATA_LOSS, f"refusing to write outside {self.dest}: {rel!r}")
        path = (self.root / pure).resolve()
        if not path.is_relative_to(self.root):
            raise SynthmillError(grpc.StatusCode.DATA_LOSS, f"refusing to write outside {self.dest}: {rel!r}")
        return path

    def add(self, chunk: gateway_pb2.FileChunk) -> None:
        if chunk.path not in self._open:
            final = self._target(chunk.path)
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
            self._open[chunk.path] = (os.fdopen(fd, "wb"), Path(tmp), 0)
        handle, tmp, size = self._open[chunk.path]
        if chunk.offset != size:
            raise SynthmillError(
                grpc.StatusCode.DATA_LOSS, f"{chunk.path}: chunk at offset {chunk.offset}, expected {size}"
            )
        handle.write(chunk.data)
        self._open[chunk.path] = (handle, tmp, size + len(chunk.data))
        if chunk.last:
            handle.close()
            final = self._target(chunk.path)
            os.replace(tmp, final)
            del self._open[chunk.path]
            self.written.append(final)

    def finish(self) -> list[Path]:
        if self._open:
            names = sorted(self._open)
            self.abort()
            raise SynthmillError(grpc.StatusCode.DATA_LOSS, f"download ended inside {', '.join(names)}")
        return self.written

    def abort(self) -> None:
        """Removes the temp files of files not finished; finished files stay."""
        for handle, tmp, _ in self._open.values():
            handle.close()
            tmp.unlink(missing_ok=True)
        self._open.clear()


class Resume:
    """Bookkeeping of a watch that reconnects: the last sequence number seen, and the backoff
    and give-up clock while the gateway is away. Shared by `Client` and `AsyncClient`."""

    def __init__(self, after_seq: int, reconnect_timeout: float, clock: Callable[[], float] = time.monotonic):
        self.last = after_seq
        self.reconnect_timeout = reconnect_timeout
        self.clock = clock
        self.backoff = BACKOFF_START
        self._failing_since: float | None = None

    def fresh(self, event: gateway_pb2.JobEvent) -> bool:
        """True for an event not delivered yet; the connection is healthy again."""
        self._failing_since, self.backoff = None, BACKOFF_START
        if event.HasField("step"):  # live progress: carries the last stored number, never replayed
            return True
        if event.seq <= self.last:
            return False
        self.last = event.seq
        return True

    def failed(self, exc: grpc.RpcError) -> float:
        """The delay before reconnecting; raises the error when it is not worth retrying."""
        if not retryable(exc):
            raise from_rpc_error(exc) from exc
        now = self.clock()
        if self._failing_since is None:
            self._failing_since = now
        if now - self._failing_since > self.reconnect_timeout:
            raise from_rpc_error(exc) from exc
        delay, self.backoff = self.backoff, min(self.backoff * 2, BACKOFF_MAX)
        return delay
