"""The shared judging rules, the COCO writer and the score summary, without servers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as coco_mask
from pycocotools.coco import COCO

from synthmill.common.errors import InvalidArgument
from synthmill.common.judging import Capabilities, candidate_seed, check_params, winner
from synthmill.gateway.outputs import coco, scores
from synthmill.gateway.outputs.records import ImageRecord
from synthmill.v1 import common_pb2, image_pb2

CAPS = Capabilities(
    scorer=True, max_best_of=8, annotation_kinds=("bbox",), closed_detector=True, open_detector=False
)


def test_candidate_zero_is_the_item_seed_and_candidates_never_share_low_bits() -> None:
    assert candidate_seed(42, 0) == 42
    seeds = [candidate_seed(42, k) for k in range(64)]
    assert len({seed & 0xFFFFFFFF for seed in seeds}) == 64  # torch's CPU generator reads 32 bits
    assert not set(seeds[1:]) & set(range(42, 42 + 10_000))  # no other item's seed in a job
    assert 0 <= candidate_seed(2**63 - 1, 5) < 2**63


def test_winner_is_the_highest_score_and_ties_go_to_the_earliest() -> None:
    assert winner([10.0, 30.0, 20.0]) == 1
    assert winner([30.0, 12.0, 30.0]) == 0
    assert winner([30.001, 30.004]) == 0  # equal at two decimals: float noise never flips a winner
    assert winner([0.0, 0.0]) == 0


@pytest.mark.parametrize(
    ("fields", "caps", "field"),
    [
        ({"best_of": 0}, CAPS, "p.best_of"),
        ({"best_of": 9}, CAPS, "p.best_of"),
        ({"min_score": -1}, CAPS, "p.min_score"),
        ({"min_score": 100.5}, None, "p.min_score"),
        ({"min_score": float("nan")}, None, "p.min_score"),
        ({"annotations": ["bbox", "polygon"]}, CAPS, "p.annotations[1]"),
        ({"annotations": ["bbox"], "labels": ["wall"]}, CAPS, "p.labels"),
        ({"labels": ["wall"]}, None, "p.labels"),
        ({"best_of": 2}, Capabilities(False, 1, (), False, False), "p.best_of"),
        ({"annotations": ["bbox"]}, Capabilities(True, 8, ("bbox",), False, True), "p.labels"),
        ({"annotations": ["bbox", "mask"]}, CAPS, "p.annotations[1]"),  # no segmenter
        (
            {"annotations": ["mask"]},
            Capabilities(True, 8, (), False, False, segmenter=True),
            "p.annotations[0]",
        ),
    ],
)
def test_bad_judging_fields_are_refused_naming_the_field(fields: dict, caps, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_params(common_pb2.ImageParams(**fields), "p", caps)
    assert caught.value.field == field


def test_mask_without_a_segmenter_says_so() -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_params(common_pb2.ImageParams(annotations=["mask"]), "p", CAPS)
    assert "segmenter" in str(caught.value)


def test_good_judging_fields_pass() -> None:
    open_caps = Capabilities(True, 8, ("bbox",), True, True)
    check_params(common_pb2.ImageParams(best_of=8, min_score=100, annotations=["bbox"]), "p", CAPS)
    check_params(common_pb2.ImageParams(annotations=["bbox"], labels=["wall", "door"]), "p", open_caps)
    masks = Capabilities(True, 8, ("bbox", "mask"), True, False, segmenter=True)
    check_params(common_pb2.ImageParams(annotations=["bbox", "mask"]), "p", masks)
    check_params(common_pb2.ImageParams(annotations=["mask"]), "p", masks)


def test_coco_file_loads_in_pycocotools(tmp_path: Path) -> None:
    box = {"label": "tie", "category_id": 2, "score": 0.87, "bbox": [10.0, 20.0, 30.0, 40.0]}
    rows = [
        ImageRecord("images/00000.png", 64, 64, boxes=[box, box]),
        ImageRecord("images/00001.png", 64, 64, boxes=[]),
    ]
    path = tmp_path / "instances.json"
    path.write_text(json.dumps(coco.instances(rows, ["person", "tie"])))
    loaded = COCO(str(path))
    assert loaded.loadCats(2)[0]["name"] == "tie"
    assert len(loaded.getAnnIds(imgIds=[1])) == 2 and not loaded.getAnnIds(imgIds=[2])
    assert loaded.loadAnns(1)[0]["area"] == 1200


def test_masks_reach_the_coco_file_as_rle_with_their_area(tmp_path: Path) -> None:
    pixels = np.zeros((48, 64), dtype=np.uint8, order="F")
    pixels[10:20, 5:30] = 1
    rle = coco_mask.encode(pixels)
    mask = image_pb2.Mask(height=48, width=64, counts=rle["counts"].decode("ascii"), area=250)
    box = image_pb2.Box(label="tie", category_id=1, score=0.5, x=5, y=10, width=30, height=12, mask=mask)
    row = coco.box_row(box)
    assert row["segmentation"] == {"size": [48, 64], "counts": mask.counts} and row["area"] == 250
    rows = [ImageRecord("images/00000.png", 64, 48, boxes=[row])]
    path = tmp_path / "instances.json"
    path.write_text(json.dumps(coco.instances(rows, ["tie"])))
    loaded = COCO(str(path))
    [annotation] = loaded.loadAnns(loaded.getAnnIds(imgIds=[1]))
    assert annotation["area"] == 250  # the mask's pixels, not the box's 360
    assert np.array_equal(loaded.annToMask(annotation), pixels)
    assert "segmentation" not in coco.box_row(image_pb2.Box(label="tie", category_id=1))


def test_score_summary_counts_what_stayed_below_the_bound() -> None:
    rows = [ImageRecord(f"{s}.png", 8, 8, score=float(s)) for s in range(10, 110, 10)]
    summary = scores.summary([*rows, ImageRecord("unscored.png", 8, 8)], min_score=25)
    assert (summary.count, summary.mean, summary.min, summary.p10) == (10, 55, 10, 10)
    assert summary.below_min_score == 2
    assert scores.summary([ImageRecord("unscored.png", 8, 8)], 0) is None
