"""Paged job listings on both stores: a keyset on (created, id), newest first, stable while jobs are
added; filters by state, kind, owner and submit time; opaque tokens refused by name when bad."""

from __future__ import annotations

import asyncio

import pytest
from store_helpers import opened

from synthmill.common.errors import InvalidArgument
from synthmill.gateway.store import paging
from synthmill.gateway.store.job_store import JobStore, make_event
from synthmill.gateway.store.paging import Cursor, JobFilter
from synthmill.v1 import gateway_pb2 as pb


async def _add(store: JobStore, job_id: str, created: float, kind: str = "text", owner: str = "") -> pb.Job:
    job = pb.Job(id=job_id, state=pb.JOB_STATE_QUEUED, owner=owner)
    getattr(job.spec, kind).SetInParent()
    job.created_at.FromNanoseconds(int(created * 1e9))
    await store.create(job, make_event(job, state=pb.StateChanged(state=job.state)))
    return job


async def _all_pages(store: JobStore, where: JobFilter, size: int) -> list[list[str]]:
    pages, after = [], None
    while True:
        page = await store.list_jobs(where, size, after)
        pages.append([job.id for job in page.jobs])
        if page.next is None:
            return pages
        after = Cursor.parse(page.next.token())  # through the token, as a client sends it back


def test_pages_hold_every_job_once_newest_first_while_jobs_are_added(store_url: str) -> None:
    async def scenario() -> None:
        store = await opened(store_url)
        # 25 jobs, several submitted in the same instant (ties are broken by id)
        for n in range(25):
            await _add(store, f"j{n:02d}", 1000.0 + n // 3)
        first = await store.list_jobs(size=10)
        assert [job.id for job in first.jobs] == [f"j{n:02d}" for n in range(24, 14, -1)]
        for n in range(25, 30):  # newer jobs arrive while a client pages
            await _add(store, f"j{n:02d}", 2000.0)
        seen = [job.id for job in first.jobs]
        after = first.next
        while after is not None:
            page = await store.list_jobs(size=10, after=after)
            seen += [job.id for job in page.jobs]
            after = page.next
        assert seen == [f"j{n:02d}" for n in range(24, -1, -1)]  # each once, none of the new ones
        assert (await store.list_jobs()).next is None  # 30 jobs: one default page of 50
        assert await _all_pages(store, JobFilter(), 15) == [
            [f"j{n:02d}" for n in range(29, 14, -1)],
            [f"j{n:02d}" for n in range(14, -1, -1)],
        ]
        await store.close()

    asyncio.run(scenario())


def test_filters_by_state_kind_owner_and_time(store_url: str) -> None:
    async def scenario() -> None:
        store = await opened(store_url)
        await _add(store, "t1", 100.0, "text", "alice")
        await _add(store, "i1", 101.0, "images", "alice")
        await _add(store, "u1", 102.0, "unified", "bob")
        await _add(store, "t2", 103.0, "text", "bob")
        claim = await store.claim("gw", 30)  # the oldest, t1, starts running
        claim.job.state = pb.JOB_STATE_RUNNING
        await store.commit(claim.job, "gw")

        async def ids(**where) -> list[str]:
            return [job.id for job in (await store.list_jobs(JobFilter(**where))).jobs]

        assert await ids() == ["t2", "u1", "i1", "t1"]
        assert await ids(kind="text") == ["t2", "t1"]
        assert await ids(state=pb.JOB_STATE_RUNNING) == ["t1"]
        assert await ids(state=pb.JOB_STATE_QUEUED, kind="text") == ["t2"]
        assert await ids(owner="alice") == ["i1", "t1"]
        assert await ids(owner="bob", kind="images") == []
        assert await ids(created_after=101.0) == ["t2", "u1", "i1"]  # inclusive
        assert await ids(created_before=102.0) == ["i1", "t1"]  # exclusive
        assert await ids(created_after=101.0, created_before=103.0, owner="bob") == ["u1"]
        assert await _all_pages(store, JobFilter(kind="text"), 1) == [["t2"], ["t1"]]
        await store.close()

    asyncio.run(scenario())


def test_requests_are_checked_and_tokens_are_opaque() -> None:
    where, size, after = paging.from_request(pb.ListJobsRequest(), None)
    assert (where, size, after) == (JobFilter(), 50, None)
    assert paging.from_request(pb.ListJobsRequest(limit=7), "alice")[1:] == (7, None)  # the old field
    assert paging.from_request(pb.ListJobsRequest(limit=7, page_size=9), None)[1] == 9
    assert paging.from_request(pb.ListJobsRequest(page_size=1000), None)[1] == 1000
    with pytest.raises(InvalidArgument, match=r"^page_size: 1001 is more than 1000"):
        paging.from_request(pb.ListJobsRequest(page_size=1001), None)
    with pytest.raises(InvalidArgument, match=r"^limit: 5000"):
        paging.from_request(pb.ListJobsRequest(limit=5000), None)
    with pytest.raises(InvalidArgument, match=r"^kind: 'pictures' is not one of text, images, unified"):
        paging.from_request(pb.ListJobsRequest(kind="pictures"), None)
    for bad in ("x", "bm90IGpzb24", Cursor(1.0, "j").token()[:-3], "WzEsMl0"):  # [1,2]: no id
        with pytest.raises(InvalidArgument, match=r"^page_token: is not a token"):
            paging.from_request(pb.ListJobsRequest(page_token=bad), None)
    cursor = Cursor(1733396399.123456, "20261205-105959-0fk3x9q2m7c4vd8h1n")
    assert Cursor.parse(cursor.token()) == cursor  # exact, the float included
    request = pb.ListJobsRequest(state=pb.JOB_STATE_FAILED, kind="images", page_token=cursor.token())
    request.created_after.FromSeconds(10)
    where, _, after = paging.from_request(request, "bob")
    assert where == JobFilter(pb.JOB_STATE_FAILED, "bob", "images", 10.0, None) and after == cursor
