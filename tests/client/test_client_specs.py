"""The flag → JobSpec mapping and the Python builders, without servers."""

from __future__ import annotations

import json

import pytest

from synthmill.client import image_job, text_job, unified_job
from synthmill.client.cli import build_parser
from synthmill.client.specs import SpecError, parse_axis, parse_size, read_captions, spec_from_args
from synthmill.v1 import common_pb2


def spec(*argv: str):
    return spec_from_args(build_parser().parse_args(list(argv)))


def test_images_flags_map_onto_the_spec():
    s = spec(
        "images", "--prompt", "a {lighting} room", "another", "-n", "8", "--negative", "blurry", "--size", "512x768",
        "--steps", "20", "--cfg", "6.5", "--scheduler", "Euler a", "--seed", "42", "--model", "tiny-sd",
        "--vary", "lighting=day,night", "--vary", "angle=top, side",
    )  # fmt: skip
    assert s.WhichOneof("kind") == "images"
    assert s.seed == 42
    img = s.images
    assert list(img.prompts) == ["a {lighting} room", "another"]
    assert img.count == 8
    p = img.params
    assert (p.width, p.height, p.steps, p.scheduler, p.model, p.negative_prompt) == (
        512, 768, 20, "Euler a", "tiny-sd", "blurry",
    )  # fmt: skip
    assert p.HasField("guidance") and p.guidance == pytest.approx(6.5)
    assert [(a.name, list(a.values)) for a in img.axes] == [
        ("lighting", ["day", "night"]),
        ("angle", ["top", "side"]),
    ]


def test_unset_flags_leave_server_defaults():
    s = spec("images", "--prompt", "x")
    assert not s.HasField("seed")
    assert s.images.count == 0
    p = s.images.params
    assert (p.width, p.height, p.steps, p.model, p.scheduler) == (0, 0, 0, "", "")
    assert not p.HasField("guidance")


def test_size_is_parsed_but_not_validated_locally():
    assert parse_size("100x64") == (100, 64)  # not a multiple of 8: the server says so
    assert parse_size("256") == (256, 256)
    with pytest.raises(SpecError, match="--size"):
        parse_size("big")
    assert spec("images", "--prompt", "x", "--size", "100x64").images.params.width == 100


def test_axis_parsing():
    assert parse_axis("weather=fog, rain ,") == ("weather", ["fog", "rain"])
    with pytest.raises(SpecError, match="--vary"):
        parse_axis("novalues")


def test_text_flags_and_schema_file(tmp_path):
    schema = {"customer_name": "string", "age": "int", "order_value": "float"}
    s = spec("text", "--schema", json.dumps(schema), "-n", "5", "--format", "parquet", "--seed", "3",
             "--instructions", "German shop", "--model", "tiny-llama")  # fmt: skip
    assert json.loads(s.text.schema_json) == schema
    assert (s.text.count, s.text.format, s.text.instructions, s.text.model, s.seed) == (
        5, common_pb2.ROW_FORMAT_PARQUET, "German shop", "tiny-llama", 3,
    )  # fmt: skip
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(schema))
    assert json.loads(spec("text", "--schema", f"@{path}", "-n", "1").text.schema_json) == schema
    assert spec("text", "--schema", "{}", "-n", "1").text.format == common_pb2.ROW_FORMAT_JSONL


def test_schema_reading_errors(tmp_path):
    with pytest.raises(SpecError, match="cannot read"):
        spec("text", "--schema", f"@{tmp_path / 'missing.json'}", "-n", "1")
    with pytest.raises(SpecError, match="not JSON"):
        spec("text", "--schema", "{age: int}", "-n", "1")


def test_prompts_file_and_expand(tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_text("first prompt\n\n  second prompt  \n")
    assert list(spec("images", "--prompts-file", str(path)).images.prompts) == [
        "first prompt",
        "second prompt",
    ]
    s = spec("images", "--expand", "floorplans of small flats", "-n", "4")
    assert (s.images.expand_topic, s.images.count, list(s.images.prompts)) == (
        "floorplans of small flats",
        4,
        [],
    )


def test_captions_file(tmp_path):
    path = tmp_path / "captions.json"
    path.write_text(json.dumps([{"id": 1, "caption": "a white bus"}, {"id": "b", "caption": "a brown dog"}]))
    s = spec("images", "--captions", str(path))
    assert [(c.id, c.caption) for c in s.images.captions] == [("1", "a white bus"), ("b", "a brown dog")]
    # Semantics (empty captions, missing ids) are the server's to judge.
    path.write_text(json.dumps([{"caption": ""}]))
    assert [(c.id, c.caption) for c in read_captions(path)] == [("", "")]


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read"), ("[{'id': 1}]", "not JSON"), ('{"id": 1}', "JSON list"), ("[1, 2]", "JSON list")],
)
def test_captions_reading_errors(tmp_path, content, message):
    path = tmp_path / "captions.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SpecError, match=message):
        spec("images", "--captions", str(path))


def test_unified_flags():
    s = spec("unified", "--schema", '{"product": "string"}', "-n", "3", "--prompt-template", "A photo of {product}",
             "--images-per-row", "2", "--size", "64x64", "--model", "tiny-sd", "--text-model", "tiny-llama",
             "--format", "csv", "--seed", "9")  # fmt: skip
    u = s.unified
    assert (u.rows.count, u.rows.model, u.rows.format) == (3, "tiny-llama", common_pb2.ROW_FORMAT_CSV)
    assert (u.prompt_template, u.images_per_row, u.params.model, u.params.width, s.seed) == (
        "A photo of {product}", 2, "tiny-sd", 64, 9,
    )  # fmt: skip
    fixed = spec("unified", "--schema", "{}", "-n", "2", "--prompt", "a", "b").unified
    assert list(fixed.prompts) == ["a", "b"] and fixed.prompt_template == ""


def test_parser_requires_one_prompt_source():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["images", "-n", "2"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["images", "--prompt", "a", "--expand", "b"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["text", "--schema", "{}"])


def test_python_builders():
    s = text_job({"age": "int"}, 10, format="csv", seed=1)
    assert json.loads(s.text.schema_json) == {"age": "int"} and s.text.format == common_pb2.ROW_FORMAT_CSV
    s = image_job("a {x}", 4, size="64x64", guidance=7.0, vary={"x": ["a", "b"]},
                  captions=[{"id": 1, "caption": "c"}])  # fmt: skip
    assert (
        list(s.images.prompts) == ["a {x}"] and s.images.params.width == 64 and s.images.axes[0].name == "x"
    )
    assert not s.HasField("seed")
    s = unified_job({"p": "string"}, 2, prompt_template="{p}", images_per_row=3, size=(64, 128), seed=0)
    assert s.HasField("seed") and s.seed == 0 and s.unified.params.height == 128
    with pytest.raises(SpecError, match="--format"):
        text_job({}, 1, format="xml")
