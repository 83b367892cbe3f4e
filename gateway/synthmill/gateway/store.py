"""The durable job store: jobs, finished items and events in one SQLite file.

Every finished item is recorded here before it counts as done, so a restarted gateway
knows exactly what is left. Calls are short single-row statements made from the event
loop thread; WAL mode keeps them cheap.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from synthmill.v1 import gateway_pb2 as pb

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
"""


class JobStore:
    """Jobs (as serialized `Job` messages), their finished items, and their events."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def save_job(self, job: pb.Job) -> None:
        self._db.execute(
            "INSERT INTO jobs (id, created, state, job) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET state = excluded.state, job = excluded.job",
            (job.id, job.created_at.ToNanoseconds() / 1e9, job.state, job.SerializeToString()),
        )

    def get_job(self, job_id: str) -> pb.Job | None:
        row = self._db.execute("SELECT job FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return pb.Job.FromString(row[0]) if row else None

    def list_jobs(self, state: int = 0, limit: int = 0) -> list[pb.Job]:
        query, args = "SELECT job FROM jobs", []
        if state:
            query += " WHERE state = ?"
            args.append(state)
        query += " ORDER BY created DESC, id DESC"
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

    def count_jobs(self, state: int) -> int:
        return self._db.execute("SELECT COUNT(*) FROM jobs WHERE state = ?", (state,)).fetchone()[0]

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
