"""The job store's database on PostgreSQL (asyncpg), shared by several gateways.

A pool runs transactions; a transaction that loses its connection runs again with backoff.
One more connection LISTENs on the `synthmill` channel and hands every notice to this
gateway's listeners; when it drops, it reconnects and announces `resync`, since notices sent
meanwhile are lost. Migrations run under an advisory lock, so gateways starting together apply
each file once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import asyncpg

from synthmill.gateway.store.database import Notice, StoreUnavailable, migrations

log = logging.getLogger(__name__)
T = TypeVar("T")
CHANNEL = "synthmill"
_MIGRATION_LOCK = 0x53594E54  # pg_advisory_xact_lock key: "SYNT"
_SUBMIT_LOCK = 0x53554254  # pg_advisory_xact_lock key: "SUBT"
_SQL = {
    "now": "extract(epoch from clock_timestamp())::double precision",
    "lock": "FOR UPDATE SKIP LOCKED",
    # Held by a submit's transaction until it ends: submits on every gateway are admitted one at a time.
    "submit_lock": f"SELECT pg_advisory_xact_lock({_SUBMIT_LOCK})",
}
# A connection that died, a server shutting down or not yet accepting, a statement timeout.
LOST = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
)
_BACKOFF_START_S = 0.05
_BACKOFF_MAX_S = 2.0


class _Tx:
    def __init__(self, conn: asyncpg.Connection):
        self._conn = conn
        self.notices: list[Notice] = []

    async def fetch(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        return await self._conn.fetch(sql.format(**_SQL), *args)

    async def fetchrow(self, sql: str, *args: Any) -> Sequence[Any] | None:
        return await self._conn.fetchrow(sql.format(**_SQL), *args)

    async def execute(self, sql: str, *args: Any) -> None:
        await self._conn.execute(sql.format(**_SQL), *args)

    def notify(self, notice: Notice) -> None:
        self.notices.append(notice)


class PostgresDatabase:
    dialect = "postgres"
    exclusive = False

    def __init__(self, dsn: str, retry_s: float, statement_timeout_s: float = 10.0):
        self.dsn = dsn
        self.retry_s = retry_s
        self.statement_timeout_s = statement_timeout_s
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None
        self._listen_task: asyncio.Task | None = None
        self._callbacks: list[Callable[[Notice], None]] = []

    async def open(self) -> None:
        delay = _BACKOFF_START_S
        while self._pool is None:
            try:
                self._pool = await asyncpg.create_pool(
                    self.dsn, min_size=1, max_size=8, command_timeout=self.statement_timeout_s
                )
            except LOST as exc:
                log.warning("job store unreachable (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _BACKOFF_MAX_S)
        await self.run(self._migrate)
        connected = asyncio.Event()
        self._listen_task = asyncio.create_task(self._listen(connected), name="store-listen")
        await connected.wait()

    async def _migrate(self, tx: _Tx) -> None:
        await tx.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        await tx.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY)")
        done = {row[0] for row in await tx.fetch("SELECT version FROM schema_migrations")}
        for version, sql in migrations(self.dialect):
            if version not in done:
                await tx.execute(sql.replace("{", "{{").replace("}", "}}"))
                await tx.execute("INSERT INTO schema_migrations VALUES ($1)", version)

    async def _listen(self, connected: asyncio.Event) -> None:
        """Keeps one LISTEN connection up; every (re)connect announces `resync`."""
        delay = _BACKOFF_START_S
        while True:
            closed = asyncio.Event()
            try:
                conn = await asyncpg.connect(self.dsn, command_timeout=self.statement_timeout_s)
                conn.add_termination_listener(lambda _conn, closed=closed: closed.set())
                await conn.add_listener(CHANNEL, self._on_payload)
            except LOST as exc:
                log.warning("job store listener unreachable (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _BACKOFF_MAX_S)
                continue
            self._listener, delay = conn, _BACKOFF_START_S
            connected.set()
            self._dispatch(Notice("resync"))
            await closed.wait()
            self._listener = None
            log.warning("job store listener lost its connection; reconnecting")

    def _on_payload(self, _conn, _pid, _channel, payload: str) -> None:
        self._dispatch(Notice.decode(payload))

    def _dispatch(self, notice: Notice) -> None:
        for callback in self._callbacks:
            callback(notice)

    async def close(self) -> None:
        if self._listen_task is not None:
            self._listen_task.cancel()
            await asyncio.gather(self._listen_task, return_exceptions=True)
        if self._listener is not None:
            await self._listener.close(timeout=2)
        if self._pool is not None:
            self._pool.terminate()

    async def ping(self) -> bool:
        listener = self._listener
        if listener is None or listener.is_closed():
            return False
        try:
            await listener.fetchval("SELECT 1", timeout=min(2.0, self.statement_timeout_s))
        except LOST:
            return False
        return True

    async def run(self, work: Callable[[_Tx], Awaitable[T]]) -> T:
        if self._pool is None:
            raise StoreUnavailable("job store: not connected yet")
        deadline = time.monotonic() + self.retry_s
        delay = _BACKOFF_START_S
        while True:
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    tx = _Tx(conn)
                    result = await work(tx)
                    for notice in tx.notices:
                        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, notice.encode())
                return result
            except LOST as exc:
                if time.monotonic() + delay > deadline:
                    raise StoreUnavailable(f"job store unreachable: {type(exc).__name__}: {exc}") from None
                log.warning("job store: %s: %s; retrying in %.2fs", type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _BACKOFF_MAX_S)

    async def announce(self, notice: Notice) -> None:
        async def send(tx: _Tx) -> None:
            tx.notify(notice)

        await self.run(send)

    def listen(self, callback: Callable[[Notice], None]) -> None:
        self._callbacks.append(callback)
