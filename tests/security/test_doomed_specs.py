"""Specs whose own text dooms them are refused at submit, naming the field and the limit: seeds whose
seed + index would pass int64, more rows than the schema has distinct rows, and (test_row_floor) a
token budget under the shortest valid row. Then a near-valid
fuzz (hypothesis, derandomized): valid specs with one or two fields mutated, each submitted to a real
gateway over the tiny servers, must be refused at submit or complete."""

from __future__ import annotations

import json

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthmill.client import Client, SynthmillError
from synthmill.common.errors import InvalidArgument
from synthmill.common.schema import INT64_MAX, parse_schema
from synthmill.common.schema.capacity import check_capacity, row_capacity
from synthmill.gateway.kinds import ServerInfo, validate_spec
from synthmill.gateway.settings import GatewaySettings
from synthmill.v1 import common_pb2
from synthmill.v1 import gateway_pb2 as pb

SETTINGS = GatewaySettings()


def text(schema: dict, count: int, seed: int | None = None, budget: int = 0) -> pb.JobSpec:
    sampling = common_pb2.SamplingParams(max_new_tokens=budget)
    spec = pb.JobSpec(text=pb.TextJobSpec(schema_json=json.dumps(schema), count=count, sampling=sampling))
    if seed is not None:
        spec.seed = seed
    return spec


def refusal(spec: pb.JobSpec) -> str:
    with pytest.raises(InvalidArgument) as refused:
        validate_spec(spec, SETTINGS, ServerInfo())
    return str(refused.value)


def test_fifty_rows_of_a_two_value_enum_are_refused_naming_the_limit() -> None:
    message = refusal(text({"color": {"type": "enum", "choices": ["red", "blue"]}}, 50))
    assert message.startswith("text.count") and "2 distinct rows" in message
    validate_spec(text({"color": {"type": "enum", "choices": ["red", "blue"]}}, 2), SETTINGS, ServerInfo())


@pytest.mark.parametrize(
    ("schema", "count", "capacity"),
    [
        ({"n": {"type": "int", "minimum": 5, "maximum": 5}}, 2, 1),
        ({"n": {"type": "int", "minimum": 5, "maximum": 5, "nullable": True}}, 3, 2),
        ({"b": "bool", "c": ["x", "y", "z"]}, 7, 6),
    ],
)
def test_finite_schemas_have_a_capacity(schema: dict, count: int, capacity: int) -> None:
    assert row_capacity(parse_schema(schema)) == capacity
    assert f"the {capacity} distinct rows" in refusal(text(schema, count))
    validate_spec(text(schema, capacity), SETTINGS, ServerInfo())


def test_a_unique_field_bounds_the_count_even_beside_free_fields() -> None:
    schema = {"name": "string", "tier": {"type": "enum", "choices": ["a", "b"], "unique": True}}
    assert row_capacity(parse_schema(schema)) is None  # the string is unbounded
    assert "unique 'tier'; it has 2" in refusal(text(schema, 3))
    nullable = {
        "name": "string",
        "tier": {"type": "enum", "choices": ["a"], "unique": True, "nullable": True},
    }
    check_capacity(parse_schema(nullable), 9, "text.count")  # nulls may repeat in a unique field


def test_a_seed_whose_last_item_passes_int64_is_refused() -> None:
    message = refusal(text({"a": "string"}, 3, seed=INT64_MAX))
    assert message.startswith("spec.seed") and f"largest seed for this job is {INT64_MAX - 2}" in message
    validate_spec(text({"a": "string"}, 3, seed=INT64_MAX - 2), SETTINGS, ServerInfo())
    images = pb.JobSpec(seed=INT64_MAX - 1, images=pb.ImageJobSpec(prompts=["x"], count=3))
    assert refusal(images).startswith("spec.seed")


# ------------------------------------------------------------------------------------------ the fuzz

SCHEMA = {
    "name": "string",
    "age": {"type": "int", "minimum": 18, "maximum": 90},
    "color": {"type": "enum", "choices": ["red", "blue"]},
}
SEEDS = st.sampled_from([0, 7, 2**31, INT64_MAX, INT64_MAX - 1, INT64_MAX - 5, -1, -2])
COUNTS = st.sampled_from([0, 1, 2, 3, 5, 200_000])
FIELD_MUTATIONS = st.sampled_from(
    [
        ("age", {"type": "int", "minimum": 5, "maximum": 5}),
        ("age", {"type": "int", "minimum": 9, "maximum": 3}),
        ("age", {"type": "int", "minimum": 0, "maximum": INT64_MAX}),
        ("color", {"type": "enum", "choices": ["red"]}),
        ("color", {"type": "enum", "choices": []}),
        ("color", {"type": "enum", "choices": ["red", "blue"], "unique": True}),
        ("name", ["x"]),
        ("name", {"type": "string", "min_length": 3, "max_length": 2}),
        ("name", {"type": "bool"}),
        ("name", "uuid"),
    ]
)


@st.composite
def near_valid_text(draw: st.DrawFn) -> pb.JobSpec:
    schema, count, seed, budget = dict(SCHEMA), 2, None, 0
    mutations = st.sampled_from(["seed", "count", "field", "budget"])
    for mutation in draw(st.lists(mutations, min_size=1, max_size=2)):
        if mutation == "budget":  # under any row (a budget above the floor may still be too small)
            budget = draw(st.sampled_from([1, 2]))
        elif mutation == "seed":
            seed = draw(SEEDS)
        elif mutation == "count":
            count = draw(COUNTS)
        else:
            name, value = draw(FIELD_MUTATIONS)
            schema[name] = value
    return text(schema, count, seed, budget)


@st.composite
def near_valid_images(draw: st.DrawFn) -> pb.JobSpec:
    params = {"width": 64, "height": 64, "steps": 2}
    count, seed, prompts = 2, None, ["a red door"]
    for mutation in draw(
        st.lists(st.sampled_from(["seed", "count", "size", "steps", "prompt"]), min_size=1, max_size=2)
    ):
        if mutation == "seed":
            seed = draw(SEEDS)
        elif mutation == "count":
            count = draw(st.sampled_from([0, 1, 3, 100_000]))
        elif mutation == "size":
            params["width"] = draw(st.sampled_from([0, 8, 60, 64, 72, 100_000]))
        elif mutation == "steps":
            params["steps"] = draw(st.sampled_from([0, 1, 3, 100_000]))
        else:
            prompts = [draw(st.sampled_from(["", " ", "a (door", "a {axis} door", "x" * 10_000, "a door"]))]
    spec = pb.JobSpec(
        images=pb.ImageJobSpec(prompts=prompts, count=count, params=common_pb2.ImageParams(**params))
    )
    if seed is not None:
        spec.seed = seed
    return spec


@pytest.mark.e2e
@settings(
    derandomize=True,
    max_examples=24,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=st.one_of(near_valid_text(), near_valid_images()))
def test_a_near_valid_spec_is_refused_at_submit_or_completes(keyed_stack, spec: pb.JobSpec) -> None:
    with Client(keyed_stack.gateway.target, timeout=120, api_key=keyed_stack.keys["alice"]) as alice:
        try:
            job = alice.submit(spec)
        except SynthmillError as exc:
            assert exc.code == grpc.StatusCode.INVALID_ARGUMENT, (exc.code, exc.details)
            return
        done = alice.wait(job.id)
    assert done.state == pb.JOB_STATE_COMPLETED, f"{spec} accepted, then {done.error}"
