"""A job store filled with finished jobs written straight into it (no gateway), for listing tests."""

from __future__ import annotations

from pathlib import Path

from synthmill.gateway.store.job_store import make_event, open_store
from synthmill.v1 import gateway_pb2 as pb

START = 1733392800  # 2024-12-05 10:00:00 UTC


def job_id(n: int) -> str:
    """The n-th filled job's id, in the shape ids had before 80 random bits."""
    return f"20241205-1000{n // 60:02d}-{n:06x}"


async def fill(url: str, count: int) -> list[str]:
    """`count` completed text jobs, one second apart, in the store at `url`; their ids, newest first."""
    store = open_store(url, Path("unused"), retry_s=5.0)
    await store.open()
    for n in range(count):
        job = pb.Job(id=job_id(n), state=pb.JOB_STATE_QUEUED, spec=pb.JobSpec(text=pb.TextJobSpec(count=1)))
        job.created_at.FromSeconds(START + n)
        await store.create(job, make_event(job, state=pb.StateChanged(state=job.state)))
        assert (await store.claim("filler", 30)).job.id == job.id
        job.state = pb.JOB_STATE_COMPLETED
        job.finished_at.FromSeconds(START + n + 1)
        await store.commit(job, "filler", make_event(job, state=pb.StateChanged(state=job.state)))
    await store.close()
    return [job_id(n) for n in reversed(range(count))]
