"""Removing jobs: one on request (DeleteJob, after it stopped), or every job that ended more than
`SYNTHMILL_GATEWAY_RETENTION_DAYS` ago, by a sweeper; and compacting the stored events of jobs that
ended more than `COMPACT_EVENTS_AFTER_S` ago to their final event.

Every gateway runs a sweeper, but a pass runs only on the gateway holding the store's `sweeper` lock
(held for a while longer than a pass may take, given back after it), so gateways sharing a store
never sweep at once. `clock` is injectable, so tests move time instead of waiting.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from synthmill.gateway.access.audit import audit
from synthmill.gateway.outputs.folder import JobFolder
from synthmill.gateway.store.job_store import JobStore, StoreUnavailable
from synthmill.v1 import gateway_pb2 as pb

log = logging.getLogger(__name__)
LOCK = "sweeper"
LOCK_HOLD_S = 600.0  # a gateway that died mid-pass frees the lock after this
BATCH = 500  # jobs removed or compacted per store transaction
DAY_S = 86400.0


async def remove_job(store: JobStore, output_dir: Path, job: pb.Job) -> None:
    """Removes the (ended) job's output folder, then its records: a removal cut short by a crash
    leaves a record to remove again, never a folder no record points at."""
    await asyncio.to_thread(shutil.rmtree, JobFolder.of(output_dir, job).path, True)
    await store.delete_job(job.id)


@dataclass(frozen=True)
class Swept:
    removed: int
    compacted: int


class Sweeper:
    def __init__(
        self,
        store: JobStore,
        output_dir: Path,
        owner: str,
        retention_days: float,
        compact_after_s: float,
        clock: Callable[[], float] = time.time,
    ):
        self.store = store
        self.output_dir = output_dir
        self.owner = owner  # this gateway's name on the lock
        self.retention_days = retention_days  # 0: keep jobs for ever
        self.compact_after_s = compact_after_s  # 0: keep every event
        self.clock = clock

    async def sweep(self) -> Swept | None:
        """One pass: removes every job that ended before the retention, compacts the events of every
        job that ended before `compact_after_s`; None when another gateway holds the lock."""
        if not await self.store.try_lock(LOCK, self.owner, LOCK_HOLD_S):
            return None
        removed = compacted = 0
        try:
            now = self.clock()
            if self.retention_days:
                while jobs := await self.store.ended_before(now - self.retention_days * DAY_S, BATCH):
                    for job in jobs:
                        await remove_job(self.store, self.output_dir, job)
                        audit("expire", who="retention", job=job.id, owner=job.owner)
                    removed += len(jobs)
            if self.compact_after_s:
                while done := await self.store.compact_events(now - self.compact_after_s, BATCH):
                    compacted += done
        finally:
            await self.store.unlock(LOCK, self.owner)
        if removed or compacted:
            log.info("retention: removed %d jobs, compacted the events of %d", removed, compacted)
        return Swept(removed, compacted)

    async def run(self, every_s: float) -> None:
        """Sweeps every `every_s` seconds, for as long as the gateway runs."""
        while True:
            try:
                await self.sweep()
            except StoreUnavailable as exc:
                log.warning("retention: %s", exc)
            await asyncio.sleep(every_s)
