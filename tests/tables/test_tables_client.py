"""The client's doors to a tables job, without a server: `tables_job` and `synthmill tables` flags."""

from __future__ import annotations

import json

import pytest
from shop import SAMPLED

from synthmill.client import SpecError, tables_job
from synthmill.client.cli import build_parser
from synthmill.client.specs import spec_from_args
from synthmill.v1 import common_pb2


def test_the_cli_flags_make_a_tables_spec(tmp_path):
    path = tmp_path / "shop.json"
    path.write_text(json.dumps(SAMPLED))
    args = build_parser().parse_args(
        [
            "tables",
            "--schema",
            f"@{path}",
            "-n-scale",
            "3",
            "--format",
            "csv",
            "--seed",
            "9",
            "--instructions",
            "a shop",
        ]
    )
    spec = spec_from_args(args)
    assert spec.WhichOneof("kind") == "tables" and spec.seed == 9
    assert json.loads(spec.tables.schema_json) == SAMPLED
    assert (spec.tables.scale, spec.tables.format, spec.tables.instructions) == (
        3,
        common_pb2.ROW_FORMAT_CSV,
        "a shop",
    )
    assert (
        spec_from_args(
            build_parser().parse_args(["tables", "--schema", f"@{path}", "--n-scale", "2"])
        ).tables.scale
        == 2
    )


def test_the_python_builder_and_its_refusals(tmp_path):
    spec = tables_job(SAMPLED, scale=2, format="parquet", temperature=0.5)
    assert spec.tables.scale == 2 and spec.tables.format == common_pb2.ROW_FORMAT_PARQUET
    assert spec.tables.sampling.temperature == 0.5 and not spec.HasField("seed")
    with pytest.raises(SpecError, match="--format"):
        tables_job(SAMPLED, format="xlsx")
    with pytest.raises(SpecError):
        tables_job(f"@{tmp_path / 'missing.json'}")
