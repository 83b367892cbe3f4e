"""The CLI as a real process against the in-process fake gateway: output, JSON and exit codes."""

from __future__ import annotations

import json

import pytest


def test_images_json(cli, fake_gateway):
    r = cli(
        "images",
        "--gateway",
        fake_gateway.target,
        "--prompt",
        "a room",
        "-n",
        "2",
        "--size",
        "64x64",
        "--json",
    )
    assert r.code == 0, r.stderr
    out = r.json()
    assert out["state"] == "COMPLETED" and out["kind"] == "images"
    assert (out["images_done"], out["images_total"]) == (2, 2)
    assert out["output_dir"] == f"/out/{out['job_id']}"
    assert out["error"] is None
    sent = fake_gateway.gateway.jobs[out["job_id"]].job.spec
    assert sent.images.params.width == 64 and list(sent.images.prompts) == ["a room"]


def test_text_json_uses_env_gateway(cli, fake_gateway):
    schema = json.dumps({"customer_name": "string", "age": "int"})
    r = cli("text", "--schema", schema, "-n", "5", "--json", env={"SYNTHMILL_GATEWAY": fake_gateway.target})
    assert r.code == 0, r.stderr
    out = r.json()
    assert (out["state"], out["rows_done"], out["rows_total"]) == ("COMPLETED", 5, 5)


def test_bad_request_exits_nonzero_with_the_server_message(cli, fake_gateway):
    r = cli("images", "--gateway", fake_gateway.target, "--prompt", "x", "--size", "100x64")
    assert r.code == 1
    assert "error: INVALID_ARGUMENT: images.params.width: 100 is not a multiple of 8" in r.stderr
    r = cli("images", "--gateway", fake_gateway.target, "--prompt", "x", "--size", "100x64", "--json")
    assert r.code == 1 and r.json() == {
        "error": "INVALID_ARGUMENT: images.params.width: 100 is not a multiple of 8", "code": "INVALID_ARGUMENT",
    }  # fmt: skip


def test_unreadable_local_file_exits_2(cli, fake_gateway, tmp_path):
    r = cli("images", "--gateway", fake_gateway.target, "--captions", str(tmp_path / "nope.json"))
    assert r.code == 2 and "error: --captions: cannot read" in r.stderr
    assert not fake_gateway.gateway.jobs


def test_failed_job_exits_nonzero(cli, fake_gateway):
    fake_gateway.gateway.fail_job = True
    r = cli("text", "--gateway", fake_gateway.target, "--schema", "{}", "-n", "1", "--json")
    assert r.code == 1
    assert r.json()["state"] == "FAILED" and r.json()["error"] == "image server: boom"
    assert "image server: boom" in r.stderr


def test_no_wait_jobs_status_watch_cancel_download(cli, fake_gateway, tmp_path):
    g = ("--gateway", fake_gateway.target)
    r = cli("text", *g, "--schema", "{}", "-n", "2", "--no-wait")
    assert r.code == 0, r.stderr
    job_id = r.stdout.strip()
    assert job_id in fake_gateway.gateway.jobs

    r = cli("jobs", *g, "--json")
    assert r.code == 0 and [j["job_id"] for j in r.json()["jobs"]] == [job_id]
    r = cli("jobs", *g)
    assert r.code == 0 and job_id in r.stdout and "COMPLETED" in r.stdout
    r = cli("jobs", *g, "--state", "bogus")
    assert r.code == 2 and "unknown job state" in r.stderr

    r = cli("status", *g, job_id, "--json")
    assert r.code == 0 and r.json()["rows_done"] == 2
    r = cli("status", *g, "missing")
    assert r.code == 1 and "error: NOT_FOUND: job missing not found" in r.stderr

    r = cli("watch", *g, job_id, "--json")
    assert r.code == 0 and r.json()["state"] == "COMPLETED"

    r = cli("download", *g, job_id, str(tmp_path / "dl"), "--json")
    assert r.code == 0, r.stderr
    assert (tmp_path / "dl" / "data.jsonl").exists() and len(r.json()["files"]) == 3

    r = cli("cancel", *g, job_id, "--json")
    assert r.code == 0 and r.json()["state"] == "CANCELLED"
    r = cli("watch", *g, job_id)
    assert r.code == 1 and "CANCELLED" in r.stderr


def test_health(cli, fake_gateway):
    r = cli("health", "--gateway", fake_gateway.target)
    assert r.code == 0, r.stderr
    assert "SERVING" in r.stdout and "tiny-llama" in r.stdout
    out = cli("health", "--gateway", fake_gateway.target, "--json").json()
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
