"""Images from images through the real stack (CLI → gateway → image server): the acceptance commands of
img2img, inpainting and ControlNet, and refusals at submit naming the field with nothing left on disk."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import matplotlib.cbook
import numpy as np
import pytest
from PIL import Image

pytestmark = [pytest.mark.e2e]


def _photo(path: Path, size: tuple[int, int] = (72, 56)) -> Path:
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as file:
        Image.open(file).convert("RGB").resize(size).save(path)
    return path


def _rows(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]


def test_img2img_makes_images_the_init_images_size_and_records_the_strength(gateway, cli, tmp_path):
    init = _photo(tmp_path / "in.png")
    result = cli(
        "images", "--prompt", "a portrait", "--init-image", str(init), "--strength", "0.5",
        "-n", "2", "--steps", "8", "--seed", "3", "--gateway", gateway.target, "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    folder = Path(result.json()["output_dir"])
    rows = _rows(folder)
    assert len(rows) == 2
    sha = hashlib.sha256(init.read_bytes()).hexdigest()
    for row in rows:
        assert Image.open(folder / row["file_name"]).size == (72, 56)
        assert (row["strength"], row["denoising_steps"], row["init_image_sha256"]) == (0.5, 4, sha)
    assert (folder / "inputs" / "init_image" / "in.png").read_bytes() == init.read_bytes()
    spec = json.loads((folder / "job.json").read_text())["spec"]["images"]
    assert spec["init_image"] == {"file_name": "in.png"}  # the bytes are in inputs/, not the spec


def test_inpainting_keeps_every_pixel_outside_the_mask(gateway, cli, tmp_path):
    init = _photo(tmp_path / "in.png")
    mask = Image.new("L", (72, 56), 0)
    mask.paste(255, (20, 10, 50, 40))
    mask.save(tmp_path / "m.png")
    result = cli(
        "images", "--prompt", "a hat", "--init-image", str(init), "--strength", "0.5", "--mask",
        str(tmp_path / "m.png"), "--mask-blur", "0", "-n", "2", "--steps", "8", "--seed", "3",
        "--gateway", gateway.target, "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    folder = Path(result.json()["output_dir"])
    outside = np.asarray(mask) == 0
    source = np.asarray(Image.open(init))
    for row in _rows(folder):
        out = np.asarray(Image.open(folder / row["file_name"]).convert("RGB"))
        assert np.array_equal(out[outside], source[outside])


def test_a_canny_control_image_is_saved_beside_each_output(gateway, cli, tmp_path):
    init = _photo(tmp_path / "in.png", (64, 64))
    result = cli(
        "images", "--prompt", "a portrait", "--control", f"canny:{init}", "-n", "2", "--steps", "2",
        "--gateway", gateway.target, "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    folder = Path(result.json()["output_dir"])
    for row in _rows(folder):
        [unit] = row["controls"]
        assert (unit["kind"], unit["model"], unit["scale"]) == ("canny", "tiny-controlnet", 1.0)
        edges = np.asarray(Image.open(folder / unit["control_image"]))
        assert set(np.unique(edges)) <= {0, 255} and edges.any()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--strength", "1.5"], "images.params.strength: 1.5 is not in (0, 1]"),
        (["--mask", "SMALL"], "images.mask.data: 32x32 differs from the init image's 72x56"),
        (["--init-image", "NOT_AN_IMAGE"], "images.init_image.data: not a PNG or JPEG image"),
        (["--control", "depth:IN"], "images.params.controls[0].kind: unknown kind 'depth'"),
    ],
)
def test_bad_input_is_refused_at_submit_naming_the_field_and_leaves_nothing(
    gateway, cli, tmp_path, flags, message
):
    init = _photo(tmp_path / "in.png")
    Image.new("L", (32, 32)).save(tmp_path / "small.png")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    paths = {"SMALL": str(tmp_path / "small.png"), "NOT_AN_IMAGE": str(tmp_path / "bad.png")}
    flags = [paths.get(f, f.replace("IN", str(init))) for f in flags]
    if "--init-image" not in flags:
        flags = ["--init-image", str(init), *flags]
    if "--strength" not in flags:
        flags += ["--strength", "0.5"]
    out = tmp_path / "out"
    result = cli("images", "--prompt", "a", *flags, "--gateway", gateway.target, "--json")
    assert result.code != 0
    assert message in result.stderr + result.stdout
    assert not [path for path in out.rglob("*") if path.suffix == ".png"]  # no job folder, no inputs
