"""Paged listings and DeleteJob through a real gateway over the tiny servers, on both stores: racing
submits get distinct ids; ListJobs without arguments gives one page of 50 and a token; paging (client,
async client, CLI --all) returns every job once; delete cancels a running job, removes its folder and
records, is tenant-scoped and audited."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import grpc
import pytest
from filled_store import fill

from synthmill.client import AsyncClient, Client, image_job, list_request, text_job
from synthmill.client.cli import main as cli_main
from synthmill.client.errors import SynthmillError
from synthmill.gateway.ids import JOB_ID
from synthmill.v1 import gateway_pb2 as pb

pytestmark = pytest.mark.e2e
ADMIN = "admin-secret-for-tests"
TINY = {"width": 64, "height": 64, "steps": 1}


def test_racing_submits_and_every_page(gateway_factory, store_url: str, tmp_path: Path, capsys) -> None:
    old = asyncio.run(fill(store_url, 120))
    gateway = gateway_factory({"SYNTHMILL_GATEWAY_DB_URL": store_url})

    async def submit_all() -> list[str]:
        async with AsyncClient(gateway.target, timeout=60) as client:
            jobs = await asyncio.gather(*(client.submit(image_job(["a room"], **TINY)) for _ in range(40)))
            return [job.id for job in jobs]

    new = asyncio.run(submit_all())
    assert len(set(new)) == 40 and all(JOB_ID.fullmatch(i) and len(i) == 34 for i in new)
    with Client(gateway.target, timeout=60) as client:
        first = client.page(pb.ListJobsRequest())
        assert len(first.jobs) == 50 and first.next_page_token
        assert {job.id for job in first.jobs} >= set(new)  # the newest
        listed = [job.id for job in client.iter_jobs(page_size=7)]
        assert sorted(listed) == sorted(new + old) and listed[40:] == old  # each once, newest first
        assert [job.id for job in client.iter_jobs("completed", kind="text")] == old
        assert len(client.list(limit=3)) == 3
        with pytest.raises(SynthmillError) as refused:
            client.page(list_request(page_size=1001))
        assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert refused.value.details.startswith("page_size: 1001 is more than 1000")

    async def async_pages() -> list[str]:
        async with AsyncClient(gateway.target, timeout=60) as client:
            return [job.id async for job in client.iter_jobs(kind="text", page_size=1000)]

    assert asyncio.run(async_pages()) == old
    assert (
        cli_main(
            ["jobs", "--gateway", gateway.target, "--all", "--json", "--state", "completed", "--kind", "text"]
        )
        == 0
    )
    assert [job["job_id"] for job in json.loads(capsys.readouterr().out)["jobs"]] == old
    assert cli_main(["jobs", "--gateway", gateway.target, "--limit", "5", "--kind", "text"]) == 0
    shown = capsys.readouterr()
    assert [line.split()[0] for line in shown.out.splitlines()] == old[:5]
    assert "--all lists every job" in shown.err


def test_delete_is_tenant_scoped_cancels_first_and_is_audited(
    gateway_factory, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    gateway = gateway_factory({"SYNTHMILL_GATEWAY_ADMIN_KEY": ADMIN}, output_dir=out)
    with Client(gateway.target, timeout=60, api_key=ADMIN) as admin:
        alice_key, bob_key = (admin.create_key(name).secret for name in ("alice", "bob"))
    with (
        Client(gateway.target, timeout=60, api_key=alice_key) as alice,
        Client(gateway.target, timeout=60, api_key=bob_key) as bob,
    ):
        done = alice.wait(alice.submit(text_job({"age": "int"}, 2)).id)
        slow = alice.submit(image_job(["slow"], 64, width=64, height=64, steps=150))
        assert next(e for e in alice.watch(slow.id) if e.HasField("step"))  # running
        folder = out / "alice" / slow.id
        assert folder.is_dir()
        for job_id in (slow.id, done.id):  # another tenant's job is as unknown as a missing one
            with pytest.raises(SynthmillError) as hidden:
                bob.delete(job_id)
            assert hidden.value.code == grpc.StatusCode.NOT_FOUND
        deleted = alice.delete(slow.id)
        assert deleted.state == pb.JOB_STATE_CANCELLED and not folder.exists()
        for call in (
            lambda: alice.get(slow.id),
            lambda: list(alice.watch(slow.id)),
            lambda: alice.delete(slow.id),
        ):
            with pytest.raises(SynthmillError) as gone:
                call()
            assert gone.value.code == grpc.StatusCode.NOT_FOUND
        assert (
            cli_main(["delete", "--gateway", gateway.target, "--api-key", alice_key, done.id, "--json"]) == 0
        )
        shown = json.loads(capsys.readouterr().out)
        assert shown["state"] == "COMPLETED" and shown["deleted"]
        assert not (out / "alice" / done.id).exists() and alice.list() == []
    log = gateway.log_path.read_text()
    audit = [json.loads(line.split(" audit ", 1)[1]) for line in log.splitlines() if " audit {" in line]
    deletes = [(a["who"], a["job"]) for a in audit if a["action"] == "delete"]
    assert deletes == [("alice", slow.id), ("alice", done.id)]
