"""The job store's database in one SQLite file: the embedded default, for one gateway.

Statements are short and local, so they run on the event loop thread; a lock keeps one
transaction at a time on the connection. Notices go straight to this process's listeners.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from synthmill.gateway.store.database import Notice, StoreUnavailable, migrations

log = logging.getLogger(__name__)
T = TypeVar("T")
_PLACEHOLDER = re.compile(r"\$(\d+)")
_BUSY_TIMEOUT_S = 30.0  # how long a statement waits for another connection's write lock
_MMAP_BYTES = 256 << 20
_CACHE_KIB = 64 << 10
_SQL = {
    "now": "((julianday('now') - 2440587.5) * 86400.0)",
    "lock": "",  # one writer at a time: a claim's UPDATE is atomic already
    "submit_lock": "SELECT 1",  # BEGIN IMMEDIATE holds the write lock already
}


def _sql(text: str) -> str:
    return _PLACEHOLDER.sub(r"?\1", text.format(**_SQL))


class _Tx:
    def __init__(self, db: sqlite3.Connection):
        self._db = db
        self.notices: list[Notice] = []

    async def fetch(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        return self._db.execute(_sql(sql), args).fetchall()

    async def fetchrow(self, sql: str, *args: Any) -> Sequence[Any] | None:
        return self._db.execute(_sql(sql), args).fetchone()

    async def execute(self, sql: str, *args: Any) -> None:
        self._db.execute(_sql(sql), args)

    def notify(self, notice: Notice) -> None:
        self.notices.append(notice)


class SqliteDatabase:
    dialect = "sqlite"
    exclusive = True

    def __init__(self, path: Path):
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self._listeners: list[Callable[[Notice], None]] = []

    async def open(self) -> None:
        self._db = await asyncio.to_thread(self._connect)

    def _connect(self) -> sqlite3.Connection:
        """Connects and brings the schema up to date, holding an exclusive lock on a file beside the
        store meanwhile: SQLite answers "database is locked" at once, not after its busy timeout, to
        connections that switch a fresh file to WAL together, so gateways starting on one fresh store
        open it one after another, and each migration is applied once."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(f"{self.path.name}.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            db = sqlite3.connect(
                self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            # Reads through a memory map and a 64 MiB page cache: a lookup in a store of 100,000 jobs
            # stays within 1.5x of one in 1,000 (benchmarks/store_scale.py).
            db.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
            db.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
            db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)")
            done = {row[0] for row in db.execute("SELECT version FROM schema_migrations")}
            for version, sql in migrations(self.dialect):
                if version not in done:
                    db.executescript(
                        f"BEGIN;\n{sql}\nINSERT INTO schema_migrations VALUES ({version});\nCOMMIT;"
                    )
        return db

    async def close(self) -> None:
        if self._db is not None:
            self._db.close()

    async def ping(self) -> bool:
        return self._db is not None

    async def run(self, work: Callable[[_Tx], Awaitable[T]]) -> T:
        if self._db is None:
            raise StoreUnavailable("job store: not open")
        async with self._lock:
            tx = _Tx(self._db)
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = await work(tx)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        for notice in tx.notices:
            await self.announce(notice)
        return result

    async def announce(self, notice: Notice) -> None:
        for callback in self._listeners:
            callback(notice)

    def listen(self, callback: Callable[[Notice], None]) -> None:
        self._listeners.append(callback)
