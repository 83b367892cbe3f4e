"""Boxes and masks of a source image carried over to a variation of it, and checked again.

A variation may be smaller than its source (its sides rounded down to the model's size multiple), so a
box is scaled by the two sides' ratios, as are polygon segmentations; an RLE mask is carried only to a
variation of the same size (the rows then say `segmentation_dropped`). A carried box is `verified` when
the detector found an object of the same label on the variation whose IoU with it reaches the
threshold; `iou` is the best such IoU (0 when no same-label object was found).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import image_pb2

Box = tuple[float, float, float, float]  # x, y, width, height


def iou(a: Box, b: Box) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    union = aw * ah + bw * bh - w * h
    return w * h / union if union > 0 else 0.0


def carried(
    obj: pb.AugmentObject, categories: Sequence[str], source: tuple[int, int], size: tuple[int, int]
) -> dict[str, Any]:
    """The box row of `obj` on a variation of `size`, from a source of `source` size."""
    sx, sy = size[0] / source[0], size[1] / source[1]
    bbox = [round(obj.x * sx, 2), round(obj.y * sy, 2), round(obj.width * sx, 2), round(obj.height * sy, 2)]
    row: dict[str, Any] = {"label": obj.label, "category_id": categories.index(obj.label) + 1, "bbox": bbox}
    if obj.segmentation_json:
        segmentation = json.loads(obj.segmentation_json)
        if isinstance(segmentation, list):  # polygons [x0, y0, x1, y1, ...]
            row["segmentation"] = [
                [round(v * (sx if i % 2 == 0 else sy), 2) for i, v in enumerate(polygon)]
                for polygon in segmentation
            ]
        elif source == size:
            row["segmentation"] = segmentation
        else:
            row["segmentation_dropped"] = True
    return row


def verify(rows: list[dict[str, Any]], found: Sequence[image_pb2.Box], threshold: float) -> None:
    """Marks each carried row `verified` and its best same-label `iou` among the detector's boxes."""
    for row in rows:
        box = tuple(row["bbox"])
        same = [(d.x, d.y, d.width, d.height) for d in found if d.label.lower() == row["label"].lower()]
        best = max((iou(box, other) for other in same), default=0.0)
        row["iou"] = round(best, 4)
        row["verified"] = best >= threshold
