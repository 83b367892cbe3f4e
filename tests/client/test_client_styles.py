"""Styles through the CLI and a real gateway: listed, applied to prompts, recorded, unknown refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

CSV = 'name,prompt,negative_prompt\nblueprint,"blueprint of {prompt}",colors\nsharp,(sharp:1.2),blurry\n'


@pytest.fixture
def styled_gateway(gateway_factory, tmp_path: Path):
    path = tmp_path / "styles.csv"
    path.write_text(CSV)
    return gateway_factory({"SYNTHMILL_GATEWAY_STYLES": str(path)})


def test_styles_are_listed_applied_and_recorded(cli, styled_gateway):
    listed = cli("styles", "--gateway", styled_gateway.target, "--json")
    assert listed.code == 0, listed.stderr
    assert [s["name"] for s in listed.json()["styles"]] == ["blueprint", "sharp"]

    r = cli("images", "--gateway", styled_gateway.target, "--prompt", "a (red:1.6) barn", "--negative", "text",
            "--style", "blueprint", "--style", "sharp", "--size", "64x64", "--steps", "2", "--json")  # fmt: skip
    assert r.code == 0, r.stderr
    folder = Path(r.json()["output_dir"])
    meta = json.loads((folder / "metadata.jsonl").read_text().splitlines()[0])
    assert meta["prompt"] == "blueprint of a (red:1.6) barn, (sharp:1.2)"
    assert meta["negative_prompt"] == "text, colors, blurry"
    assert meta["styles"] == ["blueprint", "sharp"]
    parameters = Image.open(folder / meta["file_name"]).text["parameters"]
    assert parameters.startswith(
        "blueprint of a (red:1.6) barn, (sharp:1.2)\nNegative prompt: text, colors, blurry\n"
    )


def test_unknown_style_exits_nonzero_listing_the_known_ones(cli, styled_gateway):
    r = cli("images", "--gateway", styled_gateway.target, "--prompt", "a barn", "--style", "neon", "--json")
    assert r.code == 1
    assert r.json()["code"] == "INVALID_ARGUMENT"
    assert "images.params.styles[0]: unknown style 'neon'; known styles: blueprint, sharp" in r.stderr
