"""Turns a GenerateImagesRequest into domain objects, applying defaults and naming any bad field."""

from __future__ import annotations

import math
from collections.abc import Mapping

from synthmill.common import prompt_syntax
from synthmill.common.errors import InvalidArgument
from synthmill.image import schedulers
from synthmill.image.loader import LoadedModel
from synthmill.image.params import GenerationParams, Item
from synthmill.image.settings import ImageSettings
from synthmill.v1 import image_pb2


def _size(field: str, value: int, model: LoadedModel, default: int, max_size: int) -> int:
    if value == 0:
        return default
    if value % model.size_multiple:
        raise InvalidArgument(field, f"{value} is not a multiple of {model.size_multiple} for {model.name}")
    if value > max_size:
        raise InvalidArgument(field, f"{value} is larger than the maximum {max_size}")
    return value


def parse_request(
    request: image_pb2.GenerateImagesRequest,
    models: Mapping[str, LoadedModel],
    default_model: str,
    settings: ImageSettings,
) -> tuple[GenerationParams, list[Item]]:
    """The request's parameters with defaults applied, and its items; raises InvalidArgument."""
    p = request.params
    name = p.model or default_model
    if name not in models:
        raise InvalidArgument("params.model", f"unknown model {name!r}; loaded: {', '.join(models)}")
    model = models[name]
    width = _size("params.width", p.width, model, model.default_width, settings.max_size)
    height = _size("params.height", p.height, model, model.default_height, settings.max_size)
    if p.steps > settings.max_steps:
        raise InvalidArgument("params.steps", f"{p.steps} is more than the maximum {settings.max_steps}")
    guidance = p.guidance if p.HasField("guidance") else settings.default_guidance
    if not math.isfinite(guidance) or guidance < 0:
        raise InvalidArgument("params.guidance", f"{guidance} is not a finite number >= 0")
    valid = schedulers.names(model.family)
    if p.scheduler and p.scheduler not in valid:
        raise InvalidArgument(
            "params.scheduler", f"unknown scheduler {p.scheduler!r} for {name}; valid: {', '.join(valid)}"
        )
    prompt_syntax.check(p.negative_prompt, "params.negative_prompt", name, model.family)
    params = GenerationParams(
        model=name,
        width=width,
        height=height,
        steps=p.steps or settings.default_steps,
        guidance=guidance,
        scheduler=p.scheduler or schedulers.name_of(model.own_scheduler, model.family),
        negative_prompt=p.negative_prompt,
    )
    return params, _items(request, model, params.negative_prompt, settings.max_items)


def _items(
    request: image_pb2.GenerateImagesRequest, model: LoadedModel, negative: str, max_items: int
) -> list[Item]:
    if not request.items:
        raise InvalidArgument("items", "at least one item is required")
    if len(request.items) > max_items:
        raise InvalidArgument("items", f"{len(request.items)} items is more than the maximum {max_items}")
    seen: dict[int, int] = {}
    for position, item in enumerate(request.items):
        if not item.prompt.strip():
            raise InvalidArgument(f"items[{position}].prompt", "the prompt is empty")
        prompt_syntax.check(item.prompt, f"items[{position}].prompt", model.name, model.family)
        if item.index in seen:
            raise InvalidArgument(
                f"items[{position}].index", f"{item.index} repeats items[{seen[item.index]}].index"
            )
        seen[item.index] = position
    return [
        Item(
            index=item.index, prompt=item.prompt, seed=item.seed, chunks=_chunks(model, item.prompt, negative)
        )
        for item in request.items
    ]


def _chunks(model: LoadedModel, prompt: str, negative: str) -> int:
    return model.prompts.chunks(prompt, negative) if model.prompts else 1
