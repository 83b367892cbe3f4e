"""The quality and privacy figures follow SDMetrics' definitions (sdv-dev/SDMetrics, MIT).

sdmetrics itself is not a dependency (it requires `copulas`, under the Business Source License), so
its figures are pinned here: the small cases are SDMetrics' own unit-test cases, and the mixed table
(gaps, a date, a boolean) was scored by sdmetrics 0.32.0's QualityReport and DCROverfittingProtection
when this file was written; our figures equalled them to 1e-12.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy import stats

from synthmill.common.fit import privacy, quality
from synthmill.common.fit.sample import read_sample
from synthmill.common.schema import parse_schema

MIXED = parse_schema(
    {
        "age": "float",
        "income": {"type": "float", "nullable": True},
        "plan": {"type": "enum", "choices": ["a", "b", "c"], "nullable": True},
        "flag": "bool",
        "day": "date",
    }
)


def mixed_table(rng: np.random.Generator, n: int, shift: int) -> list[dict]:
    age = rng.normal(40 + shift, 10, n).round()
    income = np.exp(10 + 0.02 * age + rng.normal(0, 0.3, n))
    plan = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    flag = rng.random(n) < np.where(plan == "a", 0.7, 0.2)
    days = rng.integers(0, 300 + 10 * shift, n)
    rows = [
        {
            "age": float(a),
            "income": float(i),
            "plan": str(p),
            "flag": bool(f),
            "day": (dt.date(2024, 1, 1) + dt.timedelta(days=int(d))).isoformat(),
        }
        for a, i, p, f, d in zip(age, income, plan, flag, days, strict=True)
    ]
    for k in range(0, n, 17):
        rows[k]["income"] = None
    for k in range(0, n, 23):
        rows[k]["plan"] = None
    return rows


def test_sdmetrics_unit_cases() -> None:
    # TVComplement: SDMetrics' test_tv_complement.py
    assert quality.tv_complement(list("abcaab"), list("abcabc")) == pytest.approx(0.8333333333333333)
    # ContingencySimilarity: SDMetrics' test_contingency_similarity.py (all pairs distinct: 1 - 3/4)
    real = ([1.0, 2.4, 2.6, 0.8], [1, 2, 3, 5])
    synthetic = ([1.0, 1.8, 2.6, 1.0], [2, 3, 4, 1])
    assert quality.contingency_similarity(real, synthetic) == pytest.approx(0.25)
    # KSComplement is 1 - scipy's two-sample statistic, gaps dropped
    a, b = np.array([1.0, 2, 3, np.nan, 4]), np.array([2.0, 3, 4, 5, np.nan])
    assert quality.ks_complement(a, b) == pytest.approx(
        1 - stats.ks_2samp([1, 2, 3, 4], [2, 3, 4, 5]).statistic
    )
    # CorrelationSimilarity: 1 - |r_real - r_synthetic| / 2
    x, y = np.array([1.0, 2.4, 2.6, 0.8]), np.array([1.0, 2, 3, 4])
    u, v = np.array([0.9, 1.8, 3.1, 5.0]), np.array([2.0, 3, 4, 1])
    expected = 1 - abs(stats.pearsonr(x, y).statistic - stats.pearsonr(u, v).statistic) / 2
    assert quality.correlation_similarity((x, y), (u, v)) == pytest.approx(expected)


def test_the_report_equals_sdmetrics_on_a_mixed_table_with_gaps() -> None:
    rng = np.random.default_rng(5)
    real, synthetic = mixed_table(rng, 800, 0), mixed_table(rng, 700, 3)
    report = quality.report(MIXED, {n: [r[n] for r in real] for n in MIXED.names}, synthetic)
    assert report["score"] == pytest.approx(0.9461978130972084, abs=1e-12)
    shapes = {name: entry["score"] for name, entry in report["column_shapes"]["columns"].items()}
    assert shapes == pytest.approx(
        {
            "age": 0.8278571428571428,
            "income": 0.9023556231003039,
            "plan": 0.9849643893431813,
            "flag": 0.97875,
            "day": 0.89625,
        },
        abs=1e-12,
    )
    pairs = {tuple(p["columns"]): p for p in report["column_pair_trends"]["pairs"]}
    assert [k for k, p in pairs.items() if p["meets_threshold"]] == [("age", "income"), ("plan", "flag")]
    assert pairs["age", "income"]["score"] == pytest.approx(0.9969346759828679, abs=1e-12)
    assert pairs["age", "income"]["real_correlation"] == pytest.approx(0.5579741530545623, abs=1e-12)
    assert pairs["plan", "flag"]["score"] == pytest.approx(0.9517857142857143, abs=1e-12)
    assert pairs["plan", "flag"]["real_association"] == pytest.approx(0.5049577029344535, abs=1e-12)
    assert pairs["age", "plan"]["real_association"] == pytest.approx(0.12075955006692596, abs=1e-12)


def test_dcr_follows_sdmetrics_extremes() -> None:
    # SDMetrics' test_dcr_overfitting_protection.py: synthetic = holdout scores 1, synthetic = train 0
    schema = parse_schema({"num": "float", "cat": ["x", "y", "z"]})
    rng = np.random.default_rng(0)

    def rows(n: int) -> list[dict]:
        return [
            {"num": float(v), "cat": str(c)}
            for v, c in zip(rng.normal(size=n), rng.choice(list("xyz"), n), strict=True)
        ]

    train, holdout = rows(300), rows(300)
    same_as_holdout = privacy.report(schema, train, holdout, holdout, train)
    assert same_as_holdout["dcr"]["score"] == 1.0 and same_as_holdout["dcr"]["closer_to_training"] == 0.0
    same_as_train = privacy.report(schema, train, holdout, train, train)
    assert same_as_train["dcr"]["score"] == 0.0 and same_as_train["dcr"]["closer_to_training"] == 1.0
    assert same_as_train["exact_matches"] == 300 and same_as_train["nndr"]["median"] == 0.0
    fresh = privacy.report(schema, train, holdout, rows(300), train)
    assert 0.35 < fresh["dcr"]["closer_to_training"] < 0.65 and fresh["exact_matches"] == 0


def test_a_pinned_dcr_figure() -> None:
    # Distances by hand: ranges 4 (train) and 2 (holdout); the categorical column adds 0 or 1.
    schema = parse_schema({"num": "float", "cat": ["x", "y"]})
    train = [{"num": 0.0, "cat": "x"}, {"num": 4.0, "cat": "y"}]
    holdout = [{"num": 1.0, "cat": "x"}, {"num": 3.0, "cat": "x"}]
    synthetic = [{"num": 0.5, "cat": "x"}, {"num": 3.5, "cat": "y"}]
    # row 1: train min (0.5/4)/2 = 0.0625, holdout min (0.5/2)/2 = 0.125 -> closer to train
    # row 2: train min (0.5/4)/2 = 0.0625, holdout min (0.5/2 + 1)/2 = 0.625 -> closer to train
    report = privacy.report(schema, train, holdout, synthetic, train)
    assert report["dcr"]["closer_to_training"] == 1.0 and report["dcr"]["score"] == 0.0


def test_quality_of_a_real_dataset(tmp_path) -> None:
    """scikit-learn's wine recognition data (178 real wines, 13 measurements and a cultivar)."""
    from sklearn.datasets import load_wine

    from synthmill.common.fit.fitter import FitOptions, fit
    from synthmill.common.fit.judge import judge
    from synthmill.common.sampler import ColumnSampler

    wine = load_wine()
    header = ",".join([*wine.feature_names, "cultivar"])
    lines = [
        ",".join([*(f"{v:g}" for v in row), str(wine.target_names[t])])
        for row, t in zip(wine.data, wine.target, strict=True)
    ]
    sample = read_sample(("\n".join([header, *lines]) + "\n").encode(), "csv")
    fitted = fit(sample, FitOptions(min_count=5))
    assert fitted.schema.copula is not None and len(fitted.schema.copula.columns) >= 8
    assert {"alcohol", "proline", "cultivar"} <= set(fitted.schema.names)
    rows = ColumnSampler(fitted.schema, exclude=privacy.excluder(fitted.schema, sample.records())).rows(
        1, range(2000)
    )
    report = judge(fitted.schema, sample, rows)
    assert report["column_shapes"]["score"] > 0.85
    assert report["score"] > 0.8
    assert report["privacy"]["exact_matches"] == 0
    assert report["privacy"]["dcr"]["score"] > 0.5
