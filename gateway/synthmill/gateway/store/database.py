"""What the job store needs of a database, and the notices gateways send each other.

Two databases implement it: `SqliteDatabase` (one file, one gateway; the embedded default) and
`PostgresDatabase` (several gateways share it). The store writes its SQL once, in PostgreSQL's
`$1` style, with `{now}` for the database's clock and `{lock}` for the row lock a claim takes.
Schema changes are numbered SQL files in `migrations/<dialect>/`, applied in order once each.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from synthmill.common.errors import Unavailable
from synthmill.v1 import gateway_pb2 as pb

T = TypeVar("T")
MIGRATIONS = Path(__file__).parent / "migrations"


class StoreUnavailable(Unavailable):
    """The job store cannot be reached (after retrying with backoff)."""


@dataclass(frozen=True)
class Notice:
    """What a gateway announces to every gateway on the store: a stored event of a job (`seq`),
    a live step event (never stored), a newly queued job, a cancel request, or `resync` (notices
    may have been missed, e.g. while the connection was down: look again)."""

    kind: str  # "event" | "step" | "queued" | "cancel" | "resync"
    job_id: str = ""
    seq: int = 0
    event: pb.JobEvent | None = None

    def encode(self) -> str:
        if self.kind == "step":
            return f"step {base64.b64encode(self.event.SerializeToString()).decode()}"
        return f"{self.kind} {self.job_id} {self.seq}"

    @classmethod
    def decode(cls, text: str) -> Notice:
        kind, _, rest = text.partition(" ")
        if kind == "step":
            event = pb.JobEvent.FromString(base64.b64decode(rest))
            return cls("step", event.job_id, event.seq, event)
        job_id, _, seq = rest.partition(" ")
        return cls(kind, job_id, int(seq or 0))


class Tx(Protocol):
    """One transaction. Rows are sequences indexed by column position."""

    async def fetch(self, sql: str, *args: Any) -> list[Sequence[Any]]: ...

    async def fetchrow(self, sql: str, *args: Any) -> Sequence[Any] | None: ...

    async def execute(self, sql: str, *args: Any) -> None: ...

    def notify(self, notice: Notice) -> None:
        """Announces `notice` to every gateway once the transaction commits."""


class Database(Protocol):
    dialect: str
    # True when one gateway owns the database (SQLite): leases left by a previous process are void.
    exclusive: bool

    async def open(self) -> None:
        """Connects (retrying until it can) and applies missing migrations."""

    async def close(self) -> None: ...

    async def ping(self) -> bool:
        """True when the database answers right now (no retries)."""

    async def run(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Runs `work` in one transaction; on a lost connection, again with backoff, until
        the retry budget is spent (then StoreUnavailable)."""

    async def announce(self, notice: Notice) -> None:
        """Announces `notice` now, outside any transaction (live events)."""

    def listen(self, callback: Callable[[Notice], None]) -> None:
        """Calls `callback` for every notice from any gateway, this one included."""


def migrations(dialect: str) -> list[tuple[int, str]]:
    """(version, sql) of each numbered migration file of `dialect`, in order."""
    files = sorted((MIGRATIONS / dialect).glob("[0-9][0-9][0-9][0-9]_*.sql"))
    return [(int(path.name[:4]), path.read_text()) for path in files]
