"""Carrying a source's boxes and masks to a variation, and checking them again (torch-free)."""

from __future__ import annotations

import json

import pytest

from synthmill.gateway.run import carry
from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import image_pb2

CATEGORIES = ["person", "tie"]


def test_a_box_and_its_polygons_scale_with_the_variations_sides():
    obj = pb.AugmentObject(
        label="tie", x=10, y=20, width=30, height=40, segmentation_json="[[10, 20, 40, 60]]"
    )
    row = carry.carried(obj, CATEGORIES, (100, 200), (50, 100))
    assert row == {
        "label": "tie",
        "category_id": 2,
        "bbox": [5, 10, 15, 20],
        "segmentation": [[5, 10, 20, 30]],
    }


def test_an_rle_mask_is_carried_at_the_same_size_and_dropped_at_another():
    rle = {"size": [200, 100], "counts": "abc"}
    obj = pb.AugmentObject(label="person", width=1, height=1, segmentation_json=json.dumps(rle))
    assert carry.carried(obj, CATEGORIES, (100, 200), (100, 200))["segmentation"] == rle
    dropped = carry.carried(obj, CATEGORIES, (100, 200), (96, 200))
    assert "segmentation" not in dropped and dropped["segmentation_dropped"]


def test_iou_of_boxes():
    assert carry.iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1
    assert carry.iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert carry.iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0


def test_a_box_is_verified_only_by_a_same_label_detection_over_the_threshold():
    rows = [
        {"label": "person", "bbox": [0, 0, 10, 10]},
        {"label": "tie", "bbox": [0, 0, 10, 10]},
        {"label": "person", "bbox": [50, 50, 10, 10]},
    ]
    found = [
        image_pb2.Box(label="Person", x=1, y=0, width=10, height=10),
        image_pb2.Box(label="cat", width=10, height=10),
    ]
    carry.verify(rows, found, 0.5)
    assert [(r["verified"], r["iou"]) for r in rows] == [
        (True, round(90 / 110, 4)),
        (False, 0.0),
        (False, 0.0),
    ]
