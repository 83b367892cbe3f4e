"""Near-duplicates and diversity through the real stack: `synthmill images --dedup T`, the diversity
figures in stats.json, stats.html and job.json, and `dedup` refused at submit when it is out of range
or the image server has no scorer.

The embeddings are the embedded random-weight CLIP's, and the embedded diffusion model draws noise
that this CLIP sees as nearly the same picture (cosines about 0.99): at 0.99 most images are
near-duplicates, which exercises the re-renders and their bound. That real photographs and their
copies are told apart is tested on the server's embeddings (tests/labels/test_captions.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthmill.client import Client, image_job
from synthmill.client.errors import SynthmillError
from synthmill.gateway.run.dedup import dedup_seed

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def _rows(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]


def test_images_dedup_rerenders_near_copies_and_reports_diversity(gateway, cli) -> None:
    result = cli(
        "images", "--prompt", "a red car", "-n", "8", "--steps", "2", "--dedup", "0.99", "--seed", "5",
        "--gateway", gateway.target, "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    folder = Path(result.json()["output_dir"])
    figures = json.loads((folder / "stats.json").read_text())["images"]["diversity"]
    assert figures["images"] == 8
    assert 1.0 <= figures["vendi_score"] <= 8.0
    assert 0.0 <= figures["mean_pairwise_distance"] <= 2.0
    rows = _rows(folder)
    retries = [row.get("dedup_retries", 0) for row in rows]
    assert figures["rerendered"] == sum(retries) > 0
    assert max(retries) <= 3  # the gateway's dedup_retries
    for index, (row, retry) in enumerate(zip(rows, retries, strict=True)):
        assert row["seed"] == dedup_seed(5 + index, retry)  # reproducible from (seed, index, retries)
        assert row.get("near_duplicate_of", -1) < index
        if "near_duplicate_of" in row:
            assert retry == 3  # left a near-duplicate only once its retries are spent
    assert figures["near_duplicates"] == sum("near_duplicate_of" in row for row in rows)
    assert rows[0].get("dedup_retries") is None  # the first image has nothing to copy
    job = json.loads((folder / "job.json").read_text())
    assert job["diversity"] == pytest.approx(figures)
    assert "Vendi score" in (folder / "stats.html").read_text()
    # The same job again makes the same decisions, whatever order its images arrived in.
    again = cli(
        "images", "--prompt", "a red car", "-n", "8", "--steps", "2", "--dedup", "0.99", "--seed", "5",
        "--gateway", gateway.target, "--json",
    )  # fmt: skip
    assert [(r["seed"], r.get("near_duplicate_of")) for r in _rows(Path(again.json()["output_dir"]))] == [
        (r["seed"], r.get("near_duplicate_of")) for r in rows
    ]


def test_a_job_without_dedup_still_reports_diversity(gateway) -> None:
    with Client(gateway.target) as client:
        job = client.wait(client.submit(image_job("a cat", 3, steps=2, seed=1)).id)
    assert job.diversity.images == 3 and job.diversity.rerendered == 0
    assert job.diversity.near_duplicates == 0
    rows = _rows(Path(job.output_dir))
    assert [row["seed"] for row in rows] == [1, 2, 3]


def test_dedup_is_refused_out_of_range_or_without_a_scorer(server_factory, gateway_factory, gateway) -> None:
    with Client(gateway.target) as client:
        for bad in (1.5, -0.1, float("nan")):
            with pytest.raises(SynthmillError) as caught:
                client.submit(image_job("a cat", 1, dedup=bad))
            assert caught.value.code.name == "INVALID_ARGUMENT"
            assert caught.value.details.startswith("images.dedup: "), caught.value.details
    env = {
        "SYNTHMILL_IMAGE_MODELS": "tiny-sd",
        "SYNTHMILL_IMAGE_SCORER": "none",
        "SYNTHMILL_IMAGE_CAPTIONER": "none",
    }
    bare = gateway_factory(env={"SYNTHMILL_GATEWAY_IMAGE_TARGET": server_factory("image", env).target})
    with Client(bare.target) as client:
        with pytest.raises(SynthmillError) as caught:
            client.submit(image_job("a cat", 1, dedup=0.9))
        assert caught.value.details.startswith("images.dedup: needs a scorer"), caught.value.details
        job = client.wait(client.submit(image_job("a cat", 1, steps=1)).id)
        assert job.counts.images_done == 1 and not job.HasField("diversity")
