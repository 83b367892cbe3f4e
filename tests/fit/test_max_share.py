"""`max_share`: which columns get a cap on one value's share, its syntax, and the row check that keeps
an LLM-written column from collapsing onto one value (issue 24's 22.5% of ages at "30")."""

from __future__ import annotations

import json

import pytest

from synthmill.common.errors import InvalidArgument
from synthmill.common.schema import parse_schema
from synthmill.common.schema.shares import cap_counts, share_cap
from synthmill.common.uniqueness import RowDeduper

SEED_003 = {"customer_name": "string", "age": "int", "order_value": "float"}


def test_which_columns_are_capped() -> None:
    schema = parse_schema(
        {
            **SEED_003,
            "vip": "bool",
            "tier": ["a", "b", "c"],
            "dice": {"type": "int", "minimum": 1, "maximum": 6},
            "score": {"type": "int", "minimum": 0, "maximum": 100},
            "id": {"type": "uuid", "unique": True},
            "plan": {"type": "enum", "choices": ["x", "y"], "distribution": 'weights({"x": 1, "y": 1})'},
            "loose": {"type": "string", "max_share": 1},
            "tight": {"type": "string", "max_share": 0.02},
        }
    )
    caps = {f.name: share_cap(f) for f in schema.fields}
    assert caps == {
        "customer_name": 0.1,
        "age": 0.1,
        "order_value": 0.1,
        "vip": None,
        "tier": None,
        "dice": None,
        "score": 0.1,
        "id": None,
        "plan": None,
        "loose": None,
        "tight": 0.02,
    }
    assert cap_counts(schema, 200) == {
        "customer_name": 20,
        "age": 20,
        "order_value": 20,
        "score": 20,
        "tight": 5,
    }


def test_a_value_past_its_share_is_a_conflict_until_the_row_changes() -> None:
    schema = parse_schema(SEED_003)
    deduper = RowDeduper(schema, rows=200)
    for k in range(20):
        row = {"customer_name": f"n{k}", "age": 30, "order_value": float(k)}
        assert deduper.conflict(row) is None
        deduper.add(row)
    assert deduper.conflict({"customer_name": "x", "age": 30, "order_value": 0.5}) == (
        "age: 30 already fills 20 rows, its max_share"
    )
    assert deduper.conflict({"customer_name": "x", "age": 31, "order_value": 0.5}) is None
    assert deduper.conflict({"customer_name": "x", "age": None, "order_value": 0.5}) is None
    # without the job's row count (existing callers), no cap
    assert RowDeduper(schema).conflict({"customer_name": "x", "age": 30, "order_value": 0.5}) is None


def test_a_job_its_caps_cannot_fill_is_refused_at_submit() -> None:
    from synthmill.gateway.kinds import ServerInfo, validate_spec
    from synthmill.gateway.settings import GatewaySettings
    from synthmill.v1 import gateway_pb2 as pb

    def spec(schema: dict, count: int) -> pb.JobSpec:
        return pb.JobSpec(text=pb.TextJobSpec(schema_json=json.dumps(schema), count=count))

    tight = {"n": {"type": "int", "minimum": 0, "maximum": 19, "max_share": 0.02}, "note": "string"}
    with pytest.raises(InvalidArgument) as err:
        validate_spec(spec(tight, 200), GatewaySettings(), ServerInfo())
    assert err.value.field == "text.count" and "n's max_share: its 20 values fill at most 5 rows" in str(
        err.value
    )
    validate_spec(spec(tight, 100), GatewaySettings(), ServerInfo())  # 20 values x 5 rows
    validate_spec(
        spec({**tight, "n": {**tight["n"], "nullable": True}}, 200), GatewaySettings(), ServerInfo()
    )
    default = {"n": {"type": "int", "minimum": 0, "maximum": 19}, "note": "string"}
    validate_spec(spec(default, 10000), GatewaySettings(), ServerInfo())  # 20 values x 1,000 rows


def test_max_share_syntax() -> None:
    schema = parse_schema({"age": {"type": "int", "max_share": 0.2}})
    assert schema.json_schema()["properties"]["age"]["x-max-share"] == 0.2
    assert parse_schema(schema.json_schema()) == schema
    for bad in (0, 1.5, "x", True):
        with pytest.raises(InvalidArgument) as err:
            parse_schema({"age": {"type": "int", "max_share": bad}})
        assert err.value.field == "schema.age.max_share"
