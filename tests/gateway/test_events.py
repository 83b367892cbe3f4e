"""The event log on both stores: gapless numbering, resumable watches, live steps that are never
stored, and watchers on another gateway's log (another store connection) fed by notices."""

from __future__ import annotations

import asyncio

import pytest
from store_helpers import opened, queued_job

from synthmill.gateway.store.events import EventLog
from synthmill.v1 import gateway_pb2 as pb


async def _collect(log: EventLog, after: int, limit: int | None = None) -> list[int]:
    seqs = []
    async for event in log.watch("j1", after):
        seqs.append(event.seq)
        if limit and len(seqs) == limit:
            break
    return seqs


def test_watchers_on_any_gateway_reconnect_without_gaps_or_repeats(store_url: str) -> None:
    async def scenario() -> None:
        store, other = await opened(store_url), await opened(store_url)
        log = EventLog(store)
        remote = EventLog(other if "postgresql" in store_url else store)  # SQLite: one gateway
        job = await queued_job(store)
        claim = await store.claim("me", 30)
        assert claim is not None and claim.job.id == "j1"
        for i in range(4):
            await log.append(job, "me", row=pb.RowWritten(index=i))
        full = asyncio.create_task(_collect(log, 0))
        first = await _collect(remote, 0, limit=3)
        late = asyncio.create_task(_collect(remote, first[-1]))
        many = [asyncio.create_task(_collect(remote, 0)) for _ in range(20)]
        for i in range(4, 8):
            await log.append(job, "me", row=pb.RowWritten(index=i))
        job.state = pb.JOB_STATE_COMPLETED
        await log.append(job, "me", state=pb.StateChanged(state=pb.JOB_STATE_COMPLETED))
        assert await full == list(range(1, 11))
        assert first + await late == list(range(1, 11))
        for task in many:
            assert await task == list(range(1, 11))
        # A new log over the same store (a restarted gateway) serves the same events.
        assert await _collect(EventLog(store), 4) == list(range(5, 11))
        await store.close()
        await other.close()

    asyncio.run(scenario())


def test_steps_reach_live_watchers_and_are_never_stored(store_url: str) -> None:
    async def scenario() -> None:
        store, other = await opened(store_url), await opened(store_url)
        log = EventLog(store)
        remote = EventLog(other if "postgresql" in store_url else store)
        job = await queued_job(store)
        await store.claim("me", 30)
        await log.append(job, "me", row=pb.RowWritten(index=0))
        seen: list[pb.JobEvent] = []
        watching = asyncio.Event()

        async def watch() -> None:
            async for event in remote.watch("j1", 0):
                seen.append(event)
                if event.seq == 2:
                    watching.set()

        watcher = asyncio.create_task(watch())
        await watching.wait()
        for index in (0, 1, 2):  # three items: no step supersedes another (test_fanout_coalesce)
            await log.progress(job, step=pb.ImageStep(index=index, step=1, total_steps=3))
        job.state = pb.JOB_STATE_COMPLETED
        await log.append(job, "me", state=pb.StateChanged(state=pb.JOB_STATE_COMPLETED))
        await watcher
        assert [(e.WhichOneof("event"), e.seq) for e in seen] == [
            ("state", 1),
            ("row", 2),
            ("step", 2),
            ("step", 2),
            ("step", 2),
            ("state", 3),
        ]
        assert [e.seq for e in await store.events_after("j1", 0)] == [1, 2, 3]
        await store.close()
        await other.close()

    asyncio.run(scenario())


def test_a_write_without_the_lease_is_refused(store_url: str) -> None:
    async def scenario() -> None:
        from synthmill.gateway.store.job_store import LeaseLost

        store = await opened(store_url)
        job = await queued_job(store)
        assert await store.claim("a", 30) is not None
        with pytest.raises(LeaseLost):
            await EventLog(store).append(job, "b", row=pb.RowWritten(index=0))
        assert await store.last_seq("j1") == 1
        await store.close()

    asyncio.run(scenario())


def test_a_watch_past_the_end_of_a_finished_job_ends_at_once(store_url: str) -> None:
    async def scenario() -> None:
        store = await opened(store_url)
        log = EventLog(store)
        job = await queued_job(store)
        await store.claim("me", 30)
        job.state = pb.JOB_STATE_COMPLETED
        await log.append(job, "me", state=pb.StateChanged(state=pb.JOB_STATE_COMPLETED))
        assert await _collect(log, 2) == []
        assert await _collect(log, 1) == [2]
        await store.close()

    asyncio.run(scenario())
