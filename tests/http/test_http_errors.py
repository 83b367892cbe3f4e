"""Every error the HTTP service answers: the gateway's statuses mapped (400, 401, 403, 404, 429, 503),
the door's own (413, 422, 400 for paths leaving a job folder), always `{"detail": ...}`, never a 500.

401/403/429 come from a real gateway with API keys: the caller's Authorization header reaches it on
every route, and another tenant's job is 404.
"""

from __future__ import annotations

import http.client
import json

import grpc
import httpx
import pytest
from http_helpers import TINY, start_http, wait_job
from servers import free_port

from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import gateway_pb2_grpc

pytestmark = pytest.mark.e2e


def _detail(reply: httpx.Response, status: int) -> object:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/json"
    return reply.json()["detail"]


def test_gateway_refusal_is_400_naming_the_field(api) -> None:
    reply = api.post("/generate/images", json={"prompts": ["x"], "resolution": [100, 64], "steps": 2})
    assert "images.params.width: 100 is not a multiple of 8" in _detail(reply, 400)
    assert "text.count" in _detail(
        api.post("/generate/text", json={"schema": {"a": "int"}, "num_samples": 0}), 400
    )
    assert "schema" in _detail(api.post("/generate/text", json={"schema": {}, "num_samples": 1}), 400)
    assert "state" in _detail(api.get("/jobs", params={"state": "sleeping"}), 400)
    assert "Last-Event-ID" in _detail(api.get("/jobs/x/events", headers={"Last-Event-ID": "soon"}), 400)


def test_unknown_jobs_and_files_are_404(api) -> None:
    for path in (
        "/status/nope",
        "/jobs/nope",
        "/jobs/nope/events",
        "/jobs/nope/files/data.csv",
        "/jobs/nope/download",
    ):
        assert "nope" in _detail(api.get(path), 404), path
    assert "nope" in _detail(api.post("/jobs/nope/cancel"), 404)
    job_id = api.post("/generate/text", json={"schema": {"a": "int"}, "num_samples": 1}).json()["job_id"]
    assert "data.parquet" in _detail(api.get(f"/jobs/{job_id}/files/data.parquet"), 404)


def test_bad_bodies_are_422(api) -> None:
    wrong_type = api.post("/generate/text", json={"schema": {"a": "int"}, "num_samples": "many"})
    assert _detail(wrong_type, 422)[0]["loc"] == ["body", "num_samples"]
    missing = api.post("/generate/text", json={"num_samples": 3})
    assert _detail(missing, 422)[0]["loc"] == ["body", "schema"]
    not_json = api.post(
        "/generate/images", content=b"{prompts: oops", headers={"content-type": "application/json"}
    )
    assert _detail(not_json, 422)[0]["type"] == "json_invalid"
    negative = api.post("/sdapi/v1/txt2img", json={"prompt": "x", "steps": -3})
    assert _detail(negative, 422)[0]["loc"] == ["body", "steps"]
    huge_int = api.post("/generate/images", json={"prompts": ["x"], "num_images": 2**40})
    assert _detail(huge_int, 422)[0]["loc"] == ["body", "num_images"]
    bad_model = api.post(
        "/sdapi/v1/txt2img", json={"prompt": "x", "override_settings": {"sd_model_checkpoint": 3}}
    )
    assert "sd_model_checkpoint" in _detail(bad_model, 422)
    # Unknown keys are ignored, as A1111 and seed 003 do.
    extra = api.post("/sdapi/v1/txt2img", json={"prompt": "x", "restore_faces": True, "hr_scale": 2, **TINY})
    assert extra.status_code == 200


def test_huge_bodies_are_413(api) -> None:
    big = b'{"prompts": ["' + b"x" * (2 * 1024 * 1024) + b'"]}'
    reply = api.post("/generate/images", content=big, headers={"content-type": "application/json"})
    assert "over the limit" in _detail(reply, 413)
    chunked = api.post(
        "/generate/images",
        content=iter([big[:1000], big[1000:]]),
        headers={"content-type": "application/json"},
    )
    assert "over the limit" in _detail(chunked, 413)


def test_paths_leaving_the_job_folder_are_refused(http_stack, api) -> None:
    job_id = api.post("/generate/text", json={"schema": {"a": "int"}, "num_samples": 1}).json()["job_id"]
    host, port = http_stack.http.target.split(":")
    for path in ("../../jobs.sqlite3", "/etc/passwd", "images/..%2F..%2Fjobs.sqlite3", "..%5Cjob.json"):
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        connection.request("GET", f"/jobs/{job_id}/files/{path}")  # sent as is, no client normalising
        reply = connection.getresponse()
        assert reply.status == 400, (path, reply.status)
        assert "not a path inside the job folder" in json.loads(reply.read())["detail"]
        connection.close()
    # The gateway refuses them too, for any client of DownloadJob.
    with grpc.insecure_channel(http_stack.gateway.target) as channel:
        stub = gateway_pb2_grpc.GatewayStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            list(stub.DownloadJob(pb.DownloadJobRequest(job_id=job_id, paths=["../jobs.sqlite3"])))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "paths[0]" in refused.value.details()


def test_authorization_reaches_the_gateway_and_refusals_map(keyed_stack) -> None:
    """`good` may do anything with its own jobs, `spent` may ask for 1 row a day."""
    submit = {"schema": {"a": "int"}, "num_samples": 2}
    with keyed_stack.http() as anonymous:
        reply = anonymous.post("/generate/text", json=submit)
        assert "API key is required" in _detail(reply, 401)
        assert reply.headers["www-authenticate"] == "Bearer"
        assert _detail(anonymous.get("/jobs", headers={"Authorization": "Bearer smk_wrong"}), 403)
    with keyed_stack.http("spent") as spent, keyed_stack.http("alice") as good:
        assert "rows_per_day=1" in _detail(spent.post("/generate/text", json=submit), 429)
        # With a good key every route reaches the gateway as that key's tenant.
        reply = good.post("/generate/text", json=submit)
        assert reply.status_code == 202, reply.text
        job_id = reply.json()["job_id"]
        assert wait_job(good, job_id)["status"] == "completed"
        assert job_id in [job["job_id"] for job in good.get("/jobs").json()]
        assert [set(row) for row in good.get(f"/jobs/{job_id}/files/data.json").json()] == [{"a"}, {"a"}]
        assert good.get(f"/jobs/{job_id}/download").status_code == 200
        assert _detail(spent.get(f"/status/{job_id}"), 404)  # another tenant's job does not exist
        assert spent.get("/jobs").json() == []


def test_a_gateway_that_is_down_is_503(tmp_path) -> None:
    http = start_http(f"127.0.0.1:{free_port()}", tmp_path / "http.log")  # nothing listens there
    try:
        with httpx.Client(base_url=f"http://{http.target}", timeout=60) as client:
            health = client.get("/health")
            assert health.status_code == 503 and health.json()["status"] == "degraded"
            assert _detail(client.get("/jobs"), 503)
            assert _detail(client.post("/sdapi/v1/txt2img", json={"prompt": "x"}), 503)
            assert client.get("/").status_code == 200  # the page and the API info still answer
            assert client.get("/ui").status_code == 200
    finally:
        http.stop()
