"""Runs one pipeline batch. Torch only: called on the device worker thread, never on the event loop.

Each item gets its own `torch.Generator` seeded with its seed, so an image depends on its seed and
parameters, not on which other items share its batch (up to float noise from the batch shape).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from diffusers import DiffusionPipeline
from PIL import Image

from synthmill.image import prompt_embeds, schedulers
from synthmill.image.domain import GenerationParams, Item
from synthmill.image.loader import LoadedModel

# Called with the number of steps finished (1-based); returns False to stop the batch.
StepCallback = Callable[[int], bool]


def generate(
    model: LoadedModel, params: GenerationParams, items: Sequence[Item], on_step: StepCallback
) -> list[Image.Image] | None:
    """Makes one image per item, or returns None when `on_step` asked to stop."""
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
                pipe._interrupt = True  # the loop skips every remaining step
        return tensors

    # 3. Weighted prompt embeddings (plain strings for SD3), then the batch itself.
    prompts = [item.prompt for item in items]
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
    return None if pipe.interrupt else result.images


def warm_up(model: LoadedModel) -> None:
    """One small two-step image, so the first request does not pay for lazy initialisation."""
    params = GenerationParams(
        model=model.name,
        width=model.default_width,
        height=model.default_height,
        steps=2,
        guidance=7.5,
        scheduler=schedulers.name_of(model.own_scheduler, model.family),
        negative_prompt="",
    )
    generate(model, params, [Item(index=0, prompt="warm-up", seed=0)], lambda _: True)
