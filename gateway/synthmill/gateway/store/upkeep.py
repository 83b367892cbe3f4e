"""The job store's upkeep: deleting a job's records, finding ended jobs past their retention,
compacting the events of ended jobs, and named locks that one gateway holds at a time.

Part of `JobStore` (a base class of it); the SQL runs on its `Database`.
"""

from __future__ import annotations

from synthmill.gateway.store.database import Database, Tx
from synthmill.v1 import gateway_pb2 as pb


class Upkeep:
    db: Database

    async def delete_job(self, job_id: str) -> bool:
        """Removes the job's record, items and events; False when there was none."""

        async def work(tx: Tx) -> bool:
            await tx.execute("DELETE FROM items WHERE job_id = $1", job_id)
            await tx.execute("DELETE FROM events WHERE job_id = $1", job_id)
            return await tx.fetchrow("DELETE FROM jobs WHERE id = $1 RETURNING id", job_id) is not None

        return await self.db.run(work)

    async def ended_before(self, cutoff: float, limit: int) -> list[pb.Job]:
        """Up to `limit` jobs that ended before `cutoff` (epoch seconds), those that ended first first."""
        rows = await self.db.run(
            lambda tx: tx.fetch(
                f"SELECT job FROM jobs WHERE ended < $1 ORDER BY ended LIMIT {int(limit)}", cutoff
            )
        )
        return [pb.Job.FromString(bytes(row[0])) for row in rows]

    async def compact_events(self, cutoff: float, limit: int) -> int:
        """Keeps only the last stored event (the final state, with the job's counts) of up to `limit`
        jobs that ended before `cutoff`; a watcher resuming from any number gets that one event.
        Returns how many jobs were compacted."""

        async def work(tx: Tx) -> int:
            rows = await tx.fetch(
                "SELECT id, last_seq FROM jobs WHERE ended < $1 AND NOT compacted "
                f"ORDER BY ended LIMIT {int(limit)}",
                cutoff,
            )
            for job_id, last_seq in rows:
                await tx.execute("DELETE FROM events WHERE job_id = $1 AND seq < $2", job_id, last_seq)
                await tx.execute("UPDATE jobs SET compacted = TRUE WHERE id = $1", job_id)
            return len(rows)

        return await self.db.run(work)

    async def try_lock(self, name: str, owner: str, hold_s: float) -> bool:
        """Takes (or renews) the lock `name` for `owner` for `hold_s` seconds, by the database's
        clock, unless another owner holds it; True when `owner` holds it now."""
        row = await self.db.run(
            lambda tx: tx.fetchrow(
                "INSERT INTO store_locks (name, owner, until) VALUES ($1, $2, {now} + $3) "
                "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until "
                "WHERE store_locks.until < {now} OR store_locks.owner = excluded.owner RETURNING owner",
                name,
                owner,
                float(hold_s),
            )
        )
        return row is not None

    async def unlock(self, name: str, owner: str) -> None:
        await self.db.run(
            lambda tx: tx.execute("DELETE FROM store_locks WHERE name = $1 AND owner = $2", name, owner)
        )
