"""Every error the HTTP service answers: the gateway's statuses mapped (400, 401, 403, 404, 429, 503),
the door's own (413, 422, 400 for paths leaving a job folder), always `{"detail": ...}`, never a 500.

401/403/429 come from a stand-in gateway that checks API keys the way the gateway's auth interceptor
will (issue 13): it also shows that the caller's Authorization header reaches the gateway on every call.
"""

from __future__ import annotations

import http.client
import json
from concurrent import futures
from typing import ClassVar

import grpc
import httpx
import pytest
from http_helpers import TINY, start_http
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


class KeyedGateway(gateway_pb2_grpc.GatewayServicer):
    """Answers by API key, as the gateway's auth interceptor will: no key is UNAUTHENTICATED, a
    read-only key PERMISSION_DENIED, a spent key RESOURCE_EXHAUSTED; it records every key it saw."""

    REFUSALS: ClassVar[dict[str, tuple[grpc.StatusCode, str]]] = {
        "Bearer read-only": (grpc.StatusCode.PERMISSION_DENIED, "key read-only may not submit jobs"),
        "Bearer spent": (grpc.StatusCode.RESOURCE_EXHAUSTED, "key spent is over its quota"),
    }

    def __init__(self) -> None:
        self.seen: list[str | None] = []

    def _check(self, context) -> None:
        key = dict(context.invocation_metadata()).get("authorization")
        self.seen.append(key)
        if key is None:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "authorization: an API key is required")
        if key in self.REFUSALS:
            context.abort(*self.REFUSALS[key])

    def SubmitJob(self, request, context):
        self._check(context)
        return pb.Job(id="job-1", spec=request.spec, state=pb.JOB_STATE_QUEUED)

    def ListJobs(self, request, context):
        self._check(context)
        return pb.ListJobsResponse(jobs=[pb.Job(id="job-1", state=pb.JOB_STATE_QUEUED)])

    def GetJob(self, request, context):
        self._check(context)
        return pb.Job(id=request.job_id, state=pb.JOB_STATE_QUEUED)

    def WatchJob(self, request, context):
        self._check(context)
        yield pb.JobEvent(job_id=request.job_id, seq=1, state=pb.StateChanged(state=pb.JOB_STATE_COMPLETED))

    def DownloadJob(self, request, context):
        self._check(context)
        yield pb.FileChunk(path="data.csv", data=b"a\n1\n", last=True)


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    servicer = KeyedGateway()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    gateway_pb2_grpc.add_GatewayServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    http = start_http(f"127.0.0.1:{port}", tmp_path_factory.mktemp("keyed") / "http.log")
    try:
        with httpx.Client(base_url=f"http://{http.target}", timeout=60) as client:
            yield client, servicer
    finally:
        http.stop()
        server.stop(0)


def test_authorization_reaches_the_gateway_and_refusals_map(keyed) -> None:
    client, gateway = keyed
    submit = {"schema": {"a": "int"}, "num_samples": 1}
    reply = client.post("/generate/text", json=submit)
    assert "API key is required" in _detail(reply, 401)
    assert reply.headers["www-authenticate"] == "Bearer"
    assert "may not submit" in _detail(
        client.get("/jobs", headers={"Authorization": "Bearer read-only"}), 403
    )
    assert "quota" in _detail(
        client.post("/generate/text", json=submit, headers={"Authorization": "Bearer spent"}), 429
    )
    good = {"Authorization": "Bearer good"}
    gateway.seen.clear()
    assert client.post("/generate/text", json=submit, headers=good).status_code == 202
    assert client.get("/status/job-1", headers=good).json()["status"] == "queued"
    with client.stream("GET", "/jobs/job-1/events", headers=good) as events:
        assert any(line == "event: state" for line in events.iter_lines())
    assert client.get("/jobs/job-1/files/data.csv", headers=good).text == "a\n1\n"
    assert client.get("/jobs/job-1/download", headers=good).status_code == 200
    assert gateway.seen and set(gateway.seen) == {"Bearer good"}


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
