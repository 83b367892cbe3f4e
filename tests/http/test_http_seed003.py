"""Seed 003's REST API against a running stack: its curl and requests snippets unchanged but for the
URL, then every job route (status, list, detail, cancel, events, files, zip), health and the docs."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile

import pytest
from http_helpers import TINY, wait_job

pytestmark = pytest.mark.e2e

# Seed 003's "API (Python)" and "cURL" snippets, verbatim.
SEED_003_REQUESTS = """
import requests

# Submit text generation job
r = requests.post('http://localhost:8000/generate/text', json={
    "schema": {"name": "string", "age": "int"},
    "num_samples": 50,
    "output_format": "csv"
})
job_id = r.json()["job_id"]

# Poll for status
status = requests.get(f'http://localhost:8000/status/{job_id}').json()
print(status)
"""
SEED_003_CURL = """curl -X POST "http://localhost:8000/generate/text" \\
  -H "Content-Type: application/json" \\
  -d '{"schema":{"name":"string","age":"int"},"num_samples":50,"output_format":"csv"}'
"""
STATUSES = {"queued", "running", "completed", "failed", "cancelled"}


def test_seed_003_requests_snippet(http_stack, api, capsys) -> None:
    namespace: dict = {}
    exec(SEED_003_REQUESTS.replace("http://localhost:8000", http_stack.url), namespace)
    printed = capsys.readouterr().out
    status = namespace["status"]
    assert str(status) in printed
    assert status["job_id"] == namespace["job_id"] and status["status"] in STATUSES
    assert 0 <= status["progress"] <= 100 and status["output_path"].endswith(status["job_id"])
    api.post(f"/jobs/{status['job_id']}/cancel")  # its 50 rows are not needed


def test_seed_003_curl_snippet(http_stack, api) -> None:
    command = SEED_003_CURL.replace("http://localhost:8000", http_stack.url).rstrip()
    out = subprocess.run(["bash", "-c", command + " -s -w '\\n%{http_code}'"], capture_output=True, text=True)
    body, code = out.stdout.rsplit("\n", 1)
    assert code == "202", out
    reply = json.loads(body)
    assert reply["message"] == "Text generation job queued"
    assert api.get(f"/status/{reply['job_id']}").json()["status"] in STATUSES
    api.post(f"/jobs/{reply['job_id']}/cancel")  # 50 rows of the tiny model take a while
    small = {"schema": {"name": "string", "age": "int"}, "num_samples": 3, "output_format": "csv"}
    job_id = api.post("/generate/text", json=small).json()["job_id"]
    status = wait_job(api, job_id)
    assert status["status"] == "completed" and status["progress"] == 100
    csv = api.get(f"/jobs/{job_id}/files/data.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0] == "name,age" and len(lines) == 4


def test_images_job_events_files_and_zip(api) -> None:
    body = {"prompts": ["A modern warehouse interior", "An outdoor retail storefront"], "num_images": 3}
    reply = api.post("/generate/images", json=body | TINY | {"seed": 5, "negative_prompt": "people"})
    assert reply.status_code == 202 and reply.json()["message"] == "Image generation job queued"
    job_id = reply.json()["job_id"]

    events = _events(api, job_id)
    stored = [e for e in events if e["type"] != "step"]  # steps are live progress, never stored
    assert [e["seq"] for e in stored] == list(range(1, len(stored) + 1))
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress) and progress[-1] == 100
    assert events[-1]["type"] == "state" and events[-1]["state"]["state"] == "completed"
    assert sum(e["type"] == "image" for e in events) == 3 and any(e["type"] == "step" for e in events)
    # A reconnect with Last-Event-ID gets exactly the stored events that came after it.
    resumed = _events(api, job_id, headers={"Last-Event-ID": str(stored[-3]["seq"])})
    assert resumed == stored[-2:]

    status = api.get(f"/status/{job_id}").json()
    assert status == status | {"status": "completed", "progress": 100, "type": "images"}
    detail = api.get(f"/jobs/{job_id}").json()
    assert detail["seed"] == 5 and detail["spec"]["images"]["params"]["negative_prompt"] == "people"
    meta = [json.loads(line) for line in api.get(f"/jobs/{job_id}/files/metadata.jsonl").text.splitlines()]
    assert [m["seed"] for m in meta] == [5, 6, 7] and meta[1]["prompt"] == body["prompts"][1]
    png = api.get(f"/jobs/{job_id}/files/{meta[2]['file_name']}")
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")

    download = api.get(f"/jobs/{job_id}/download")
    assert download.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        names = archive.namelist()
        assert f"{job_id}/images/00002.png" in names and f"{job_id}/job.json" in names
        assert archive.read(f"{job_id}/images/00002.png") == png.content
        assert archive.testzip() is None


def test_unified_job_and_the_jobs_list(api) -> None:
    body = {"schema": {"id": "int", "product": "string", "price": "float"}, "num_samples": 2}
    body |= {"prompts": ["A product on white background"], "output_format": "json", **TINY}
    reply = api.post("/generate/unified", json=body)
    assert reply.status_code == 202 and reply.json()["message"] == "Unified generation job queued"
    job_id = reply.json()["job_id"]
    assert wait_job(api, job_id)["status"] == "completed"
    rows = api.get(f"/jobs/{job_id}/files/data.json").json()
    assert len(rows) == 2 and all(len(row["images"]) == 1 for row in rows)
    listed = api.get("/jobs").json()
    entry = next(job for job in listed if job["job_id"] == job_id)
    assert entry == entry | {"type": "unified", "status": "completed"} and entry["created_at"].endswith("Z")
    assert [job["created_at"] for job in listed] == sorted(
        (job["created_at"] for job in listed), reverse=True
    )
    assert api.get("/jobs", params={"state": "completed", "limit": 1}).json()[0]["status"] == "completed"


def test_cancel_keeps_what_was_made(api) -> None:
    reply = api.post("/generate/images", json={"prompts": ["slow"], "num_images": 16, "resolution": [64, 64]})
    job_id = reply.json()["job_id"]
    with api.stream("GET", f"/jobs/{job_id}/events") as events:
        lines = events.iter_lines()
        next(line for line in lines if line == "event: step")
        cancelled = api.post(f"/jobs/{job_id}/cancel").json()
        assert cancelled["status"] == "cancelled" and cancelled["counts"]["images_done"] < 16
        last = [line for line in lines if line.startswith("data:")][-1]
    assert json.loads(last.removeprefix("data:"))["state"]["state"] == "cancelled"


def test_annotations_reach_the_gateway(api) -> None:
    body = {"prompts": ["A modern warehouse interior"], "num_images": 1, "annotations": ["bbox"], **TINY}
    reply = api.post("/generate/images", json=body)
    assert reply.status_code == 202, reply.text
    wait_job(api, reply.json()["job_id"])


def test_health_root_and_docs(api) -> None:
    health = api.get("/health")
    assert health.status_code == 200
    assert health.json() == health.json() | {"status": "healthy", "text_model": "tiny-llama (loaded)"}
    assert health.json()["image_model"] == "tiny-sd (loaded)" and health.json()["jobs_in_progress"] >= 0
    root = api.get("/").json()
    assert root["docs"] == "/docs" and "POST /sdapi/v1/txt2img" in root["endpoints"]
    assert "swagger" in api.get("/docs").text.lower()
    paths = api.get("/openapi.json").json()["paths"]
    for endpoint in root["endpoints"]:
        method, path = endpoint.split()
        assert method.lower() in paths[path], endpoint


def _events(api, job_id: str, headers: dict | None = None) -> list[dict]:
    with api.stream("GET", f"/jobs/{job_id}/events", headers=headers) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = list(stream.iter_lines())
    ids = [int(line.removeprefix("id:")) for line in lines if line.startswith("id:")]
    data = [json.loads(line.removeprefix("data:")) for line in lines if line.startswith("data:")]
    assert ids == [event["seq"] for event in data]
    return data
