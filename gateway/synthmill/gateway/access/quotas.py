"""Limits checked at submit: the gateway's queue, and per key jobs running, jobs queued, rows and
images per UTC day.

The counts live in the job store, so every gateway sharing it enforces the same limits. They are
checked and counted in the transaction that stores the job (`JobStore.create`), one submit at a
time, so two submits at once cannot both slip under a limit. `clock` is injectable so tests can move
to the next day.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from synthmill.common.errors import ResourceExhausted
from synthmill.gateway.access.keyring import Principal
from synthmill.gateway.store.job_store import QUEUE_LIMIT, Admission, JobStore, OverLimit
from synthmill.v1 import gateway_pb2 as pb


class Quotas:
    def __init__(self, store: JobStore, max_queued: int, clock: Callable[[], float] = time.time):
        self.store = store
        self.max_queued = max_queued  # jobs queued in all, every owner's
        self.clock = clock

    def day(self) -> str:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).date().isoformat()

    async def check(self, job: pb.Job, who: Principal) -> None:
        """ResourceExhausted naming the limit if `job` would not fit now (nothing is counted): checked
        before a submit writes its inputs; `create` checks again, atomically."""
        admission = Admission(self.max_queued, who.limits, self.day())
        try:
            await self.store.check_admission(job, admission)
        except OverLimit as over:
            raise ResourceExhausted(_refusal(who.name, over, admission.day)) from None

    async def create(self, job: pb.Job, event: pb.JobEvent, who: Principal) -> None:
        """Stores the new `job` if the queue has room and it fits `who`'s limits, or raises
        ResourceExhausted naming the limit."""
        admission = Admission(self.max_queued, who.limits, self.day())
        try:
            await self.store.create(job, event, admission)
        except OverLimit as over:
            raise ResourceExhausted(_refusal(who.name, over, admission.day)) from None


def _refusal(name: str, over: OverLimit, day: str) -> str:
    if over.limit == QUEUE_LIMIT:
        return f"{over.maximum} jobs are already queued; try later"
    reached = f"key {name!r} reached its limit {over.limit}={over.maximum}"
    if over.limit.endswith("_per_day"):
        return f"{reached}: {over.used} used on {day}, this job asks {over.asked}"
    return f"{reached} ({over.used} now)"
