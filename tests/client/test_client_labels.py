"""Scores, best-of-N, COCO boxes and `synthmill annotate` through the real stack (tiny servers), and
every bad judging input refused by the gateway at submit."""

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
from synthmill.v1 import common_pb2

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture(scope="module")
def captions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("captions") / "caps.json"
    path.write_text(json.dumps([{"id": 1, "caption": "a red car"}, {"id": 2, "caption": "a cat at night"}]))
    return path


def _rows(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]


def test_best_of_with_boxes_makes_a_scored_labelled_dataset(gateway, cli, captions: Path) -> None:
    args = ["images", "--captions", str(captions), "--best-of", "4", "--annotate", "bbox", "--steps", "2"]
    args += ["--seed", "5", "--keep-candidates", "--min-score", "30", "--gateway", gateway.target, "--json"]
    first = cli(*args)
    assert first.code == 0, first.stderr
    folder = Path(first.json()["output_dir"])
    rows = _rows(folder)
    assert [row["caption_id"] for row in rows] == ["1", "2"]
    for row in rows:
        numbers = [c["number"] for c in row["candidates"]]
        assert numbers[:4] == [0, 1, 2, 3] and len(numbers) in (4, 8, 12)  # min_score adds rounds of 4
        kept = row["candidates"][row["candidate"]]
        assert (kept["seed"], kept["score"], kept["file_name"]) == (row["seed"], row["score"], None)
        assert row["score"] == max(c["score"] for c in row["candidates"])
        for c in row["candidates"]:
            if c["number"] != row["candidate"]:
                assert (folder / c["file_name"]).is_file()
        assert row["boxes"] == []  # the tiny model draws noise: nothing to find
        parameters = Image.open(folder / row["file_name"]).text["parameters"]
        assert f"CLIPScore: {row['score']:.2f}, Best of: 4, Candidate: {row['candidate']}" in parameters
    summary = first.json()["score"]
    assert summary["count"] == 2 and summary["min"] == min(row["score"] for row in rows)
    job = json.loads((folder / "job.json").read_text())
    assert job["score"]["mean"] == pytest.approx(sum(r["score"] for r in rows) / 2, abs=1e-3)
    coco = COCO(str(folder / "annotations" / "instances.json"))
    assert len(coco.getImgIds()) == 2 and coco.loadCats(1)[0]["name"] == "person"
    dataset = load_dataset("imagefolder", data_dir=str(folder), split="train")
    assert dataset.num_rows == 2 and "score" in dataset.column_names

    # The same job again gives the same winners and seeds.
    again = cli(*args)
    assert again.code == 0, again.stderr
    second = _rows(Path(again.json()["output_dir"]))
    assert [(r["candidate"], r["seed"]) for r in second] == [(r["candidate"], r["seed"]) for r in rows]
    # Scores match up to float noise from the batch shape (winners are picked at two decimals).
    assert [r["score"] for r in second] == pytest.approx([r["score"] for r in rows], abs=0.05)


def test_progress_reports_scoring_selection_and_detection(gateway) -> None:
    with Client(gateway.target) as client:
        job = client.submit(image_job("a red car", 1, steps=2, best_of=2, annotations=["bbox"], seed=1))
        events = []
        client.wait(job.id, on_event=events.append)
    phases = [e.step.phase for e in events if e.WhichOneof("event") == "step"]
    judged = [p for p in phases if p != common_pb2.PHASE_DENOISING]
    assert judged == [common_pb2.PHASE_SCORING, common_pb2.PHASE_SELECTING, common_pb2.PHASE_DETECTING]
    assert phases.index(common_pb2.PHASE_SCORING) == len(phases) - 3  # after every denoising step


def test_annotate_labels_a_folder_of_real_photographs(gateway, cli, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), photos / "hopper.jpg")
    Image.fromarray(np.asarray(data.camera())).save(photos / "camera.png")
    result = cli("annotate", str(photos), "--gateway", gateway.target, "--json")
    assert result.code == 0, result.stderr
    coco = COCO(str(photos / "annotations" / "instances.json"))
    names = {image["file_name"]: image["id"] for image in coco.loadImgs(coco.getImgIds())}
    assert set(names) == {"hopper.jpg", "camera.png"}
    assert (photos / "hopper.jpg").is_file()  # file names are relative to the folder

    def best(file_name: str) -> tuple[str, float]:
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[names[file_name]]))
        top = max(anns, key=lambda ann: ann["score"])
        return coco.loadCats(top["category_id"])[0]["name"], top["score"]

    assert best("hopper.jpg")[0] == "tie" and best("hopper.jpg")[1] == pytest.approx(0.87, abs=0.01)
    assert best("camera.png")[0] == "person"
    folder = Path(result.json()["output_dir"])  # the job folder is an imagefolder dataset as well
    assert load_dataset("imagefolder", data_dir=str(folder), split="train").num_rows == 2


BAD_INPUT = [
    ({"best_of": 0}, "images.params.best_of"),
    ({"best_of": 99}, "images.params.best_of"),
    ({"annotations": ["polygon"]}, "images.params.annotations[0]"),
    ({"annotations": ["bbox"], "labels": ["wall", "door"]}, "images.params.labels"),
    ({"min_score": 101.0}, "images.params.min_score"),
    ({"min_score": -5.0}, "images.params.min_score"),
]


def test_bad_judging_input_is_refused_at_submit(gateway) -> None:
    """Checked against the image server's GetInfo: max_best_of 8, bbox only, no open-vocabulary detector."""
    with Client(gateway.target) as client:
        for params, field in BAD_INPUT:
            with pytest.raises(SynthmillError) as caught:
                client.submit(image_job("a red car", 1, **params))
            assert caught.value.code.name == "INVALID_ARGUMENT", params
            assert caught.value.details.startswith(f"{field}:"), caught.value.details
        assert not client.list()  # nothing was queued
