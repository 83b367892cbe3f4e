"""The image server's requests and results as domain types (torch-free): a request is built from its
protobuf by `from_pb`, with its fields checked (an InvalidArgument names the field) and the defaults
applied; the parameters turn back into protobuf with `to_pb`."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image

from synthmill.common import judging, rules
from synthmill.common.cards import ModelCard
from synthmill.common.errors import InvalidArgument
from synthmill.image import inputs
from synthmill.image.settings import ImageSettings
from synthmill.v1 import common_pb2, image_pb2

if TYPE_CHECKING:
    from synthmill.image.inpaint import Paste


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

    @classmethod
    def list_from_pb(cls, items, max_items: int, model: ImageModel, negative: str) -> list[Item]:
        """The items, each prompt checked against the model's prompt syntax and measured in chunks."""
        if not items:
            raise InvalidArgument("items", "at least one item is required")
        if len(items) > max_items:
            raise InvalidArgument("items", f"{len(items)} items is more than the maximum {max_items}")
        seen: dict[int, int] = {}
        for position, item in enumerate(items):
            if not item.prompt.strip():
                raise InvalidArgument(f"items[{position}].prompt", "the prompt is empty")
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
        """Decodes and checks the items' images first: an init image without a width or height gives
        the size (see `inputs`)."""
        sent = inputs.decode(request, models, info, settings.max_input_pixels)
        params = GenerationParams.from_pb(sent.params, models, info, settings, sent.task)
        model = models[params.model]
        items = Item.list_from_pb(request.items, settings.max_items, model, params.negative_prompt)
        return cls(params, inputs.attach(items, sent, params))


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
        if not request.annotations:
            raise InvalidArgument("annotations", 'at least one kind is required, e.g. ["bbox"]')
        judging.check_labelling(
            request.annotations, request.labels, "request", judging.Capabilities.from_info(info)
        )
        if not request.items:
            raise InvalidArgument("items", "at least one item is required")
        if len(request.items) > max_items:
            raise InvalidArgument("items", f"{len(request.items)} items is more than the maximum {max_items}")
        images = []
        for position, item in enumerate(request.items):
            try:
                image = Image.open(io.BytesIO(item.image))
                image.load()
            except (OSError, Image.DecompressionBombError) as exc:
                raise InvalidArgument(
                    f"items[{position}].image", f"is not a PNG or JPEG image: {exc}"
                ) from None
            images.append((item.index, image.convert("RGB")))
        return cls(tuple(request.annotations), tuple(request.labels), images)
