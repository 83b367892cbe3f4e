"""Instance masks through the real stack: `synthmill annotate DIR --annotate bbox,mask` on real
photographs, masks in a generated-images job, and `mask` refused at submit where the image server
has no segmenter. The embedded segmenter is a random-weight SAM: its masks have the right structure
and stay inside their boxes, and mean nothing."""

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


def test_annotate_bbox_mask_writes_masks_that_pycocotools_decodes(gateway, cli, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), photos / "hopper.jpg")
    Image.fromarray(np.asarray(data.camera())).save(photos / "camera.png")
    result = cli("annotate", str(photos), "--annotate", "bbox,mask", "--gateway", gateway.target, "--json")
    assert result.code == 0, result.stderr
    coco = COCO(str(photos / "annotations" / "instances.json"))
    annotations = coco.loadAnns(coco.getAnnIds())
    labels = {coco.loadCats(a["category_id"])[0]["name"] for a in annotations}
    assert {"tie", "person"} <= labels  # the detector's boxes prompted the masks
    for annotation in annotations:
        image = coco.loadImgs(annotation["image_id"])[0]
        mask = coco.annToMask(annotation)
        assert mask.shape == (image["height"], image["width"])
        assert int(mask.sum()) == annotation["area"]
        rows, columns = np.nonzero(mask)
        x, y, w, h = annotation["bbox"]
        assert np.all((columns >= np.floor(x)) & (columns < np.ceil(x + w)))
        assert np.all((rows >= np.floor(y)) & (rows < np.ceil(y + h)))
    assert sum(a["area"] for a in annotations) > 0
    folder = Path(result.json()["output_dir"])
    rows = [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]
    assert all("counts" in box["segmentation"] for row in rows for box in row["boxes"])
    assert load_dataset("imagefolder", data_dir=str(folder), split="train").num_rows == 2


def test_an_images_job_may_ask_for_masks_alone(gateway) -> None:
    """`mask` implies the boxes it is prompted by; the tiny model draws noise, so none are found."""
    with Client(gateway.target) as client:
        job = client.wait(client.submit(image_job("a red car", 1, steps=2, annotations=["mask"], seed=1)).id)
    assert job.counts.images_done == 1, job.error
    coco = COCO(str(Path(job.output_dir) / "annotations" / "instances.json"))
    assert len(coco.getImgIds()) == 1


def test_mask_without_a_segmenter_is_refused_at_submit(server_factory, gateway_factory, tmp_path) -> None:
    env = {
        "SYNTHMILL_IMAGE_MODELS": "tiny-sd",
        "SYNTHMILL_IMAGE_SCORER": "none",
        "SYNTHMILL_IMAGE_SEGMENTER": "none",
    }
    image = server_factory("image", env)
    gateway = gateway_factory(env={"SYNTHMILL_GATEWAY_IMAGE_TARGET": image.target})
    Image.new("RGB", (32, 32)).save(tmp_path / "a.png")
    with Client(gateway.target) as client:
        specs = {
            "images.params.annotations[1]": image_job("a red car", 1, annotations=["bbox", "mask"]),
            "annotate.annotations[0]": annotate_job(tmp_path, annotations=["mask"]),
        }
        for field, spec in specs.items():
            with pytest.raises(SynthmillError) as caught:
                client.submit(spec)
            assert caught.value.code.name == "INVALID_ARGUMENT"
            assert caught.value.details.startswith(f"{field}: 'mask' needs a segmenter"), caught.value.details
        client.submit(image_job("a red car", 1, steps=1, annotations=["bbox"]))  # boxes alone are fine
        assert len(client.list()) == 1  # nothing else was queued
