"""API keys and tenants on a real gateway over the shared tiny servers: who may call, who sees
which jobs, per-key limits, path traversal on download, and the audit log."""

from __future__ import annotations

import json
import os
from pathlib import Path

import grpc
import pytest

from synthmill.client import Client, text_job
from synthmill.client.cli import main as cli_main
from synthmill.client.errors import SynthmillError

pytestmark = pytest.mark.e2e

ADMIN = "admin-secret-for-tests"
SCHEMA = {"name": "string", "age": {"type": "int", "minimum": 18, "maximum": 90}}


def create_key(capsys, target: str, name: str, *limits: str) -> str:
    argv = ["keys", "create", "--name", name, "--json", "--gateway", target, "--api-key", ADMIN, *limits]
    assert cli_main(argv) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["name"] == name and made["key"].startswith("smk_")
    return made["key"]


def code_of(call) -> grpc.StatusCode:
    with pytest.raises(SynthmillError) as info:
        call()
    return info.value.code


def test_keys_tenants_limits_and_audit(gateway_factory, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    gateway = gateway_factory({"SYNTHMILL_GATEWAY_ADMIN_KEY": ADMIN}, output_dir=out)
    target = gateway.target
    alice_key = create_key(capsys, target, "alice")
    bob_key = create_key(capsys, target, "bob", "--rows-per-day", "3")

    with (
        Client(target, timeout=30) as anonymous,
        Client(target, timeout=30, api_key="smk_wrong") as wrong,
        Client(target, timeout=30, api_key=alice_key) as alice,
        Client(target, timeout=30, api_key=bob_key) as bob,
        Client(target, timeout=30, api_key=ADMIN) as admin,
    ):
        assert code_of(anonymous.list) == grpc.StatusCode.UNAUTHENTICATED
        assert code_of(lambda: anonymous.submit(text_job(SCHEMA, 2))) == grpc.StatusCode.UNAUTHENTICATED
        assert code_of(wrong.list) == grpc.StatusCode.PERMISSION_DENIED
        assert code_of(bob.list_keys) == grpc.StatusCode.PERMISSION_DENIED

        job = alice.submit(text_job(SCHEMA, 2, seed=3))
        assert job.owner == "alice" and job.output_dir == job.id  # relative to alice's folder
        assert admin.get(job.id).output_dir == str((out / "alice" / job.id).resolve())
        done = alice.wait(job.id)
        assert done.state == 3, done.error  # COMPLETED

        # Bob cannot see or touch Alice's job through any RPC: it answers as if it did not exist.
        for call in (
            lambda: bob.get(job.id),
            lambda: bob.cancel(job.id),
            lambda: list(bob.watch(job.id)),
            lambda: bob.download(job.id, tmp_path / "bob"),
        ):
            assert code_of(call) == grpc.StatusCode.NOT_FOUND
        assert bob.list() == []
        assert [j.id for j in alice.list()] == [job.id]
        assert [j.id for j in admin.list()] == [job.id] and admin.get(job.id).owner == "alice"

        # Bob's 3 rows a day: a 2-row job fits, the next one does not, and says which limit.
        bob.submit(text_job(SCHEMA, 2, seed=1))
        with pytest.raises(SynthmillError) as refused:
            bob.submit(text_job(SCHEMA, 2, seed=2))
        assert refused.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "rows_per_day=3" in refused.value.details

        # Downloads never leave the job's folder: no traversal in the id, no symbolic links.
        folder = out / "alice" / job.id
        secret = tmp_path / "secret.txt"
        secret.write_text("not for download")
        os.symlink(secret, folder / "leak.txt")
        os.symlink(tmp_path, folder / "leakdir")
        for bad in ("../alice", "..", f"alice/{job.id}", "/etc"):
            assert (
                code_of(lambda bad=bad: alice.download(bad, tmp_path / "x"))
                == grpc.StatusCode.INVALID_ARGUMENT
            )
        files = {p.name for p in alice.download(job.id, tmp_path / "alice")}
        assert {"data.jsonl", "job.json", "schema.json"} <= files and not files & {"leak.txt", "secret.txt"}

        # A revoked key fails at once, on the very next call.
        assert cli_main(["keys", "revoke", "alice", "--gateway", target, "--api-key", ADMIN, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["revoked_at"]
        assert code_of(lambda: alice.get(job.id)) == grpc.StatusCode.PERMISSION_DENIED
        assert [k.name for k in admin.list_keys()] == ["alice", "bob"]

    log = gateway.log_path.read_text()
    audit = [json.loads(line.split(" audit ", 1)[1]) for line in log.splitlines() if " audit {" in line]
    actions = {(a["action"], a.get("who")) for a in audit}
    assert {("submit", "alice"), ("download", "alice"), ("key_revoked", "admin")} <= actions
    for secret_key in (ADMIN, alice_key, bob_key):
        assert secret_key not in log


def test_a_gateway_on_a_public_address_needs_keys(server_factory, tmp_path: Path) -> None:
    env = {"SYNTHMILL_GATEWAY_HOST": "0.0.0.0", "SYNTHMILL_GATEWAY_OUTPUT_DIR": str(tmp_path / "out")}
    refused = server_factory("gateway", env, wait=False)
    assert refused.proc.wait(timeout=120) != 0
    assert "--allow-unauthenticated" in refused.log_path.read_text()
    keyed = {**env, "SYNTHMILL_GATEWAY_ADMIN_KEY": ADMIN, "SYNTHMILL_GATEWAY_ALLOW_CLEARTEXT": "1"}
    server_factory("gateway", keyed)  # starts and serves (test_bind_rules: keys need TLS there)
    server_factory("gateway", {**env, "SYNTHMILL_GATEWAY_ALLOW_UNAUTHENTICATED": "1"})
