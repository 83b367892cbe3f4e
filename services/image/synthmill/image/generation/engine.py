"""Runs one pipeline batch. Torch only: called on the device worker thread, never on the event loop.

Each item gets its own `torch.Generator` seeded with its seed, so an image depends on its seed and
parameters, not on which other items share its batch (up to float noise from the batch shape).

A batch that runs out of device memory fails alone (`synthmill.runtime.oom.isolated`): OutOfMemory
names its size, the pipeline is restored and the next batch runs. A batch whose requesters have all
gone stops at the next step and skips the VAE decode.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from diffusers import DiffusionPipeline
from PIL import Image

from synthmill.image.domain import GenerationParams, Item
from synthmill.image.generation import prompt_embeds, schedulers
from synthmill.image.generation.loader import LoadedModel
from synthmill.runtime import devices, oom

# Called with the number of steps finished (1-based); returns False to stop the batch.
StepCallback = Callable[[int], bool]


class _Stopped(Exception):
    """Raised from the step callback: ends the pipeline call before its remaining steps and its decode
    (diffusers' own `_interrupt` skips the steps but still decodes the whole batch)."""


def generate(
    model: LoadedModel,
    params: GenerationParams,
    items: Sequence[Item],
    on_step: StepCallback,
    vae_tiling_pixels: int = 0,
) -> list[Image.Image] | None:
    """Makes one image per item, or returns None when `on_step` asked to stop. Raises OutOfMemory
    when the device ran out of memory; images with more than `vae_tiling_pixels` pixels (when set)
    are decoded in tiles."""
    pixels = params.width * params.height
    model.faults.load = len(items) * pixels
    tiled = bool(vae_tiling_pixels) and pixels > vae_tiling_pixels
    model.pipe.vae.use_tiling = tiled  # AutoencoderKL.enable_tiling/disable_tiling set just this flag

    def describe(reason: str) -> str:
        return (
            f"out of device memory: a batch of {len(items)} at {params.width}x{params.height}, "
            f"{params.steps} steps, on {model.name} ({model.device}, {devices.dtype_name(model.dtype)}"
            f"{', VAE tiled' if tiled else ''}): {reason}"
        )

    return oom.isolated(lambda: _run(model, params, items, on_step), model.restore, describe)


def _run(
    model: LoadedModel, params: GenerationParams, items: Sequence[Item], on_step: StepCallback
) -> list[Image.Image] | None:
    pipe = model.pipe
    # 1. A fresh scheduler per batch: no state or choice carries over from the previous batch.
    pipe.scheduler = schedulers.create(params.scheduler, model.family, model.own_scheduler)
    generators = [torch.Generator(device=model.device).manual_seed(item.seed) for item in items]
    reported = 0

    # 2. Progress in requested steps: second-order schedulers call back more than once per step.
    def step_end(pipe: DiffusionPipeline, i: int, _t: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        nonlocal reported
        done = (i + 1) * params.steps // pipe.num_timesteps
        if done > reported:
            reported = done
            if not on_step(done):
                raise _Stopped
        return tensors

    # 3. Weighted prompt embeddings (plain strings for SD3), then the batch itself.
    prompts = [item.prompt for item in items]
    try:
        if model.prompts:
            text_inputs = model.prompts.inputs(prompts, params.negative_prompt)
        else:
            text_inputs = prompt_embeds.plain_inputs(prompts, params.negative_prompt)
        result = pipe(
            **text_inputs,
            width=params.width,
            height=params.height,
            num_inference_steps=params.steps,
            guidance_scale=params.guidance,
            generator=generators,
            callback_on_step_end=step_end,
        )
    except _Stopped:
        model.restore()  # the pipeline did not reach its own end (offload hooks)
        return None
    return result.images


def warm_up(model: LoadedModel) -> int | None:
    """One two-step image at the model's own size, so the first request does not pay for lazy
    initialisation. On CUDA returns the bytes that image needed above the loaded model (the
    allocator's peak during it), which sizes the "auto" batch; None elsewhere."""
    params = GenerationParams(
        model=model.name,
        width=model.default_width,
        height=model.default_height,
        steps=2,
        guidance=7.5,
        scheduler=schedulers.name_of(model.own_scheduler, model.family),
        negative_prompt="",
    )
    item = Item(index=0, prompt="warm-up", seed=0)
    return devices.peak_bytes(model.device, lambda: generate(model, params, [item], lambda _: True))
