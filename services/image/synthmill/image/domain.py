"""The image server's requests and results as domain types (torch-free): a request is built from its
protobuf by `from_pb`, with its fields checked (an InvalidArgument names the field) and the defaults
applied; each result (a step, an image, an annotated image) turns itself into its reply with `to_pb`."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image

from synthmill.common import judging, rules
from synthmill.common.cards import ModelCard
from synthmill.common.errors import InvalidArgument
from synthmill.common.image_header import check_image
from synthmill.image.judging.boxes import Box, Mask
from synthmill.image.serving.settings import ImageSettings
from synthmill.v1 import common_pb2, image_pb2

if TYPE_CHECKING:
    from synthmill.image.generation.inpaint import Paste


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
class Control:
    """One ControlNet unit, with its defaults applied and its ControlNet named."""

    kind: str
    model: str
    scale: float = 1.0
    start: float = 0.0
    end: float = 1.0
    low: int | None = None  # Canny's and scribble's thresholds; None: the preprocessor's default
    high: int | None = None

    @classmethod
    def from_pb(cls, unit: common_pb2.ControlUnit, card: ModelCard) -> Control:
        return cls(
            kind=unit.kind,
            model=unit.model or card.controlnets[0],
            scale=unit.scale if unit.HasField("scale") else 1.0,
            start=unit.start,
            end=unit.end if unit.HasField("end") else 1.0,
            low=unit.low_threshold if unit.HasField("low_threshold") else None,
            high=unit.high_threshold if unit.HasField("high_threshold") else None,
        )

    def to_pb(self) -> common_pb2.ControlUnit:
        return common_pb2.ControlUnit(
            kind=self.kind,
            model=self.model,
            scale=self.scale,
            start=self.start,
            end=self.end,
            low_threshold=self.low,
            high_threshold=self.high,
        )


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
    task: str = "txt2img"  # rules.TASKS: what every item of the batch asks for
    strength: float | None = None  # img2img and inpainting
    mask_blur: int = 0
    inpaint_full_res: bool = False
    inpaint_full_res_padding: int = 0
    mask_invert: bool = False
    controls: tuple[Control, ...] = ()
    mask_labels: tuple[str, ...] = ()  # Edit Anything: the mask is found from these

    @property
    def denoising_steps(self) -> int:
        """The steps that run, and that progress counts: ceil(steps x strength) with a strength."""
        return rules.denoising_steps(self.steps, self.strength)

    @classmethod
    def from_pb(
        cls,
        p: common_pb2.ImageParams,
        models: Mapping[str, ImageModel],
        info,
        settings: ImageSettings,
        task: str = "txt2img",
    ) -> GenerationParams:
        """Checks `p` against the server's GetInfo `info` for items that ask for `task`, and applies the
        defaults."""
        model_info = rules.check_image_params(p, "params", info)
        rules.check_edit_params(p, "params", model_info, task)
        rules.check_mask_labels(p, "params", info)
        task = "inpaint" if p.mask_labels else task
        model = models[model_info.name]
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
            task=task,
            strength=round(p.strength, 6) if task != "txt2img" else None,  # float32's 0.3 is 0.3
            mask_blur=p.mask_blur,
            inpaint_full_res=p.inpaint_full_res,
            inpaint_full_res_padding=p.inpaint_full_res_padding,
            mask_invert=p.mask_invert,
            controls=tuple(Control.from_pb(unit, model.card) for unit in p.controls),
            mask_labels=tuple(p.mask_labels),
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
            strength=self.strength,
            mask_blur=self.mask_blur,
            inpaint_full_res=self.inpaint_full_res,
            inpaint_full_res_padding=self.inpaint_full_res_padding,
            mask_invert=self.mask_invert,
            controls=[control.to_pb() for control in self.controls],
            mask_labels=self.mask_labels,
        )


@dataclass(frozen=True, eq=False)
class Item:
    """One image to make, with what the pipeline starts from for img2img, inpainting and ControlNet
    (`inputs.attach` fills those in)."""

    index: int
    prompt: str
    seed: int
    # 77-token chunks its prompt and the negative prompt take; only equal counts share a batch.
    chunks: int = 1
    init: Image.Image | None = None  # RGB, at the size the pipeline runs at
    mask: Image.Image | None = None  # L, the same size: what the inpainting pipeline repaints
    paste: Paste | None = None  # inpainting: how the output goes back over the init image
    init_sha256: str = ""  # of the init image's bytes as sent
    controls: tuple[Image.Image, ...] = ()  # one preprocessed control image per unit
    edit_mask: Mask | None = None  # Edit Anything: the mask found on the init image
    edit_labels: tuple[str, ...] = ()  # Edit Anything: the labels found

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
    denoising_steps: int = 0  # the steps that ran
    init_sha256: str = ""
    control_pngs: tuple[bytes, ...] = ()  # the control images the ControlNets were given
    edit_mask: Mask | None = None
    edit_labels: tuple[str, ...] = ()

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
            denoising_steps=self.denoising_steps,
            init_image_sha256=self.init_sha256,
            control_images=self.control_pngs,
            edit_mask=mask_to_pb(self.edit_mask) if self.edit_mask else None,
            edit_labels=self.edit_labels,
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
        mask=mask_to_pb(mask) if mask else None,
    )


def mask_to_pb(mask: Mask) -> image_pb2.Mask:
    return image_pb2.Mask(height=mask.height, width=mask.width, counts=mask.counts, area=mask.area)
