"""Fitting a sample: the issue's acceptance sample, type inference, the privacy rules, and refusals.

The acceptance figures are the issue's own: shape scores ≥ 0.9 for age, plan and churned, Spearman
(age, income) within 0.1 of the sample's, churn ordered by plan, no generated row equal to a sample
record, and an overall quality ≥ 0.85 with privacy figures.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats

from benchmarks.people import CHURN, as_csv, people
from synthmill.common.errors import InvalidArgument
from synthmill.common.fit.fitter import FitOptions, fit
from synthmill.common.fit.judge import judge
from synthmill.common.fit.privacy import excluder, typed
from synthmill.common.fit.sample import read_sample
from synthmill.common.sampler import ColumnSampler
from synthmill.common.schema import parse_schema

NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)


def generate(fitted, sample, n: int, seed: int) -> list[dict]:
    sampler = ColumnSampler(fitted.schema, exclude=excluder(fitted.schema, sample.records()))
    return sampler.rows(seed, range(n))


@pytest.fixture(scope="module")
def acceptance():
    sample = read_sample(as_csv(people(2000)), "csv")
    fitted = fit(sample, FitOptions(now=NOW))
    rows = generate(fitted, sample, 1000, seed=3)
    return sample, fitted, rows, judge(fitted.schema, sample, rows)


def test_the_fitted_schema_has_laws_dependencies_and_a_note(acceptance) -> None:
    sample, fitted, _, _ = acceptance
    spec = fitted.spec
    assert spec["age"]["type"] == "int" and "distribution" in spec["age"]
    assert spec["plan"]["type"] == "enum" and spec["plan"]["distribution"].startswith("weights(")
    assert spec["churned"]["type"] == "bool" and spec["churned"]["distribution"]["by"] == "plan"
    assert spec["copula"]["columns"] == ["age", "income"]
    assert 0.5 < spec["copula"]["correlation"][0][1] < 0.75
    assert spec["fitted_from"] == {
        "rows": 2000,
        "sha256": sample.sha256,
        "fitted_at": "2026-12-05T12:00:00+00:00",
        "min_count": 5,
        "holdout": 0.2,
        "rare_categories_dropped": {},
    }
    # the output is the ordinary syntax: it parses, and its normalized form parses to the same schema
    assert parse_schema(json.loads(json.dumps(spec))) == fitted.schema
    assert parse_schema(fitted.schema.json_schema()) == fitted.schema


def test_rows_made_from_the_fit_meet_the_acceptance_figures(acceptance) -> None:
    sample, _, rows, report = acceptance
    shapes = report["column_shapes"]["columns"]
    for name in ("age", "plan", "churned"):
        assert shapes[name]["score"] >= 0.9, name
    real = sample.records()
    real_rho = stats.spearmanr([int(r["age"]) for r in real], [float(r["income"]) for r in real]).statistic
    rho = stats.spearmanr([r["age"] for r in rows], [r["income"] for r in rows]).statistic
    assert abs(rho - real_rho) < 0.1
    churn = {plan: np.mean([r["churned"] for r in rows if r["plan"] == plan]) for plan in CHURN}
    assert churn["free"] > churn["pro"] > churn["team"]
    assert report["score"] >= 0.85
    privacy = report["privacy"]
    assert privacy["exact_matches"] == 0
    assert 0.3 < privacy["dcr"]["closer_to_training"] < 0.7 and privacy["nndr"]["median"] > 0


def test_rows_equal_to_a_sample_record_are_drawn_again() -> None:
    # one column of two values, both in the sample: every draw is a sample record
    sample = read_sample(b"a\n" + b"x\n" * 5 + b"y\n" * 5, "csv")
    fitted = fit(sample, FitOptions(holdout=0))
    assert ColumnSampler(fitted.schema).rows(0, range(5))  # drawn freely, rows come
    with pytest.raises(ValueError, match="equals a sample record in 65 draws"):
        generate(fitted, sample, 5, seed=0)
    # age, plan and churned of 300 people: about 200 of some 400 records, so many draws hit one
    few = [{k: row[k] for k in ("age", "plan", "churned")} for row in people(300)]
    sample = read_sample(as_csv(few), "csv")
    fitted = fit(sample, FitOptions(holdout=0))
    hits = excluder(fitted.schema, sample.records())
    assert sum(map(hits, ColumnSampler(fitted.schema).rows(1, range(1000)))) > 100
    rows = generate(fitted, sample, 1000, seed=1)
    assert not any(map(hits, rows))
    alone = ColumnSampler(fitted.schema, exclude=hits)
    assert [alone.rows(1, [i])[0] for i in range(0, 1000, 97)] == rows[::97]  # redrawn per row, not per batch
    assert not {json.dumps(r) for r in rows} & {json.dumps(r) for r in typed(sample.records(), fitted.schema)}


def test_types_nulls_and_free_text_are_inferred() -> None:
    lines = ["n,x,ok,day,at,mail,id,color,note"]
    for k in range(60):
        lines.append(
            ",".join(
                [
                    str(k % 7),
                    "" if k % 10 == 0 else f"{k * 0.5:.2f}",
                    "true" if k % 3 else "false",
                    f"2024-02-{1 + k % 28:02d}",
                    f"2024-02-01T10:{k % 60:02d}:00",
                    f"user{k}@example.com",
                    f"123e4567-e89b-12d3-a456-4266141740{k:02d}",
                    ["red", "green", "blue"][k % 3],
                    f"note number {k} about things",
                ]
            )
        )
    fitted = fit(read_sample("\n".join(lines).encode(), "csv"), FitOptions(holdout=0))
    types = {f.name: f.type for f in fitted.schema.fields}
    assert types == {
        "n": "int",
        "x": "float",
        "ok": "bool",
        "day": "date",
        "at": "datetime",
        "mail": "email",
        "id": "uuid",
        "color": "enum",
        "note": "string",
    }
    spec = fitted.spec
    assert spec["x"]["nullable"] and spec["x"]["null_share"] == 0.1
    assert spec["mail"]["distribution"] == "faker(email)" and spec["id"]["distribution"] == "faker(uuid4)"
    assert spec["day"]["distribution"] == 'date_between("2024-02-01", "2024-02-28")'
    assert "distribution" not in spec["note"] and len(spec["note"]["examples"]) == 5
    assert spec["note"]["examples"][0] == "note number 0 about things"
    rows = ColumnSampler(fitted.schema).rows(1, range(500))
    for row in rows:
        fitted.schema.validate({**row, "note": "x"})
    assert abs(sum(r["x"] is None for r in rows) / 500 - 0.1) < 0.04


def test_rare_categories_are_dropped_unless_kept() -> None:
    text = "city\n" + "Paris\n" * 30 + "Lyon\n" * 20 + "Nantes\n" * 4 + "Brest\n"
    sample = read_sample(text.encode(), "csv")
    dropped = fit(sample, FitOptions(holdout=0))
    assert dropped.spec["city"]["choices"] == ["Paris", "Lyon"]
    assert dropped.spec["fitted_from"]["rare_categories_dropped"] == {"city": 2}
    kept = fit(sample, FitOptions(holdout=0, keep_rare=True))
    assert kept.spec["city"]["choices"] == ["Paris", "Lyon", "Nantes", "Brest"]
    assert fit(sample, FitOptions(holdout=0, min_count=4)).spec["city"]["choices"] == [
        "Paris",
        "Lyon",
        "Nantes",
    ]


def test_jsonl_and_parquet_fit_like_csv() -> None:
    rows = people(400)
    from_csv = fit(read_sample(as_csv(rows), "csv"), FitOptions(now=NOW, holdout=0))
    jsonl = "\n".join(json.dumps(r) for r in rows).encode()
    from_jsonl = fit(read_sample(jsonl, "jsonl"), FitOptions(now=NOW, holdout=0))
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer)
    from_parquet = fit(read_sample(buffer.getvalue(), "parquet"), FitOptions(now=NOW, holdout=0))
    strip = [f.name for f in from_csv.schema.fields]
    for other in (from_jsonl, from_parquet):
        assert [f.name for f in other.schema.fields] == strip
        assert {k: v for k, v in other.spec.items() if k != "fitted_from"} == {
            k: v for k, v in from_csv.spec.items() if k != "fitted_from"
        }


def test_headers_become_field_names() -> None:
    fitted = fit(
        read_sample(b"Sepal Length (cm),2nd,copula\n1.5,1,a\n2.5,2,b\n", "csv"), FitOptions(holdout=0)
    )
    assert fitted.schema.names == ("Sepal_Length_cm", "c_2nd", "copula_")
    assert fitted.spec["fitted_from"]["renamed_columns"]["Sepal_Length_cm"] == "Sepal Length (cm)"


@pytest.mark.parametrize(
    ("data", "fmt", "where", "words"),
    [
        (b"", "csv", "sample", "no header"),
        (b"a,b\n", "csv", "sample", "no rows"),
        (b"a,b\n1,2\n3\n", "csv", "sample line 3", "1 cells where the header has 2"),
        (b"age\n1\n2\n3\nold\n5\n", "csv", "sample line 5", "column 'age' holds 'old'"),
        (b'{"a": 1}\n{"a": "x"}\n{"a": 3}\n', "jsonl", "sample line 2", "column 'a'"),
        (b'{"a": 1}\n{"a": \n', "jsonl", "sample line 2", "is not JSON"),
        (b'{"a": {"b": 1}}\n', "jsonl", "sample line 1", "nested"),
        (b"[1, 2]\n", "jsonl", "sample line 1", "JSON object"),
        (b"not parquet", "parquet", "sample", "not a parquet file"),
        (b"a\n\xff\n", "csv", "sample", "not UTF-8"),
        (b"a\n1\n", "xlsx", "sample.format", "unknown format"),
    ],
)
def test_bad_samples_are_refused_naming_the_line_and_column(
    data: bytes, fmt: str, where: str, words: str
) -> None:
    with pytest.raises(InvalidArgument) as err:
        fit(read_sample(data, fmt), FitOptions(holdout=0))
    assert err.value.field == where and words in str(err.value)


def test_a_sample_over_the_limit_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="over the limit of 10"):
        read_sample(b"a\n1\n2\n3\n4\n5\n", "csv", limit=10)
