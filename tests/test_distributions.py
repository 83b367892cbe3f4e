"""Declared distributions: the syntax, the refusals at parse time, and the sampler's statistics.

The fit checks compare 1,000 drawn rows with laws built here directly from scipy (not through
synthmill.common.schema.laws), at a stated tolerance: the Kolmogorov-Smirnov distance under its 1% critical
value 1.63/sqrt(n), and the total-variation distance of categorical columns under 0.03.
"""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pytest
from customers import CUSTOMERS, PLANS
from scipy import stats

from synthmill.common.errors import InvalidArgument
from synthmill.common.sampler import ColumnSampler, plain
from synthmill.common.schema import parse_schema

N = 1000
TV_TOLERANCE = 0.03


def ks_limit(n: int) -> float:
    return 1.63 / math.sqrt(n)


def tv(counts: Counter, expected: dict, n: int) -> float:
    keys = set(counts) | set(expected)
    return 0.5 * sum(abs(counts.get(k, 0) / n - expected.get(k, 0)) for k in keys)


@pytest.fixture(scope="module")
def customers() -> list[dict]:
    return ColumnSampler(parse_schema(CUSTOMERS)).rows(seed=2025, indices=range(N))


def test_ages_follow_the_truncated_normal_on_whole_years(customers) -> None:
    ages = np.array([row["age"] for row in customers])
    assert ages.min() >= 18 and ages.max() <= 90 and ages.dtype.kind == "i"
    years = np.arange(18, 91)
    mass = stats.norm(41, 13).cdf(years + 0.5) - stats.norm(41, 13).cdf(years - 0.5)
    expected_cdf = np.cumsum(mass / mass.sum())
    observed_cdf = np.array([(ages <= y).mean() for y in years])
    assert np.abs(observed_cdf - expected_cdf).max() < ks_limit(N)
    assert Counter(ages.tolist()).most_common(1)[0][1] / N < 0.05  # no spike (the LLM put 19% on 30)


def test_plans_follow_their_weights_and_spend_follows_the_plan(customers) -> None:
    plans = Counter(row["plan"] for row in customers)
    assert tv(plans, PLANS, N) < TV_TOLERANCE
    by_plan: dict[str, list[float]] = {}
    for row in customers:
        by_plan.setdefault(row["plan"], []).append(row["spend"])
    assert set(by_plan["free"]) == {0.0}
    for plan, law in (
        ("pro", stats.norm(49, 8)),
        ("team", stats.norm(199, 30)),
        ("enterprise", stats.lognorm(s=0.3, scale=math.exp(7))),
    ):
        spend = by_plan[plan]
        assert stats.kstest(spend, law.cdf).statistic < ks_limit(len(spend)), plan


def test_faker_names_are_varied_and_valid(customers) -> None:
    names = [row["name"] for row in customers]
    assert len(set(names)) / N > 0.95
    assert all(isinstance(n, str) and " " in n and n.strip() == n for n in names)


def test_rows_depend_only_on_seed_and_index() -> None:
    sampler = ColumnSampler(parse_schema(CUSTOMERS))
    batch = sampler.rows(seed=7, indices=range(20))
    assert [sampler.rows(seed=7, indices=[i])[0] for i in (0, 13, 19)] == [batch[0], batch[13], batch[19]]
    assert sampler.rows(seed=7, indices=range(10, 20)) == batch[10:]
    assert ColumnSampler(parse_schema(CUSTOMERS)).rows(seed=7, indices=range(20)) == batch
    assert sampler.rows(seed=8, indices=range(20)) != batch
    assert all(list(row) == list(CUSTOMERS) for row in batch)


def test_other_laws() -> None:
    schema = parse_schema(
        {
            "die": {"type": "int", "minimum": 1, "maximum": 6, "distribution": "uniform(1, 6)"},
            "visits": {"type": "int", "minimum": 0, "distribution": "poisson(3)"},
            "churned": {"type": "bool", "distribution": "bernoulli(0.2)"},
            "joined": {"type": "date", "distribution": 'date_between("2024-01-01", "2024-01-31")'},
            "city": {"type": "string", "distribution": 'faker(city, "de_DE")'},
        }
    )
    rows = ColumnSampler(schema).rows(seed=3, indices=range(N))
    assert tv(Counter(r["die"] for r in rows), {k: 1 / 6 for k in range(1, 7)}, N) < TV_TOLERANCE
    visits = Counter(r["visits"] for r in rows)
    assert tv(visits, {k: stats.poisson(3).pmf(k) for k in range(30)}, N) < 2 * TV_TOLERANCE  # many cells
    assert tv(Counter(r["churned"] for r in rows), {True: 0.2, False: 0.8}, N) < TV_TOLERANCE
    days = Counter(r["joined"] for r in rows)
    assert set(days) == {f"2024-01-{d:02d}" for d in range(1, 32)}
    assert len({r["city"] for r in rows}) > 50
    for row in rows:
        schema.validate(row)


def test_the_normalized_schema_keeps_the_distributions() -> None:
    schema = parse_schema(CUSTOMERS)
    again = parse_schema(schema.json_schema())
    assert again == schema
    assert schema.json_schema()["properties"]["age"]["x-distribution"] == "normal(41, 13)"
    assert "x-distribution" not in json.dumps(plain(schema).json_schema())


def test_json_schema_form_reads_x_distribution() -> None:
    schema = parse_schema(
        {
            "type": "object",
            "properties": {"age": {"type": "integer", "minimum": 18, "x-distribution": "poisson(40)"}},
        }
    )
    assert schema.fields[0].distribution.spec() == "poisson(40)"


PLAN = {"type": "enum", "choices": ["free", "pro"], "distribution": 'weights({"free": 1, "pro": 1})'}


@pytest.mark.parametrize(
    ("schema", "path", "words"),
    [
        (
            {"age": {"type": "int", "distribution": "gauss(1, 2)"}},
            "schema.age.distribution",
            "unknown distribution",
        ),
        (
            {"n": {"type": "string", "distribution": "faker(nope)"}},
            "schema.n.distribution",
            "unknown Faker provider",
        ),
        (
            {"n": {"type": "string", "distribution": 'faker(name, "xx_YY")'}},
            "schema.n.distribution",
            "locale",
        ),
        (
            {"age": {"type": "int", "maximum": 90, "distribution": "normal(500, 1)"}},
            "schema.age.distribution",
            "0.00% of its mass",
        ),
        (
            {"p": {**PLAN, "distribution": 'weights({"free": -1, "pro": 1})'}},
            "schema.p.distribution",
            "non-negative",
        ),
        ({"p": {**PLAN, "distribution": 'weights({"gold": 1})'}}, "schema.p.distribution", "not one of"),
        (
            {"s": {"type": "float", "distribution": {"by": "p", "cases": {"free": "uniform(0, 1)"}}}},
            "schema.s.distribution.by",
            "not a column",
        ),
        (
            {
                "s": {
                    "type": "float",
                    "distribution": {"by": "p", "cases": {"free": "uniform(0, 1)", "pro": "uniform(0, 1)"}},
                },
                "p": PLAN,
            },
            "schema.s.distribution.by",
            "later column",
        ),
        (
            {
                "a": {
                    "type": "enum",
                    "choices": ["x"],
                    "distribution": {"by": "b", "cases": {"x": 'weights({"x": 1})'}},
                },
                "b": {
                    "type": "enum",
                    "choices": ["x"],
                    "distribution": {"by": "a", "cases": {"x": 'weights({"x": 1})'}},
                },
            },
            "schema.a.distribution.by",
            "cycle",
        ),
        (
            {
                "p": PLAN,
                "s": {"type": "float", "distribution": {"by": "p", "cases": {"free": "uniform(0, 1)"}}},
            },
            "schema.s.distribution.cases",
            "no case for p = 'pro'",
        ),
        (
            {
                "p": PLAN,
                "s": {"type": "float", "distribution": {"by": "p", "cases": {"gold": "uniform(0, 1)"}}},
            },
            "schema.s.distribution.cases.gold",
            "never takes",
        ),
        ({"x": {"type": "int", "distribution": "bernoulli(0.5)"}}, "schema.x.distribution", "bool fields"),
        (
            {"x": {"type": "int", "unique": True, "distribution": "uniform(1, 9)"}},
            "schema.x.distribution",
            "unique",
        ),
        (
            {"n": {"type": "string", "max_length": 2, "distribution": "faker(name)"}},
            "schema.n.distribution",
            "no valid",
        ),
        (
            {"type": "object", "properties": {"x": {"type": "number", "x-distribution": "normal(0, -1)"}}},
            "schema.properties.x.x-distribution",
            "positive",
        ),
    ],
)
def test_bad_distributions_name_the_field(schema: dict, path: str, words: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_schema(schema)
    assert caught.value.field == path
    assert words in str(caught.value)
