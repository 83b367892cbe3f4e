"""A token budget under the shortest valid row is refused at submit: the text server reckons the fewest
tokens any valid row of a schema takes with its tokenizer (RowFloor: a search through a superset of
the row grammar, one vocabulary token per step), and the gateway refuses a smaller
`sampling.max_new_tokens`, naming it and the floor."""

from __future__ import annotations

import json

import grpc
import pytest
from transformers import AutoTokenizer

from synthmill.client import Client, SynthmillError, text_job
from synthmill.common.settings import default_cache_dir
from synthmill.text.embedded import model_dir
from synthmill.v1 import text_pb2, text_pb2_grpc

pytestmark = pytest.mark.e2e

ROWS = [  # (schema, valid rows written as a model might write them)
    ({"color": ["red", "blue"]}, [{"color": "red"}, {"color": "blue"}]),
    ({"a": "int", "ok": "bool"}, [{"a": 0, "ok": True}, {"a": -12345, "ok": False}]),
    (
        {"id": "uuid", "d": "date", "f": "float"},
        [{"id": "123e4567-e89b-12d3-a456-426614174000", "d": "2024-01-31", "f": 0.5}],
    ),
    ({"name": "string", "age": {"type": "int", "minimum": 18, "maximum": 90}}, [{"name": "", "age": 18}]),
]


def floor_of(text_target: str, schema: dict, max_new_tokens: int = 0) -> text_pb2.RowFloorResponse:
    with grpc.insecure_channel(text_target) as channel:
        request = text_pb2.RowFloorRequest(schema_json=json.dumps(schema), max_new_tokens=max_new_tokens)
        return text_pb2_grpc.TextServiceStub(channel).RowFloor(request, timeout=120)


def test_the_floor_is_never_above_a_valid_row(tiny_upstreams) -> None:
    tokenizer = AutoTokenizer.from_pretrained(model_dir(default_cache_dir(), "tiny-llama"))
    for schema, rows in ROWS:
        reply = floor_of(tiny_upstreams.text.target, schema)
        assert reply.min_tokens >= 3, schema  # "{", a key, a value and "}" cannot all be one token
        for row in rows:
            for separators in ((",", ":"), (", ", ": ")):
                written = json.dumps(row, separators=separators)
                assert reply.min_tokens <= len(tokenizer.encode(written, add_special_tokens=False)), written
    assert floor_of(tiny_upstreams.text.target, {"a": "int"}, 7).max_new_tokens == 7


def test_a_budget_under_the_floor_is_refused_at_submit(keyed_stack, tiny_upstreams) -> None:
    schema = {"id": "uuid", "color": ["red", "blue"]}
    floor = floor_of(tiny_upstreams.text.target, schema).min_tokens
    with Client(keyed_stack.gateway.target, timeout=120, api_key=keyed_stack.keys["alice"]) as alice:
        for budget in (1, floor - 1):
            with pytest.raises(SynthmillError) as refused:
                alice.submit(text_job(schema, 2, max_new_tokens=budget))
            assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
            assert refused.value.details.startswith("text.sampling.max_new_tokens")
            assert f"under the {floor}" in refused.value.details
        job = alice.wait(alice.submit(text_job(schema, 2, max_new_tokens=64)).id)
    assert job.state == 3, job.error  # COMPLETED
