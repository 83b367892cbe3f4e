"""Captions through the real stack: `synthmill caption DIR`, `--annotate caption,bbox` on real
photographs and on a generated-images job, and `caption` refused at submit where the image server has
no captioner. The embedded captioner is a random-weight BLIP: its captions are non-empty words of its
small vocabulary and mean nothing; the formats are what these tests check."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import matplotlib.cbook
import numpy as np
import pytest
from datasets import load_dataset
from PIL import Image
from pycocotools.coco import COCO
from skimage import data

from synthmill.client import Client, image_job
from synthmill.client.errors import SynthmillError
from synthmill.client.specs import annotate_job

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def _photos(folder: Path) -> Path:
    folder.mkdir()
    shutil.copy(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), folder / "hopper.jpg")
    Image.fromarray(np.asarray(data.camera())).save(folder / "camera.png")
    Image.fromarray(np.asarray(data.astronaut())).save(folder / "astronaut.png")
    return folder


def _rows(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]


def test_caption_dir_writes_captions_that_pycocotools_loads(gateway, cli, tmp_path: Path) -> None:
    photos = _photos(tmp_path / "photos")
    result = cli("caption", str(photos), "--gateway", gateway.target, "--json")
    assert result.code == 0, result.stderr
    folder = Path(result.json()["output_dir"])
    rows = _rows(folder)
    assert sorted(row["file_name"] for row in rows) == [
        "images/astronaut.png",
        "images/camera.png",
        "images/hopper.jpg",
    ]
    assert all(isinstance(row["caption"], str) and row["caption"].strip() for row in rows)
    assert all("boxes" not in row for row in rows)  # captions alone: no detector ran
    assert not (folder / "annotations" / "instances.json").exists()
    for path, prefix in (
        (folder / "annotations" / "captions.json", "images/"),
        (photos / "annotations" / "captions.json", ""),
    ):
        coco = COCO(str(path))
        assert len(coco.getImgIds()) == 3
        by_name = {}
        for image in coco.loadImgs(coco.getImgIds()):
            [annotation] = coco.loadAnns(coco.getAnnIds(imgIds=image["id"]))
            by_name[image["file_name"]] = annotation["caption"]
        assert by_name == {prefix + row["file_name"].removeprefix("images/"): row["caption"] for row in rows}
    dataset = load_dataset("imagefolder", data_dir=str(folder), split="train")
    assert dataset.num_rows == 3 and all(dataset["caption"])


def test_annotate_caption_and_bbox_writes_both_coco_files(gateway, cli, tmp_path: Path) -> None:
    photos = _photos(tmp_path / "photos")
    result = cli("annotate", str(photos), "--annotate", "caption,bbox", "--gateway", gateway.target, "--json")
    assert result.code == 0, result.stderr
    rows = _rows(Path(result.json()["output_dir"]))
    assert all(row["caption"] for row in rows)
    assert any(box["label"] == "tie" for row in rows for box in row["boxes"])  # YOLOv3-tiny, 0.87
    instances = COCO(str(photos / "annotations" / "instances.json"))
    captions = COCO(str(photos / "annotations" / "captions.json"))
    assert instances.getImgIds() == captions.getImgIds()
    assert len(captions.getAnnIds()) == 3


def test_an_images_job_captions_its_images(gateway) -> None:
    with Client(gateway.target) as client:
        spec = image_job("a red car", 2, steps=2, annotations=["caption"], seed=3)
        job = client.wait(client.submit(spec).id)
    assert job.counts.images_done == 2, job.error
    folder = Path(job.output_dir)
    rows = _rows(folder)
    assert all(row["caption"] and row["prompt"] == "a red car" for row in rows)
    coco = COCO(str(folder / "annotations" / "captions.json"))
    assert [a["caption"] for a in coco.loadAnns(coco.getAnnIds())] == [row["caption"] for row in rows]


def test_caption_without_a_captioner_is_refused_at_submit(server_factory, gateway_factory, tmp_path) -> None:
    env = {
        "SYNTHMILL_IMAGE_MODELS": "tiny-sd",
        "SYNTHMILL_IMAGE_SCORER": "none",
        "SYNTHMILL_IMAGE_CAPTIONER": "none",
    }
    image = server_factory("image", env)
    gateway = gateway_factory(env={"SYNTHMILL_GATEWAY_IMAGE_TARGET": image.target})
    Image.new("RGB", (32, 32)).save(tmp_path / "a.png")
    with Client(gateway.target) as client:
        specs = {
            "images.params.annotations[1]": image_job("a red car", 1, annotations=["bbox", "caption"]),
            "annotate.annotations[0]": annotate_job(tmp_path, annotations=["caption"]),
        }
        for field, spec in specs.items():
            with pytest.raises(SynthmillError) as caught:
                client.submit(spec)
            assert caught.value.code.name == "INVALID_ARGUMENT"
            assert caught.value.details.startswith(f"{field}: 'caption' needs a captioner"), (
                caught.value.details
            )
        client.submit(image_job("a red car", 1, steps=1, annotations=["bbox"]))  # boxes alone are fine
        assert len(client.list()) == 1
