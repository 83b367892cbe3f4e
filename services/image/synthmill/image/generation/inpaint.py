"""Inpainting's masks as A1111 makes them (`modules/processing.py`, `StableDiffusionProcessingImg2Img
.init`, and `modules/masking.py`), and the paste-back that keeps what is outside the mask.

White is repainted, black kept. The mask is blurred by `mask_blur` (a separable Gaussian, kernel
2·int(2.5·blur + 0.5) + 1, as A1111). Without inpaint_full_res the image is repainted at the output
size and the overlay is the mask doubled (so the blurred edge leans to the new pixels); with it, only
the mask's bounding region (plus padding, grown to the output's aspect ratio) is repainted at the
output size, scaled back and pasted in. Either way the result is composited over the original with
that overlay, so where the overlay is 0 every pixel is the original's, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps

Region = tuple[int, int, int, int]  # x1, y1, x2, y2


@dataclass(frozen=True)
class Paste:
    """How a generated image goes back over its original: the original, the overlay weight of the new
    pixels (L, 255 = all new) and, for inpaint_full_res, the region it was cut from."""

    original: Image.Image
    overlay: Image.Image
    region: Region | None = None

    def apply(self, generated: Image.Image) -> Image.Image:
        if self.region is not None:
            x1, y1, x2, y2 = self.region
            base = self.original.copy()
            base.paste(generated.resize((x2 - x1, y2 - y1), Image.Resampling.LANCZOS), (x1, y1))
            generated = base
        alpha = np.asarray(self.overlay, dtype=np.float32)[..., None] / 255
        new = np.asarray(generated.convert("RGB"), dtype=np.float32)
        old = np.asarray(self.original, dtype=np.float32)
        # alpha 0 gives old * 1 + new * 0: the original value exactly.
        return Image.fromarray(np.rint(old * (1 - alpha) + new * alpha).astype(np.uint8))


@dataclass(frozen=True)
class Prepared:
    """What the inpainting pipeline is given for one item, and how its output is pasted back."""

    image: Image.Image  # RGB at the output size (or the region, scaled to it)
    mask: Image.Image  # L at the same size
    paste: Paste


def blur(mask: Image.Image, radius: int) -> Image.Image:
    if radius <= 0:
        return mask
    kernel = 2 * int(2.5 * radius + 0.5) + 1
    array = np.asarray(mask)
    array = cv2.GaussianBlur(array, (kernel, 1), radius)
    array = cv2.GaussianBlur(array, (1, kernel), radius)
    return Image.fromarray(array)


def crop_region(mask: Image.Image, padding: int) -> Region | None:
    """The bounding box of the mask's non-zero pixels grown by `padding`, within the image; None for an
    empty mask."""
    box = mask.getbbox()
    if box is None:
        return None
    x1, y1, x2, y2 = box
    return (
        max(x1 - padding, 0),
        max(y1 - padding, 0),
        min(x2 + padding, mask.width),
        min(y2 + padding, mask.height),
    )


def _grow(low: int, high: int, wanted: float, limit: int) -> tuple[int, int]:
    """Grows [low, high) by `wanted` minus its length, split over both sides, kept in [0, limit]."""
    diff = int(wanted - (high - low))
    low -= diff // 2
    high += diff - diff // 2
    if high >= limit:
        low, high = low - (high - limit), limit
    if low < 0:
        low, high = 0, high - low
    return low, min(high, limit)


def expand_region(region: Region, width: int, height: int, image_width: int, image_height: int) -> Region:
    """Grows `region` to the aspect ratio of the `width` x `height` it is repainted at (masking.py's
    expand_crop_region)."""
    x1, y1, x2, y2 = region
    ratio = width / height
    if (x2 - x1) / (y2 - y1) > ratio:
        y1, y2 = _grow(y1, y2, (x2 - x1) / ratio, image_height)
    else:
        x1, x2 = _grow(x1, x2, (y2 - y1) * ratio, image_width)
    return x1, y1, x2, y2


def prepare(
    init: Image.Image,
    mask: Image.Image,
    width: int,
    height: int,
    blur_radius: int,
    invert: bool,
    full_res: bool,
    padding: int,
) -> Prepared:
    """The pipeline's image and mask for one item. Without `full_res` the init image and mask are
    resized to width x height first (A1111's resize mode 0); with it, the output keeps the init image's
    size."""
    mask = mask.convert("L")
    if invert:
        mask = ImageOps.invert(mask)
    mask = blur(mask, blur_radius)
    if full_res:
        region = crop_region(mask, padding) or (0, 0, init.width, init.height)
        region = expand_region(region, width, height, init.width, init.height)
        image = init.crop(region).resize((width, height), Image.Resampling.LANCZOS)
        return Prepared(
            image,
            mask.crop(region).resize((width, height), Image.Resampling.LANCZOS),
            Paste(init, mask, region),
        )
    if init.size != (width, height):
        init = init.resize((width, height), Image.Resampling.LANCZOS)
        mask = mask.resize((width, height), Image.Resampling.LANCZOS)
    overlay = Image.fromarray(np.clip(np.asarray(mask, dtype=np.float32) * 2, 0, 255).astype(np.uint8))
    return Prepared(init, mask, Paste(init, overlay))
