"""`synthmill evaluate DIR --reference REF`: FD-CLIP, KID, precision and recall between two folders of
real photographs, on the image server's CLIP image embeddings (the embedded random-weight CLIP), and
the statistics themselves against their definitions on known Gaussians."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from synthmill.client.evaluate import frechet_distance, kernel_distance, precision_recall

PHOTOS = {
    "a": ("astronaut", "camera", "coffee", "chelsea"),
    "b": ("rocket", "coins", "horse", "page", "moon"),
}


def _folder(root: Path, name: str) -> Path:
    folder = root / name
    folder.mkdir()
    for photo in PHOTOS[name]:
        pixels = np.asarray(getattr(data, photo)())
        Image.fromarray(pixels if pixels.dtype == np.uint8 else (pixels * 255).astype(np.uint8)).save(
            folder / f"{photo}.png"
        )
    return folder


@pytest.mark.e2e
def test_evaluate_prints_fd_clip_and_kid(gateway, cli, tmp_path: Path) -> None:
    a, b = _folder(tmp_path, "a"), _folder(tmp_path, "b")
    result = cli("evaluate", str(a), "--reference", str(b), "--gateway", gateway.target, "--json")
    assert result.code == 0, result.stderr
    out = result.json()
    assert out["fd_clip"] > 0 and "kid" in out
    assert (out["images"], out["reference_images"], out["feature_dims"]) == (4, 5, 32)
    assert out["fd_dims"] == 3  # 4 images in 32 dimensions: FD on the 3 leading principal axes
    assert 0 <= out["precision"] <= 1 and 0 <= out["recall"] <= 1
    same = cli("evaluate", str(a), "--reference", str(a), "--gateway", gateway.target, "--json").json()
    assert same["fd_clip"] == pytest.approx(0, abs=1e-6)
    assert same["precision"] == same["recall"] == 1.0
    assert same["fd_clip"] < out["fd_clip"]


@pytest.mark.e2e
def test_evaluate_refuses_empty_and_single_image_folders(gateway, cli, tmp_path: Path) -> None:
    a = _folder(tmp_path, "a")
    (tmp_path / "empty").mkdir()
    result = cli("evaluate", str(tmp_path / "empty"), "--reference", str(a), "--gateway", gateway.target)
    assert result.code == 2 and "no .png, .jpg or .jpeg images" in result.stderr
    (tmp_path / "one").mkdir()
    Image.fromarray(np.asarray(data.camera())).save(tmp_path / "one" / "camera.png")
    result = cli("evaluate", str(tmp_path / "one"), "--reference", str(a), "--gateway", gateway.target)
    assert result.code == 2 and "DIR has 1 image; the statistics need at least 2" in result.stderr


def test_frechet_distance_of_shifted_gaussians_is_the_squared_shift() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20_000, 4))
    b = rng.normal(size=(20_000, 4)) + np.array([1.0, 2.0, 0.0, 0.0])
    fd, dims = frechet_distance(a, b)
    assert dims == 4 and fd == pytest.approx(5.0, abs=0.1)
    scaled, _ = frechet_distance(a, 2 * rng.normal(size=(20_000, 4)))
    assert scaled == pytest.approx(4 * (1 + 4 - 2 * 2), abs=0.15)  # tr(I) + tr(4I) - 2 tr(2I)


def test_kid_is_near_zero_for_one_distribution_and_not_for_two() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(300, 8)), rng.normal(size=(300, 8))
    same, _ = kernel_distance(a, b)
    apart, _ = kernel_distance(a, b + 1.0)
    assert abs(same) < 0.05 < apart


def test_precision_and_recall_tell_collapse_from_coverage() -> None:
    rng = np.random.default_rng(2)
    reference = rng.normal(size=(400, 2))
    collapsed = rng.normal(size=(400, 2)) * 0.1  # inside the reference, covering little of it
    precision, recall, k = precision_recall(collapsed, reference)
    assert k == 3 and precision > 0.95 and recall < 0.5
