"""`synthmill images --from-captions-of DIR -n K` (SynthVLM's flow) through the real stack, on real
photographs: a caption job, then K images per caption, each scored against its caption by best-of
and linked to its source picture. The embedded captioner and scorer have random weights: what is
checked is the flow and the links, not what the captions say."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import matplotlib.cbook
import numpy as np
import pytest
from PIL import Image
from skimage import data

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def test_from_captions_of_renders_k_per_caption_linked_to_their_source(gateway, cli, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), photos / "hopper.jpg")
    Image.fromarray(np.asarray(data.camera())).save(photos / "camera.png")
    result = cli(
        "images", "--from-captions-of", str(photos), "-n", "2", "--best-of", "2", "--steps", "2",
        "--seed", "11", "--gateway", gateway.target, "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    out = result.json()
    assert out["images_done"] == 4
    rows = [
        json.loads(line) for line in (Path(out["output_dir"]) / "metadata.jsonl").read_text().splitlines()
    ]
    assert Counter(row["caption_id"] for row in rows) == {"hopper.jpg": 2, "camera.png": 2}
    # The prompts are the captions the caption job wrote for those very pictures.
    caption_jobs = [
        p for p in Path(out["output_dir"]).parent.iterdir() if (p / "annotations" / "captions.json").exists()
    ]
    [caption_job] = [p for p in caption_jobs if p.name != Path(out["output_dir"]).name]
    written = {
        row["file_name"].removeprefix("images/"): row["caption"]
        for row in map(json.loads, (caption_job / "metadata.jsonl").read_text().splitlines())
    }
    assert all(row["prompt"] == written[row["caption_id"]] for row in rows)
    # Best-of scored two candidates of each against its caption and kept the better.
    assert all(
        len(row["candidates"]) == 2 and row["score"] == max(c["score"] for c in row["candidates"])
        for row in rows
    )
    assert [row["candidates"][0]["seed"] for row in rows] == [11, 12, 13, 14]  # seed + index


def test_from_captions_of_an_empty_folder_fails_before_any_job(gateway, cli, tmp_path: Path) -> None:
    result = cli("images", "--from-captions-of", str(tmp_path), "-n", "2", "--gateway", gateway.target)
    assert result.code == 2
    assert "no .png, .jpg or .jpeg images" in result.stderr
