"""The image server's requests and results as domain types (torch-free): a request is built from its
protobuf by `from_pb`, with its fields checked (an InvalidArgument names the field) and the defaults
applied; each result (a step, an image, an annotated image) turns itself into its reply with `to_pb`."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PIL import Image

from synthmill.common import judging, rules
from synthmill.common.cards import ModelCard
from synthmill.common.errors import InvalidArgument
from synthmill.common.image_header import check_image
from synthmill.image.judging.boxes import Box
from synthmill.image.serving.settings import ImageSettings
from synthmill.v1 import common_pb2, image_pb2


@dataclass(frozen=True)
class ImageModel:
    """A loaded model as requests see it: its card, default size and own scheduler's name."""

    card: ModelCard
    default_width: int
    default_height: int
    scheduler: str
    # (prompt, negative) → the 77-token chunks they are encoded in; None: always one (SD3).
    prompt_chunks: Callable[[str, str], int] | None = None


@dataclass(frozen=True)
class GenerationParams:
    """Parameters shared by every image of a pipeline batch; also the dynamic batcher's merge key."""

    model: str
    width: int
    height: int
    steps: int
    guidance: float
    scheduler: str
    negative_prompt: str
    best_of: int = 1  # candidates rendered per item
    keep_candidates: bool = False
    min_score: float = 0.0  # 0: no re-rendering
    annotations: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()  # for the open-vocabulary detector

    @classmethod
    def from_pb(
        cls, p: common_pb2.ImageParams, models: Mapping[str, ImageModel], info, settings: ImageSettings
    ) -> GenerationParams:
        """Checks `p` against the server's GetInfo `info` and applies the defaults."""
        model = models[rules.check_image_params(p, "params", info).name]
        return cls(
            model=model.card.name,
            width=p.width or model.default_width,
            height=p.height or model.default_height,
            steps=p.steps or settings.default_steps,
            guidance=p.guidance if p.HasField("guidance") else settings.default_guidance,
            scheduler=p.scheduler or model.scheduler,
            negative_prompt=p.negative_prompt,
            best_of=p.best_of if p.HasField("best_of") else 1,
            keep_candidates=p.keep_candidates,
            min_score=p.min_score,
            annotations=tuple(p.annotations),
            labels=tuple(p.labels),
        )

    def to_pb(self) -> common_pb2.ImageParams:
        return common_pb2.ImageParams(
            model=self.model,
            width=self.width,
            height=self.height,
            steps=self.steps,
            guidance=self.guidance,
            scheduler=self.scheduler,
            negative_prompt=self.negative_prompt,
            best_of=self.best_of,
            keep_candidates=self.keep_candidates,
            min_score=self.min_score,
            annotations=self.annotations,
            labels=self.labels,
        )


@dataclass(frozen=True)
class Item:
    """One image to make."""

    index: int
    prompt: str
    seed: int
    # 77-token chunks its prompt and the negative prompt take; only equal counts share a batch.
    chunks: int = 1

    @classmethod
    def list_from_pb(cls, items, max_items: int, model: ImageModel, negative: str) -> list[Item]:
        """The items, each prompt checked against the model's prompt syntax and measured in chunks."""
        _check_item_count(len(items), max_items)
        seen: dict[int, int] = {}
        for position, item in enumerate(items):
            rules.check_not_empty(item.prompt, f"items[{position}].prompt")
            rules.check_prompt(item.prompt, f"items[{position}].prompt", model.card)
            if item.index in seen:
                raise InvalidArgument(
                    f"items[{position}].index", f"{item.index} repeats items[{seen[item.index]}].index"
                )
            seen[item.index] = position
        count = model.prompt_chunks or (lambda _prompt, _negative: 1)
        return [
            cls(index=item.index, prompt=item.prompt, seed=item.seed, chunks=count(item.prompt, negative))
            for item in items
        ]


def _check_item_count(count: int, max_items: int) -> None:
    """A request makes or annotates from one to `max_items` images."""
    if not count:
        raise InvalidArgument("items", "at least one item is required")
    if count > max_items:
        raise InvalidArgument("items", f"{count} items is more than the maximum {max_items}")


@dataclass(frozen=True)
class ImageRequest:
    params: GenerationParams
    items: list[Item]

    @classmethod
    def from_pb(
        cls,
        request: image_pb2.GenerateImagesRequest,
        models: Mapping[str, ImageModel],
        info: image_pb2.ImageServerInfo,
        settings: ImageSettings,
    ) -> ImageRequest:
        params = GenerationParams.from_pb(request.params, models, info, settings)
        model = models[params.model]
        return cls(
            params, Item.list_from_pb(request.items, settings.max_items, model, params.negative_prompt)
        )


@dataclass(frozen=True)
class AnnotateRequest:
    """Existing images to annotate: decoded, by index, with the annotation kinds and labels."""

    annotations: tuple[str, ...]
    labels: tuple[str, ...]
    images: list[tuple[int, Image.Image]]

    @classmethod
    def from_pb(
        cls, request: image_pb2.AnnotateRequest, info: image_pb2.ImageServerInfo, max_items: int
    ) -> AnnotateRequest:
        judging.check_annotate(
            request.annotations, request.labels, "request", judging.Capabilities.from_info(info)
        )
        _check_item_count(len(request.items), max_items)
        images = []
        for position, item in enumerate(request.items):
            check_image(item.image, f"items[{position}].image")  # the pixel budget, before decoding
            try:
                image = Image.open(io.BytesIO(item.image))
                image.load()
            except (OSError, Image.DecompressionBombError) as exc:
                raise InvalidArgument(
                    f"items[{position}].image", f"is not a PNG or JPEG image: {exc}"
                ) from None
            images.append((item.index, image.convert("RGB")))
        return cls(tuple(request.annotations), tuple(request.labels), images)


@dataclass(frozen=True)
class StepEvent:
    """Item `index` finished step `step` of `total` of `phase` (denoising, scoring, selecting, detecting)."""

    index: int
    step: int
    total: int
    phase: str = "denoising"

    def to_pb(self) -> image_pb2.GenerateImagesResponse:
        step = image_pb2.StepProgress(
            index=self.index,
            step=self.step,
            total_steps=self.total,
            phase=common_pb2.Phase.Value(f"PHASE_{self.phase.upper()}"),
        )
        return image_pb2.GenerateImagesResponse(step=step)


@dataclass(frozen=True)
class CandidateEvent:
    """One candidate of a finished item; `png` only for a loser that the request asked to keep."""

    number: int
    seed: int
    score: float | None
    png: bytes

    def to_pb(self) -> image_pb2.Candidate:
        return image_pb2.Candidate(number=self.number, seed=self.seed, score=self.score or 0.0, png=self.png)


@dataclass(frozen=True)
class ImageEvent:
    """Item `index` is done: its PNG and the parameters text written into it."""

    index: int
    seed: int
    png: bytes
    parameters_text: str
    seconds: float  # wall time of the batch that made it
    device: str = ""  # of the model that made it, when the batcher knows its card
    dtype: str = ""
    score: float | None = None
    candidate: int = 0  # the kept candidate's number
    candidates: tuple[CandidateEvent, ...] = ()
    boxes: tuple[Box, ...] = ()
    judge_seconds: float = 0.0

    def to_pb(self, params: common_pb2.ImageParams) -> image_pb2.GenerateImagesResponse:
        """The reply that carries this image, made with `params` (the request's, defaults applied)."""
        image = image_pb2.GeneratedImage(
            index=self.index,
            png=self.png,
            seed=self.seed,
            params=params,
            parameters_text=self.parameters_text,
            seconds=self.seconds,
            device=self.device,
            dtype=self.dtype,
            candidate=self.candidate,
            candidates=[c.to_pb() for c in self.candidates],
            boxes=[box_to_pb(box) for box in self.boxes],
            judge_seconds=self.judge_seconds,
        )
        if self.score is not None:
            image.score = self.score
        return image_pb2.GenerateImagesResponse(image=image)


@dataclass(frozen=True)
class AnnotatedImage:
    """The boxes found on one annotated image."""

    index: int
    width: int
    height: int
    boxes: tuple[Box, ...]

    def to_pb(self) -> image_pb2.AnnotatedImage:
        boxes = [box_to_pb(box) for box in self.boxes]
        return image_pb2.AnnotatedImage(index=self.index, width=self.width, height=self.height, boxes=boxes)


def box_to_pb(box: Box) -> image_pb2.Box:
    mask = box.mask
    return image_pb2.Box(
        label=box.label,
        category_id=box.category_id,
        score=box.score,
        x=box.x,
        y=box.y,
        width=box.width,
        height=box.height,
        mask=image_pb2.Mask(height=mask.height, width=mask.width, counts=mask.counts, area=mask.area)
        if mask
        else None,
    )
