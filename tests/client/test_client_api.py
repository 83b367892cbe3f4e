"""Client and AsyncClient against an in-process fake gateway: errors, watch reconnects, downloads."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import grpc
import pytest
from client_fakes import FILES

from synthmill.client import AsyncClient, Client, SynthmillError, image_job, resolve_target, text_job
from synthmill.client.errors import from_rpc_error
from synthmill.v1 import gateway_pb2


def test_no_torch_on_import():
    code = (
        "import synthmill.client, synthmill.client.cli, synthmill.client.commands, synthmill.client.stack, "
        "synthmill.client.local, synthmill.client.demo, sys; "
        "heavy = {'torch', 'transformers', 'diffusers'} & set(sys.modules); assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_target_resolution(monkeypatch):
    monkeypatch.delenv("SYNTHMILL_GATEWAY", raising=False)
    assert resolve_target() == "localhost:50051"
    monkeypatch.setenv("SYNTHMILL_GATEWAY", "gw:1234")
    assert resolve_target() == "gw:1234"
    assert resolve_target("explicit:1") == "explicit:1"


def test_rpc_errors_become_synthmill_errors(fake_gateway):
    with Client(fake_gateway.target) as client:
        with pytest.raises(SynthmillError) as info:
            client.submit(image_job("x", 1, size="100x64"))
        assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert info.value.details == "images.params.width: 100 is not a multiple of 8"
        assert str(info.value) == "INVALID_ARGUMENT: images.params.width: 100 is not a multiple of 8"
        with pytest.raises(SynthmillError, match="NOT_FOUND"):
            client.get("nope")
        with pytest.raises(SynthmillError, match="NOT_FOUND"):
            list(client.watch("nope"))


def test_unreachable_gateway_is_unavailable():
    with Client("127.0.0.1:1", timeout=2) as client, pytest.raises(SynthmillError) as info:
        client.health()
    assert info.value.code == grpc.StatusCode.UNAVAILABLE


def test_from_rpc_error_keeps_code_and_details():
    class Fake(grpc.RpcError):
        def code(self):
            return grpc.StatusCode.RESOURCE_EXHAUSTED

        def details(self):
            return "queue full"

    err = from_rpc_error(Fake())
    assert (err.code, err.details, str(err)) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "queue full",
        "RESOURCE_EXHAUSTED: queue full",
    )


def test_submit_wait_list_cancel(fake_gateway):
    with Client(fake_gateway.target) as client:
        job = client.submit(text_job({"age": "int"}, 3))
        seen = []
        final = client.wait(job.id, on_event=seen.append)
        assert final.state == gateway_pb2.JOB_STATE_COMPLETED
        assert [e.seq for e in seen] == list(range(1, 6))
        assert final.counts.rows_done == 3
        assert [j.id for j in client.list()] == [job.id]
        assert client.list(state="failed") == []
        assert [j.id for j in client.list(state="COMPLETED", limit=1)] == [job.id]
        with pytest.raises(ValueError, match="unknown job state"):
            client.list(state="sleeping")
        assert client.cancel(job.id).state == gateway_pb2.JOB_STATE_CANCELLED


def test_watch_reconnects_after_unavailable_without_gaps_or_repeats(fake_gateway):
    fake_gateway.gateway.drop_after = [3, 0, 2]  # three broken connections, then a good one
    with Client(fake_gateway.target) as client:
        job = client.submit(image_job(["a", "b"], 2))
        seqs = [event.seq for event in client.watch(job.id)]
    total = len(fake_gateway.gateway.jobs[job.id].events)
    assert seqs == list(range(1, total + 1))
    assert [r.after_seq for r in fake_gateway.gateway.watch_requests] == [0, 3, 3, 5]


def test_watch_resumes_after_a_given_seq(fake_gateway):
    with Client(fake_gateway.target) as client:
        job = client.submit(text_job({"age": "int"}, 4))
        assert [e.seq for e in client.watch(job.id, after_seq=4)] == [5, 6]
        # Nothing after the final event: the stream closes, and the job has ended.
        assert list(client.watch(job.id, after_seq=6)) == []


def test_watch_gives_up_when_the_gateway_stays_away(fake_gateway):
    fake_gateway.gateway.drop_after = [0] * 1000
    with Client(fake_gateway.target, reconnect_timeout=0.5) as client:
        job = client.submit(text_job({"age": "int"}, 1))
        with pytest.raises(SynthmillError, match="UNAVAILABLE"):
            list(client.watch(job.id))


def test_watch_survives_a_real_gateway_restart():
    from client_fakes import start_fake

    server, fake, port = start_fake()
    fake.drop_after = []
    with Client(f"127.0.0.1:{port}") as client:
        job = client.submit(text_job({"age": "int"}, 2))
        events = client.watch(job.id)
        assert next(events).seq == 1
        jobs = fake.jobs
        server.stop(0).wait()
        server, fake, _ = start_fake(port)  # same port, same jobs
        fake.jobs = jobs
        try:
            assert [e.seq for e in events] == [2, 3, 4]
        finally:
            server.stop(0)


def test_download_writes_every_file_atomically(fake_gateway, tmp_path):
    with Client(fake_gateway.target) as client:
        job = client.submit(text_job({"age": "int"}, 1))
        written = client.download(job.id, tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == sorted(FILES)
    for rel, data in FILES.items():
        assert (tmp_path / "out" / rel).read_bytes() == data
    assert not [p for p in (tmp_path / "out").rglob("*.part")]


def test_failed_download_leaves_no_partial_file(fake_gateway, tmp_path):
    fake_gateway.gateway.break_download = True
    with Client(fake_gateway.target) as client:
        job = client.submit(text_job({"age": "int"}, 1))
        with pytest.raises(SynthmillError, match="INTERNAL: disk error"):
            client.download(job.id, tmp_path)
    assert (tmp_path / "data.jsonl").read_bytes() == FILES["data.jsonl"]  # finished files stay
    leftovers = (
        sorted(p.name for p in (tmp_path / "images").iterdir()) if (tmp_path / "images").exists() else []
    )
    assert leftovers == []


def test_download_refuses_paths_outside_the_folder(tmp_path):
    from synthmill.client._common import Downloader

    sink = Downloader(tmp_path / "d")
    for bad in ("../evil", "/etc/passwd", "a/../../b"):
        with pytest.raises(SynthmillError, match="outside"):
            sink.add(gateway_pb2.FileChunk(path=bad, data=b"x", last=True))
    assert os.listdir(tmp_path) == ["d"]


def test_async_client(fake_gateway, tmp_path):
    async def main():
        fake_gateway.gateway.drop_after = [2]
        async with AsyncClient(fake_gateway.target) as client:
            job = await client.submit(image_job("a", 1))
            seqs = [e.seq async for e in client.watch(job.id)]
            final = await client.wait(job.id)
            health = await client.health()
            files = await client.download(job.id, tmp_path)
            with pytest.raises(SynthmillError, match="INVALID_ARGUMENT"):
                await client.submit(image_job("a", 1, width=12))
            return job, seqs, final, health, files

    _, seqs, final, health, files = asyncio.run(main())
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == 5
    assert final.state == gateway_pb2.JOB_STATE_COMPLETED
    assert health.serving
    assert len(files) == len(FILES)


def test_progress_bars_follow_the_counts():
    import io

    from client_fakes import script_events

    from synthmill.client.progress import JobProgress

    job = gateway_pb2.Job(id="j1", counts=gateway_pb2.JobCounts(rows_total=2, images_total=2))
    out = io.StringIO()
    with JobProgress("j1", file=out, bars=True) as bars:
        for event in script_events(job):
            bars(event)
        assert (bars.rows.n, bars.rows.total, bars.images.n, bars.images.total) == (2, 2, 2, 2)
        assert (bars.steps.n, bars.steps.total) == (2, 2)
    text = out.getvalue()
    assert "job j1: RUNNING" in text and "job j1: COMPLETED" in text and "rows" in text and "images" in text
