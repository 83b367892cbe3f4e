"""Draws of a tables job: unique keys, references that resolve, child counts that follow
`per_parent`, parent-conditioned columns, and rows reproducible from the seed alone.

Statistical checks run at a fixed seed against laws built here from scipy. Child counts are tested
with Pearson's chi-square over the law's cells (cells with fewer than 5 expected merged into the
tail) at the 0.1% level, and their mean within 4 standard errors (sd/sqrt(n)) of the law's mean.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter

import numpy as np
import pytest
from scipy import stats
from shop import SAMPLED, sampled

from synthmill.common.tables import Key, parse_tables
from synthmill.common.tables.draws import Draws
from synthmill.common.tables.keys import values

ALPHA = 0.001


def _all(draws: Draws, name: str) -> list[dict]:
    return draws.rows(name, range(draws.counts[name]))


def _chi_square(observed: Counter, probabilities: dict[int, float], n: int) -> float:
    cells, expected, tail = [], [], 0.0
    for k, p in sorted(probabilities.items()):
        if p * n >= 5:
            cells.append(observed.get(k, 0))
            expected.append(p * n)
        else:
            tail += p
    if tail * n > 1e-9:
        cells.append(n - sum(cells))
        expected.append(tail * n)
    return float(stats.chisquare(cells, expected).pvalue)


@pytest.fixture(scope="module")
def big() -> Draws:
    return Draws(parse_tables(sampled(**{"customers.rows": 3000})), seed=11)


def test_keys_are_unique_for_every_kind():
    seq = values(Key("id", "sequence", start=100), 5, range(5000))
    assert seq == list(range(100, 5100))
    uuids = values(Key("id", "uuid"), 5, range(200_000))
    assert len(set(uuids)) == len(uuids)
    assert all(uuid.UUID(u).version == 4 and str(uuid.UUID(u)) == u for u in uuids[:1000])
    assert values(Key("id", "uuid"), 6, range(3)) != uuids[:3]  # keyed by the table's seed
    codes = values(Key("code", "pattern", pattern="^[A-C]-\\d{3}$"), 5, range(3000))
    assert len(set(codes)) == 3000  # every string of the pattern, each once
    assert all(re.fullmatch("[A-C]-[0-9]{3}", c) for c in codes)


def test_per_parent_poisson_counts_follow_the_law(big):
    per = big.children_per_parent(big.tables["orders"])
    n = len(per)
    assert n == 3000 and big.counts["orders"] == int(per.sum())
    law = stats.poisson(3)
    probabilities = {k: float(law.pmf(k)) for k in range(40)}
    assert _chi_square(Counter(per.tolist()), probabilities, n) > ALPHA
    assert abs(per.mean() - 3) < 4 * np.sqrt(3 / n)


def test_per_parent_uniform_counts_follow_the_law(big):
    per = big.children_per_parent(big.tables["order_items"])
    assert set(per.tolist()) == {1, 2, 3, 4}
    assert _chi_square(Counter(per.tolist()), {k: 0.25 for k in (1, 2, 3, 4)}, len(per)) > ALPHA


def test_per_parent_weights_and_by_a_parent_column():
    law = {"by": "customers.plan", "cases": {"free": 'weights({"0": 1, "1": 1})', "pro": "poisson(6)"}}
    draws = Draws(parse_tables(sampled(**{"customers.rows": 3000, "orders.per_parent": law})), seed=3)
    plans = [row["plan"] for row in _all(draws, "customers")]
    per = draws.children_per_parent(draws.tables["orders"])
    free = Counter(c for c, p in zip(per.tolist(), plans, strict=True) if p == "free")
    pro = [c for c, p in zip(per.tolist(), plans, strict=True) if p == "pro"]
    assert set(free) == {0, 1}
    assert _chi_square(free, {0: 0.5, 1: 0.5}, sum(free.values())) > ALPHA
    assert abs(np.mean(pro) - 6) < 4 * np.sqrt(6 / len(pro))


def test_children_are_grouped_under_their_parent_in_order(big):
    customers = _all(big, "customers")
    orders = _all(big, "orders")
    per = big.children_per_parent(big.tables["orders"])
    expected = [customers[p]["id"] for p, n in enumerate(per.tolist()) for _ in range(n)]
    assert [o["customer_id"] for o in orders] == expected


def test_every_reference_resolves(big):
    keys = {
        name: {row[big.tables[name].key.field] for row in _all(big, name)}
        for name in ("customers", "orders", "products")
    }
    items = _all(big, "order_items")
    assert all(row["order_id"] in keys["orders"] for row in items)
    codes = [row["product_code"] for row in items]
    assert all(code in keys["products"] for code in codes if code is not None)
    # nullable: null with probability 0.25 (binomial, 4 standard deviations)
    nulls, n = codes.count(None), len(codes)
    assert abs(nulls / n - 0.25) < 4 * np.sqrt(0.25 * 0.75 / n)
    assert len({c for c in codes if c}) == 60  # many-to-one over every product
    customers = _all(big, "customers")
    for row in customers:  # a self-reference names an earlier row
        assert row["referrer_id"] is None or row["referrer_id"] < row["id"]
    assert customers[0]["referrer_id"] is None


def test_amount_follows_the_parent_plan(big):
    plan_of = {row["id"]: row["plan"] for row in _all(big, "customers")}
    by_plan: dict[str, list[float]] = {"free": [], "pro": []}
    for row in _all(big, "orders"):
        by_plan[plan_of[row["customer_id"]]].append(row["amount"])
    for plan, (mean, sd) in {"free": (20, 5), "pro": (80, 10)}.items():
        x = np.array(by_plan[plan])
        law = stats.truncnorm((0 - mean) / sd, np.inf, loc=mean, scale=sd)
        assert stats.kstest(x, law.cdf).pvalue > ALPHA, plan


def test_rows_depend_on_the_seed_alone_not_on_the_batching():
    tables = parse_tables(SAMPLED)
    one, two = Draws(tables, seed=7), Draws(tables, seed=7)
    for name in tables.names:
        whole = _all(one, name)
        parts = [
            row
            for first in range(0, len(whole), 97)
            for row in two.rows(name, range(first, min(first + 97, len(whole))))
        ]
        assert parts == whole, name
        assert two.rows(name, [5, 3]) == [whole[5], whole[3]]
    other = Draws(tables, seed=8)
    assert _all(other, "orders") != _all(one, "orders")


def test_scale_multiplies_the_root_tables():
    tables = parse_tables(SAMPLED)
    draws = Draws(tables, seed=7, scale=3)
    assert draws.counts["customers"] == 1200 and draws.counts["products"] == 180
    assert _all(draws, "customers")[:400] == _all(Draws(tables, seed=7), "customers")


def test_a_child_with_rows_draws_its_parents_uniformly():
    changes = {"orders.per_parent": None, "orders.rows": 6000}
    draws = Draws(parse_tables(sampled(**changes)), seed=2)
    parents = Counter(draws.parent_of(draws.tables["orders"], range(6000)).tolist())
    assert set(parents) <= set(range(400))
    assert _chi_square(parents, dict.fromkeys(range(400), 1 / 400), 6000) > ALPHA


def test_a_child_date_falls_after_its_parent_date(big):
    signup = {row["id"]: row["signup"] for row in _all(big, "customers")}
    orders = _all(big, "orders")
    assert all(signup[o["customer_id"]] <= o["placed"] <= "2025-12-31" for o in orders)
    assert (
        sum(signup[o["customer_id"]] == o["placed"] for o in orders) < len(orders) / 100
    )  # spread, not pinned
