"""Prompt planning: balanced axis coverage, placeholders, seeds."""

from collections import Counter

import pytest

from synthmill.gateway.outputs.records import ImageRecord
from synthmill.gateway.run.plan import fill, plan_images, plan_row_images
from synthmill.v1 import gateway_pb2 as pb


def _axes(**values: list[str]) -> list[pb.Axis]:
    return [pb.Axis(name=name, values=v) for name, v in values.items()]


@pytest.mark.parametrize("count", [1, 5, 7, 8, 10, 23])
def test_axis_combinations_are_balanced_within_one_for_any_count(count: int) -> None:
    spec = pb.ImageJobSpec(
        prompts=["a {lighting} street, {view} view"],
        axes=_axes(lighting=["day", "night", "fog", "rain"], view=["top", "iso"]),
        count=count,
    )
    plans = plan_images(spec, list(spec.prompts), seed=100)
    combos = Counter((p.extra["lighting"], p.extra["view"]) for p in plans)
    assert len(plans) == count
    expected_seen = min(count, 8)
    assert len(combos) == expected_seen
    assert max(combos.values()) - min(combos.values()) <= 1
    lighting = Counter(p.extra["lighting"] for p in plans)
    assert max(lighting.values()) - min(lighting.values()) <= 1


def test_items_get_base_seed_plus_index_and_filled_prompts() -> None:
    spec = pb.ImageJobSpec(
        prompts=["a {lighting} room", "a {lighting} hall"], axes=_axes(lighting=["day", "night"])
    )
    plans = plan_images(spec, list(spec.prompts), seed=7)
    assert [p.seed for p in plans] == [7, 8, 9, 10]
    assert [p.prompt for p in plans] == ["a day room", "a night room", "a day hall", "a night hall"]


def test_captions_keep_their_id_and_cycle() -> None:
    spec = pb.ImageJobSpec(
        captions=[pb.Caption(id="1", caption="a bus"), pb.Caption(id="2", caption="a dog")], count=4
    )
    plans = plan_images(spec, ["a bus", "a dog"], seed=0)
    assert [(p.prompt, p.extra["caption_id"]) for p in plans] == [
        ("a bus", "1"),
        ("a dog", "2"),
        ("a bus", "1"),
        ("a dog", "2"),
    ]


def test_row_images_fill_the_template_from_the_row_and_link_back() -> None:
    spec = pb.UnifiedJobSpec(prompt_template="A photo of {product}, {color}", images_per_row=2)
    plans = plan_row_images(spec, 3, {"product": "mug", "color": "red"}, seed=10)
    assert [p.index for p in plans] == [6, 7]
    assert [p.seed for p in plans] == [16, 17]
    assert {p.prompt for p in plans} == {"A photo of mug, red"}
    assert all(p.extra["row_index"] == 3 for p in plans)


def test_fill_leaves_unknown_braces_alone() -> None:
    assert fill("{a} and {b} and {not valid}", {"a": 1}) == "1 and {b} and {not valid}"


def test_row_values_are_filled_in_as_literal_text() -> None:
    spec = pb.UnifiedJobSpec(prompt_template="(a {product}:1.2) on white")
    plans = plan_row_images(spec, 0, {"product": "hat (large)"}, seed=1)
    assert plans[0].prompt == r"(a hat \(large\):1.2) on white"


def test_recorded_fields_never_overwrite_the_images_own() -> None:
    spec = pb.UnifiedJobSpec(prompt_template="{seed} {model}", axes=_axes(seed=["x"]))
    [plan] = plan_row_images(spec, 2, {"model": "roadster", "device": "lathe", "price": 3}, seed=1)
    record = ImageRecord("images/00002.png", 8, 8, seed=5, model="tiny-sd", device="cpu")
    meta = ImageRecord(**{**vars(record), "extra": plan.extra, "row": plan.row}).to_json()
    assert ImageRecord.from_json(meta).to_json() == meta  # read back from metadata.jsonl, the same record
    assert meta == {
        "file_name": "images/00002.png",
        "seed": 5,
        "width": 8,
        "height": 8,
        "model": "tiny-sd",
        "device": "cpu",
        "axis_seed": "x",
        "row_index": 2,
        "row_model": "roadster",
        "row_device": "lathe",
        "price": 3,
    }
