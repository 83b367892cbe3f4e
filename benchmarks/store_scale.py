"""Store growth: submit, GetJob, the first ListJobs page and WatchJob attach against a store of 100,000
finished jobs, as ratios to the same calls against a store of 1,000, on SQLite and on PostgreSQL; and
the store's bytes per job, per row and per image.

The finished jobs are written straight into the store (bulk inserts of what a gateway stores for a
finished job: the job, its items, its final event, the others compacted away): half are text jobs of
10 rows, half image jobs of 4 images. The calls are then timed as the gateway's servicer makes them,
on `Jobs`: `store_new` (the storing part of a submit: fresh id, folder, queue admission, insert, first
event), `get`, `list` without arguments (the first page of 50) and `watch` up to its first event.
What a submit does before storing (the servers' GetInfo, the spec checks) does not depend on the
store's size and is left out. Bytes are the tables' and indexes' pages (SQLite: page_count x
page_size after a WAL checkpoint; PostgreSQL: pg_total_relation_size), measured after the jobs, then
after their rows, then after their images. PostgreSQL is a throwaway cluster, as the tests start it.

    python -m benchmarks.store_scale                 # 1,000 vs 100,000 jobs
    python -m benchmarks.store_scale --smoke         # seconds: 100 vs 2,000 jobs
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

from benchmarks import common
from synthmill.gateway.access.keyring import OPEN
from synthmill.gateway.access.quotas import Quotas
from synthmill.gateway.disk import DiskCheck
from synthmill.gateway.jobs import Jobs
from synthmill.gateway.kinds import kind_of
from synthmill.gateway.run.job_run import Context
from synthmill.gateway.settings import GatewaySettings
from synthmill.gateway.store.events import EventLog
from synthmill.gateway.store.job_store import JobStore, make_event, open_store
from synthmill.v1 import gateway_pb2 as pb

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from pg import PostgresCluster

NAME = "store_scale"
SMOKE = {"small": 100, "large": 2000, "repeats": 30}  # --smoke: seconds
ROWS, IMAGES = 10, 4  # items of each filled text job, image job
TARGET = 1.5
START = 1.7e9


def _finished(n: int) -> tuple[pb.Job, pb.JobEvent, list[tuple[str, int, str]]]:
    """The n-th filled job (text when n is even), its final event and its items (kind, index, JSON)."""
    job = pb.Job(id=f"20231114-221320-{n:018d}", state=pb.JOB_STATE_COMPLETED, output_dir=f"/data/out/{n}")
    if n % 2 == 0:
        job.spec.text.schema_json = '{"name": "string", "age": "int", "city": "string"}'
        job.spec.text.count = ROWS
        job.counts.rows_total = job.counts.rows_done = ROWS
        items = [
            ("row", i, json.dumps({"name": f"Person {n}-{i}", "age": 20 + i, "city": "Lisbon"}))
            for i in range(ROWS)
        ]
    else:
        job.spec.images.prompts.append("a lighthouse on a cliff at dusk, {lighting}")
        job.spec.images.count = IMAGES
        job.spec.images.params.width = job.spec.images.params.height = 512
        job.counts.images_total = job.counts.images_done = IMAGES
        record = {
            "prompt": "a lighthouse on a cliff at dusk, fog",
            "negative_prompt": "",
            "steps": 25,
            "cfg": 7.0,
        }
        items = [
            (
                "image",
                i,
                json.dumps({**record, "file_name": f"images/{i:05d}.png", "seed": n + i, "model": "sd15"}),
            )
            for i in range(IMAGES)
        ]
    job.spec.seed = n
    job.created_at.FromNanoseconds(int((START + n) * 1e9))
    job.started_at.FromNanoseconds(int((START + n + 1) * 1e9))
    job.finished_at.FromNanoseconds(int((START + n + 20) * 1e9))
    event = make_event(job, state=pb.StateChanged(state=job.state))
    event.seq = len(items) + 3  # queued, running, the items, completed: compacted to the last
    return job, event, items


def _job_row(job: pb.Job, event: pb.JobEvent) -> tuple:
    return (job.id, job.created_at.ToNanoseconds() / 1e9, job.state, job.SerializeToString(), "",
            job.spec.WhichOneof("kind"), job.finished_at.ToNanoseconds() / 1e9, event.seq, True)  # fmt: skip


JOB_COLUMNS = ("id", "created", "state", "job", "owner", "kind", "ended", "last_seq", "compacted")


class Filler:
    """Bulk inserts into one store's database, and its size in bytes."""

    def __init__(self, url: str):
        self.url = url

    async def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if self.url.startswith("sqlite"):
            db = sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=30)
            with db:
                marks = ", ".join("?" * len(columns))
                db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
            db.close()
            return
        conn = await asyncpg.connect(self.url)
        await conn.copy_records_to_table(table, records=rows, columns=columns)
        await conn.close()

    async def settle(self) -> None:
        """What months of autovacuum would have done to bulk-loaded rows: statistics, hint bits, the
        visibility map (else the first read of each row writes its page)."""
        if not self.url.startswith("sqlite"):
            conn = await asyncpg.connect(self.url)
            await conn.execute("VACUUM ANALYZE")
            await conn.close()

    async def size(self) -> int:
        await self.settle()
        if self.url.startswith("sqlite"):
            db = sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=30)
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            pages, free, size = (
                db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "freelist_count", "page_size")
            )
            db.close()
            return (pages - free) * size
        conn = await asyncpg.connect(self.url)
        total = await conn.fetchval(
            "SELECT SUM(pg_total_relation_size(c)) FROM unnest(ARRAY['jobs', 'items', 'events']::regclass[]) c"
        )
        await conn.close()
        return int(total)


async def fill(url: str, count: int, batch: int = 5000) -> dict[str, float]:
    """`count` finished jobs, then their rows, then their images; the bytes each took."""
    filler = Filler(url)
    sizes = [await filler.size()]
    made = [_finished(n) for n in range(count)]
    for start in range(0, count, batch):
        chunk = made[start : start + batch]
        await filler.insert("jobs", JOB_COLUMNS, [_job_row(job, event) for job, event, _ in chunk])
        await filler.insert(
            "events",
            ("job_id", "seq", "event"),
            [(job.id, e.seq, e.SerializeToString()) for job, e, _ in chunk],
        )
    sizes.append(await filler.size())
    for kind in ("row", "image"):
        for start in range(0, count, batch):
            rows = [
                (job.id, k, i, data)
                for job, _, items in made[start : start + batch]
                for k, i, data in items
                if k == kind
            ]
            await filler.insert("items", ("job_id", "kind", "idx", "data"), rows)
        sizes.append(await filler.size())
    text_jobs, image_jobs = (count + 1) // 2, count // 2
    return {
        "bytes_per_job": round((sizes[1] - sizes[0]) / count, 1),
        "bytes_per_row": round((sizes[2] - sizes[1]) / (text_jobs * ROWS), 1),
        "bytes_per_image": round((sizes[3] - sizes[2]) / (image_jobs * IMAGES), 1),
        "store_bytes": sizes[3],
    }


class Gateway:
    """`Jobs` over one filled store, as a gateway's servicer calls it."""

    def __init__(self, store: JobStore, count: int, output: Path):
        self.store = store
        events = EventLog(store)
        ctx = Context(GatewaySettings(output_dir=output), store, events, text=None, image=None, styles=None)
        self.jobs = Jobs(ctx, None, events, Quotas(store, 10**9), DiskCheck(output))
        self.picks = [_finished((n * 7919) % count)[0].id for n in range(count)]  # spread over the store
        self.spec = pb.JobSpec(seed=1, images=pb.ImageJobSpec(prompts=["a red bicycle"], count=1))

    async def submit(self, _: int) -> None:
        kind = kind_of(self.spec)
        await self.jobs.store_new(self.spec, kind, kind.totals(self.spec), OPEN)

    async def get(self, n: int) -> None:
        await self.jobs.get(self.picks[n % len(self.picks)], OPEN)

    async def first_page(self, _: int) -> None:
        assert len((await self.jobs.list(pb.ListJobsRequest(), OPEN)).jobs) == 50

    async def attach(self, n: int) -> None:
        async for _ in self.jobs.watch(self.picks[n % len(self.picks)], 0, OPEN):
            break


OPERATIONS = {
    "submit": "submit",
    "GetJob": "get",
    "ListJobs_first_page": "first_page",
    "WatchJob_attach": "attach",
}


async def _timed(call: Callable[[int], Awaitable[Any]], n: int) -> float:
    started = time.perf_counter()
    await call(n)
    return time.perf_counter() - started


def _stats(took: list[float]) -> dict[str, float]:
    took = sorted(took)
    return {
        "p50_us": round(1e6 * statistics.median(took), 1),
        "p90_us": round(1e6 * took[int(0.9 * len(took))], 1),
    }


async def compare(small: Gateway, large: Gateway, repeats: int) -> dict[str, dict[str, Any]]:
    """Each call on the small store then on the large one, in turn, so that the machine's load (shared
    cores) weighs on both alike: the p50 of each, their ratio, and the median of the ratios of the
    pairs of calls made one after the other (the figure: the least moved by load that comes and goes)."""
    result = {}
    for op, method in OPERATIONS.items():
        calls = getattr(small, method), getattr(large, method)
        took: tuple[list[float], list[float]] = ([], [])
        for n in range(repeats + 20):  # the first 20 warm up caches, statements and connections
            for call, into in zip(calls, took, strict=True):
                elapsed = await _timed(call, n)
                if n >= 20:
                    into.append(elapsed)
        small_stats, large_stats = _stats(took[0]), _stats(took[1])
        paired = statistics.median(large / small for small, large in zip(*took, strict=True))
        result[op] = {
            "small": small_stats,
            "large": large_stats,
            "p50_ratio": round(large_stats["p50_us"] / small_stats["p50_us"], 3),
            "paired_ratio": round(paired, 3),
        }
    return result


async def backend(
    name: str, urls: tuple[str, str], sizes: tuple[int, int], repeats: int, work: Path
) -> dict[str, Any]:
    filled, gateways = [], []
    for url, count in zip(urls, sizes, strict=True):
        store = open_store(url, Path("unused"), retry_s=30.0)
        await store.open()  # the schema, as a gateway makes it
        started = time.perf_counter()
        filled.append(await fill(url, count))
        common.log(f"  {name}: {count:,} jobs written in {time.perf_counter() - started:.1f}s")
        gateways.append(Gateway(store, count, work / f"{name}-{count}"))
    latency = await compare(*gateways, repeats)
    for gateway in gateways:
        await gateway.store.close()
    common.log(f"  {name}: p50 ratios { ({op: v['p50_ratio'] for op, v in latency.items()}) }")
    return {"latency": latency, "bytes": filled[1], "bytes_small_store": filled[0]}


def run(args) -> dict[str, Any]:
    sizes = (args.small, args.large)
    work = Path(tempfile.mkdtemp(prefix="synthmill-bench-store-"))
    result: dict[str, Any] = {}
    sqlite_urls = tuple(f"sqlite:///{work / f'jobs-{n}.sqlite3'}" for n in sizes)
    result["sqlite"] = asyncio.run(backend("sqlite", sqlite_urls, sizes, args.repeats, work))
    cluster = PostgresCluster().start()
    try:
        pg_urls = tuple(cluster.create_database(f"jobs_{n}") for n in sizes)
        result["postgres"] = asyncio.run(backend("postgres", pg_urls, sizes, args.repeats, work))
    finally:
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    return {
        "description": "latency of the store calls behind submit, GetJob, the first ListJobs page and "
        "WatchJob attach, against a large store over a small one (p50 ratios), and store bytes",
        "machine": common.machine(),
        "params": {
            "small_store_jobs": sizes[0],
            "large_store_jobs": sizes[1],
            "repeats": args.repeats,
            "filled_jobs": f"half text ({ROWS} rows), half images ({IMAGES}), finished, events compacted",
        },
        **result,
    }


def summary(result: dict[str, Any]) -> list[list[str]]:
    small, large = result["params"]["small_store_jobs"], result["params"]["large_store_jobs"]
    rows = []
    for db in ("sqlite", "postgres"):
        for op, figures in result[db]["latency"].items():
            p50 = figures["large"]["p50_us"]
            ratio = figures["paired_ratio"]
            metric = f"{db}: {op} at {large:,} jobs / at {small:,} (p50 {p50:.0f} us; p50s {figures['p50_ratio']:.2f}x)"
            rows.append(common.row(NAME, metric, f"{ratio:.2f}x", f"<= {TARGET}", ratio <= TARGET))
        b = result[db]["bytes"]
        per = f"{b['bytes_per_job']:.0f} / {b['bytes_per_row']:.0f} / {b['bytes_per_image']:.0f}"
        rows.append(common.row(NAME, f"{db}: store bytes per job / row / image", per))
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.parser(NAME, __doc__, "image", model_help="unused: this benchmark runs no model")
    p.add_argument("--small", type=int, default=1000, help="jobs in the small store (default 1,000)")
    p.add_argument("--large", type=int, default=100_000, help="jobs in the large store (default 100,000)")
    p.add_argument("--repeats", type=int, default=300, help="timed calls of each kind (default 300)")
    args = common.parse(p, argv, SMOKE)
    result = run(args)
    return common.finish(args.results_dir, NAME, result, summary(result))


if __name__ == "__main__":
    main()
