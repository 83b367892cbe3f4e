"""Submit limits on both stores, checked and counted in the transaction that stores the job: per-key
limits name the limit, reset the next day and count only the key's own jobs; the gateway's queue
limit counts everyone's; and both hold when many submits race on several gateways (store
connections) at once."""

from __future__ import annotations

import asyncio

import pytest
from store_helpers import opened

from synthmill.common.errors import ResourceExhausted
from synthmill.common.pages import MAX_PAGE
from synthmill.gateway.access.keyring import Principal
from synthmill.gateway.access.quotas import Quotas
from synthmill.gateway.store.job_store import JobStore, make_event
from synthmill.gateway.store.paging import JobFilter
from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import keys_pb2

DAY = 86400.0
ROOMY = 1000  # a queue limit no test reaches


def _key(name: str, **limits: int) -> Principal:
    return Principal(name, limits=keys_pb2.KeyLimits(**limits))


def _job(job_id: str, owner: str, state: int = pb.JOB_STATE_QUEUED, rows: int = 0, images: int = 0) -> pb.Job:
    job = pb.Job(id=job_id, owner=owner, state=state)
    job.counts.rows_total, job.counts.images_total = rows, images
    job.created_at.GetCurrentTime()
    return job


async def _submit(quotas: Quotas, who: Principal, job: pb.Job) -> pb.Job:
    await quotas.create(job, make_event(job, state=pb.StateChanged(state=job.state)), who)
    return job


def test_daily_limits_name_the_limit_and_reset_the_next_day(store_url: str) -> None:
    async def scenario() -> None:
        store = await opened(store_url)
        now = [10 * DAY + 100.0]
        quotas = Quotas(store, ROOMY, clock=lambda: now[0])
        alice = _key("alice", rows_per_day=10, images_per_day=4)
        await _submit(quotas, alice, _job("j1", "alice", rows=6, images=4))
        with pytest.raises(
            ResourceExhausted, match=r"rows_per_day=10: 6 used on 1970-01-11, this job asks 5"
        ):
            await _submit(quotas, alice, _job("j2", "alice", rows=5))
        with pytest.raises(ResourceExhausted, match="images_per_day=4"):
            await _submit(quotas, alice, _job("j3", "alice", images=1))
        assert [job.id for job in (await store.list_jobs(JobFilter(owner="alice"))).jobs] == [
            "j1"
        ]  # refused: not stored
        await _submit(quotas, alice, _job("j4", "alice", rows=4))  # exactly at the limit is fine
        now[0] += DAY
        await _submit(quotas, alice, _job("j5", "alice", rows=10, images=4))
        assert await store.usage("alice", "1970-01-11") == (10, 4)
        assert await store.usage("alice", "1970-01-12") == (10, 4)
        await store.close()

    asyncio.run(scenario())


def test_job_count_limits_count_only_the_keys_own_jobs(store_url: str) -> None:
    async def scenario() -> None:
        store = await opened(store_url)
        quotas = Quotas(store, ROOMY)
        alice = _key("alice", max_running_jobs=1, max_queued_jobs=2)
        await _submit(quotas, _key("bob"), _job("j0", "bob"))
        await _submit(quotas, alice, _job("j1", "alice"))
        await _submit(quotas, alice, _job("j2", "alice"))
        with pytest.raises(ResourceExhausted, match=r"max_queued_jobs=2 \(2 now\)"):
            await _submit(quotas, alice, _job("j3", "alice"))
        assert (await store.claim("gw", 30)).job.id == "j0"
        claim = await store.claim("gw", 30)
        assert claim.job.id == "j1"
        claim.job.state = pb.JOB_STATE_RUNNING
        await store.commit(claim.job, "gw")
        with pytest.raises(ResourceExhausted, match=r"max_running_jobs=1 \(1 now\)"):
            await _submit(quotas, alice, _job("j4", "alice"))
        assert [job.id for job in (await store.list_jobs(JobFilter(owner="alice"))).jobs] == ["j2", "j1"]
        await store.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("who", "max_queued", "refusal"),
    [
        (
            _key("alice", max_queued_jobs=3, rows_per_day=1000),
            ROOMY,
            "key 'alice' reached its limit max_queued_jobs=3",
        ),
        (_key("alice"), 3, "3 jobs are already queued; try later"),
    ],
    ids=["per-key", "gateway-queue"],
)
def test_submits_racing_on_several_gateways_never_slip_past_a_limit(
    store_url: str, who: Principal, max_queued: int, refusal: str
) -> None:
    async def scenario(stores: list[JobStore]) -> list[str]:
        submits = [
            _submit(Quotas(stores[i % len(stores)], max_queued), who, _job(f"j{i}", "alice", rows=10))
            for i in range(12)
        ]
        results = await asyncio.gather(*submits, return_exceptions=True)
        refused = [r for r in results if isinstance(r, ResourceExhausted)]
        assert len(refused) == 9 and all(refusal in str(r) for r in refused), results
        day = Quotas(stores[0], max_queued).day()
        counted = (30, 0) if who.limits is not None else (0, 0)
        assert await stores[0].usage("alice", day) == counted  # only the admitted jobs counted
        return [job.id for job in (await stores[0].list_jobs(JobFilter(owner="alice"), MAX_PAGE)).jobs]

    async def main() -> list[str]:
        stores = [await opened(store_url) for _ in range(3 if "postgresql" in store_url else 1)]
        try:
            return await scenario(stores)
        finally:
            for store in stores:
                await store.close()

    assert len(asyncio.run(main())) == 3
