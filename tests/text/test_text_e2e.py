"""End to end on the embedded SmolLM2-135M-Instruct (real weights, converted once into the cache)."""

from __future__ import annotations

import json

import grpc
import pytest

from synthmill.common.schema import parse_schema
from synthmill.v1 import text_pb2, text_pb2_grpc

pytestmark = pytest.mark.e2e

SCHEMA = {
    "customer_name": {"type": "string", "description": "customer's full name", "max_length": 40},
    "age": {"type": "int", "minimum": 18, "maximum": 90},
    "order_value": {"type": "float", "minimum": 5, "maximum": 500, "description": "order total in EUR"},
    "email": "email",
    "signup": "date",
    "channel": {"type": "enum", "choices": ["web", "app", "store"]},
}


def test_smollm2_rows_are_valid_and_varied(server_factory):
    server = server_factory(
        "text", env={"SYNTHMILL_TEXT_MODEL": "smollm2-135m", "SYNTHMILL_TEXT_BATCH_SIZE": "8"}
    )
    with grpc.insecure_channel(server.target) as channel:
        stub = text_pb2_grpc.TextServiceStub(channel)
        request = text_pb2.GenerateRowsRequest(
            schema_json=json.dumps(SCHEMA), count=16, seed=1, instructions="customers of an online bookshop"
        )
        events = list(stub.GenerateRows(request, timeout=500))  # a hang guard, not a speed bound
        prompts = stub.ExpandPrompts(
            text_pb2.ExpandPromptsRequest(topic="floorplans of small apartments", count=4, seed=3),
            timeout=300,
        ).prompts

    rows = [json.loads(e.row.row_json) for e in events if e.HasField("row")]
    summary = events[-1].summary
    schema = parse_schema(SCHEMA)
    for row in rows:
        schema.validate(row)
    assert len(rows) == 16 and summary.accepted == 16
    ratios = {name: len({json.dumps(r[name]) for r in rows}) / len(rows) for name in SCHEMA}
    print(
        f"distinct ratios: {ratios}; rejected invalid {summary.rejected_invalid}, dup {summary.rejected_duplicates}"
    )
    print(f"{16 / summary.seconds:.2f} rows/s; prompts: {list(prompts)}")
    assert ratios["customer_name"] >= 0.6 and ratios["age"] >= 0.5 and ratios["email"] >= 0.6
    assert len(set(ratios)) and len({r["channel"] for r in rows}) == 3
    assert len(prompts) == 4 and len({p.lower() for p in prompts}) == 4
    assert all(len(p.split()) >= 3 for p in prompts)
