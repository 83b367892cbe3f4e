"""`synthmill augment DIR` through the real stack: DIR is `synthmill annotate`'s output on a photograph;
the variations' COCO file loads in pycocotools and as an HF imagefolder, each variation carrying the
source's boxes with `verified` and `iou` (the embedded diffusion model draws noise, so what the detector
finds on it is not asserted)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import matplotlib.cbook
import pytest
from datasets import load_dataset
from pycocotools.coco import COCO

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def test_augment_carries_the_annotated_boxes_to_every_variation(gateway, cli, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), photos / "hopper.jpg")
    annotated = cli("annotate", str(photos), "--gateway", gateway.target, "--json")
    assert annotated.code == 0, annotated.stderr
    source = COCO(str(photos / "annotations" / "instances.json"))
    source_boxes = sorted(a["bbox"] for a in source.loadAnns(source.getAnnIds()))
    assert source_boxes  # YOLOv3-tiny finds the person and the tie

    result = cli(
        "augment", str(photos), "-n", "2", "--strength", "0.3", "--prompt", "a portrait", "--steps", "4",
        "--seed", "1", "--gateway", gateway.target, "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    folder = Path(result.json()["output_dir"])
    coco = COCO(str(folder / "annotations" / "instances.json"))
    assert len(coco.getImgIds()) == 2
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == [
        c["name"] for c in source.loadCats(source.getCatIds())
    ]
    for image_id in coco.getImgIds():
        image = coco.loadImgs(image_id)[0]
        assert (image["width"], image["height"]) == (512, 600)  # the photo's size: multiples of 8
        annotations = coco.loadAnns(coco.getAnnIds(imgIds=image_id))
        assert sorted(a["bbox"] for a in annotations) == source_boxes
        assert all(isinstance(a["verified"], bool) and 0 <= a["iou"] <= 1 for a in annotations)
    rows = [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]
    assert [(r["source_image"], r["strength"], r["seed"]) for r in rows] == [
        ("hopper.jpg", 0.3, 1),
        ("hopper.jpg", 0.3, 2),
    ]
    assert load_dataset("imagefolder", data_dir=str(folder), split="train").num_rows == 2


def test_drop_unverified_leaves_out_the_boxes_not_found_again(gateway, cli, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), photos / "hopper.jpg")
    assert cli("annotate", str(photos), "--gateway", gateway.target, "--json").code == 0
    result = cli(
        "augment", str(photos), "-n", "1", "--strength", "0.3", "--prompt", "p", "--steps", "2",
        "--drop-unverified", "--gateway", gateway.target, "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    coco = json.loads((Path(result.json()["output_dir"]) / "annotations" / "instances.json").read_text())
    assert all(a["verified"] for a in coco["annotations"])


def test_a_bad_strength_exits_non_zero_naming_it(gateway, cli, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), photos / "hopper.jpg")
    result = cli(
        "augment", str(photos), "-n", "1", "--strength", "1.5", "--prompt", "p", "--gateway", gateway.target
    )
    assert result.code != 0 and "augment.params.strength: 1.5 is not in (0, 1]" in result.stderr
