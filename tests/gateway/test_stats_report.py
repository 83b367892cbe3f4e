"""The stats report of rows the LLM wrote freely: any int64 or float the grammar allows gets a histogram.

A one-row job whose int came out near 1e18 once made `report` raise (its unit bins vanished in float
precision), and the job never reached a final state."""

from __future__ import annotations

import pytest

from synthmill.common.schema import parse_schema
from synthmill.gateway.outputs import stats


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        ("int", [9_007_199_254_740_993]),
        ("int", [-9_000_000_000_000_000_000, 9_000_000_000_000_000_000]),
        ("int", [7]),
        ("float", [1e15]),
        ("float", [-1e15, 1e15]),
    ],
)
def test_every_allowed_number_gets_a_histogram(kind: str, values: list) -> None:
    schema = parse_schema(f'{{"a": "{kind}"}}')
    report = stats.report(schema, [{"a": v} for v in values])
    histogram = report["columns"]["a"]["histogram"]
    assert sum(histogram["counts"]) == len(values)
    assert len(histogram["edges"]) == len(histogram["counts"]) + 1
