"""Saved styles from an A1111 styles.csv: loading, merging as the WebUI does, and rewriting a spec."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthmill.common.errors import InvalidArgument
from synthmill.gateway.kinds import apply_styles as apply_to_spec
from synthmill.gateway.styles import Styles, merge, styled
from synthmill.v1 import common_pb2
from synthmill.v1 import gateway_pb2 as pb

CSV = (
    "\ufeffname,prompt,negative_prompt,extra\n"  # the WebUI writes a BOM; unknown columns are ignored
    'blueprint,"blueprint of {prompt}, (white lines:1.2)","colors, shading",x\n'
    "sharp,highly detailed,blurry,\n"
    ",orphan row without a name,,\n"
)


@pytest.fixture
def styles(tmp_path: Path) -> Styles:
    path = tmp_path / "styles.csv"
    path.write_text(CSV, encoding="utf-8")
    return Styles.load(path)


def test_a1111_csv_loads_in_file_order(styles: Styles) -> None:
    assert [(s.name, s.prompt, s.negative_prompt) for s in styles.listed()] == [
        ("blueprint", "blueprint of {prompt}, (white lines:1.2)", "colors, shading"),
        ("sharp", "highly detailed", "blurry"),
    ]
    assert Styles.load(None).listed() == []


@pytest.mark.parametrize(
    ("style", "prompt", "expected"),
    [
        ("photo of {prompt}, 4k", "a cat", "photo of a cat, 4k"),
        ("4k", "a cat", "a cat, 4k"),
        ("4k", "", "4k"),
        ("", "a cat", "a cat"),
        ("  4k ", " a cat ", "a cat, 4k"),
    ],
)
def test_merge_inserts_at_the_marker_or_appends(style: str, prompt: str, expected: str) -> None:
    assert merge(style, prompt) == expected


def test_styles_apply_in_order_each_to_the_result_of_the_one_before(styles: Styles) -> None:
    chosen = styles.resolve(["blueprint", "sharp"], "p")
    assert styled("a house", chosen) == "blueprint of a house, (white lines:1.2), highly detailed"
    assert styled("", chosen, "negative_prompt") == "colors, shading, blurry"


def test_unknown_style_lists_the_known_ones(styles: Styles) -> None:
    with pytest.raises(InvalidArgument) as err:
        styles.resolve(["sharp", "neon"], "images.params.styles")
    assert str(err.value) == "images.params.styles[1]: unknown style 'neon'; known styles: blueprint, sharp"
    with pytest.raises(InvalidArgument, match="known styles: none"):
        Styles().resolve(["neon"], "p")


def test_a_spec_is_rewritten_with_its_styles(styles: Styles) -> None:
    params = common_pb2.ImageParams(negative_prompt="text", styles=["blueprint"])
    images = pb.JobSpec(images=pb.ImageJobSpec(prompts=["a {room}"], params=params))
    apply_to_spec(images, styles)
    assert list(images.images.prompts) == ["blueprint of a {room}, (white lines:1.2)"]
    assert images.images.params.negative_prompt == "text, colors, shading"
    assert list(images.images.params.styles) == ["blueprint"]  # kept, for the record

    captions = pb.JobSpec(
        images=pb.ImageJobSpec(captions=[pb.Caption(id="1", caption="a hall")], params=params)
    )
    apply_to_spec(captions, styles)
    assert captions.images.captions[0].caption == "blueprint of a hall, (white lines:1.2)"

    unified = pb.JobSpec(unified=pb.UnifiedJobSpec(prompt_template="a {product}", params=params))
    apply_to_spec(unified, styles)
    assert unified.unified.prompt_template == "blueprint of a {product}, (white lines:1.2)"
