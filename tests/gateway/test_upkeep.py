"""Ids, deletion, retention and event compaction on both stores: an id taken is retried with a fresh
one and never surfaced; a sweeper removes old jobs, outputs and records, one gateway at a time, on an
injected clock; compaction keeps a job's final event and counts; stores made before all this open
with their jobs listed and filterable."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import asyncpg
import pytest
from store_helpers import opened, queued_job

from synthmill.gateway.access.keyring import Principal
from synthmill.gateway.access.quotas import Quotas
from synthmill.gateway.ids import JOB_ID, new_id
from synthmill.gateway.jobs import Jobs
from synthmill.gateway.kinds import kind_of
from synthmill.gateway.retention import DAY_S, Sweeper
from synthmill.gateway.run.job_run import Context
from synthmill.gateway.settings import GatewaySettings
from synthmill.gateway.store.database import migrations
from synthmill.gateway.store.events import EventLog
from synthmill.gateway.store.job_store import IdTaken, Item, JobStore, make_event
from synthmill.gateway.store.paging import JobFilter
from synthmill.v1 import gateway_pb2 as pb


def test_new_ids_are_unique_time_sorted_and_valid_beside_old_ones() -> None:
    ids = [new_id(lambda n=n: 1733396399.0 + n / 1000) for n in range(2000)]
    assert len(set(ids)) == 2000 and ids == sorted(ids)  # millisecond order is lexical order
    assert re.fullmatch(r"20241205-105959-[0-9a-hjkmnp-tv-z]{18}", ids[0])
    assert ids[1000].startswith("20241205-110000-")
    assert all(JOB_ID.fullmatch(i) for i in [*ids, "20261205-105959-a1b2c3"])  # old ids stay valid
    assert len({new_id()[-16:] for _ in range(10000)}) == 10000  # the 80 random bits


def _ended(job: pb.Job, at: float, state: int = pb.JOB_STATE_COMPLETED) -> pb.Job:
    job.state = state
    job.finished_at.FromNanoseconds(int(at * 1e9))
    return job


async def _finished(store: JobStore, job_id: str, at: float, rows: int = 3) -> pb.Job:
    """A job that ran `rows` rows (an event each) and completed at `at`."""
    job = await queued_job(store, job_id)
    assert (await store.claim("gw", 30)).job.id == job_id
    job.state = pb.JOB_STATE_RUNNING
    await store.commit(job, "gw", make_event(job, state=pb.StateChanged(state=job.state)))
    for n in range(rows):
        job.counts.rows_done = n + 1
        row = Item("row", n, {"n": n})
        await store.commit(job, "gw", make_event(job, row=pb.RowWritten(index=n)), [row])
    _ended(job, at)
    await store.commit(job, "gw", make_event(job, state=pb.StateChanged(state=job.state)))
    return job


def test_a_taken_id_is_retried_with_a_fresh_one(store_url: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await opened(store_url)
        await queued_job(store, "taken")  # in the store, without a folder
        (tmp_path / "alice" / "on-disk").mkdir(parents=True)  # a folder, without a record
        with pytest.raises(IdTaken):
            await queued_job(store, "taken")
        settings = GatewaySettings(output_dir=tmp_path)
        ctx = Context(settings=settings, store=store, events=None, text=None, image=None, styles=None)
        offered = iter(["taken", "on-disk", "taken", "fresh"])
        jobs = Jobs(ctx, None, None, Quotas(store, 1000), None, new_id=lambda: next(offered))
        alice = Principal("alice")
        spec = pb.JobSpec(text=pb.TextJobSpec(count=4))
        job = await jobs.store_new(spec, kind_of(spec), pb.JobCounts(rows_total=4), alice)
        assert job.id == "fresh" and job.output_dir == str((tmp_path / "alice" / "fresh").resolve())
        assert sorted(p.name for p in (tmp_path / "alice").iterdir()) == ["fresh", "on-disk"]
        listed = (await store.list_jobs(JobFilter(owner="alice"))).jobs
        assert [j.id for j in listed] == ["fresh"] and listed[0].counts.rows_total == 4
        await store.close()

    asyncio.run(scenario())


def test_compaction_keeps_the_final_event_and_counts(store_url: str) -> None:
    async def scenario() -> None:
        store = await opened(store_url)
        job = await _finished(store, "old", at=1000.0, rows=3)
        await _finished(store, "new", at=5000.0, rows=2)
        log = EventLog(store)
        before = [event async for event in log.watch("old", 0)]
        assert [event.seq for event in before] == [1, 2, 3, 4, 5, 6]
        assert await store.compact_events(cutoff=2000.0, limit=10) == 1
        assert await store.compact_events(cutoff=2000.0, limit=10) == 0  # once
        for after in (0, 3):  # a watcher from the start, or resuming, gets the final event
            events = [event async for event in log.watch("old", after)]
            assert events == before[-1:]
            assert events[0].state.state == pb.JOB_STATE_COMPLETED and events[0].counts.rows_done == 3
        assert len([event async for event in log.watch("new", 0)]) == 5  # ended later: untouched
        assert (await store.get_job("old")) == job
        await store.close()

    asyncio.run(scenario())


def test_the_sweeper_removes_old_jobs_one_gateway_at_a_time(store_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"

    async def scenario() -> None:
        stores = [await opened(store_url) for _ in range(2)]  # two gateways on one store
        now = [10 * DAY_S]
        for job_id, ended in (("a", 1 * DAY_S), ("b", 2 * DAY_S), ("c", 9 * DAY_S)):
            await _finished(stores[0], job_id, ended)
            folder = out / job_id
            (folder / "images").mkdir(parents=True)
            (folder / "images" / "00000.png").write_bytes(b"png")
        running = await queued_job(stores[0], "d")  # never ends: never swept
        (out / "d").mkdir()
        sweepers = [
            Sweeper(store, out, f"gw{n}", retention_days=7, compact_after_s=3600, clock=lambda: now[0])
            for n, store in enumerate(stores)
        ]
        assert await stores[1].try_lock("sweeper", "gw1", 60)  # gw1 sweeps now: gw0 waits its turn
        assert await sweepers[0].sweep() is None
        assert sorted(p.name for p in out.iterdir()) == ["a", "b", "c", "d"]
        await stores[1].unlock("sweeper", "gw1")
        swept = await sweepers[0].sweep()
        assert (swept.removed, swept.compacted) == (2, 1)  # a and b removed; c compacted
        assert sorted(p.name for p in out.iterdir()) == ["c", "d"]
        assert [j.id for j in (await stores[1].list_jobs()).jobs] == ["d", "c"]
        assert await stores[1].get_job("a") is None and await stores[1].items("a", "row") == {}
        assert await stores[1].items("c", "row") == {0: {"n": 0}, 1: {"n": 1}, 2: {"n": 2}}
        assert await stores[1].events_after("a", 0) == []
        assert (await sweepers[1].sweep()).removed == 0  # the lock was given back
        now[0] += 7 * DAY_S
        assert (await sweepers[1].sweep()).removed == 1
        assert [j.id for j in (await stores[0].list_jobs()).jobs] == [running.id]
        for store in stores:
            await store.close()

    asyncio.run(scenario())


def test_a_lock_is_held_by_one_owner_until_it_runs_out(store_url: str) -> None:
    async def scenario() -> None:
        store = await opened(store_url)
        assert await store.try_lock("sweeper", "gw0", 60)
        assert await store.try_lock("sweeper", "gw0", 60)  # renewed by its holder
        assert not await store.try_lock("sweeper", "gw1", 60)
        assert await store.try_lock("other", "gw1", 60)  # locks are by name
        assert await store.try_lock("short", "gw0", -1)  # already run out
        assert await store.try_lock("short", "gw1", 60)  # so another gateway takes it
        await store.unlock("sweeper", "gw1")  # not its lock: nothing happens
        assert not await store.try_lock("sweeper", "gw1", 60)
        await store.close()

    asyncio.run(scenario())


async def _old_store(url: str, job: pb.Job) -> None:
    """A store as gateways before migration 0004 left it, holding `job`."""
    old = [
        (version, sql) for version, sql in migrations("sqlite" if url.startswith("sqlite") else "postgres")
    ]
    old = [(version, sql) for version, sql in old if version < 4]
    insert = "INSERT INTO jobs (id, created, state, job, last_seq) VALUES ($1, $2, $3, $4, 0)"
    values = (job.id, job.created_at.ToNanoseconds() / 1e9, job.state, job.SerializeToString())
    if url.startswith("sqlite"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)")
        for version, sql in old:
            db.executescript(sql)
            db.execute("INSERT INTO schema_migrations VALUES (?)", (version,))
        db.execute(re.sub(r"\$\d", "?", insert), values)
        db.commit()
        db.close()
        return
    conn = await asyncpg.connect(url)
    await conn.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY)")
    for version, sql in old:
        await conn.execute(sql)
        await conn.execute("INSERT INTO schema_migrations VALUES ($1)", version)
    await conn.execute(insert, *values)
    await conn.close()


def test_jobs_of_an_older_store_are_listed_filtered_and_swept(store_url: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        job = pb.Job(id="20241205-105959-a1b2c3", spec=pb.JobSpec(images=pb.ImageJobSpec(count=1)))
        job.created_at.FromSeconds(100)
        _ended(job, at=200.0, state=pb.JOB_STATE_FAILED)
        await _old_store(store_url, job)
        store = await opened(store_url)
        assert (await store.list_jobs(JobFilter(kind="images"))).jobs == [job]
        assert (await store.list_jobs(JobFilter(kind="text"))).jobs == []
        sweeper = Sweeper(
            store, tmp_path, "gw", retention_days=1, compact_after_s=0, clock=lambda: 200 + DAY_S
        )
        assert (await sweeper.sweep()).removed == 0  # ended exactly a day ago: kept
        sweeper.clock = lambda: 201 + DAY_S
        assert (await sweeper.sweep()).removed == 1
        await store.close()

    asyncio.run(scenario())
