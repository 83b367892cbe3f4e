"""A Generate request (`ImageRequest`), and the images it brings (init images, masks, control images): decoded within the pixel
budget, checked against each other, and turned into what the pipeline is given.

The task follows from the items: inpainting when they carry masks, img2img when they carry init images,
else txt2img; every item of a request asks for the same one. Output size: a width or height left at 0
takes the init image's, rounded down to the model's size multiple (8, or 16 for SD3), as diffusers'
VaeImageProcessor rounds; the init images of such a request must then share one size. An init image of
another size than the output is resized to it (A1111's resize mode 0, "Just resize"), except with
inpaint_full_res, where the output keeps the init image's size.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from pycocotools import mask as coco_mask

from synthmill.common import image_input, rules
from synthmill.common.errors import InvalidArgument
from synthmill.image.domain import GenerationParams, ImageModel, Item
from synthmill.image.generation import control_images, inpaint
from synthmill.image.judging.boxes import Box, Mask
from synthmill.image.serving.settings import ImageSettings
from synthmill.v1 import common_pb2, image_pb2


@dataclass(frozen=True)
class _Sent:
    """One item's decoded images."""

    init: Image.Image | None
    mask: Image.Image | None
    controls: tuple[Image.Image, ...]
    init_sha256: str
    edit_mask: Mask | None = None  # Edit Anything: `mask` as found, in COCO RLE
    edit_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sent:
    """A request's decoded images, its task, and its params with the size an init image gives."""

    task: str
    params: common_pb2.ImageParams
    items: list[_Sent]


def _task(items: Sequence[image_pb2.ImageItem]) -> str:
    first = items[0] if items else image_pb2.ImageItem()
    for position, item in enumerate(items):
        for field, name in (("init_image", "an init image"), ("mask", "a mask")):
            if bool(getattr(item, field)) != bool(getattr(first, field)):
                raise InvalidArgument(
                    f"items[{position}].{field}", f"every item of a request has {name}, or none does"
                )
        if item.mask and not item.init_image:
            raise InvalidArgument(f"items[{position}].init_image", "a mask needs an init image")
    return "inpaint" if first.mask else "img2img" if first.init_image else "txt2img"


def _model(params: common_pb2.ImageParams, models: Mapping[str, ImageModel], info) -> ImageModel | None:
    default = next((m.name for m in info.models if m.is_default), "")
    return models.get(params.model or default)


def decode(
    request: image_pb2.GenerateImagesRequest,
    models: Mapping[str, ImageModel],
    info: image_pb2.ImageServerInfo,
    max_pixels: int,
) -> Sent:
    """Every image of the request decoded (InvalidArgument names the item's field), and the params
    with a width and height taken from the init images where they were 0."""
    task = _task(request.items)
    decoded = []
    for position, item in enumerate(request.items):
        where = f"items[{position}]"
        init = mask = None
        if item.init_image:
            init = image_input.open_checked(item.init_image, f"{where}.init_image", max_pixels).convert("RGB")
        if item.mask:
            mask = image_input.open_checked(item.mask, f"{where}.mask", max_pixels)
            if mask.size != init.size:
                raise InvalidArgument(
                    f"{where}.mask",
                    f"{mask.width}x{mask.height} differs from the init image's {init.width}x{init.height}",
                )
        if len(item.control_images) != len(request.params.controls):
            raise InvalidArgument(
                f"{where}.control_images",
                f"{len(item.control_images)} images for {len(request.params.controls)} control units",
            )
        controls = tuple(
            image_input.open_checked(data, f"{where}.control_images[{n}]", max_pixels)
            for n, data in enumerate(item.control_images)
        )
        sha = image_input.sha256(item.init_image) if item.init_image else ""
        decoded.append(_Sent(init, mask, controls, sha))
    params = request.params
    model = _model(params, models, info)
    if task != "txt2img" and model is not None and not (params.width and params.height):
        params = _sized(params, decoded, model.card.size_multiple)
    return Sent(task, params, decoded)


def _sized(params: common_pb2.ImageParams, decoded: list[_Sent], multiple: int) -> common_pb2.ImageParams:
    """`params` with a 0 width or height set from the init images, rounded down to `multiple`."""
    size = decoded[0].init.size
    for position, sent in enumerate(decoded):
        if sent.init.size != size:
            raise InvalidArgument(
                f"items[{position}].init_image",
                f"{sent.init.width}x{sent.init.height} differs from items[0]'s {size[0]}x{size[1]}; "
                "set width and height, or send each size in its own request",
            )
    sized = common_pb2.ImageParams()
    sized.CopyFrom(params)
    sized.width, sized.height = rules.init_output_size(
        params.width, params.height, size, multiple, "items[0].init_image"
    )
    return sized


def attach(items: list[Item], sent: Sent, params: GenerationParams) -> list[Item]:
    """The items with their pipeline inputs: the init image at the output size (or, for inpainting,
    the prepared image, mask and paste-back), and the preprocessed control images."""
    size = (params.width, params.height)
    out = []
    for item, images in zip(items, sent.items, strict=True):
        extra: dict = {
            "init_sha256": images.init_sha256,
            "edit_mask": images.edit_mask,
            "edit_labels": images.edit_labels,
        }
        if images.mask is not None:
            prepared = inpaint.prepare(
                images.init,
                images.mask,
                *size,
                params.mask_blur,
                params.mask_invert,
                params.inpaint_full_res,
                params.inpaint_full_res_padding,
            )
            extra.update(init=prepared.image, mask=prepared.mask, paste=prepared.paste)
        elif images.init is not None:
            init = images.init
            extra["init"] = init if init.size == size else init.resize(size, Image.Resampling.LANCZOS)
        extra["controls"] = tuple(
            control_images.preprocess(image, unit.kind, *size, unit.low, unit.high)
            for image, unit in zip(images.controls, params.controls, strict=True)
        )
        out.append(dataclasses.replace(item, **extra))
    return out


@dataclass(frozen=True)
class ImageRequest:
    """A Generate request: its parameters, and its items with their images decoded and prepared.
    Edit Anything's masks are found between `checked` and `prepared`, on the device worker."""

    params: GenerationParams
    items: list[Item]
    sent: Sent

    @classmethod
    def checked(
        cls,
        request: image_pb2.GenerateImagesRequest,
        models: Mapping[str, ImageModel],
        info: image_pb2.ImageServerInfo,
        settings: ImageSettings,
    ) -> ImageRequest:
        """Decodes and checks the items' images first: an init image without a width or height gives
        the size (see `decode`); then the parameters and items."""
        sent = decode(request, models, info, settings.max_input_pixels)
        params = GenerationParams.from_pb(sent.params, models, info, settings, sent.task)
        model = models[params.model]
        items = Item.list_from_pb(request.items, settings.max_items, model, params.negative_prompt)
        return cls(params, items, sent)

    def with_found_masks(self, found: Sequence[Sequence[Box]]) -> ImageRequest:
        """Edit Anything: each item's mask is the union of the segmenter's masks of the objects found
        whose label is one of mask_labels (all black, so nothing changes, where none is)."""
        wanted = {label.lower() for label in self.params.mask_labels}
        sent = []
        for images, boxes in zip(self.sent.items, found, strict=True):
            width, height = images.init.size
            union = np.zeros((height, width), dtype=np.uint8, order="F")
            labels = []
            for box in boxes:
                if box.label.lower() in wanted and box.mask is not None:
                    rle = {"size": [box.mask.height, box.mask.width], "counts": box.mask.counts.encode()}
                    union |= coco_mask.decode(rle).astype(np.uint8)
                    labels.append(box.label)
            rle = coco_mask.encode(union)
            mask = Mask(height, width, rle["counts"].decode("ascii"), int(union.sum()))
            sent.append(dataclasses.replace(
                images, mask=Image.fromarray(union * 255), edit_mask=mask, edit_labels=tuple(labels)
            ))  # fmt: skip
        return dataclasses.replace(self, sent=dataclasses.replace(self.sent, items=sent))

    def prepared(self) -> ImageRequest:
        """The items with their pipeline inputs (`attach`)."""
        return dataclasses.replace(self, items=attach(self.items, self.sent, self.params))
