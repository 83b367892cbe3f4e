"""ControlNet preprocessing on the image server: a user's image becomes the control image a ControlNet
expects (white structure on black, RGB), at the output size.

- canny: OpenCV Canny edges with the unit's thresholds (100 and 200 unless set), as sd-webui-controlnet.
- scribble: a drawing thresholded (dark strokes on a light ground, below the low threshold, 127 unless
  set) into white strokes on black: what a floor plan or a pen sketch already is.
- lineart: the drawing inverted, so black lines on white become white on black.
- none: used as it is.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image


def preprocess(
    image: Image.Image, kind: str, width: int, height: int, low: int | None, high: int | None
) -> Image.Image:
    """The control image for one unit of `kind` (rules.CONTROL_KINDS), resized to width x height."""
    rgb = image.convert("RGB")
    if rgb.size != (width, height):
        rgb = rgb.resize((width, height), Image.Resampling.LANCZOS)
    if kind == "none":
        return rgb
    gray = np.asarray(rgb.convert("L"))
    if kind == "canny":
        drawn = cv2.Canny(np.asarray(rgb), 100 if low is None else low, 200 if high is None else high)
    elif kind == "scribble":
        drawn = np.where(gray < (127 if low is None else low), 255, 0).astype(np.uint8)
    else:  # lineart
        drawn = 255 - gray
    return Image.fromarray(drawn).convert("RGB")
