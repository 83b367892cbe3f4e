"""Jobs with declared distributions through a real gateway over the shared tiny servers.

Tolerances: the Kolmogorov-Smirnov distance under its 1% critical value 1.63/sqrt(n) for numeric
columns (of every case, for conditional ones), the total-variation distance under 0.03 for categories.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import grpc
import pytest
from customers import CUSTOMERS, SPEND

from synthmill.common.sampler import ColumnSampler
from synthmill.common.schema import parse_schema
from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import gateway_pb2_grpc


@pytest.fixture
def gateway(gateway_factory):
    server = gateway_factory()
    with grpc.insecure_channel(server.target) as channel:
        yield gateway_pb2_grpc.GatewayStub(channel)


def run_job(stub, schema: dict, count: int, seed: int) -> tuple[pb.Job, Path]:
    spec = pb.JobSpec(seed=seed, text=pb.TextJobSpec(schema_json=json.dumps(schema), count=count))
    job = stub.SubmitJob(pb.SubmitJobRequest(spec=spec), timeout=30)
    for _ in stub.WatchJob(pb.WatchJobRequest(job_id=job.id), timeout=600):
        pass
    job = stub.GetJob(pb.GetJobRequest(job_id=job.id))
    assert job.state == pb.JOB_STATE_COMPLETED, job.error
    return job, Path(job.output_dir)


def read_rows(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "data.jsonl").read_text().splitlines()]


def test_all_sampled_rows_need_no_llm_and_fit_their_declared_laws(gateway) -> None:
    job, folder = run_job(gateway, CUSTOMERS, count=1000, seed=41)
    rows = read_rows(folder)
    assert len(rows) == 1000
    assert rows == ColumnSampler(parse_schema(CUSTOMERS)).rows(
        41, range(1000)
    )  # drawn per row, not per batch
    assert "text" not in json.loads((folder / "job.json").read_text())["models"]  # no LLM was asked

    stats = json.loads((folder / "stats.json").read_text())
    columns = stats["columns"]
    assert columns["age"]["fit"]["test"] == "ks" and columns["age"]["fit"]["statistic"] < 1.63 / math.sqrt(
        1000
    )
    assert columns["plan"]["fit"]["test"] == "tv" and columns["plan"]["fit"]["statistic"] < 0.03
    for case, fit in columns["spend"]["fit"]["cases"].items():
        assert fit["statistic"] < 1.63 / math.sqrt(fit["n"]), case
    assert columns["name"]["distinct"] > 950 and "fit" not in columns["name"]
    assert sum(columns["age"]["histogram"]["counts"]) == 1000
    assert job.stats_headline == stats["headline"] and "age KS" in job.stats_headline
    page = (folder / "stats.html").read_text()
    assert page.count("<svg") == 4 and "<script" not in page

    _, again_folder = run_job(gateway, CUSTOMERS, count=1000, seed=41)
    assert read_rows(again_folder) == rows


def test_llm_columns_are_written_around_the_pinned_values(gateway) -> None:
    schema = {
        **CUSTOMERS,
        "city": {"type": "string", "max_length": 30, "description": "where the customer lives"},
        "note": {"type": "string", "max_length": 30},
    }
    _, folder = run_job(gateway, schema, count=4, seed=9)
    rows = read_rows(folder)
    pinned = ColumnSampler(parse_schema(schema)).rows(9, range(4))
    assert [{name: row[name] for name in CUSTOMERS} for row in rows] == pinned
    assert all(list(row) == list(schema) for row in rows)
    assert json.loads((folder / "job.json").read_text())["models"]["text"]
    assert json.loads((folder / "stats.json").read_text())["columns"]["city"]["distribution"] is None


BAD = [
    (
        {"age": {"type": "int", "maximum": 90, "distribution": "normal(500, 1)"}},
        "text.schema.age.distribution",
    ),
    ({"name": {"type": "string", "distribution": "faker(nickname)"}}, "text.schema.name.distribution"),
    (
        {"spend": {"type": "float", "distribution": {"by": "plan", "cases": SPEND}}},
        "text.schema.spend.distribution.by",
    ),
]


def test_bad_distributions_are_refused_at_submit(gateway) -> None:
    for schema, field in BAD:
        spec = pb.JobSpec(text=pb.TextJobSpec(schema_json=json.dumps(schema), count=5))
        with pytest.raises(grpc.RpcError) as caught:
            gateway.SubmitJob(pb.SubmitJobRequest(spec=spec), timeout=30)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert caught.value.details().startswith(f"{field}:")
    assert not gateway.ListJobs(pb.ListJobsRequest(), timeout=30).jobs
