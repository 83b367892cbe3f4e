"""Context rows (a tables job's parent row) on a real text server (tiny random-weight model): the
prompt shows the parent row, so the same request with another parent gives other text, the same one
the same text; bad context rows are refused by field."""

from __future__ import annotations

import json

import grpc
import pytest
from test_text_rows import generate

from synthmill.common.schema import parse_schema
from synthmill.text import prompting

SCHEMA = {"order_id": "int", "note": {"type": "string", "max_length": 20, "description": "why they ordered"}}
PINNED = [json.dumps({"order_id": k}) for k in (1, 2, 3)]
ALICE = [json.dumps({"customers": {"id": 7, "name": "Alice", "plan": "pro"}})] * 3
BORIS = [json.dumps({"customers": {"id": 8, "name": "Boris", "plan": "free"}})] * 3


def test_the_prompt_shows_the_parent_row():
    schema = parse_schema(SCHEMA)
    context = {"customers": {"id": 7, "name": "Alice", "plan": "pro"}}
    text = prompting.row_messages(schema, "orders", 0, 1, {"order_id": 1}, context)[1]["content"]
    assert 'This row belongs to this customers row: {"id": 7, "name": "Alice", "plan": "pro"}.' in text
    assert (
        "customers row" not in prompting.row_messages(schema, "orders", 0, 1, {"order_id": 1})[1]["content"]
    )


def test_the_parent_row_reaches_the_model(text_stub):
    def notes(context):
        rows, _ = generate(
            text_stub, SCHEMA, count=3, seed=4, pinned_rows_json=PINNED, context_rows_json=context
        )
        return [json.loads(r.row_json) for r in rows]

    alice = notes(ALICE)
    assert [row["order_id"] for row in alice] == [1, 2, 3]
    assert notes(ALICE) == alice
    assert notes(BORIS) != alice  # the same seed and pins, another parent: other text


@pytest.mark.parametrize(
    ("context", "field"),
    [
        (ALICE[:2], "context_rows_json"),
        ([*ALICE[:2], '["x"]'], "context_rows_json[2]"),
        ([*ALICE[:2], '{"c": 1}'], "context_rows_json[2].c"),
    ],
)
def test_bad_context_rows_are_refused_by_field(text_stub, context, field):
    with pytest.raises(grpc.RpcError) as caught:
        generate(text_stub, SCHEMA, count=3, seed=4, pinned_rows_json=PINNED, context_rows_json=context)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith(field)
