"""What a detector finds: boxes in pixels, as the servicer, the batcher and the detectors share them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    """One object: its class (1-based `category_id` in the detector's or the request's labels), the
    detector's confidence and its box, left/top/width/height in pixels, inside the image."""

    label: str
    category_id: int
    score: float
    x: float
    y: float
    width: float
    height: float


def clipped(
    label: str, category_id: int, score: float, corners: tuple[float, ...], size: tuple[int, int]
) -> Box:
    """A Box from (x0, y0, x1, y1) corners, clipped to an image of `size` (width, height)."""
    width, height = size
    x0, y0 = max(0.0, float(corners[0])), max(0.0, float(corners[1]))
    x1, y1 = min(float(width), float(corners[2])), min(float(height), float(corners[3]))
    return Box(label, category_id, round(float(score), 4), x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0))
