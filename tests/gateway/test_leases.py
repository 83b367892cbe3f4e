"""Leases on both stores: gateways racing for jobs never share one, a lease that ran out is
taken over, and a cancel reaches the job whether or not a gateway holds it."""

from __future__ import annotations

import asyncio

from store_helpers import opened, queued_job

from synthmill.v1 import gateway_pb2 as pb


def test_gateways_racing_for_jobs_never_lease_one_twice(store_url: str) -> None:
    async def scenario() -> None:
        stores = [await opened(store_url) for _ in range(3)]
        ids = [(await queued_job(stores[0], f"j{i:02d}")).id for i in range(30)]

        async def claimer(store, owner: str) -> list[str]:
            got = []
            while (claim := await store.claim(owner, 30)) is not None:
                got.append(claim.job.id)
            return got

        results = await asyncio.gather(
            *(claimer(store, f"gw{n}-{k}") for n, store in enumerate(stores) for k in range(3))
        )
        claimed = [job_id for got in results for job_id in got]
        assert sorted(claimed) == ids  # every job once, none twice
        assert await stores[1].claim("late", 30) is None
        for store in stores:
            await store.close()

    asyncio.run(scenario())


def test_a_lease_that_ran_out_is_taken_over_and_the_old_holder_is_fenced(store_url: str) -> None:
    async def scenario() -> None:
        from synthmill.gateway.store.events import EventLog
        from synthmill.gateway.store.job_store import LeaseLost

        store = await opened(store_url)
        job = await queued_job(store)
        first = await store.claim("a", -1.0)  # a lease already out of date: its holder "died"
        assert first is not None
        assert await store.heartbeat("b", 30) == {}
        second = await store.claim("b", 30)
        assert second is not None and second.job.id == job.id
        assert await store.claim("c", 30) is None  # b's lease is live
        log = EventLog(store)
        try:
            await log.append(job, "a", row=pb.RowWritten(index=0))
            raise AssertionError("the old holder could still write")
        except LeaseLost:
            pass
        assert (await log.append(job, "b", row=pb.RowWritten(index=0))).seq == 2
        assert await store.heartbeat("b", 30) == {job.id: False}
        await store.close()

    asyncio.run(scenario())


def test_cancel_ends_a_queued_job_at_once_and_flags_a_leased_one(store_url: str) -> None:
    async def scenario() -> None:
        store = await opened(store_url)
        queued = await queued_job(store, "q")
        cancelled = await store.request_cancel(queued.id)
        assert cancelled.state == pb.JOB_STATE_CANCELLED
        events = await store.events_after("q", 0)
        assert [e.state.state for e in events] == [pb.JOB_STATE_QUEUED, pb.JOB_STATE_CANCELLED]
        running = await queued_job(store, "r")
        await store.claim("a", 30)
        assert (await store.request_cancel(running.id)).state == pb.JOB_STATE_QUEUED
        assert await store.heartbeat("a", 30) == {"r": True}
        assert await store.request_cancel("missing") is None
        await store.close()

    asyncio.run(scenario())
