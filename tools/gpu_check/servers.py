"""Real servers on the GPU: `synthmill up`'s stack (gateway, text and image servers) with the inference
servers on `cuda`, then a text job, an image job with a weighted prompt, a best-of job with masks and a
unified job through the client. Every image's metadata must say a CUDA device and a 16-bit dtype, and
so must the text server's model card."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import grpc

from synthmill.client.client import Client
from synthmill.client.specs import image_job, text_job, unified_job
from synthmill.client.stack import Stack, free_port
from synthmill.v1 import common_pb2, gateway_pb2, text_pb2_grpc
from tools.gpu_check.families import WEIGHTED
from tools.gpu_check.report import Report

HALF = ("float16", "bfloat16")
# What every result must say: (the device's prefix, the dtypes allowed); the CPU test of this module
# expects ("cpu", ("float32",)).
CUDA_16_BIT = ("cuda", HALF)
ROOM = {"layout": ["studio", "loft"], "rooms": {"type": "int", "minimum": 1, "maximum": 4}}


def check(
    report: Report,
    text_model: str,
    image_model: str,
    device: str,
    expect: tuple[str, tuple[str, ...]] = CUDA_16_BIT,
) -> None:
    work = Path(tempfile.mkdtemp(prefix="synthmill-gpu-check-"))
    stack = Stack(
        text_model=text_model,
        image_models=(image_model,),
        device=device,
        output_dir=work / "out",
        gateway_port=free_port(),
        text_port=free_port(),
        image_port=free_port(),
        log_dir=work / "logs",
        on_status=lambda said: print(f"  [stack] {said}", flush=True),
    )
    try:
        with stack, Client(stack.gateway_target) as client:
            report.check("servers: text model card", _text_card, stack, expect)
            jobs = {
                "servers: text job": text_job({"name": "string", "age": "int"}, 4, seed=0),
                "servers: image job, weighted prompt": image_job([WEIGHTED], steps=4, seed=1),
                "servers: best-of 2 with masks": image_job(
                    ["a person holding a camera"], steps=4, seed=2, best_of=2, annotations=["bbox", "mask"]
                ),
                "servers: unified job": unified_job(
                    ROOM, 2, prompt_template="a {layout} with {rooms} rooms", steps=4, seed=3
                ),
            }
            for name, spec in jobs.items():
                report.check(name, _job, client, spec, expect)
    except Exception as exc:  # the stack did not start: every server check fails
        report.fail("servers", f"{type(exc).__name__}: {exc} (logs in {work / 'logs'})")


def _text_card(stack: Stack, expect: tuple[str, tuple[str, ...]]) -> str:
    with grpc.insecure_channel(stack.target("text")) as channel:
        info = text_pb2_grpc.TextServiceStub(channel).GetInfo(common_pb2.GetInfoRequest(), timeout=30)
    card = info.models[0]
    if not card.device.startswith(expect[0]) or card.dtype not in expect[1]:
        raise AssertionError(f"the text model runs on {card.device} in {card.dtype}")
    return f"{card.name} on {card.device}, {card.dtype}"


def _job(client: Client, spec: gateway_pb2.JobSpec, expect: tuple[str, tuple[str, ...]]) -> str:
    job = client.wait(client.submit(spec).id)
    if job.state != gateway_pb2.JOB_STATE_COMPLETED:
        raise AssertionError(f"job {job.id} ended {gateway_pb2.JobState.Name(job.state)}: {job.error}")
    metadata = Path(job.output_dir) / "metadata.jsonl"
    if not metadata.exists():
        return f"{job.counts.rows_done} rows"
    images = [json.loads(line) for line in metadata.read_text().splitlines()]
    wrong = [(m["file_name"], m.get("device"), m.get("dtype")) for m in images
             if not str(m.get("device", "")).startswith(expect[0]) or m.get("dtype") not in expect[1]]  # fmt: skip
    if wrong:
        raise AssertionError(f"images not made on {expect[0]} in {'/'.join(expect[1])}: {wrong[:3]}")
    if spec.images.params.annotations and not all(
        box.get("segmentation") for m in images for box in m.get("boxes", [])
    ):
        raise AssertionError("a box came without its mask")
    first = images[0]
    return f"{len(images)} images on {first['device']}, {first['dtype']}"
