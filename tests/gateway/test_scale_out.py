"""Several real gateway processes on one real PostgreSQL and one output root: any gateway answers
for any job, a gateway killed with SIGKILL mid-job is taken over by another, a cancel on one
gateway stops the job on another, and a gateway that loses its database reports NOT_SERVING."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from servers import wait_serving
from tcp_proxy import TcpProxy

from synthmill.v1 import common_pb2, gateway_pb2_grpc
from synthmill.v1 import gateway_pb2 as pb

pytestmark = pytest.mark.e2e

LEASE_S = "2"
# Far more images than the test lets it make: it is cancelled once taken over.
BIG = pb.JobSpec(
    seed=3,
    images=pb.ImageJobSpec(
        prompts=["a plan"], count=2000, params=common_pb2.ImageParams(width=64, height=64, steps=4)
    ),
)


def holder_pid(pg_url: str, job_id: str) -> int | None:
    """The process id of the gateway holding the job's lease (owner is host:pid:token)."""

    async def query() -> str | None:
        conn = await asyncpg.connect(pg_url)
        try:
            return await conn.fetchval("SELECT lease_owner FROM jobs WHERE id = $1", job_id)
        finally:
            await conn.close()

    owner = asyncio.run(query())
    return int(owner.split(":")[1]) if owner else None


def events_until(stub, job_id: str, after_seq: int, done) -> list[pb.JobEvent]:
    """The job's events from `after_seq` until `done(events)` holds (or the job ends)."""
    seen: list[pb.JobEvent] = []
    for event in stub.WatchJob(pb.WatchJobRequest(job_id=job_id, after_seq=after_seq), timeout=300):
        if not event.HasField("step"):
            seen.append(event)
            if done(seen):
                break
    return seen


def test_gateways_share_jobs_take_over_from_a_killed_one_and_cancel_across(
    gateway_factory, pg_url: str, tmp_path: Path
) -> None:
    env = {"SYNTHMILL_GATEWAY_DB_URL": pg_url, "SYNTHMILL_GATEWAY_LEASE_S": LEASE_S}
    gateways = [gateway_factory(env, tmp_path / "shared", wait=False) for _ in range(3)]
    for gateway in gateways:
        wait_serving(gateway.target, gateway.proc)
    channels = [grpc.insecure_channel(g.target) for g in gateways]
    stubs = [gateway_pb2_grpc.GatewayStub(c) for c in channels]
    try:
        job = stubs[0].SubmitJob(pb.SubmitJobRequest(spec=BIG), timeout=30)
        before = events_until(stubs[0], job.id, 0, lambda seen: seen[-1].HasField("image"))
        first_pid = holder_pid(pg_url, job.id)
        victim = next(i for i, g in enumerate(gateways) if g.proc.pid == first_pid)
        watcher, other = [i for i in range(3) if i != victim]
        gateways[victim].kill()  # SIGKILL: no goodbye, its lease just stops being renewed

        # A survivor takes the job over (a second RUNNING) and goes on writing images.
        def taken_over(seen: list[pb.JobEvent]) -> bool:
            running = [i for i, e in enumerate(seen) if e.state.state == pb.JOB_STATE_RUNNING]
            return bool(running) and any(e.HasField("image") for e in seen[running[-1] :])

        after = events_until(stubs[watcher], job.id, before[-1].seq, taken_over)
        assert {e.state.state for e in after if e.HasField("state")} == {pb.JOB_STATE_RUNNING}
        second_pid = holder_pid(pg_url, job.id)
        assert second_pid in {gateways[watcher].proc.pid, gateways[other].proc.pid}

        # Any gateway answers for the job; a cancel on one that does not run it stops it.
        canceller = watcher if second_pid != gateways[watcher].proc.pid else other
        for i in (watcher, other):
            assert stubs[i].GetJob(pb.GetJobRequest(job_id=job.id)).state == pb.JOB_STATE_RUNNING
            assert job.id in [j.id for j in stubs[i].ListJobs(pb.ListJobsRequest()).jobs]
        cancelled = stubs[canceller].CancelJob(pb.CancelJobRequest(job_id=job.id), timeout=60)
        assert cancelled.state == pb.JOB_STATE_CANCELLED
        whole = list(stubs[watcher].WatchJob(pb.WatchJobRequest(job_id=job.id), timeout=60))
    finally:
        for channel in channels:
            channel.close()

    # No item lost or made twice: each image once, every recorded one on disk and in metadata.
    assert [e.seq for e in whole] == list(range(1, len(whole) + 1))
    assert whole[-1].state.state == pb.JOB_STATE_CANCELLED
    written = [e.image.index for e in whole if e.HasField("image")]
    assert len(written) == len(set(written)) == cancelled.counts.images_done < 2000
    folder = Path(cancelled.output_dir)
    assert {p.name for p in (folder / "images").glob("*.png")} >= {f"{i:05d}.png" for i in written}
    meta = [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]
    assert sorted(m["seed"] - 3 for m in meta) == sorted(written)


def test_a_gateway_without_its_database_is_not_serving_and_recovers(
    gateway_factory, postgres, pg_url: str, tmp_path: Path
) -> None:
    proxy = TcpProxy(postgres.port)
    url = pg_url.replace(f":{postgres.port}/", f":{proxy.port}/")
    env = {"SYNTHMILL_GATEWAY_DB_URL": url, "SYNTHMILL_GATEWAY_DB_RETRY_S": "60"}
    gateway = gateway_factory(env, wait=False)  # nothing listens on the proxy's port yet
    with grpc.insecure_channel(gateway.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        statuses = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=300, wait_for_ready=True)
        serving = health_pb2.HealthCheckResponse.SERVING
        assert next(statuses).status == health_pb2.HealthCheckResponse.NOT_SERVING
        stub = gateway_pb2_grpc.GatewayStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.ListJobs(pb.ListJobsRequest(), timeout=30)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE

        proxy.open()  # the database appears: the gateway connects, migrates and serves
        assert next(statuses).status == serving
        proxy.cut()  # connections reset, new ones refused
        assert next(statuses).status == health_pb2.HealthCheckResponse.NOT_SERVING
        proxy.open()
        assert next(statuses).status == serving
        spec = pb.JobSpec(seed=1, text=pb.TextJobSpec(schema_json='{"n": "int"}', count=2))
        job = stub.SubmitJob(pb.SubmitJobRequest(spec=spec), timeout=60)
        events = list(stub.WatchJob(pb.WatchJobRequest(job_id=job.id), timeout=300))
        statuses.cancel()
    assert events[-1].state.state == pb.JOB_STATE_COMPLETED
    proxy.cut()
