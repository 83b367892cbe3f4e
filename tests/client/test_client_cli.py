"""The CLI as a real process against a real gateway over the tiny servers: output, JSON and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthmill.client import Client

# A bool that must be unique cannot fill 3 rows: the text server gives up with RESOURCE_EXHAUSTED.
# Two values for three unique rows: not refused at submit (a string is not a finite field), so the
# text server runs out of distinct values and the job fails.
IMPOSSIBLE = json.dumps({"flag": {"type": "string", "unique": True, "pattern": "^[ab]$"}})


def test_images_json(cli, gateway, tmp_path):
    r = cli("images", "--gateway", gateway.target, "--prompt", "a room", "-n", "2", "--size", "64x64",
            "--steps", "2", "--json")  # fmt: skip
    assert r.code == 0, r.stderr
    out = r.json()
    assert out["state"] == "COMPLETED" and out["kind"] == "images"
    assert (out["images_done"], out["images_total"]) == (2, 2)
    assert Path(out["output_dir"]) == (tmp_path / "out" / out["job_id"]).resolve()
    assert (Path(out["output_dir"]) / "images" / "00001.png").is_file()
    assert out["error"] is None
    with Client(gateway.target) as client:
        sent = client.get(out["job_id"]).spec
    assert sent.images.params.width == 64 and list(sent.images.prompts) == ["a room"]


def test_text_json_uses_env_gateway(cli, gateway):
    schema = json.dumps({"customer_name": "string", "age": "int"})
    r = cli("text", "--schema", schema, "-n", "5", "--json", env={"SYNTHMILL_GATEWAY": gateway.target})
    assert r.code == 0, r.stderr
    out = r.json()
    assert (out["state"], out["rows_done"], out["rows_total"]) == ("COMPLETED", 5, 5)


def test_bad_request_exits_nonzero_with_the_server_message(cli, gateway):
    r = cli("images", "--gateway", gateway.target, "--prompt", "x", "--size", "100x64")
    assert r.code == 1
    assert "error: INVALID_ARGUMENT: images.params.width: 100 is not a multiple of 8 for tiny-sd" in r.stderr
    r = cli("images", "--gateway", gateway.target, "--prompt", "x", "--size", "100x64", "--json")
    assert r.code == 1 and r.json() == {
        "error": "INVALID_ARGUMENT: images.params.width: 100 is not a multiple of 8 for tiny-sd", "code": "INVALID_ARGUMENT",
    }  # fmt: skip


def test_unreadable_local_file_exits_2(cli, gateway, tmp_path):
    r = cli("images", "--gateway", gateway.target, "--captions", str(tmp_path / "nope.json"))
    assert r.code == 2 and "error: --captions: cannot read" in r.stderr
    with Client(gateway.target) as client:
        assert client.list() == []


def test_failed_job_exits_nonzero(cli, gateway):
    r = cli("text", "--gateway", gateway.target, "--schema", IMPOSSIBLE, "-n", "3", "--json")
    assert r.code == 1, r.stdout + r.stderr
    out = r.json()
    assert out["state"] == "FAILED" and out["rows_done"] < 3
    assert out["error"].startswith("text server: RESOURCE_EXHAUSTED: ") and "unique" in out["error"]
    assert out["error"] in r.stderr


def test_no_wait_jobs_status_watch_cancel_download(cli, gateway, tmp_path):
    g = ("--gateway", gateway.target)
    r = cli("text", *g, "--schema", '{"age": "int"}', "-n", "2", "--no-wait")
    assert r.code == 0, r.stderr
    job_id = r.stdout.strip()
    with Client(gateway.target) as client:
        assert [j.id for j in client.list()] == [job_id]

    r = cli("watch", *g, job_id, "--json")
    assert r.code == 0 and r.json()["state"] == "COMPLETED", r.stderr

    r = cli("jobs", *g, "--json")
    assert r.code == 0 and [j["job_id"] for j in r.json()["jobs"]] == [job_id]
    r = cli("jobs", *g)
    assert r.code == 0 and job_id in r.stdout and "COMPLETED" in r.stdout
    r = cli("jobs", *g, "--state", "bogus")
    assert r.code == 2 and "unknown job state" in r.stderr

    r = cli("status", *g, job_id, "--json")
    assert r.code == 0 and r.json()["rows_done"] == 2
    r = cli("status", *g, "missing")
    assert r.code == 1 and "error: NOT_FOUND: job_id: no job 'missing'" in r.stderr

    r = cli("download", *g, job_id, str(tmp_path / "dl"), "--json")
    assert r.code == 0, r.stderr
    source = sorted(
        p.relative_to(tmp_path / "out" / job_id) for p in (tmp_path / "out" / job_id).rglob("*.*")
    )
    files = sorted(Path(p).relative_to(tmp_path / "dl") for p in r.json()["files"])
    assert files == source and Path("data.jsonl") in files
    assert (tmp_path / "dl" / "data.jsonl").read_bytes() == (
        tmp_path / "out" / job_id / "data.jsonl"
    ).read_bytes()

    # Cancel: a finished job stays COMPLETED; a running one ends CANCELLED, and watching it fails.
    r = cli("cancel", *g, job_id, "--json")
    assert r.code == 0 and r.json()["state"] == "COMPLETED"
    r = cli("images", *g, "--prompt", "slow", "-n", "64", "--size", "64x64", "--steps", "150", "--no-wait")
    assert r.code == 0, r.stderr
    slow = r.stdout.strip()
    with Client(gateway.target) as client:
        assert next(e for e in client.watch(slow) if e.HasField("step"))  # running
    r = cli("cancel", *g, slow, "--json")
    assert r.code == 0 and r.json()["state"] == "CANCELLED", r.stdout + r.stderr
    r = cli("watch", *g, slow)
    assert r.code == 1 and "CANCELLED" in r.stderr


def test_health(cli, gateway):
    r = cli("health", "--gateway", gateway.target)
    assert r.code == 0, r.stderr
    assert "SERVING" in r.stdout and "tiny-llama" in r.stdout and "tiny-sd" in r.stdout
    out = cli("health", "--gateway", gateway.target, "--json").json()
    assert out["serving"] is True and [s["name"] for s in out["services"]] == ["text", "image"]


def test_health_of_a_missing_gateway_fails(cli):
    r = cli("health", "--gateway", "127.0.0.1:1", "--json")
    assert r.code == 1 and r.json()["code"] == "UNAVAILABLE"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "gateway", "--model", "x"], "--model does not apply"),
        (["serve", "text", "--output-dir", "x"], "--output-dir does not apply"),
        (["serve", "text", "--model", "a", "--model", "b"], "one --model"),
    ],
)
def test_serve_flag_checks(cli, argv, message):
    r = cli(*argv)
    assert r.code == 2 and message in r.stderr
