"""`POST /fit` and `like` in `POST /generate/text`, through the real HTTP service and gateway."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
from http_helpers import wait_job

from benchmarks.people import as_csv, people
from synthmill.common.schema import parse_schema


def test_fit_returns_a_schema_in_the_ordinary_syntax(api) -> None:
    reply = api.post("/fit", content=as_csv(people(500)), headers={"content-type": "text/csv"})
    assert reply.status_code == 200, reply.text
    schema = reply.json()["schema"]
    assert schema["plan"]["distribution"].startswith("weights(") and schema["fitted_from"]["rows"] == 500
    parse_schema(schema)
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(people(300)), buffer)
    reply = api.post("/fit?format=parquet&min_count=2&holdout=0", content=buffer.getvalue())
    assert reply.status_code == 200 and reply.json()["schema"]["fitted_from"]["holdout"] == 0


def test_fit_refuses_a_bad_sample_naming_line_and_column(api) -> None:
    reply = api.post("/fit", content=b"age,name\n31,a\n42,b\nold,c\n55,d\n")
    assert reply.status_code == 400
    assert reply.json()["detail"].startswith("sample line 4: column 'age' holds 'old'")
    assert api.post("/fit", content=b"").json()["detail"] == "sample: has no header line"
    assert api.post("/fit?holdout=1", content=b"a\n1\n").status_code == 422


def test_generate_text_like_a_sample(api) -> None:
    body = {
        "like": as_csv(people(400)).decode(),
        "num_samples": 100,
        "seed": 3,
        "fail_under": {"quality": 0.5},
    }
    reply = api.post("/generate/text", json=body)
    assert reply.status_code == 202, reply.text
    job_id = reply.json()["job_id"]
    assert wait_job(api, job_id)["status"] == "completed"
    report = api.get(f"/jobs/{job_id}/files/quality.json").json()
    assert report["score"] > 0.5 and report["privacy"]["exact_matches"] == 0
    assert "x-copula" in json.loads(api.get(f"/jobs/{job_id}/files/schema.json").text)


def test_generate_text_needs_a_schema_or_a_sample(api) -> None:
    assert "one of the two" in api.post("/generate/text", json={"num_samples": 3}).json()["detail"]
    both = {"schema": {"a": "int"}, "like": "a\n1\n", "num_samples": 3}
    assert api.post("/generate/text", json=both).status_code == 400
    bad = api.post("/generate/text", json={"like": "age\n1\n2\nx\n4\n", "num_samples": 3})
    assert bad.status_code == 400 and bad.json()["detail"].startswith("text.like.sample line 4: column 'age'")
