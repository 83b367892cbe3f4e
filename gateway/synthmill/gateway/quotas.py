"""Per-key limits, checked at submit: jobs running, jobs queued, rows and images per UTC day.

The counts live in the job store, so every gateway sharing it enforces the same limits; the
daily counts are reserved atomically with the check. `clock` is injectable so tests can move
to the next day.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from synthmill.common.errors import ResourceExhausted
from synthmill.gateway.keyring import Principal
from synthmill.gateway.store import JobStore
from synthmill.v1 import gateway_pb2 as pb


class Quotas:
    def __init__(self, store: JobStore, clock: Callable[[], float] = time.time):
        self.store = store
        self.clock = clock

    def day(self) -> str:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).date().isoformat()

    async def admit(self, who: Principal, counts: pb.JobCounts) -> None:
        """Counts a new job against `who`'s limits, or raises ResourceExhausted naming the limit."""
        limits = who.limits
        if limits is None:
            return
        for state, limit, name in (
            (pb.JOB_STATE_RUNNING, limits.max_running_jobs, "max_running_jobs"),
            (pb.JOB_STATE_QUEUED, limits.max_queued_jobs, "max_queued_jobs"),
        ):
            if limit and (current := await self.store.count_jobs(state, who.name)) >= limit:
                raise ResourceExhausted(f"key {who.name!r} reached its limit {name}={limit} ({current} now)")
        day = self.day()
        passed = await self.store.reserve_usage(
            who.name, day, counts.rows_total, counts.images_total, limits.rows_per_day, limits.images_per_day
        )
        if passed:
            rows, images = await self.store.usage(who.name, day)
            used, asked = (
                (rows, counts.rows_total) if passed == "rows_per_day" else (images, counts.images_total)
            )
            limit = getattr(limits, passed)
            raise ResourceExhausted(
                f"key {who.name!r} reached its limit {passed}={limit}: {used} used on {day}, this job asks {asked}"
            )
