"""Client and AsyncClient against a real gateway over the tiny text and image servers: errors, watch
reconnects across real gateway kills and restarts, downloads (whole, and cut by a killed gateway)."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import threading
from pathlib import Path

import grpc
import pytest

from synthmill.client import (
    AsyncClient,
    Client,
    SynthmillError,
    image_job,
    resolve_target,
    text_job,
    unified_job,
)
from synthmill.client.errors import from_rpc_error
from synthmill.client.progress import JobProgress
from synthmill.v1 import gateway_pb2, gateway_pb2_grpc

# Long enough (on tiny-sd) that a gateway killed at its first denoising steps finds it unfinished.
SLOW_IMAGES = {"size": "64x64", "steps": 60}


def folder_files(folder: str | Path) -> dict[str, bytes]:
    """The files the gateway serves from a job folder (hidden temp files excluded), by relative path."""
    root = Path(folder)
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


class Recorder(grpc.UnaryStreamClientInterceptor):
    """Records every streaming request, and every message a stream delivers, on a real channel."""

    def __init__(self, on_message=None):
        self.requests: list = []
        self.messages: list = []
        self.on_message = on_message
        self.on_request = None

    def intercept_unary_stream(self, continuation, client_call_details, request):
        self.requests.append(request)
        if self.on_request is not None:
            self.on_request()
        return _RecordedCall(continuation(client_call_details, request), self)


class _RecordedCall:
    """The real call (cancel() and all), its messages recorded as they are read."""

    def __init__(self, call, recorder: Recorder):
        self._call = call
        self._recorder = recorder

    def __iter__(self):
        return self

    def __next__(self):
        message = next(self._call)
        self._recorder.messages.append(message)
        if self._recorder.on_message is not None:
            self._recorder.on_message(message)
        return message

    def __getattr__(self, name):
        return getattr(self._call, name)


def restart_after_requests(server, recorder: Recorder, count: int) -> threading.Thread:
    """Starts the killed `server` again (same port, same output folder) once the client has sent
    `count` more streaming requests: reconnects that failed while it was away."""
    reached = threading.Event()
    target = len(recorder.requests) + count
    recorder.on_request = lambda: len(recorder.requests) >= target and reached.set()
    thread = threading.Thread(target=lambda: (reached.wait(), server.start()), daemon=True)
    thread.start()
    return thread


def test_no_torch_on_import():
    code = (
        "import synthmill.client, synthmill.client.cli, synthmill.client.commands, synthmill.client.stack, "
        "synthmill.client.local, tools.demo, sys; "
        "heavy = {'torch', 'transformers', 'diffusers'} & set(sys.modules); assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


def test_target_resolution(monkeypatch):
    monkeypatch.delenv("SYNTHMILL_GATEWAY", raising=False)
    assert resolve_target() == "localhost:50051"
    monkeypatch.setenv("SYNTHMILL_GATEWAY", "gw:1234")
    assert resolve_target() == "gw:1234"
    assert resolve_target("explicit:1") == "explicit:1"


def test_rpc_errors_become_synthmill_errors(gateway_factory):
    # A queue limit of 0 makes every valid job RESOURCE_EXHAUSTED; bad specs are still INVALID_ARGUMENT.
    gateway = gateway_factory(env={"SYNTHMILL_GATEWAY_MAX_QUEUED_JOBS": "0"})
    with Client(gateway.target) as client:
        with pytest.raises(SynthmillError) as info:
            client.submit(image_job("x", 1, size="100x64"))
        assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert info.value.details == "images.params.width: 100 is not a multiple of 8 for tiny-sd"
        assert (
            str(info.value) == "INVALID_ARGUMENT: images.params.width: 100 is not a multiple of 8 for tiny-sd"
        )
        with pytest.raises(SynthmillError) as info:
            client.submit(text_job({"age": "int"}, 1))
        assert info.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert str(info.value) == "RESOURCE_EXHAUSTED: 0 jobs are already queued; try later"
        with pytest.raises(SynthmillError, match=r"^NOT_FOUND: job_id: no job 'nope'$"):
            client.get("nope")
        with pytest.raises(SynthmillError, match=r"^NOT_FOUND: job_id: no job 'nope'$"):
            list(client.watch("nope"))
        assert client.list() == []


def test_from_rpc_error_keeps_code_and_details(gateway_factory):
    gateway = gateway_factory(env={"SYNTHMILL_GATEWAY_MAX_QUEUED_JOBS": "0"})
    with grpc.insecure_channel(gateway.target) as channel:
        stub = gateway_pb2_grpc.GatewayStub(channel)
        request = gateway_pb2.SubmitJobRequest(spec=text_job({"age": "int"}, 1))
        with pytest.raises(grpc.RpcError) as info:
            stub.SubmitJob(request, timeout=30)
    err = from_rpc_error(info.value)
    assert (err.code, err.details, str(err)) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "0 jobs are already queued; try later",
        "RESOURCE_EXHAUSTED: 0 jobs are already queued; try later",
    )


def test_unreachable_gateway_is_unavailable():
    with Client("127.0.0.1:1", timeout=2) as client, pytest.raises(SynthmillError) as info:
        client.health()
    assert info.value.code == grpc.StatusCode.UNAVAILABLE


def test_submit_wait_list_cancel(gateway):
    with Client(gateway.target, timeout=60) as client:
        job = client.submit(text_job({"age": "int"}, 3))
        seen = []
        final = client.wait(job.id, on_event=seen.append)
        assert final.state == gateway_pb2.JOB_STATE_COMPLETED, final.error
        assert [e.seq for e in seen] == list(range(1, 7))
        assert [e.WhichOneof("event") for e in seen] == ["state", "state", "row", "row", "row", "state"]
        assert [e.state.state for e in seen if e.HasField("state")] == [
            gateway_pb2.JOB_STATE_QUEUED,
            gateway_pb2.JOB_STATE_RUNNING,
            gateway_pb2.JOB_STATE_COMPLETED,
        ]
        assert final.counts.rows_done == 3
        assert [j.id for j in client.list()] == [job.id]
        assert client.list(state="failed") == []
        assert [j.id for j in client.list(state="COMPLETED", limit=1)] == [job.id]
        with pytest.raises(ValueError, match="unknown job state"):
            client.list(state="sleeping")
        # A finished job stays as it ended; a running one (denoising already) is cancelled.
        assert client.cancel(job.id).state == gateway_pb2.JOB_STATE_COMPLETED
        slow = client.submit(image_job("slow", 64, size="64x64", steps=150))
        assert next(e for e in client.watch(slow.id) if e.HasField("step"))
        assert client.cancel(slow.id).state == gateway_pb2.JOB_STATE_CANCELLED
        assert client.wait(slow.id).state == gateway_pb2.JOB_STATE_CANCELLED
        assert client.get(slow.id).counts.images_done < 64
        assert [j.id for j in client.list(state="cancelled")] == [slow.id]


def test_watch_reconnects_across_a_gateway_restart_without_gaps_or_repeats(gateway):
    recorder = Recorder()
    channel = grpc.intercept_channel(grpc.insecure_channel(gateway.target), recorder)
    with Client(channel=channel) as client:
        job = client.submit(image_job(["a", "b"], 4, **SLOW_IMAGES))
        seqs, restart = [], None
        for event in client.watch(job.id):
            if not event.HasField("step"):  # live only, never replayed
                seqs.append(event.seq)
            if restart is None and event.HasField("step"):
                gateway.kill()  # mid-job, mid-stream
                restart = restart_after_requests(gateway, recorder, 2)  # two reconnects fail first
        restart.join()
        watches = [r.after_seq for r in recorder.requests]
        assert client.get(job.id).state == gateway_pb2.JOB_STATE_COMPLETED
        whole = [e.seq for e in client.watch(job.id)]
    channel.close()
    assert "resuming job" in gateway.log_path.read_text()  # the kill really cut the job
    assert seqs == whole == list(range(1, len(whole) + 1))
    # Every reconnect, failed ones while the gateway was away included, asked for what came after the
    # last event seen.
    assert watches[0] == 0 and len(watches) >= 3, watches
    assert len(set(watches[1:])) == 1 and watches[1] in seqs[:-1], watches


def test_watch_resumes_after_a_given_seq(gateway):
    with Client(gateway.target) as client:
        job = client.submit(text_job({"age": "int"}, 4))
        whole = [e.seq for e in client.watch(job.id)]
        assert whole == list(range(1, 8))  # QUEUED, RUNNING, 4 rows, COMPLETED
        assert [e.seq for e in client.watch(job.id, after_seq=5)] == [6, 7]
        # Nothing after the final event: the stream closes, and the job has ended.
        assert list(client.watch(job.id, after_seq=7)) == []


def test_watch_gives_up_when_the_gateway_stays_away(gateway):
    with Client(gateway.target, reconnect_timeout=0.5) as client:
        job = client.submit(image_job("a", 8, **SLOW_IMAGES))
        events = client.watch(job.id)
        assert next(events).state.state == gateway_pb2.JOB_STATE_QUEUED
        gateway.kill()
        with pytest.raises(SynthmillError) as info:  # when is the clock's business: test_client_resume.py
            list(events)
    assert info.value.code == grpc.StatusCode.UNAVAILABLE


def test_download_writes_every_file_atomically(gateway, tmp_path):
    with Client(gateway.target) as client:
        job = client.wait(client.submit(image_job(["a", "b"], 2, size="64x64", steps=2)).id)
        assert job.state == gateway_pb2.JOB_STATE_COMPLETED, job.error
        written = client.download(job.id, tmp_path / "dl")
    expected = folder_files(job.output_dir)
    assert {"images/00000.png", "images/00001.png", "metadata.jsonl", "job.json"} <= expected.keys()
    assert sorted(p.relative_to(tmp_path / "dl").as_posix() for p in written) == sorted(expected)
    assert folder_files(tmp_path / "dl") == expected
    assert not list((tmp_path / "dl").rglob("*.part"))


def test_failed_download_leaves_no_partial_file(gateway, tmp_path):
    """The gateway is killed when the first 1 MiB chunk of a 2-chunk image arrives (BDP probing off,
    so it cannot have sent the whole image ahead): finished files stay whole, the cut one leaves nothing."""
    with Client(gateway.target) as client:
        spec = unified_job({"n": "int"}, 1, prompts="a room", images_per_row=1, size="768x768", steps=1)
        job = client.wait(client.submit(spec).id)
        assert job.state == gateway_pb2.JOB_STATE_COMPLETED, job.error
    source = folder_files(job.output_dir)
    assert len(source["images/00000.png"]) > 1 << 20  # more than one chunk

    def kill_inside_a_file(chunk):
        if not chunk.last and gateway.proc.poll() is None:
            gateway.kill()

    recorder = Recorder(on_message=kill_inside_a_file)
    raw = grpc.insecure_channel(gateway.target, options=[("grpc.http2.bdp_probe", 0)])
    with Client(channel=grpc.intercept_channel(raw, recorder)) as client:
        with pytest.raises(SynthmillError) as info:
            client.download(job.id, tmp_path / "dl")
    raw.close()
    assert info.value.code == grpc.StatusCode.UNAVAILABLE
    chunks = recorder.messages
    assert chunks[-1].path == "images/00000.png" and not chunks[-1].last  # cut inside the image
    finished = {c.path for c in chunks if c.last}
    assert finished == {name for name in source if name < "images/00000.png"}  # files come in path order
    assert "data.jsonl" in finished
    dest = tmp_path / "dl"
    assert folder_files(dest) == {name: source[name] for name in finished}  # finished files stay
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == sorted(
        finished
    )  # no .part left


def test_download_refuses_paths_outside_the_folder(tmp_path):
    from synthmill.client._common import Downloader

    sink = Downloader(tmp_path / "d")
    for bad in ("../evil", "/etc/passwd", "a/../../b"):
        with pytest.raises(SynthmillError, match="outside"):
            sink.add(gateway_pb2.FileChunk(path=bad, data=b"x", last=True))
    assert os.listdir(tmp_path) == ["d"]


def test_async_client(gateway, tmp_path):
    async def main():
        async with AsyncClient(gateway.target) as client:
            job = await client.submit(image_job("a", 2, **SLOW_IMAGES))
            seqs, restart = [], None
            async for event in client.watch(job.id):
                if not event.HasField("step"):  # live only, never replayed
                    seqs.append(event.seq)
                if restart is None and event.HasField("step"):
                    gateway.kill()
                    restart = asyncio.create_task(asyncio.to_thread(gateway.start))  # back at once
            await restart
            final = await client.wait(job.id)
            whole = [e.seq async for e in client.watch(job.id)]
            health = await client.health()
            files = await client.download(job.id, tmp_path / "dl")
            with pytest.raises(SynthmillError, match="INVALID_ARGUMENT"):
                await client.submit(image_job("a", 1, width=12))
            return seqs, final, whole, health, files

    seqs, final, whole, health, files = asyncio.run(main())
    assert "resuming job" in gateway.log_path.read_text()
    assert seqs == whole == list(range(1, len(whole) + 1))
    assert final.state == gateway_pb2.JOB_STATE_COMPLETED, final.error
    assert final.counts.images_done == 2
    assert health.serving
    assert folder_files(tmp_path / "dl") == folder_files(final.output_dir)
    assert sorted(files) == sorted((tmp_path / "dl").rglob("*.*"))


def test_progress_bars_follow_the_counts(gateway):
    out = io.StringIO()
    with Client(gateway.target) as client:
        spec = unified_job({"n": "int"}, 2, prompts="a room", images_per_row=1, size="64x64", steps=2)
        job = client.submit(spec)
        with JobProgress(job.id, file=out, bars=True) as bars:
            final = client.wait(job.id, on_event=bars)
            assert final.state == gateway_pb2.JOB_STATE_COMPLETED, final.error
            assert (bars.rows.n, bars.rows.total, bars.images.n, bars.images.total) == (2, 2, 2, 2)
            assert (bars.steps.n, bars.steps.total) == (2, 2)
    text = out.getvalue()
    assert f"job {job.id}: RUNNING" in text and f"job {job.id}: COMPLETED" in text
    assert "rows" in text and "images" in text and "denoising" in text
