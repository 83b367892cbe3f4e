"""Turns a GenerateImagesRequest into domain objects, applying defaults and naming any bad field."""

from __future__ import annotations

from collections.abc import Mapping

from synthmill.common import rules
from synthmill.common.errors import InvalidArgument
from synthmill.image import schedulers
from synthmill.image.loader import LoadedModel
from synthmill.image.params import GenerationParams, Item
from synthmill.image.settings import ImageSettings
from synthmill.v1 import common_pb2, image_pb2


def parse_request(
    request: image_pb2.GenerateImagesRequest,
    models: Mapping[str, LoadedModel],
    info: image_pb2.ImageServerInfo,
    settings: ImageSettings,
) -> tuple[GenerationParams, list[Item]]:
    """The request's parameters with defaults applied, and its items; raises InvalidArgument."""
    p = request.params
    chosen = rules.check_image_params(p, "params", info)
    model = models[chosen.name]
    params = GenerationParams(
        model=model.name,
        width=p.width or model.default_width,
        height=p.height or model.default_height,
        steps=p.steps or settings.default_steps,
        guidance=p.guidance if p.HasField("guidance") else settings.default_guidance,
        scheduler=p.scheduler or schedulers.name_of(model.own_scheduler, model.family),
        negative_prompt=p.negative_prompt,
    )
    return params, _items(request, model, chosen, params.negative_prompt, settings.max_items)


def _items(
    request: image_pb2.GenerateImagesRequest,
    model: LoadedModel,
    info: common_pb2.ModelInfo,
    negative: str,
    max_items: int,
) -> list[Item]:
    if not request.items:
        raise InvalidArgument("items", "at least one item is required")
    if len(request.items) > max_items:
        raise InvalidArgument("items", f"{len(request.items)} items is more than the maximum {max_items}")
    seen: dict[int, int] = {}
    for position, item in enumerate(request.items):
        if not item.prompt.strip():
            raise InvalidArgument(f"items[{position}].prompt", "the prompt is empty")
        rules.check_prompt(item.prompt, f"items[{position}].prompt", info)
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
