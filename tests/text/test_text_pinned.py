"""Pinned values on a real text server (tiny random-weight model): rows carry them unchanged, in
schema order, the same seed gives the same rows, and bad pinned values are refused by field."""

from __future__ import annotations

import json

import grpc
import pytest
from test_text_rows import generate

from synthmill.common.schema import parse_schema

SCHEMA = {
    "name": {"type": "string", "max_length": 12},
    "age": {"type": "int", "minimum": 18, "maximum": 90},
    "plan": ["free", "pro", "enterprise"],
    "city": {"type": "string", "max_length": 12},
    "spend": {"type": "float", "minimum": 0},
}
PINNED = [
    {"age": 63, "plan": "enterprise", "spend": 1234.5},
    {"age": 18, "plan": "free", "spend": 0.0},
    {"age": 41, "plan": "pro", "spend": 49.25},
    {"age": 90, "plan": "pro", "spend": 51.0},
]


def pinned_json(rows: list[dict]) -> list[str]:
    return [json.dumps(row) for row in rows]


def test_pinned_values_come_back_unchanged_in_schema_order(text_stub) -> None:
    rows, summary = generate(
        text_stub, SCHEMA, count=4, seed=5, start_index=10, pinned_rows_json=pinned_json(PINNED)
    )
    schema = parse_schema(SCHEMA)
    assert [r.index for r in rows] == [10, 11, 12, 13] and summary.accepted == 4
    for reply, pinned in zip(rows, PINNED, strict=True):
        row = json.loads(reply.row_json)
        schema.validate(row)
        assert list(row) == list(SCHEMA)
        assert {name: row[name] for name in pinned} == pinned
    again, _ = generate(
        text_stub, SCHEMA, count=4, seed=5, start_index=10, pinned_rows_json=pinned_json(PINNED)
    )
    assert [r.row_json for r in again] == [r.row_json for r in rows]


@pytest.mark.parametrize(
    ("pinned", "field"),
    [
        ([*PINNED[:1], {**PINNED[1], "age": 17}, *PINNED[2:]], "pinned_rows_json[1].age"),
        ([*PINNED[:3], {**PINNED[3], "tier": "x"}], "pinned_rows_json[3]"),
        ([*PINNED[:2], {"plan": "pro", "age": 40, "spend": 1.0}, PINNED[3]], "pinned_rows_json[2]"),
        (PINNED[:3], "pinned_rows_json"),
    ],
)
def test_bad_pinned_values_are_refused_by_field(text_stub, pinned: list[dict], field: str) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        generate(text_stub, SCHEMA, count=4, seed=5, pinned_rows_json=pinned_json(pinned))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith(f"{field}")
