"""Instance masks from SAM prompted by YOLOv3-tiny's boxes, on the real photographs of the box tests.

The embedded segmenter is a random-weight SAM (no SAM weights reach these machines), so its masks mean
nothing: these tests check their structure, COCO's RLE round trip, and that each mask stays inside
the box that prompted it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from photos import camera, grace_hopper, motorcycle
from pycocotools import mask as coco_mask

from synthmill.common.settings import default_cache_dir
from synthmill.image.judging import sam, yolo
from synthmill.image.judging.boxes import Box, masked, pixels
from synthmill.image.judging.models import JudgingModels

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PHOTOGRAPHS = {"grace_hopper": grace_hopper, "camera": camera, "motorcycle": motorcycle}


@pytest.fixture(scope="module")
def judges(tmp_path_factory: pytest.TempPathFactory) -> JudgingModels:
    import torch  # only the tests that load models import torch

    segmenter = sam.load("tiny-sam", tmp_path_factory.mktemp("cache"), "cpu", torch.float32)
    detector = yolo.load(default_cache_dir(), threshold=0.25)
    return JudgingModels(None, detector, None, segmenter, max_best_of=1, max_rounds=1)


def decoded(box: Box) -> np.ndarray:
    assert box.mask is not None
    return coco_mask.decode(
        {"size": [box.mask.height, box.mask.width], "counts": box.mask.counts.encode("ascii")}
    )


@pytest.mark.parametrize("name", PHOTOGRAPHS)
def test_every_box_gets_an_rle_mask_of_the_image_size_inside_the_box(
    judges: JudgingModels, name: str
) -> None:
    image = PHOTOGRAPHS[name]()
    [plain] = judges.annotate([image], (), ("bbox",))
    [boxes] = judges.annotate([image], (), ("bbox", "mask"))
    assert plain and all(box.mask is None for box in plain)
    # The same boxes, each now with its mask.
    assert [dataclasses.replace(box, mask=None) for box in boxes] == plain
    for box in boxes:
        mask = decoded(box)
        assert mask.shape == (image.height, image.width)
        assert int(mask.sum()) == box.mask.area
        rows, columns = np.nonzero(mask)
        x0, y0, x1, y1 = pixels(box)
        assert all(x0 <= c < x1 for c in columns) and all(y0 <= r < y1 for r in rows), box
    assert sum(box.mask.area for box in boxes) > 0  # masks, not empty RLEs that pass any bound


def test_a_mask_is_cut_to_the_pixels_of_its_box() -> None:
    box = Box("tie", 28, 0.9, x=10.5, y=4.0, width=20.0, height=7.25)  # pixels 10..30 x 4..11
    mask = masked(box, np.ones((16, 40), dtype=bool))
    expected = np.zeros((16, 40), dtype=np.uint8)
    expected[4:12, 10:31] = 1
    assert np.array_equal(decoded(mask), expected)
    assert mask.mask.area == 8 * 21
    assert masked(box, np.zeros((16, 40), dtype=bool)).mask.area == 0


def test_tiny_sam_reloads_from_its_folder_with_the_same_masks(judges: JudgingModels, tmp_path: Path) -> None:
    import torch

    image = grace_hopper()
    [boxes] = judges.annotate([image], (), ("bbox",))
    again = sam.load(judges.segmenter.source, tmp_path, "cpu", torch.float32)
    first, second = judges.segmenter.segment(image, boxes), again.segment(image, boxes)
    assert len(first) == len(boxes) and all(m.shape == (image.height, image.width) for m in first)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
