"""Every image family on the GPU: each model under OFFLOAD=none|model|sequential with a weighted prompt
(16-bit, a real image, every component back in its loaded dtype after the batch), and the OOM path
through the real batcher: an OOM injected in the VAE decode splits the batch, and every image comes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import torch

from synthmill.image.domain import GenerationParams, Item
from synthmill.image.generation import engine, loader
from synthmill.image.serving.batcher import Batcher, ImageEvent
from synthmill.image.serving.settings import OFFLOADS, ImageSettings
from synthmill.runtime import devices
from synthmill.runtime.oom import free_cache
from synthmill.runtime.worker import DeviceWorker
from tools.gpu_check.report import Report

WEIGHTED = "a (red:1.4) apple on a (wooden:0.6) table, studio light"
PLAIN = "a red apple on a wooden table, studio light"  # SD3 takes no weights


def check(report: Report, name: str, device: str, steps: int, out: Path) -> None:
    for offload in OFFLOADS:
        report.check(f"{name} OFFLOAD={offload}", _one_offload, name, device, offload, steps, out)
    report.check(f"{name} OOM split by the batcher", _oom_split, name, device)


def _load(name: str, device: str, **settings: str) -> loader.LoadedModel:
    return loader.load(name, ImageSettings(models=(name,), device=device, **settings))


def _params(model: loader.LoadedModel, steps: int) -> GenerationParams:
    size = model.default_width
    return GenerationParams(model.name, size, size, steps, 7.5, "Euler", "")


def _restored(model: loader.LoadedModel) -> None:
    moved = {
        k: getattr(model.pipe, k).dtype for k, v in model.dtypes.items() if getattr(model.pipe, k).dtype != v
    }
    if moved:
        raise AssertionError(f"components left in another dtype: {moved}")


def _one_offload(name: str, device: str, offload: str, steps: int, out: Path) -> str:
    started = time.perf_counter()
    model = _load(name, device, offload=offload)
    loaded = time.perf_counter() - started
    try:
        if model.device.type != "cuda" or model.dtype not in (torch.float16, torch.bfloat16):
            raise AssertionError(f"loaded on {model.device} in {model.dtype}: not 16-bit CUDA")
        prompt = WEIGHTED if model.prompts else PLAIN
        params = _params(model, steps)
        torch.cuda.reset_peak_memory_stats(model.device)
        started = time.perf_counter()
        images = engine.generate(model, params, [Item(0, prompt, 1), Item(1, prompt, 2)], lambda _: True)
        seconds = time.perf_counter() - started
        flat = [float(np.asarray(image).std()) for image in images]
        if min(flat) == 0:
            raise AssertionError("a flat image (the black image of an fp16 overflow?)")
        _restored(model)
        path = out / f"gpu-check-{model.family}-{offload}.png"
        images[0].save(path)
        peak = torch.cuda.max_memory_allocated(model.device) / 2**30
        return (
            f"{model.family}, {devices.dtype_name(model.dtype)}, load {loaded:.1f}s, 2 images in "
            f"{seconds:.2f}s at {params.width}², {steps} steps, peak {peak:.2f} GiB -> {path}"
        )
    finally:
        del model
        free_cache()


def _oom_split(name: str, device: str) -> str:
    model = _load(name, device, faults="oom@vae:0")  # armed; the limit is set once the size is known
    try:
        params = _params(model, 2)
        model.faults.limits["vae"] = params.width * params.height  # a batch of more than one image fails
        made = asyncio.run(_through_batcher(model, params, 3))
        _restored(model)
        if len(made) != 3:
            raise AssertionError(f"{len(made)} of 3 images came back")
        return "a batch of 3 split down to single images; all 3 made, dtypes restored"
    finally:
        del model
        free_cache()


async def _through_batcher(
    model: loader.LoadedModel, params: GenerationParams, count: int
) -> list[ImageEvent]:
    worker = DeviceWorker(str(model.device))
    await worker.run(devices.bind_thread, model.device)

    async def runner(p, items, on_step):
        return await worker.run(engine.generate, model, p, items, on_step)

    batcher = Batcher(runner, max_batch=count, delay=0.5)
    running = asyncio.create_task(batcher.run())
    try:
        ticket = batcher.submit(params, [Item(i, PLAIN, i) for i in range(count)])
        return [event async for event in ticket.events() if isinstance(event, ImageEvent)]
    finally:
        running.cancel()
        worker.shutdown()
