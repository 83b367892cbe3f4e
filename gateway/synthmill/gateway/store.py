"""The durable job store: jobs, finished items, events, API keys and their daily usage in one
SQLite file.

Every finished item is recorded here before it counts as done, so a restarted gateway
knows exactly what is left. Calls are short single-row statements made from the event
loop thread; WAL mode keeps them cheap.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import keys_pb2 as pb_keys

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    state INTEGER NOT NULL,
    job BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, created);
CREATE TABLE IF NOT EXISTS items (
    job_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    idx INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (job_id, kind, idx)
);
CREATE TABLE IF NOT EXISTS events (
    job_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event BLOB NOT NULL,
    PRIMARY KEY (job_id, seq)
);
CREATE TABLE IF NOT EXISTS api_keys (
    name TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    created REAL NOT NULL,
    key BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS usage (
    owner TEXT NOT NULL,
    day TEXT NOT NULL,
    rows INTEGER NOT NULL,
    images INTEGER NOT NULL,
    PRIMARY KEY (owner, day)
);
"""
# Columns added after the first release, for stores made before them.
_ADDED_COLUMNS = {"jobs": {"owner": "TEXT NOT NULL DEFAULT ''"}}


class JobStore:
    """Jobs (as serialized `Job` messages), their finished items, and their events."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        for table, columns in _ADDED_COLUMNS.items():
            present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for name, kind in columns.items():
                if name not in present:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
        self._db.execute("CREATE INDEX IF NOT EXISTS jobs_owner ON jobs (owner, state)")

    def close(self) -> None:
        self._db.close()

    def save_job(self, job: pb.Job) -> None:
        self._db.execute(
            "INSERT INTO jobs (id, created, state, job, owner) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET state = excluded.state, job = excluded.job",
            (job.id, job.created_at.ToNanoseconds() / 1e9, job.state, job.SerializeToString(), job.owner),
        )

    def get_job(self, job_id: str) -> pb.Job | None:
        row = self._db.execute("SELECT job FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return pb.Job.FromString(row[0]) if row else None

    def list_jobs(self, state: int = 0, limit: int = 0, owner: str | None = None) -> list[pb.Job]:
        """Newest first; `owner` (a key's name) keeps only that tenant's jobs, None keeps all."""
        where, args = _filters(state, owner)
        query = f"SELECT job FROM jobs{where} ORDER BY created DESC, id DESC"
        if limit:
            query += " LIMIT ?"
            args.append(limit)
        return [pb.Job.FromString(row[0]) for row in self._db.execute(query, args)]

    def unfinished_jobs(self) -> list[pb.Job]:
        """Jobs to take up again after a restart, oldest first."""
        rows = self._db.execute(
            "SELECT job FROM jobs WHERE state IN (?, ?) ORDER BY created, id",
            (pb.JOB_STATE_QUEUED, pb.JOB_STATE_RUNNING),
        )
        return [pb.Job.FromString(row[0]) for row in rows]

    def count_jobs(self, state: int, owner: str | None = None) -> int:
        where, args = _filters(state, owner)
        return self._db.execute(f"SELECT COUNT(*) FROM jobs{where}", args).fetchone()[0]

    def put_item(self, job_id: str, kind: str, idx: int, data: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO items (job_id, kind, idx, data) VALUES (?, ?, ?, ?)",
            (job_id, kind, idx, json.dumps(data, ensure_ascii=False)),
        )

    def items(self, job_id: str, kind: str) -> dict[int, dict[str, Any]]:
        """Finished items of one kind, by index, in index order."""
        rows = self._db.execute(
            "SELECT idx, data FROM items WHERE job_id = ? AND kind = ? ORDER BY idx", (job_id, kind)
        )
        return {idx: json.loads(data) for idx, data in rows}

    def add_event(self, event: pb.JobEvent) -> None:
        self._db.execute(
            "INSERT INTO events (job_id, seq, event) VALUES (?, ?, ?)",
            (event.job_id, event.seq, event.SerializeToString()),
        )

    def events_after(self, job_id: str, seq: int) -> list[pb.JobEvent]:
        rows = self._db.execute(
            "SELECT event FROM events WHERE job_id = ? AND seq > ? ORDER BY seq", (job_id, seq)
        )
        return [pb.JobEvent.FromString(row[0]) for row in rows]

    def last_seq(self, job_id: str) -> int:
        row = self._db.execute("SELECT MAX(seq) FROM events WHERE job_id = ?", (job_id,)).fetchone()
        return row[0] or 0

    # ------------------------------------------------------------------------------------ API keys

    def add_key(self, key: pb_keys.ApiKey, key_hash: str) -> bool:
        """Records a new key; False when the name is taken."""
        try:
            self._db.execute(
                "INSERT INTO api_keys (name, hash, created, key) VALUES (?, ?, ?, ?)",
                (key.name, key_hash, key.created_at.ToNanoseconds() / 1e9, key.SerializeToString()),
            )
        except sqlite3.IntegrityError:
            return False
        return True

    def key_by_hash(self, key_hash: str) -> pb_keys.ApiKey | None:
        row = self._db.execute("SELECT key FROM api_keys WHERE hash = ?", (key_hash,)).fetchone()
        return pb_keys.ApiKey.FromString(row[0]) if row else None

    def list_keys(self) -> list[pb_keys.ApiKey]:
        rows = self._db.execute("SELECT key FROM api_keys ORDER BY created, name")
        return [pb_keys.ApiKey.FromString(row[0]) for row in rows]

    def has_keys(self) -> bool:
        return self._db.execute("SELECT 1 FROM api_keys LIMIT 1").fetchone() is not None

    def update_key(self, key: pb_keys.ApiKey) -> None:
        self._db.execute("UPDATE api_keys SET key = ? WHERE name = ?", (key.SerializeToString(), key.name))

    def get_key(self, name: str) -> pb_keys.ApiKey | None:
        row = self._db.execute("SELECT key FROM api_keys WHERE name = ?", (name,)).fetchone()
        return pb_keys.ApiKey.FromString(row[0]) if row else None

    def reserve_usage(
        self, owner: str, day: str, rows: int, images: int, max_rows: int, max_images: int
    ) -> str | None:
        """Adds a job's rows and images to `owner`'s usage of `day`, atomically (several gateways may
        share the store), unless that would pass a non-zero maximum: then nothing is added and the
        name of the limit passed ("rows_per_day" or "images_per_day") comes back."""
        with self._immediate():
            used = self._db.execute(
                "SELECT rows, images FROM usage WHERE owner = ? AND day = ?", (owner, day)
            ).fetchone() or (0, 0)
            if max_rows and used[0] + rows > max_rows:
                return "rows_per_day"
            if max_images and used[1] + images > max_images:
                return "images_per_day"
            self._db.execute(
                "INSERT INTO usage (owner, day, rows, images) VALUES (?, ?, ?, ?) ON CONFLICT (owner, day) "
                "DO UPDATE SET rows = rows + excluded.rows, images = images + excluded.images",
                (owner, day, rows, images),
            )
        return None

    def usage(self, owner: str, day: str) -> tuple[int, int]:
        """(rows, images) `owner` has reserved on `day`."""
        row = self._db.execute("SELECT rows, images FROM usage WHERE owner = ? AND day = ?", (owner, day))
        return row.fetchone() or (0, 0)

    @contextlib.contextmanager
    def _immediate(self) -> Iterator[None]:
        """A write transaction that holds the database's write lock from its first statement."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _filters(state: int, owner: str | None) -> tuple[str, list[Any]]:
    clauses, args = [], []
    if state:
        clauses.append("state = ?")
        args.append(state)
    if owner is not None:
        clauses.append("owner = ?")
        args.append(owner)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args
