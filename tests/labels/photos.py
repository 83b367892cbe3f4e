"""Real photographs that ship in packages, for the detector and segmenter tests (the embedded
diffusion model draws noise)."""

from __future__ import annotations

import matplotlib.cbook
import numpy as np
from PIL import Image
from skimage import data


def grace_hopper() -> Image.Image:
    """matplotlib's sample photograph, 512 x 600; YOLOv3-tiny finds her tie at 0.87."""
    return Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def camera() -> Image.Image:
    """scikit-image's cameraman, 512 x 512, grey."""
    return Image.fromarray(np.asarray(data.camera()))


def motorcycle() -> Image.Image:
    """The left image of scikit-image's stereo motorcycle pair, 741 x 500."""
    return Image.fromarray(np.asarray(data.stereo_motorcycle()[0]))
