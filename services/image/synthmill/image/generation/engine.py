"""Runs one pipeline batch. Torch only: called on the device worker thread, never on the event loop.

Each item gets its own `torch.Generator` seeded with its seed, so an image depends on its seed and
parameters, not on which other items share its batch (up to float noise from the batch shape).

A batch that runs out of device memory fails alone (`synthmill.runtime.oom.isolated`): OutOfMemory
names its size, the pipeline is restored and the next batch runs. A batch whose requesters have all
gone stops at the next step and skips the VAE decode.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from diffusers import DiffusionPipeline
from PIL import Image

from synthmill.image.domain import GenerationParams, Item
from synthmill.image.generation import pipelines, prompt_embeds, schedulers
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
            f"out of device memory: a batch of {len(items)} {params.task} at {params.width}x{params.height}, "
            f"{params.denoising_steps} steps, on {model.name} ({model.device}, {devices.dtype_name(model.dtype)}"
            f"{', VAE tiled' if tiled else ''}): {reason}"
        )

    return oom.isolated(lambda: _run(model, params, items, on_step), model.restore, describe)


def _run(
    model: LoadedModel, params: GenerationParams, items: Sequence[Item], on_step: StepCallback
) -> list[Image.Image] | None:
    # 1. The task's pipeline, sharing the loaded weights, with a fresh scheduler per batch: no state or
    # choice carries over from the previous batch.
    pipe = pipelines.for_params(model, params)
    pipe.scheduler = schedulers.create(params.scheduler, model.family, model.own_scheduler)
    generators = [torch.Generator(device=model.device).manual_seed(item.seed) for item in items]
    reported = 0

    # 2. Progress in the steps that run (ceil(steps x strength) from an init image): second-order
    # schedulers call back more than once per step.
    total = params.denoising_steps

    def step_end(pipe: DiffusionPipeline, i: int, _t: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        nonlocal reported
        done = (i + 1) * total // pipe.num_timesteps
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
            **_image_inputs(model, pipe, params, items),
            num_inference_steps=params.steps,
            guidance_scale=params.guidance,
            generator=generators,
            callback_on_step_end=step_end,
        )
    except _Stopped:
        model.restore()  # the pipeline did not reach its own end (offload hooks)
        return None
    # 4. Inpainting: everything outside the mask goes back to the init image's own pixels.
    return [
        item.paste.apply(image) if item.paste else image
        for item, image in zip(items, result.images, strict=True)
    ]


def _image_inputs(
    model: LoadedModel, pipe: DiffusionPipeline, params: GenerationParams, items: Sequence[Item]
) -> dict[str, Any]:
    """The pipeline arguments of the task: size, init images, masks, strength and control units."""
    inputs: dict[str, Any] = {}
    # SD and SDXL img2img take no size (theirs is the init image's, already the output's).
    if "height" in inspect.signature(pipe.__call__).parameters:
        inputs.update(width=params.width, height=params.height)
    if params.task != "txt2img":
        inputs["image"] = [item.init for item in items]
        inputs["strength"] = pipelines.strength_for(params.denoising_steps, params.steps, model.family)
    if params.task == "inpaint":
        inputs["mask_image"] = [item.mask for item in items]
    if params.controls:
        single = len(params.controls) == 1
        if single:
            control: Any = [item.controls[0] for item in items]
        else:
            # One (batch, 3, H, W) tensor in [0, 1] per unit: diffusers' multi-ControlNet pipelines
            # refuse a list of images per unit ("A single batch of multiple conditionings").
            control = [
                torch.stack([_tensor(item.controls[n]) for item in items])
                for n in range(len(params.controls))
            ]
        inputs["image" if params.task == "txt2img" else "control_image"] = control
        units = params.controls
        inputs["controlnet_conditioning_scale"] = units[0].scale if single else [u.scale for u in units]
        inputs["control_guidance_start"] = units[0].start if single else [u.start for u in units]
        inputs["control_guidance_end"] = units[0].end if single else [u.end for u in units]
    return inputs


def _tensor(image: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(image, dtype=np.float32) / 255).permute(2, 0, 1)


def warm_up(model: LoadedModel) -> int | None:
    """One small two-step image of the model's own task, so the first request does not pay for lazy
    initialisation (an inpainting checkpoint repaints a grey square's middle). On CUDA returns the
    bytes that image needed above the loaded model (the allocator's peak during it), which sizes the
    "auto" batch; None elsewhere."""
    size = (model.default_width, model.default_height)
    task = model.tasks[0]
    params = GenerationParams(
        model=model.name,
        width=size[0],
        height=size[1],
        steps=2,
        guidance=7.5,
        scheduler=schedulers.name_of(model.own_scheduler, model.family),
        negative_prompt="",
        task=task,
        strength=None if task == "txt2img" else 1.0,
    )
    item = Item(index=0, prompt="warm-up", seed=0)
    if task == "inpaint":
        grey, mask = Image.new("RGB", size, (128, 128, 128)), Image.new("L", size, 0)
        mask.paste(255, (size[0] // 4, size[1] // 4, 3 * size[0] // 4, 3 * size[1] // 4))
        item = dataclasses.replace(item, init=grey, mask=mask)
    return devices.peak_bytes(model.device, lambda: generate(model, params, [item], lambda _: True))
