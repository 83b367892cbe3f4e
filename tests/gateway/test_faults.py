"""Faults with real processes: a gateway killed mid-job, an image replica killed mid-job,
an image server that never comes back, and many jobs at once."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import numpy as np
import pytest
from PIL import Image

from synthmill.v1 import common_pb2, gateway_pb2_grpc
from synthmill.v1 import gateway_pb2 as pb

SMALL = common_pb2.ImageParams(width=64, height=64, steps=8)
UNIFIED = pb.JobSpec(
    seed=11,
    unified=pb.UnifiedJobSpec(
        rows=pb.TextJobSpec(
            schema_json='{"item": {"type": "string", "max_length": 10}, "n": "int"}', count=6
        ),
        prompt_template="a drawing of {item}",
        images_per_row=2,
        params=SMALL,
    ),
)


def stub_for(server) -> tuple[grpc.Channel, gateway_pb2_grpc.GatewayStub]:
    channel = grpc.insecure_channel(server.target)
    return channel, gateway_pb2_grpc.GatewayStub(channel)


def wait_final(stub, job_id: str, after_seq: int = 0) -> tuple[pb.Job, list[pb.JobEvent]]:
    events = list(stub.WatchJob(pb.WatchJobRequest(job_id=job_id, after_seq=after_seq), timeout=600))
    return stub.GetJob(pb.GetJobRequest(job_id=job_id)), events


def submit_until_images(stub, spec: pb.JobSpec, images_done: int) -> pb.Job:
    """Submits `spec` and returns once at least `images_done` of its images are written."""
    job = stub.SubmitJob(pb.SubmitJobRequest(spec=spec))
    for event in stub.WatchJob(pb.WatchJobRequest(job_id=job.id), timeout=300):
        if event.counts.images_done >= images_done:
            return job
    raise AssertionError(f"job {job.id} ended with fewer than {images_done} images")


def dataset(folder: Path) -> tuple[list[dict], dict[str, np.ndarray], list[dict]]:
    rows = [json.loads(line) for line in (folder / "data.jsonl").read_text().splitlines()]
    images = {
        p.name: np.asarray(Image.open(p), dtype=np.int16) for p in sorted((folder / "images").glob("*.png"))
    }
    meta = [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]
    return rows, images, meta


def test_gateway_killed_mid_job_resumes_and_matches_an_uninterrupted_run(
    gateway_factory, tmp_path: Path
) -> None:
    reference = gateway_factory(output_dir=tmp_path / "reference")
    channel, stub = stub_for(reference)
    with channel:
        job, _ = wait_final(stub, stub.SubmitJob(pb.SubmitJobRequest(spec=UNIFIED)).id)
    assert job.state == pb.JOB_STATE_COMPLETED, job.error
    expected = dataset(Path(job.output_dir))

    out = tmp_path / "crashing"
    gateway = gateway_factory(output_dir=out)
    channel, stub = stub_for(gateway)
    with channel:
        job = stub.SubmitJob(pb.SubmitJobRequest(spec=UNIFIED))
        seen = []
        for event in stub.WatchJob(pb.WatchJobRequest(job_id=job.id), timeout=300):
            seen.append(event)
            if event.counts.images_done >= 3:
                break
    gateway.kill()
    assert seen[-1].counts.images_done < 12
    before = {p.name for p in (out / job.id / "images").glob("*.png")}

    restarted = gateway_factory(output_dir=out)
    channel, stub = stub_for(restarted)
    with channel:
        final, rest = wait_final(stub, job.id, after_seq=seen[-1].seq)
        whole = [e.seq for e in stub.WatchJob(pb.WatchJobRequest(job_id=job.id), timeout=60)]
    assert final.state == pb.JOB_STATE_COMPLETED, final.error
    # The reconnecting watcher missed nothing and got nothing twice, across the restart.
    # Live steps are never replayed; every stored event arrives once, in order.
    stored = [e.seq for e in seen + rest if not e.HasField("step")]
    assert stored == whole == list(range(1, len(whole) + 1))
    rows, images, meta = dataset(out / job.id)
    assert rows == expected[0]
    # The batches differ after a restart: pixels (and so CLIPScores) move by float noise only.
    scores = [row.pop("score") for row in meta]
    assert scores == pytest.approx([row.pop("score") for row in expected[2]], abs=0.05)
    assert meta == expected[2]
    assert images.keys() == expected[1].keys() and len(images) == 12
    for name, pixels in images.items():
        assert np.abs(pixels - expected[1][name]).max() <= 2, name
    assert before <= images.keys()
    assert not list((out / job.id).rglob(".*.tmp"))


def test_image_replica_killed_mid_job_the_other_finishes(server_factory, gateway_factory) -> None:
    env = {"SYNTHMILL_IMAGE_MODELS": "tiny-sd"}
    first, second = server_factory("image", env), server_factory("image", env)
    gateway = gateway_factory(
        env={
            "SYNTHMILL_GATEWAY_IMAGE_TARGET": f"{first.target},{second.target}",
            "SYNTHMILL_GATEWAY_RETRY_BACKOFF_S": "0.2",
        }
    )
    params = common_pb2.ImageParams(width=64, height=64, steps=20)
    spec = pb.JobSpec(seed=3, images=pb.ImageJobSpec(prompts=["a corridor"], count=48, params=params))
    channel, stub = stub_for(gateway)
    with channel:
        job = stub.SubmitJob(pb.SubmitJobRequest(spec=spec))
        for event in stub.WatchJob(pb.WatchJobRequest(job_id=job.id), timeout=300):
            # Kill the first replica once both have finished work, so it has a share of the job.
            if all("batch done" in s.log_path.read_text() for s in (first, second)):
                assert event.counts.images_done < 40, "the job ended before the replicas shared it"
                break
        else:
            raise AssertionError(f"the job ended before both replicas finished a batch: {event}")
        first.kill()
        served_before = second.log_path.read_text().count("batch done")
        final, _ = wait_final(stub, job.id)
    assert final.state == pb.JOB_STATE_COMPLETED, final.error
    assert final.counts.images_done == 48
    assert len(list(Path(final.output_dir, "images").glob("*.png"))) == 48
    assert second.log_path.read_text().count("batch done") > served_before


def test_image_server_back_after_a_crash_the_job_goes_on(server_factory, gateway_factory) -> None:
    env = {"SYNTHMILL_IMAGE_MODELS": "tiny-sd"}
    image = server_factory("image", env)
    gateway = gateway_factory(
        env={"SYNTHMILL_GATEWAY_IMAGE_TARGET": image.target, "SYNTHMILL_GATEWAY_RETRY_BACKOFF_S": "0.2"}
    )
    spec = pb.JobSpec(seed=4, images=pb.ImageJobSpec(prompts=["a porch"], count=16, params=SMALL))
    channel, stub = stub_for(gateway)
    with channel:
        job = submit_until_images(stub, spec, 2)
        image.kill()
        image.start()  # the same port: the gateway's channel reconnects on its own
        final, _ = wait_final(stub, job.id)
    assert final.state == pb.JOB_STATE_COMPLETED, final.error
    assert len(list(Path(final.output_dir, "images").glob("*.png"))) == 16
    assert "retry" in gateway.log_path.read_text()


def test_image_server_gone_for_good_fails_the_job_and_keeps_its_images(
    server_factory, gateway_factory
) -> None:
    image = server_factory("image", {"SYNTHMILL_IMAGE_MODELS": "tiny-sd"})
    gateway = gateway_factory(
        env={
            "SYNTHMILL_GATEWAY_IMAGE_TARGET": image.target,
            "SYNTHMILL_GATEWAY_MAX_ATTEMPTS": "2",
            "SYNTHMILL_GATEWAY_RETRY_BACKOFF_S": "0.1",
            "SYNTHMILL_GATEWAY_UPSTREAM_WAIT_S": "1",
        }
    )
    spec = pb.JobSpec(seed=3, images=pb.ImageJobSpec(prompts=["a stair"], count=16, params=SMALL))
    channel, stub = stub_for(gateway)
    with channel:
        job = submit_until_images(stub, spec, 2)
        image.kill()
        final, events = wait_final(stub, job.id)
    assert final.state == pb.JOB_STATE_FAILED
    assert "image server" in final.error and "UNAVAILABLE" in final.error, final.error
    assert events[-1].state.error == final.error
    folder = Path(final.output_dir)
    kept = sorted(p.name for p in (folder / "images").glob("*.png"))
    assert len(kept) == final.counts.images_done >= 2
    assert len((folder / "metadata.jsonl").read_text().splitlines()) == len(kept)
    assert json.loads((folder / "job.json").read_text())["error"] == final.error


def test_fifty_concurrent_jobs_all_complete(gateway_factory) -> None:
    gateway = gateway_factory()
    channel, stub = stub_for(gateway)
    tiny = common_pb2.ImageParams(width=64, height=64, steps=2)
    with channel:
        jobs = []
        for i in range(50):
            if i % 2:
                spec = pb.JobSpec(seed=i, images=pb.ImageJobSpec(prompts=[f"room {i}"], count=2, params=tiny))
            else:
                spec = pb.JobSpec(
                    seed=i, text=pb.TextJobSpec(schema_json='{"k": "int", "ok": "bool"}', count=2)
                )
            jobs.append(stub.SubmitJob.future(pb.SubmitJobRequest(spec=spec)))
        ids = [future.result(timeout=60).id for future in jobs]
        finals = [wait_final(stub, job_id)[0] for job_id in ids]
    assert all(job.state == pb.JOB_STATE_COMPLETED for job in finals), [j.error for j in finals if j.error]
    for job in finals:
        folder = Path(job.output_dir)
        if job.spec.HasField("text"):
            assert len((folder / "data.jsonl").read_text().splitlines()) == 2
        else:
            assert len(list((folder / "images").glob("*.png"))) == 2


@pytest.mark.parametrize("signal_name", ["SIGTERM"])
def test_gateway_stops_gracefully_and_keeps_running_jobs_for_later(
    gateway_factory, tmp_path: Path, signal_name: str
) -> None:
    out = tmp_path / "graceful"
    gateway = gateway_factory(output_dir=out)
    channel, stub = stub_for(gateway)
    spec = pb.JobSpec(seed=5, images=pb.ImageJobSpec(prompts=["a gate"], count=12, params=SMALL))
    with channel:
        job = submit_until_images(stub, spec, 1)
    assert gateway.stop() == 0
    restarted = gateway_factory(output_dir=out)
    channel, stub = stub_for(restarted)
    with channel:
        final, _ = wait_final(stub, job.id)
    assert final.state == pb.JOB_STATE_COMPLETED, final.error
    assert len(list((out / job.id / "images").glob("*.png"))) == 12
