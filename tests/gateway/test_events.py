"""The event log: gapless numbering, resumable watches, durable across a new log."""

import asyncio
from pathlib import Path

from synthmill.gateway.events import EventLog
from synthmill.gateway.store import JobStore
from synthmill.v1 import gateway_pb2 as pb


def _job(store: JobStore) -> pb.Job:
    job = pb.Job(id="j1", state=pb.JOB_STATE_RUNNING)
    job.created_at.GetCurrentTime()
    store.save_job(job)
    return job


async def _collect(log: EventLog, after: int, limit: int | None = None) -> list[int]:
    seqs = []
    async for event in log.watch("j1", after):
        seqs.append(event.seq)
        if limit and len(seqs) == limit:
            break
    return seqs


def test_watchers_reconnect_without_gaps_or_repeats(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = JobStore(tmp_path / "jobs.sqlite3")
        log = EventLog(store)
        job = _job(store)
        for i in range(5):
            await log.append(job, row=pb.RowWritten(index=i))
        full = asyncio.create_task(_collect(log, 0))
        first = await _collect(log, 0, limit=3)
        late = asyncio.create_task(_collect(log, first[-1]))
        many = [asyncio.create_task(_collect(log, 0)) for _ in range(50)]
        # One turn of the loop (no wall time) so the watchers start; each is right whenever it starts.
        await asyncio.sleep(0)
        for i in range(5, 9):
            await log.append(job, row=pb.RowWritten(index=i))
            await asyncio.sleep(0)
        job.state = pb.JOB_STATE_COMPLETED
        await log.append(job, state=pb.StateChanged(state=pb.JOB_STATE_COMPLETED))
        store.save_job(job)
        assert await full == list(range(1, 11))
        assert first + await late == list(range(1, 11))
        for task in many:
            assert await task == list(range(1, 11))
        # A new log over the same store (a restarted gateway) serves the same events.
        assert await _collect(EventLog(store), 4) == list(range(5, 11))

    asyncio.run(scenario())
