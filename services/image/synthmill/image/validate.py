"""Turns a GenerateImagesRequest into domain objects, applying defaults and naming any bad field."""

from __future__ import annotations

import io
from collections.abc import Mapping

from PIL import Image

from synthmill.common import rules
from synthmill.common.errors import InvalidArgument
from synthmill.image import schedulers
from synthmill.image.loader import LoadedModel
from synthmill.image.params import GenerationParams, Item
from synthmill.image.settings import ImageSettings
from synthmill.v1 import image_pb2


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
        best_of=p.best_of if p.HasField("best_of") else 1,
        keep_candidates=p.keep_candidates,
        min_score=p.min_score,
        annotations=tuple(p.annotations),
        labels=tuple(p.labels),
    )
    return params, _items(request, settings.max_items)


def _items(request: image_pb2.GenerateImagesRequest, max_items: int) -> list[Item]:
    if not request.items:
        raise InvalidArgument("items", "at least one item is required")
    if len(request.items) > max_items:
        raise InvalidArgument("items", f"{len(request.items)} items is more than the maximum {max_items}")
    seen: dict[int, int] = {}
    for position, item in enumerate(request.items):
        if not item.prompt.strip():
            raise InvalidArgument(f"items[{position}].prompt", "the prompt is empty")
        if item.index in seen:
            raise InvalidArgument(
                f"items[{position}].index", f"{item.index} repeats items[{seen[item.index]}].index"
            )
        seen[item.index] = position
    return [Item(index=item.index, prompt=item.prompt, seed=item.seed) for item in request.items]


def annotate_items(request: image_pb2.AnnotateRequest, max_items: int) -> list[tuple[int, Image.Image]]:
    """The decoded images of an Annotate request, by index; names the item that is not an image."""
    if not request.items:
        raise InvalidArgument("items", "at least one item is required")
    if len(request.items) > max_items:
        raise InvalidArgument("items", f"{len(request.items)} items is more than the maximum {max_items}")
    decoded = []
    for position, item in enumerate(request.items):
        try:
            image = Image.open(io.BytesIO(item.image))
            image.load()
        except (OSError, Image.DecompressionBombError) as exc:
            raise InvalidArgument(f"items[{position}].image", f"is not a PNG or JPEG image: {exc}") from None
        decoded.append((item.index, image.convert("RGB")))
    return decoded
