"""The durable job store: jobs, their finished items and their numbered events, leases, and API
keys with their daily usage.

Every finished item is stored before it counts as done, so a gateway taking a job up again
knows exactly what is left. One class holds every rule; a `Database` (an SQLite file for one
gateway, or PostgreSQL shared by several) runs its SQL, chosen by `open_store(url)`.

Leases. A job runs on the gateway that holds its lease (`lease_owner` until `lease_until`, by
the database's clock). `claim` takes the oldest QUEUED job, or a RUNNING one whose lease ran out,
in one atomic statement (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer), so two
gateways never hold one job. The holder renews its leases by `heartbeat`; every write of a running
job is fenced on the lease, so a gateway that lost its lease cannot write (LeaseLost).

Events. Each stored event takes the job's next sequence number (`last_seq`) in the transaction
that stores its item, and is announced to every gateway after commit.

Listings are pages (`paging`); deleting jobs, retention's queries and event compaction are in `upkeep`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from synthmill.common.pages import DEFAULT_PAGE
from synthmill.common.states import TERMINAL_STATES
from synthmill.gateway.store.database import Database, Notice, StoreUnavailable, Tx
from synthmill.gateway.store.paging import EVERY_JOB, Cursor, JobFilter, Page
from synthmill.gateway.store.upkeep import Upkeep
from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import keys_pb2 as pb_keys

__all__ = [
    "Admission",
    "Claim",
    "IdTaken",
    "Item",
    "JobStore",
    "LeaseLost",
    "OverLimit",
    "StoreUnavailable",
    "open_store",
]

_ACTIVE = f"state IN ({pb.JOB_STATE_QUEUED}, {pb.JOB_STATE_RUNNING})"
_EXPIRED = "(lease_owner IS NULL OR lease_until < {now})"
_TENANT = "($1 = 0 OR state = $1) AND (NOT $3 OR owner = $2)"  # state 0: any; $3: only owner $2


class IdTaken(Exception):
    """A new job's id is already a stored job's: nothing was stored or counted; try a fresh id."""


class LeaseLost(Exception):
    """This gateway no longer holds the job's lease: another gateway runs it now."""


QUEUE_LIMIT = "queued_jobs"  # OverLimit's name for the gateway-wide queue limit


class _Admissible(Exception):
    """Ends `check_admission`'s transaction, undoing what the check counted."""


class OverLimit(Exception):
    """A new job would pass the queue limit or one of its owner's limits; nothing was stored or counted."""

    def __init__(self, limit: str, maximum: int, used: int, asked: int):
        super().__init__(limit)
        self.limit, self.maximum, self.used, self.asked = limit, maximum, used, asked


@dataclass(frozen=True)
class Admission:
    """What a new job must fit: the gateway's queue (`max_queued` jobs queued in all) and its owner's
    limits, if any, counted on the UTC `day`."""

    max_queued: int
    limits: pb_keys.KeyLimits | None
    day: str


@dataclass(frozen=True)
class Item:
    """A finished item of a job: a row, an image or an expanded prompt, by index."""

    kind: str
    idx: int
    data: dict[str, Any]


@dataclass(frozen=True)
class Claim:
    job: pb.Job
    cancel_requested: bool


def make_event(job: pb.Job, **event: Any) -> pb.JobEvent:
    """A `JobEvent` (a oneof field as keyword) with the job's counters and the time; no seq yet."""
    message = pb.JobEvent(job_id=job.id, counts=job.counts, **event)
    message.time.GetCurrentTime()
    return message


def open_store(url: str, default_path: Path, retry_s: float) -> JobStore:
    """`sqlite:///relative/path`, `sqlite:////absolute/path`, `postgresql://...`; empty is
    SQLite at `default_path`."""
    if not url:
        from synthmill.gateway.store.db_sqlite import SqliteDatabase

        return JobStore(SqliteDatabase(default_path))
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        from synthmill.gateway.store.db_sqlite import SqliteDatabase

        return JobStore(SqliteDatabase(Path(unquote(url.removeprefix("sqlite:///")))))
    if scheme in ("postgresql", "postgres"):
        from synthmill.gateway.store.db_postgres import PostgresDatabase

        return JobStore(PostgresDatabase(url, retry_s))
    raise ValueError(f"SYNTHMILL_GATEWAY_DB_URL: {scheme!r} is not sqlite or postgresql")


def _ended(job: pb.Job) -> float | None:
    """When a job in a final state ended (epoch seconds), for retention; None while it may run."""
    if job.state not in TERMINAL_STATES:
        return None
    return (job.finished_at if job.HasField("finished_at") else job.created_at).ToNanoseconds() / 1e9


class JobStore(Upkeep):
    """Jobs (as serialized `Job` messages), their finished items, their events, their leases."""

    def __init__(self, db: Database):
        self.db = db

    async def open(self) -> None:
        await self.db.open()
        if self.db.exclusive:  # the previous process's leases died with it
            await self.db.run(lambda tx: tx.execute("UPDATE jobs SET lease_owner = NULL, lease_until = NULL"))
        await self._fill_columns()

    async def _fill_columns(self) -> None:
        """Reads the kind and end time of jobs stored before those columns existed (migration 0004)."""
        while True:
            rows = await self.db.run(
                lambda tx: tx.fetch("SELECT job FROM jobs WHERE kind IS NULL LIMIT 1000")
            )
            if not rows:
                return

            async def fill(tx: Tx, rows=rows) -> None:
                for (data,) in rows:
                    job = pb.Job.FromString(bytes(data))
                    await tx.execute(
                        "UPDATE jobs SET kind = $2, ended = $3 WHERE id = $1",
                        job.id,
                        job.spec.WhichOneof("kind") or "",
                        _ended(job),
                    )

            await self.db.run(fill)

    async def close(self) -> None:
        await self.db.close()

    async def ping(self) -> bool:
        return await self.db.ping()

    def listen(self, callback) -> None:
        self.db.listen(callback)

    # Jobs

    async def create(
        self, job: pb.Job, event: pb.JobEvent, admission: Admission | None = None
    ) -> pb.JobEvent:
        """Stores a new job with its first event, and wakes every gateway's claimer. With an
        `admission`, the queue and the owner's limits are checked and the day's usage counted in the
        same transaction (OverLimit, and nothing stored, when it does not fit). IdTaken, and nothing
        stored, when a job has its id already."""

        async def work(tx: Tx) -> pb.JobEvent:
            if admission is not None:
                await self._admit(tx, job, admission)
            inserted = await tx.fetchrow(
                "INSERT INTO jobs (id, created, state, job, owner, kind) VALUES ($1, $2, $3, $4, $5, $6) "
                "ON CONFLICT (id) DO NOTHING RETURNING id",
                job.id,
                job.created_at.ToNanoseconds() / 1e9,
                job.state,
                job.SerializeToString(),
                job.owner,
                job.spec.WhichOneof("kind") or "",
            )
            if inserted is None:
                raise IdTaken(job.id)
            stored = await self._write(tx, job, None, event, ())
            tx.notify(Notice("queued", job.id))
            return stored

        return await self.db.run(work)

    async def check_admission(self, job: pb.Job, admission: Admission) -> None:
        """OverLimit when `job` would not be admitted now; stores and counts nothing (the check's
        transaction is rolled back). For work to skip before it starts; `create` checks again."""

        async def work(tx: Tx) -> None:
            await self._admit(tx, job, admission)
            raise _Admissible

        try:
            await self.db.run(work)
        except _Admissible:
            pass

    async def _admit(self, tx: Tx, job: pb.Job, admission: Admission) -> None:
        """Checks `job` against the queue and its owner's limits, and counts it. Submits, on any
        gateway, are admitted one after another (a lock held to the end of the transaction): two
        cannot both see room for one more job."""
        await tx.execute("{submit_lock}")
        (queued,) = await tx.fetchrow("SELECT COUNT(*) FROM jobs WHERE state = $1", pb.JOB_STATE_QUEUED)
        if queued >= admission.max_queued:
            raise OverLimit(QUEUE_LIMIT, admission.max_queued, queued, 1)
        owner, day, limits = job.owner, admission.day, admission.limits
        if limits is None:
            return
        await tx.execute(
            "INSERT INTO usage (owner, day, rows, images) VALUES ($1, $2, 0, 0) ON CONFLICT DO NOTHING",
            owner,
            day,
        )
        rows, images = await tx.fetchrow(
            "SELECT rows, images FROM usage WHERE owner = $1 AND day = $2", owner, day
        )
        for state, maximum, name in (
            (pb.JOB_STATE_RUNNING, limits.max_running_jobs, "max_running_jobs"),
            (pb.JOB_STATE_QUEUED, limits.max_queued_jobs, "max_queued_jobs"),
        ):
            if maximum:
                (count,) = await tx.fetchrow(f"SELECT COUNT(*) FROM jobs WHERE {_TENANT}", state, owner, True)
                if count >= maximum:
                    raise OverLimit(name, maximum, count, 1)
        for name, maximum, used, asked in (
            ("rows_per_day", limits.rows_per_day, rows, job.counts.rows_total),
            ("images_per_day", limits.images_per_day, images, job.counts.images_total),
        ):
            if maximum and used + asked > maximum:
                raise OverLimit(name, maximum, used, asked)
        await tx.execute(
            "UPDATE usage SET rows = rows + $3, images = images + $4 WHERE owner = $1 AND day = $2",
            owner,
            day,
            job.counts.rows_total,
            job.counts.images_total,
        )

    async def commit(
        self, job: pb.Job, owner: str, event: pb.JobEvent | None = None, items: Sequence[Item] = ()
    ) -> pb.JobEvent | None:
        """Stores the job, its new items and its next event in one transaction, if `owner`
        still holds its lease (else LeaseLost). A final state ends the lease."""
        return await self.db.run(lambda tx: self._write(tx, job, owner, event, items))

    async def _write(
        self, tx: Tx, job: pb.Job, owner: str | None, event: pb.JobEvent | None, items: Sequence[Item]
    ) -> pb.JobEvent | None:
        fence = (" AND lease_owner = $6", owner) if owner is not None else (" AND $6 = ''", "")
        row = await tx.fetchrow(
            "UPDATE jobs SET state = $2, job = $3, last_seq = last_seq + $4, "
            "lease_owner = CASE WHEN $5 THEN NULL ELSE lease_owner END, ended = $7 "
            f"WHERE id = $1{fence[0]} RETURNING last_seq",
            job.id,
            job.state,
            job.SerializeToString(),
            1 if event is not None else 0,
            job.state in TERMINAL_STATES,
            fence[1],
            _ended(job),
        )
        if row is None:
            raise LeaseLost(f"job {job.id}: lease lost")
        for item in items:
            await tx.execute(
                "INSERT INTO items (job_id, kind, idx, data) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (job_id, kind, idx) DO UPDATE SET data = excluded.data",
                job.id,
                item.kind,
                item.idx,
                json.dumps(item.data, ensure_ascii=False),
            )
        if event is None:
            return None
        event.seq = row[0]
        await tx.execute(
            "INSERT INTO events (job_id, seq, event) VALUES ($1, $2, $3)",
            job.id,
            event.seq,
            event.SerializeToString(),
        )
        tx.notify(Notice("event", job.id, event.seq))
        return event

    async def get_job(self, job_id: str) -> pb.Job | None:
        row = await self.db.run(lambda tx: tx.fetchrow("SELECT job FROM jobs WHERE id = $1", job_id))
        return pb.Job.FromString(bytes(row[0])) if row else None

    async def list_jobs(
        self, where: JobFilter = EVERY_JOB, size: int = DEFAULT_PAGE, after: Cursor | None = None
    ) -> Page:
        """A page of `size` jobs `where` says, newest first, after the cursor `after` (if any)."""
        args: list[Any] = []
        clauses = ["TRUE"]

        def add(sql: str, *values: Any) -> None:  # only the filters asked for: each can use its index
            clauses.append(sql.format(*(f"${len(args) + 1 + i}" for i in range(len(values)))))
            args.extend(values)

        if where.state:
            add("state = {}", where.state)
        if where.owner is not None:
            add("owner = {}", where.owner)
        if where.kind:
            add("kind = {}", where.kind)
        if where.created_after is not None:
            add("created >= {}", where.created_after)
        if where.created_before is not None:
            add("created < {}", where.created_before)
        if after is not None:
            add("(created, id) < ({}, {})", after.created, after.id)
        query = (
            f"SELECT job, created, id FROM jobs WHERE {' AND '.join(clauses)} "
            f"ORDER BY created DESC, id DESC LIMIT {int(size) + 1}"
        )
        rows = await self.db.run(lambda tx: tx.fetch(query, *args))
        jobs = [pb.Job.FromString(bytes(row[0])) for row in rows[:size]]
        last = rows[size - 1] if len(rows) > size else None
        return Page(jobs, Cursor(last[1], last[2]) if last else None)

    async def count_jobs(self, state: int, owner: str | None = None) -> int:
        query = f"SELECT COUNT(*) FROM jobs WHERE {_TENANT}"
        row = await self.db.run(lambda tx: tx.fetchrow(query, state, owner or "", owner is not None))
        return row[0]

    # Leases

    async def claim(self, owner: str, lease_s: float) -> Claim | None:
        """Leases the oldest job that may run and no live gateway holds, or returns None."""
        row = await self.db.run(
            lambda tx: tx.fetchrow(
                "UPDATE jobs SET lease_owner = $1, lease_until = {now} + $2 WHERE id = ("
                f"SELECT id FROM jobs WHERE {_ACTIVE} AND {_EXPIRED} "
                "ORDER BY created, id LIMIT 1 {lock}) RETURNING job, cancel_requested",
                owner,
                float(lease_s),
            )
        )
        return Claim(pb.Job.FromString(bytes(row[0])), bool(row[1])) if row else None

    async def heartbeat(self, owner: str, lease_s: float) -> dict[str, bool]:
        """Renews every lease `owner` holds; returns {job id: cancel requested} of those jobs."""
        rows = await self.db.run(
            lambda tx: tx.fetch(
                "UPDATE jobs SET lease_until = {now} + $2 "
                f"WHERE lease_owner = $1 AND {_ACTIVE} RETURNING id, cancel_requested",
                owner,
                float(lease_s),
            )
        )
        return {row[0]: bool(row[1]) for row in rows}

    async def release(self, owner: str) -> None:
        """Gives up every lease of `owner` (at shutdown), so another gateway takes over at once."""
        await self.db.run(
            lambda tx: tx.execute(
                "UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1", owner
            )
        )

    async def request_cancel(self, job_id: str) -> pb.Job | None:
        """Cancels a job no gateway has taken up at once; otherwise marks it, and the gateway
        holding it (told by a notice, or by its next heartbeat) stops it."""

        async def work(tx: Tx) -> pb.Job | None:
            row = await tx.fetchrow(
                f"UPDATE jobs SET cancel_requested = TRUE WHERE id = $1 AND {_ACTIVE} "
                f"RETURNING job, {_EXPIRED}",
                job_id,
            )
            if row is None:
                found = await tx.fetchrow("SELECT job FROM jobs WHERE id = $1", job_id)
                return pb.Job.FromString(bytes(found[0])) if found else None
            job = pb.Job.FromString(bytes(row[0]))
            if job.state == pb.JOB_STATE_QUEUED and row[1]:
                job.state = pb.JOB_STATE_CANCELLED
                job.finished_at.GetCurrentTime()
                await self._write(tx, job, None, make_event(job, state=pb.StateChanged(state=job.state)), ())
            else:
                tx.notify(Notice("cancel", job_id))
            return job

        return await self.db.run(work)

    # Items and events

    async def items(self, job_id: str, kind: str) -> dict[int, dict[str, Any]]:
        """Finished items of one kind, by index, in index order."""
        rows = await self.db.run(
            lambda tx: tx.fetch(
                "SELECT idx, data FROM items WHERE job_id = $1 AND kind = $2 ORDER BY idx", job_id, kind
            )
        )
        return {row[0]: json.loads(row[1]) for row in rows}

    async def events_after(self, job_id: str, seq: int) -> list[pb.JobEvent]:
        rows = await self.db.run(
            lambda tx: tx.fetch(
                "SELECT event FROM events WHERE job_id = $1 AND seq > $2 ORDER BY seq", job_id, seq
            )
        )
        return [pb.JobEvent.FromString(bytes(row[0])) for row in rows]

    async def last_seq(self, job_id: str) -> int:
        row = await self.db.run(lambda tx: tx.fetchrow("SELECT last_seq FROM jobs WHERE id = $1", job_id))
        return row[0] if row else 0

    async def publish(self, event: pb.JobEvent) -> None:
        """Sends a live event (a denoising step) to the watchers on every gateway; never stored.
        Progress only: when the store cannot be reached, it is dropped."""
        try:
            await self.db.announce(Notice("step", event.job_id, event.seq, event))
        except StoreUnavailable:
            pass

    # API keys and their daily usage

    async def add_key(self, key: pb_keys.ApiKey, key_hash: str) -> bool:
        """Records a new key; False when the name (or the secret) is taken."""
        row = await self.db.run(
            lambda tx: tx.fetchrow(
                "INSERT INTO api_keys (name, hash, created, key) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT DO NOTHING RETURNING name",
                key.name,
                key_hash,
                key.created_at.ToNanoseconds() / 1e9,
                key.SerializeToString(),
            )
        )
        return row is not None

    async def key_by_hash(self, key_hash: str) -> pb_keys.ApiKey | None:
        row = await self.db.run(lambda tx: tx.fetchrow("SELECT key FROM api_keys WHERE hash = $1", key_hash))
        return pb_keys.ApiKey.FromString(bytes(row[0])) if row else None

    async def get_key(self, name: str) -> pb_keys.ApiKey | None:
        row = await self.db.run(lambda tx: tx.fetchrow("SELECT key FROM api_keys WHERE name = $1", name))
        return pb_keys.ApiKey.FromString(bytes(row[0])) if row else None

    async def list_keys(self) -> list[pb_keys.ApiKey]:
        rows = await self.db.run(lambda tx: tx.fetch("SELECT key FROM api_keys ORDER BY created, name"))
        return [pb_keys.ApiKey.FromString(bytes(row[0])) for row in rows]

    async def has_keys(self) -> bool:
        return await self.db.run(lambda tx: tx.fetchrow("SELECT 1 FROM api_keys LIMIT 1")) is not None

    async def update_key(self, key: pb_keys.ApiKey) -> None:
        await self.db.run(
            lambda tx: tx.execute(
                "UPDATE api_keys SET key = $1 WHERE name = $2", key.SerializeToString(), key.name
            )
        )

    async def usage(self, owner: str, day: str) -> tuple[int, int]:
        """(rows, images) `owner` has reserved on `day`."""
        row = await self.db.run(
            lambda tx: tx.fetchrow("SELECT rows, images FROM usage WHERE owner = $1 AND day = $2", owner, day)
        )
        return (row[0], row[1]) if row else (0, 0)
