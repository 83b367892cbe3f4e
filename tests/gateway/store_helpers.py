"""Job stores on both databases, for store-level tests."""

from __future__ import annotations

from pathlib import Path

from synthmill.gateway.store.job_store import JobStore, make_event, open_store
from synthmill.v1 import gateway_pb2 as pb


async def opened(url: str) -> JobStore:
    store = open_store(url, Path("unused"), retry_s=5.0)
    await store.open()
    return store


async def queued_job(store: JobStore, job_id: str = "j1") -> pb.Job:
    job = pb.Job(id=job_id, state=pb.JOB_STATE_QUEUED)
    job.created_at.GetCurrentTime()
    await store.create(job, make_event(job, state=pb.StateChanged(state=job.state)))
    return job
