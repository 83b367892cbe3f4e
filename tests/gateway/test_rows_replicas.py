"""Rows of one job over two real text replicas: requests in flight on both, rows written in index
order, `unique` exact across the whole job, and the same rows as over one replica."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest

from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import gateway_pb2_grpc

pytestmark = pytest.mark.e2e

# 41 possible codes for 12 rows in chunks of 3: chunks collide, and the gateway must re-ask rows.
SCHEMA = {"code": {"type": "int", "minimum": 0, "maximum": 40, "unique": True}}
SPEC = pb.JobSpec(seed=9, text=pb.TextJobSpec(schema_json=json.dumps(SCHEMA), count=12))


def run(server) -> tuple[pb.Job, list[pb.JobEvent], list[dict]]:
    with grpc.insecure_channel(server.target) as channel:
        stub = gateway_pb2_grpc.GatewayStub(channel)
        job = stub.SubmitJob(pb.SubmitJobRequest(spec=SPEC), timeout=30)
        events = list(stub.WatchJob(pb.WatchJobRequest(job_id=job.id), timeout=600))
        job = stub.GetJob(pb.GetJobRequest(job_id=job.id))
    assert job.state == pb.JOB_STATE_COMPLETED, job.error
    lines = (Path(job.output_dir) / "data.jsonl").read_text().splitlines()
    return job, events, [json.loads(line) for line in lines]


def test_rows_over_two_replicas_are_unique_in_order_and_the_same_as_over_one(
    server_factory, gateway_factory, tiny_upstreams, tmp_path: Path
) -> None:
    second = server_factory("text", {"SYNTHMILL_TEXT_MODEL": "tiny-llama"})
    env = {"SYNTHMILL_GATEWAY_ROWS_PER_REQUEST": "3", "SYNTHMILL_GATEWAY_ROW_REQUESTS_IN_FLIGHT": "4"}
    one = gateway_factory(env, tmp_path / "one")
    targets = f"{tiny_upstreams.text.target},{second.target}"
    two = gateway_factory({**env, "SYNTHMILL_GATEWAY_TEXT_TARGET": targets}, tmp_path / "two")

    _, _, expected = run(one)
    job, events, rows = run(two)
    assert rows == expected  # the replica count does not change a seeded job's rows
    codes = [row["code"] for row in rows]
    assert len(codes) == len(set(codes)) == 12
    assert [e.row.index for e in events if e.HasField("row")] == list(range(12))
    assert job.distinct_row_ratio == 1.0
