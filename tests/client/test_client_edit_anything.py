"""Edit Anything through the real stack: `--mask-labels` finds the objects with the detector (YOLOv3-tiny,
which finds the person and the tie on Grace Hopper), the segmenter masks them, and only their mask is
repainted; a label found nowhere leaves the image as it was, recorded; an unknown label is refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import matplotlib.cbook
import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as coco_mask

pytestmark = [pytest.mark.e2e]


def _hopper(tmp_path: Path) -> Path:
    path = tmp_path / "hopper.jpg"
    shutil.copy(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), path)
    return path


def _run(cli, gateway, init: Path, labels: str):
    return cli(
        "images", "--prompt", "a red sweater", "--init-image", str(init), "--strength", "1", "--mask-blur", "0",
        "--mask-labels", labels, "--steps", "2", "--gateway", gateway.target, "--json",
    )  # fmt: skip


def test_only_the_objects_found_are_repainted(gateway, cli, tmp_path) -> None:
    init = _hopper(tmp_path)
    result = _run(cli, gateway, init, "person,tie")
    assert result.code == 0, result.stderr
    folder = Path(result.json()["output_dir"])
    [row] = [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]
    assert "tie" in row["mask_labels_found"] and set(row["mask_labels_found"]) <= {"person", "tie"}
    rle = row["edit_mask"]
    mask = coco_mask.decode({"size": rle["size"], "counts": rle["counts"].encode()}).astype(bool)
    assert mask.sum() == rle["area"] > 0
    source = np.asarray(Image.open(init).convert("RGB"))
    out = np.asarray(Image.open(folder / row["file_name"]).convert("RGB"))
    assert np.array_equal(out[~mask], source[~mask])
    assert not np.array_equal(out[mask], source[mask])


def test_a_label_found_nowhere_leaves_the_image_as_it_was(gateway, cli, tmp_path) -> None:
    init = _hopper(tmp_path)
    result = _run(cli, gateway, init, "zebra")
    assert result.code == 0, result.stderr
    folder = Path(result.json()["output_dir"])
    [row] = [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]
    assert row["mask_labels_found"] == [] and row["edit_mask"]["area"] == 0
    out = np.asarray(Image.open(folder / row["file_name"]).convert("RGB"))
    assert np.array_equal(out, np.asarray(Image.open(init).convert("RGB")))


def test_a_label_the_detector_does_not_know_is_refused_at_submit(gateway, cli, tmp_path) -> None:
    result = _run(cli, gateway, _hopper(tmp_path), "wall")
    assert result.code != 0
    assert "images.params.mask_labels: 'wall' not among yolov3-tiny's classes" in result.stderr
