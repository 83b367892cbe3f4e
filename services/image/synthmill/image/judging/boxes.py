"""What a detector finds: boxes in pixels, as the servicer, the batcher and the detectors share them,
and the instance masks a segmenter draws from them, in COCO's run-length encoding (torch-free)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from pycocotools import mask as coco_mask


@dataclass(frozen=True)
class Mask:
    """A binary mask over the whole image as COCO's compressed RLE (`pycocotools.mask.encode`)."""

    height: int
    width: int
    counts: str  # the RLE string, ASCII
    area: int  # pixels in the mask


@dataclass(frozen=True)
class Box:
    """One object: its class (1-based `category_id` in the detector's or the request's labels), the
    detector's confidence and its box, left/top/width/height in pixels, inside the image; with its
    mask when masks were asked for."""

    label: str
    category_id: int
    score: float
    x: float
    y: float
    width: float
    height: float
    mask: Mask | None = None


def clipped(
    label: str, category_id: int, score: float, corners: tuple[float, ...], size: tuple[int, int]
) -> Box:
    """A Box from (x0, y0, x1, y1) corners, clipped to an image of `size` (width, height)."""
    width, height = size
    x0, y0 = max(0.0, float(corners[0])), max(0.0, float(corners[1]))
    x1, y1 = min(float(width), float(corners[2])), min(float(height), float(corners[3]))
    return Box(label, category_id, round(float(score), 4), x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0))


def pixels(box: Box) -> tuple[int, int, int, int]:
    """The pixel rows and columns a box covers, as (x0, y0, x1, y1) with x1 and y1 exclusive."""
    return math.floor(box.x), math.floor(box.y), math.ceil(box.x + box.width), math.ceil(box.y + box.height)


def masked(box: Box, mask: np.ndarray) -> Box:
    """`box` with `mask` (a boolean height × width array over the whole image) cut to the box's pixels:
    a segmenter's mask never leaves the box that prompted it."""
    x0, y0, x1, y1 = pixels(box)
    inside = np.zeros(mask.shape, dtype=np.uint8, order="F")
    inside[y0:y1, x0:x1] = mask[y0:y1, x0:x1]
    rle = coco_mask.encode(inside)
    height, width = mask.shape
    return dataclasses.replace(
        box, mask=Mask(height, width, rle["counts"].decode("ascii"), int(inside.sum()))
    )
