"""Text jobs made from a sample (`TextJobSpec.like`) through a real gateway over the tiny servers: the
fit at submit, the stored schema and sample, the report, `fail_under`, and refusals at the door."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest
from scipy import stats

from benchmarks.people import CHURN, as_csv, people
from synthmill.common.fit.privacy import excluder
from synthmill.common.schema import parse_schema
from synthmill.common.uniqueness import RowDeduper
from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import gateway_pb2_grpc

SAMPLE = as_csv(people(2000))


@pytest.fixture
def gateway(gateway_factory):
    server = gateway_factory({"SYNTHMILL_GATEWAY_MAX_SAMPLE_BYTES": str(len(SAMPLE) + 10)})
    with grpc.insecure_channel(server.target, options=[("grpc.max_send_message_length", 2**26)]) as channel:
        yield gateway_pb2_grpc.GatewayStub(channel)


def like_job(data: bytes, count: int, seed: int = 3, **fit) -> pb.JobSpec:
    return pb.JobSpec(
        seed=seed, text=pb.TextJobSpec(count=count, like=pb.FitSample(data=data, format="csv", **fit))
    )


def run(stub, spec: pb.JobSpec) -> pb.Job:
    job = stub.SubmitJob(pb.SubmitJobRequest(spec=spec), timeout=60)
    for _ in stub.WatchJob(pb.WatchJobRequest(job_id=job.id), timeout=600):
        pass
    return stub.GetJob(pb.GetJobRequest(job_id=job.id))


def test_a_job_like_a_sample_meets_the_acceptance_figures(gateway) -> None:
    job = run(gateway, like_job(SAMPLE, 1000, fail_under={"quality": 0.85, "dcr": 0.6}))
    assert job.state == pb.JOB_STATE_COMPLETED, job.error
    folder = Path(job.output_dir)
    # the fitted schema is the job's: stored in the spec and as schema.json; the sample is kept aside
    assert not job.spec.text.like.data and job.spec.text.like.stored_as == "inputs/sample.csv"
    assert (folder / "inputs/sample.csv").read_bytes() == SAMPLE
    schema = parse_schema(job.spec.text.schema_json)
    assert json.loads((folder / "schema.json").read_text()) == schema.json_schema()
    assert schema.copula is not None and schema.fields[3].distribution.by == "plan"
    rows = [json.loads(line) for line in (folder / "data.jsonl").read_text().splitlines()]
    report = json.loads((folder / "quality.json").read_text())
    assert report["score"] >= 0.85 and report["rows"]["generated"] == 1000
    for name in ("age", "plan", "churned"):
        assert report["column_shapes"]["columns"][name]["score"] >= 0.9
    real = people(2000)
    real_rho = stats.spearmanr([r["age"] for r in real], [r["income"] for r in real]).statistic
    assert (
        abs(stats.spearmanr([r["age"] for r in rows], [r["income"] for r in rows]).statistic - real_rho) < 0.1
    )
    churn = {
        p: sum(r["churned"] for r in rows if r["plan"] == p) / sum(r["plan"] == p for r in rows)
        for p in CHURN
    }
    assert churn["free"] > churn["pro"] > churn["team"]
    hits = excluder(
        schema, [{k: str(v).lower() if isinstance(v, bool) else v for k, v in r.items()} for r in real]
    )
    assert report["privacy"]["exact_matches"] == 0 and not any(map(hits, rows))
    assert report["privacy"]["dcr"]["score"] >= 0.6 and report["privacy"]["nndr"]["median"] > 0
    assert (
        job.quality_headline.startswith("quality 0.9")
        and "0 rows equal a sample record" in job.quality_headline
    )
    assert "<table>" in (folder / "quality.html").read_text()


def test_a_job_below_its_threshold_fails_with_the_figures_and_keeps_its_files(gateway) -> None:
    job = run(gateway, like_job(SAMPLE, 200, fail_under={"quality": 0.999}))
    assert job.state == pb.JOB_STATE_FAILED
    assert "quality 0.9" in job.error and "is below 0.999" in job.error
    folder = Path(job.output_dir)
    assert (folder / "quality.json").is_file() and len(
        (folder / "data.jsonl").read_text().splitlines()
    ) == 200


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        (
            like_job(b"age,name\n31,a\n42,b\nold,c\n55,d\n", 10),
            "text.like.sample line 4",
            "column 'age' holds 'old'",
        ),
        (like_job(b"", 10), "text.like.sample", "no header"),
        (like_job(b"age\n", 10), "text.like.sample", "has no rows"),
        (like_job(SAMPLE + b"18,1.0,free,false,Ada Moss\n" * 4, 10), "text.like.sample", "over the limit"),
        (like_job(SAMPLE, 0), "text.count", "at least 1 row"),
        (like_job(SAMPLE, 10, fail_under={"speed": 1}), "text.like.fail_under", "'speed'"),
        (like_job(SAMPLE, 10, holdout=1.5), "text.like.holdout", "1.5"),
        (
            pb.JobSpec(
                text=pb.TextJobSpec(count=5, schema_json='{"a": "int"}', like=pb.FitSample(data=SAMPLE))
            ),
            "text.schema_json",
            "not both",
        ),
        (
            pb.JobSpec(
                unified=pb.UnifiedJobSpec(
                    rows=pb.TextJobSpec(count=2, like=pb.FitSample(data=SAMPLE)), prompt_template="a {plan}"
                )
            ),
            "unified.rows.like",
            "only text jobs",
        ),
    ],
)
def test_bad_samples_are_refused_at_submit(gateway, spec: pb.JobSpec, field: str, words: str) -> None:
    with pytest.raises(grpc.RpcError) as err:
        gateway.SubmitJob(pb.SubmitJobRequest(spec=spec), timeout=60)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details().startswith(f"{field}:") and words in err.value.details()
    assert not gateway.ListJobs(pb.ListJobsRequest()).jobs


def test_the_row_deduper_refuses_rows_that_copy_the_sample() -> None:
    schema = parse_schema({"a": "int", "b": ["x", "y"], "note": "string"})
    deduper = RowDeduper(schema, excluder(schema, [{"a": "1", "b": "x", "note": "hello"}]))
    copy = "the row copies the sample (a whole record, or a free-text value)"
    assert deduper.conflict({"a": 1, "b": "x", "note": "hello"}) == copy
    assert deduper.conflict({"a": 2, "b": "y", "note": "hello"}) == copy  # a free-text value
    assert deduper.conflict({"a": 2, "b": "x", "note": "hi"}) is None


def test_llm_columns_stay_under_their_share(gateway) -> None:
    schema = {"age": {"type": "int", "max_share": 0.05}, "word": {"type": "string", "max_length": 4}}
    spec = pb.JobSpec(seed=1, text=pb.TextJobSpec(schema_json=json.dumps(schema), count=100))
    job = run(gateway, spec)
    assert job.state == pb.JOB_STATE_COMPLETED, job.error
    folder = Path(job.output_dir)
    rows = [json.loads(line) for line in (folder / "data.jsonl").read_text().splitlines()]
    for name in schema:
        values = [r[name] for r in rows if r[name] is not None]
        assert max(values.count(v) for v in values) <= 5, name  # 5% of 100 rows
    columns = json.loads((folder / "stats.json").read_text())["columns"]
    assert columns["age"]["max_share"] == 0.05 and columns["age"]["top_share"] <= 0.05
    assert columns["word"]["max_share"] == 0.1
