"""The attack suite, over HTTP: a keyed gateway over the shared tiny servers and the HTTP service in
front of it, started with the admin key in its own environment (`keyed_stack`: as `export
SYNTHMILL_API_KEY=...` and `synthmill up` would leave it). Each test plays one attack and asserts the
answer."""

from __future__ import annotations

import re

import grpc
import httpx
import pytest

from synthmill.client import Client, SynthmillError
from synthmill.http.app import create_app
from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import gateway_pb2_grpc

pytestmark = pytest.mark.e2e

# Answer without a key: what the service offers, its health, the page and the API's description.
OPEN_ROUTES = {"/", "/health", "/ui", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}


def _guarded_routes() -> list[tuple[str, str]]:
    """(method, path) of every route the API describes but the open ones, path parameters filled in."""
    paths = create_app().openapi()["paths"]
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "x", path))
        for path, methods in paths.items()
        if path not in OPEN_ROUTES
        for method in methods
    ]


def test_no_key_is_401_on_every_route_whatever_the_service_environment_holds(keyed_stack) -> None:
    routes = _guarded_routes()
    assert ("GET", "/sdapi/v1/progress") in routes and ("POST", "/sdapi/v1/interrupt") in routes
    assert ("GET", "/jobs") in routes and ("POST", "/schema") in routes
    with keyed_stack.http() as anonymous:
        for method, path in routes:
            reply = anonymous.request(method, path, json={})
            assert reply.status_code == 401, (method, path, reply.text)
            assert reply.headers["www-authenticate"] == "Bearer"
        for path in ("/health", "/ui", "/", "/openapi.json"):
            assert anonymous.get(path).status_code == 200, path


def test_a_tenant_sees_only_its_own_jobs(keyed_stack) -> None:
    with keyed_stack.http("alice") as alice, keyed_stack.http("bob") as bob, keyed_stack.http() as anonymous:
        reply = alice.post("/generate/text", json={"schema": {"a": "int"}, "num_samples": 1})
        assert reply.status_code == 202, reply.text
        job_id = reply.json()["job_id"]
        with Client(keyed_stack.gateway.target, timeout=120, api_key=keyed_stack.keys["alice"]) as grpc_alice:
            assert grpc_alice.wait(job_id).state == pb.JOB_STATE_COMPLETED  # its files are written
        assert job_id not in [job["job_id"] for job in bob.get("/jobs").json()]
        assert bob.get(f"/jobs/{job_id}").status_code == 404
        assert bob.get(f"/jobs/{job_id}/files/schema.json").status_code == 404
        assert anonymous.get(f"/jobs/{job_id}/files/schema.json").status_code == 401
        assert alice.get(f"/jobs/{job_id}/files/schema.json").status_code == 200


@pytest.mark.parametrize(
    "value",
    [
        "Bearer smk_é".encode(),
        b"Bearer \xff\xfe",
        b"Basic YWxpY2U6cHc=",
        b"Bearer",
        b"Bearer a b",
        b"x" * 2000,
    ],
)
def test_a_malformed_authorization_header_is_401_not_500(keyed_stack, value: bytes) -> None:
    with httpx.Client(base_url=keyed_stack.url, timeout=60) as client:
        reply = client.get("/jobs", headers={"Authorization": value})
    assert reply.status_code == 401, reply.text
    assert "Authorization" in reply.json()["detail"]


def test_a_wrong_key_is_403_even_where_the_route_never_calls_the_gateway(keyed_stack) -> None:
    with keyed_stack.http("smk_wrong") as wrong:
        assert wrong.get("/sdapi/v1/progress").status_code == 403
        assert wrong.post("/sdapi/v1/interrupt").status_code == 403
        assert wrong.post("/schema", json={"schema": {"a": "int"}}).status_code == 403


def test_health_answers_without_a_key_and_hides_the_servers_addresses(keyed_stack) -> None:
    with keyed_stack.http() as anonymous:
        reply = anonymous.get("/health")
    assert reply.status_code == 200 and reply.json()["status"] == "healthy"
    target = keyed_stack.gateway.target
    with (
        Client(target, timeout=60) as nobody,
        Client(target, timeout=60, api_key=keyed_stack.keys["alice"]) as alice,
    ):
        assert [s.target for s in nobody.health().services] == ["", ""]
        assert [s.target for s in alice.health().services] == ["", ""]
        assert alice.caller() == pb.Caller(name="alice", admin=False, keyed=True)
    with Client(target, timeout=60, api_key=keyed_stack.admin) as admin:
        assert all(s.target for s in admin.health().services)


def test_dns_rebinding_a_foreign_host_header_is_400(keyed_stack) -> None:
    with keyed_stack.http("alice") as alice:
        for path in ("/jobs", "/ui"):
            reply = alice.get(path, headers={"Host": "evil.example"})
            assert reply.status_code == 400, (path, reply.text)
        assert alice.get("/health", headers={"Host": "10.0.0.7:8000"}).status_code == 200  # probes
        assert alice.get("/jobs", headers={"Host": "localhost"}).status_code == 200


def test_a_cross_site_state_change_is_403(keyed_stack) -> None:
    body = {"schema": {"a": "int"}}
    with keyed_stack.http("alice") as alice:
        own = f"http://{keyed_stack.url.removeprefix('http://')}"
        for origin in ("http://evil.example", "null", f"{own}.evil.example"):
            reply = alice.post("/schema", json=body, headers={"Origin": origin})
            assert reply.status_code == 403, (origin, reply.text)
            assert "Origin" in reply.json()["detail"]
        assert alice.post("/sdapi/v1/interrupt", headers={"Origin": "http://evil.example"}).status_code == 403
        assert alice.post("/schema", json=body, headers={"Origin": own}).status_code == 200
        assert alice.get("/jobs", headers={"Origin": "http://evil.example"}).status_code == 200  # reads pass


def test_control_characters_in_paths_are_refused_and_tenants_see_no_server_paths(keyed_stack) -> None:
    with keyed_stack.http("alice") as alice:
        reply = alice.post("/generate/text", json={"schema": {"a": "int"}, "num_samples": 1})
        job_id = reply.json()["job_id"]
        assert reply.json().get("output_path", job_id) == job_id
        assert alice.get(f"/jobs/{job_id}").json()["output_path"] == job_id  # not /…/out/alice/<id>
        for path in ("data.jsonl%00", "a%00b", "images/%1B%5B2J.png", "x%7F"):
            reply = alice.get(f"/jobs/{job_id}/files/{path}")
            assert reply.status_code == 400, (path, reply.text)
            assert "control character" in reply.json()["detail"]
    metadata = (("authorization", f"Bearer {keyed_stack.keys['alice']}"),)
    with grpc.insecure_channel(keyed_stack.gateway.target) as channel:
        stub = gateway_pb2_grpc.GatewayStub(channel)
        for bad in ("data.jsonl\x00", "job.json\n", "a" * 300):
            request = pb.DownloadJobRequest(job_id=job_id, paths=["job.json", bad])
            with pytest.raises(grpc.RpcError) as refused:
                list(stub.DownloadJob(request, metadata=metadata, timeout=60))
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, refused.value.details()
            assert "paths[1]" in refused.value.details()


def test_attacks_that_already_hold(keyed_stack) -> None:
    """Oversized bodies, job ids that climb out of the output root, a tenant managing keys, a huge
    header: each refused at the door with its own status, never a 500."""
    with keyed_stack.http("alice") as alice:
        big = b'{"schema": {"a": "int"}, "num_samples": 1, "pad": "' + b"x" * (2 << 20) + b'"}'
        reply = alice.post("/generate/text", content=big, headers={"content-type": "application/json"})
        assert reply.status_code == 413
        for job_id in ("...", "a%2F..%2F..", "%2E%2E", "x%00"):  # ("..": httpx normalises it away)
            assert alice.get(f"/jobs/{job_id}/download").status_code in (400, 404), job_id
            assert alice.get(f"/jobs/{job_id}").status_code in (400, 404), job_id
        assert alice.get("/jobs", headers={"X-Pad": "y" * 20_000}).status_code in (200, 400, 431)
    with Client(keyed_stack.gateway.target, timeout=60, api_key=keyed_stack.keys["alice"]) as tenant:
        with pytest.raises(SynthmillError) as refused:
            tenant.create_key("mallory")
    assert refused.value.code == grpc.StatusCode.PERMISSION_DENIED
