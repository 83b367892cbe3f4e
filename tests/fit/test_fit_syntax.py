"""The schema syntax a fit emits: empirical laws, the Gaussian copula, null shares and examples; and the
counter-based draws behind them (Philox4x64-10, checked bit for bit against numpy's own)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from synthmill.common import philox
from synthmill.common.errors import InvalidArgument
from synthmill.common.sampler import ColumnSampler, plain
from synthmill.common.schema import parse_schema

COUPLED = {
    "age": {"type": "int", "minimum": 18, "maximum": 90, "distribution": "normal(41, 13)"},
    "income": {"type": "float", "minimum": 0, "distribution": "lognormal(10.5, 0.4)"},
    "score": {"type": "float", "distribution": "empirical([0, 1, 2, 10])"},
    "copula": {
        "columns": ["age", "income", "score"],
        "correlation": [[1, 0.7, -0.4], [0.7, 1, 0], [-0.4, 0, 1]],
    },
}


@pytest.mark.parametrize("counter", [1, 2, 977, 2**40 + 3, 2**64 - 1])
def test_vectorised_philox_equals_numpys(counter: int) -> None:
    key = (2025, 7)
    reference = np.random.Philox(
        key=np.array(key, dtype=np.uint64), counter=np.array([counter - 1, 0, 0, 0], dtype=np.uint64)
    )
    assert (
        philox.block(key, np.array([counter], dtype=np.uint64))[0].tolist()
        == reference.random_raw(4).tolist()
    )


def test_philox_uniforms_are_uniform_and_open() -> None:
    u = philox.uniforms((1, 0), np.arange(200_000, dtype=np.uint64))
    assert 0 < u.min() and u.max() < 1
    assert stats.kstest(u, "uniform").pvalue > 0.001


def test_copula_gives_the_declared_rank_correlation_and_keeps_each_law() -> None:
    schema = parse_schema(COUPLED)
    rows = ColumnSampler(schema).rows(seed=11, indices=range(4000))
    age = np.array([r["age"] for r in rows])
    income = np.array([r["income"] for r in rows])
    score = np.array([r["score"] for r in rows])
    # Spearman of a Gaussian copula with normal-score correlation r is (6 / pi) asin(r / 2).
    for x, y, r in ((age, income, 0.7), (age, score, -0.4)):
        expected = 6 / np.pi * np.arcsin(r / 2)
        assert abs(stats.spearmanr(x, y).statistic - expected) < 0.04
    assert abs(stats.spearmanr(income, score).statistic) < 0.04
    lognormal = stats.lognorm(s=0.4, scale=np.exp(10.5))
    assert stats.kstest(income, lognormal.cdf).statistic < 1.63 / np.sqrt(len(rows))
    # empirical: linear between the knots (a quarter of the mass per interval), inside [0, 10]
    assert score.min() >= 0 and score.max() <= 10
    assert abs(np.mean(score <= 1) - 1 / 3) < 0.03 and abs(np.mean(score <= 2) - 2 / 3) < 0.03
    independent = ColumnSampler(parse_schema({k: v for k, v in COUPLED.items() if k != "copula"}))
    free = independent.rows(seed=11, indices=range(4000))
    assert abs(stats.spearmanr([r["age"] for r in free], [r["income"] for r in free]).statistic) < 0.05


def test_rows_under_a_copula_depend_only_on_seed_and_index() -> None:
    sampler = ColumnSampler(parse_schema(COUPLED))
    batch = sampler.rows(seed=5, indices=range(50))
    assert [sampler.rows(seed=5, indices=[i])[0] for i in (0, 17, 49)] == [batch[0], batch[17], batch[49]]


def test_the_normalized_form_keeps_copula_null_share_examples_and_the_note() -> None:
    spec = {
        **COUPLED,
        "plan": {
            "type": "enum",
            "choices": ["a", "b"],
            "nullable": True,
            "null_share": 0.25,
            "distribution": 'weights({"a": 1, "b": 3})',
        },
        "note": {"type": "string", "examples": ["fine", "late again"]},
        "fitted_from": {"rows": 10, "sha256": "00"},
    }
    schema = parse_schema(spec)
    normalized = schema.json_schema()
    assert normalized["x-copula"]["columns"] == ["age", "income", "score"]
    assert normalized["properties"]["plan"]["x-null-share"] == 0.25
    assert normalized["properties"]["note"]["examples"] == ["fine", "late again"]
    assert normalized["x-fitted-from"] == {"rows": 10, "sha256": "00"}
    assert parse_schema(normalized) == schema
    assert parse_schema(json.dumps(normalized)).json_schema() == normalized
    assert "x-copula" not in plain(schema).json_schema() and "x-null-share" not in json.dumps(
        plain(schema).json_schema()
    )
    plans = [r["plan"] for r in ColumnSampler(schema).rows(seed=1, indices=range(4000))]
    assert abs(plans.count(None) / 4000 - 0.25) < 0.03
    assert abs(plans.count("b") / 4000 - 0.75 * 0.75) < 0.03


def test_a_field_named_copula_is_still_a_field() -> None:
    schema = parse_schema({"copula": "int", "fitted_from": "string"})
    assert schema.names == ("copula", "fitted_from") and schema.copula is None


@pytest.mark.parametrize(
    ("change", "where", "words"),
    [
        (
            {"score": {"type": "float", "distribution": "empirical([3, 1])"}},
            "schema.score.distribution",
            "decrease",
        ),
        (
            {"score": {"type": "float", "distribution": "empirical(1, 2)"}},
            "schema.score.distribution",
            "one list",
        ),
        ({"score": {"type": "float", "distribution": "empirical([1])"}}, "schema.score.distribution", "2 to"),
        (
            {"score": {"type": "string", "distribution": "empirical([1, 2])"}},
            "schema.score.distribution",
            "int or float",
        ),
        (
            {"copula": {"columns": ["age", "nope"], "correlation": [[1, 0], [0, 1]]}},
            "schema.copula.columns",
            "nope",
        ),
        (
            {"copula": {"columns": ["age", "age"], "correlation": [[1, 0], [0, 1]]}},
            "schema.copula.columns",
            "twice",
        ),
        ({"copula": {"columns": ["age"], "correlation": [[1]]}}, "schema.copula.columns", "at least two"),
        (
            {"copula": {"columns": ["age", "income"], "correlation": [[1, 0.5], [0.4, 1]]}},
            "schema.copula.correlation",
            "symmetric",
        ),
        (
            {"copula": {"columns": ["age", "income"], "correlation": [[1, 2], [2, 1]]}},
            "schema.copula.correlation",
            "between -1 and 1",
        ),
        (
            {"copula": {"columns": ["age", "income"], "correlation": [[1, 0]]}},
            "schema.copula.correlation",
            "2 x 2",
        ),
        (
            {"copula": {"columns": ["age", "income"], "correlation": [[0.5, 0], [0, 1]]}},
            "schema.copula.correlation",
            "diagonal",
        ),
        (
            {
                "copula": {
                    "columns": ["age", "income", "score"],
                    "correlation": [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]],
                }
            },
            "schema.copula.correlation",
            "positive semi-definite",
        ),
        (
            {"name": "string", "copula": {"columns": ["age", "name"], "correlation": [[1, 0], [0, 1]]}},
            "schema.copula.columns",
            "numeric distribution",
        ),
        (
            {"age": {"type": "int", "null_share": 0.1, "distribution": "normal(41, 13)"}},
            "schema.age.null_share",
            "nullable",
        ),
        ({"age": {"type": "int", "nullable": True, "null_share": 0.1}}, "schema.age.null_share", "sampled"),
        (
            {"age": {"type": "int", "nullable": True, "null_share": 1, "distribution": "normal(41, 13)"}},
            "schema.age.null_share",
            "[0, 1)",
        ),
        ({"age": {"type": "int", "examples": ["x"]}}, "schema.age.examples", "integer"),
    ],
)
def test_bad_fit_syntax_is_refused_naming_the_part(change: dict, where: str, words: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        parse_schema({**COUPLED, **change})
    assert err.value.field == where and words in str(err.value)


def test_a_by_column_with_a_null_share_is_refused() -> None:
    spec = {
        "plan": {
            "type": "enum",
            "choices": ["a"],
            "nullable": True,
            "null_share": 0.1,
            "distribution": 'weights({"a": 1})',
        },
        "spend": {"type": "float", "distribution": {"by": "plan", "cases": {"a": "normal(1, 1)"}}},
    }
    with pytest.raises(InvalidArgument, match="may be null"):
        parse_schema(spec)
