"""Every server's /metrics after small jobs: the counters moved by exactly what was made."""

from __future__ import annotations

import grpc
import pytest
from servers import ServerProcess, free_port

from synthmill.common.metrics import Scrape
from synthmill.v1 import common_pb2, gateway_pb2_grpc
from synthmill.v1 import gateway_pb2 as pb

SCHEMA = '{"name": "string", "age": {"type": "int", "minimum": 18, "maximum": 90}}'
SMALL = common_pb2.ImageParams(width=64, height=64, steps=2)


def metrics_address(server, kind: str) -> str:
    return f"127.0.0.1:{server.env[f'SYNTHMILL_{kind.upper()}_METRICS_PORT']}"


def run_job(stub, spec: pb.JobSpec) -> pb.Job:
    job = stub.SubmitJob(pb.SubmitJobRequest(spec=spec), timeout=30)
    for _ in stub.WatchJob(pb.WatchJobRequest(job_id=job.id), timeout=300):
        pass
    return stub.GetJob(pb.GetJobRequest(job_id=job.id))


class Delta:
    """What a server's metrics moved by between two scrapes."""

    def __init__(self, before: Scrape, after: Scrape):
        self.before, self.after = before, after

    def __call__(self, name: str, **labels: str) -> float:
        return self.after.value(name, **labels) - self.before.value(name, **labels)


@pytest.fixture(scope="module")
def measured(tiny_upstreams, tmp_path_factory):
    """A text job of 5 rows and an image job of 3 images through a fresh gateway, with every server's
    metrics read before and after."""
    text = metrics_address(tiny_upstreams.text, "text")
    image = metrics_address(tiny_upstreams.image, "image")
    env = {
        **tiny_upstreams.gateway_env(tmp_path_factory.mktemp("out")),
        "SYNTHMILL_GATEWAY_METRICS_PORT": str(free_port()),
    }
    gateway = ServerProcess("gateway", env, tmp_path_factory.mktemp("logs") / "gateway.log").start()
    try:
        addresses = {"text": text, "image": image, "gateway": metrics_address(gateway, "gateway")}
        before = {kind: Scrape.of(address) for kind, address in addresses.items()}
        with grpc.insecure_channel(gateway.target) as channel:
            stub = gateway_pb2_grpc.GatewayStub(channel)
            rows = run_job(stub, pb.JobSpec(seed=3, text=pb.TextJobSpec(schema_json=SCHEMA, count=5)))
            spec = pb.ImageJobSpec(prompts=["a floorplan"], count=3, params=SMALL)
            images = run_job(stub, pb.JobSpec(seed=3, images=spec))
        assert (rows.state, images.state) == (pb.JOB_STATE_COMPLETED, pb.JOB_STATE_COMPLETED)
        after = {kind: Scrape.of(address) for kind, address in addresses.items()}
    finally:
        gateway.stop()
    return {kind: Delta(before[kind], after[kind]) for kind in before}


def test_gateway_counts_items_and_jobs_by_state(measured) -> None:
    gateway = measured["gateway"]
    assert gateway("synthmill_gateway_rows_total") == 5
    assert gateway("synthmill_gateway_images_total") == 3
    assert gateway("synthmill_gateway_jobs", state="completed") == 2
    now = gateway.after
    assert now.value("synthmill_gateway_jobs", state="queued") == 0
    assert now.value("synthmill_gateway_jobs", state="running") == 0
    assert now.value("synthmill_gateway_upstream_errors_total") == 0


def test_text_server_counts_rows_tokens_and_batches(measured) -> None:
    text = measured["text"]
    assert text("synthmill_text_rows_total", model="tiny-llama") == 5
    assert text("synthmill_text_row_latency_seconds_count", model="tiny-llama") == 5
    calls = text("synthmill_text_batch_size_count", model="tiny-llama")
    # One request of 5 rows: a first call of 5, then one per round of rows sampled again.
    assert calls >= 1
    assert text("synthmill_text_batch_size_bucket", model="tiny-llama", le="4.0") < calls
    assert text("synthmill_text_batch_size_sum") >= 5
    assert text("synthmill_text_step_seconds_count") == calls
    assert text("synthmill_text_generated_tokens_total") >= 5
    assert text.after.value("synthmill_text_queue_depth") == 0
    assert text.after.value("synthmill_text_model_load_seconds", model="tiny-llama") > 0


def test_image_server_counts_images_and_one_batch_of_three(measured) -> None:
    image = measured["image"]
    assert image("synthmill_image_images_total", model="tiny-sd") == 3
    assert image("synthmill_image_latency_seconds_count", model="tiny-sd") == 3
    # The 3 images went in one request, so the batcher ran them as one batch of 3.
    assert image("synthmill_image_batch_size_count", model="tiny-sd") == 1
    assert image("synthmill_image_batch_size_bucket", model="tiny-sd", le="2.0") == 0
    assert image("synthmill_image_batch_size_bucket", model="tiny-sd", le="3.0") == 1
    assert image("synthmill_image_batch_size_sum", model="tiny-sd") == 3
    assert image("synthmill_image_step_seconds_count", model="tiny-sd") == 1
    assert image.after.value("synthmill_image_queue_depth") == 0
    assert image.after.value("synthmill_image_model_load_seconds", model="tiny-sd") > 0
