"""A job's stats report (stats.json): per column count, distinct count, top values and a histogram,
and for declared distributions a goodness-of-fit figure against the declared law.

- Numeric laws (uniform, normal, lognormal, poisson, date_between): the Kolmogorov-Smirnov distance
  between the written values and the truncated law they were declared with. Continuous columns get
  scipy's `kstest` with its p-value; whole-number columns (ints, dates) get the exact discrete
  distance max_k |F_n(k) - F(k)| and no p-value (the continuous p-value would be wrong).
- Categorical laws (weights, bernoulli): the total-variation distance 1/2 sum |p_observed - p_declared|.
- Conditional columns: the figure of every case over its own rows; the column's figure is the worst.
- Faker columns and free columns: no law, so no figure; the histogram and distinct count still show.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from synthmill.common.schema import Field, Schema
from synthmill.common.schema.draws import ByColumn, Draw, case_key
from synthmill.common.schema.laws import NumericLaw, categorical_law, from_number, numeric_law, to_number
from synthmill.common.schema.shares import share_cap

TOP = 10
BINS = 20
MAX_UNIT_BINS = 40  # whole-number columns with at most this many values get a bar per value
CATEGORIES = 20
_NUMERIC = ("int", "float", "date", "datetime")


def report(schema: Schema, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """stats.json for `rows` of `schema`."""
    columns = {field.name: _column(field, rows) for field in schema.fields}
    return {"rows": len(rows), "columns": columns, "headline": headline(len(rows), columns)}


def headline(count: int, columns: dict[str, dict]) -> str:
    """One line: the fit figure of each declared distribution."""
    figures = []
    for name, column in columns.items():
        fit = column.get("fit")
        if fit:
            by = f" by {column['distribution']['by']}" if isinstance(column["distribution"], dict) else ""
            figures.append(f"{name} {fit['test'].upper()} {fit['statistic']:.3f}{by}")
    sampled = sum(1 for column in columns.values() if column.get("distribution"))
    tail = "; ".join(figures) if figures else "no declared distributions to fit"
    return f"{count} rows, {sampled} of {len(columns)} columns sampled; fit: {tail}"


def _column(field: Field, rows: list[dict[str, Any]]) -> dict[str, Any]:
    values = [row[field.name] for row in rows if row.get(field.name) is not None]
    counts = Counter(map(_hashable, values))
    out: dict[str, Any] = {
        "type": field.type,
        "count": len(values),
        "nulls": len(rows) - len(values),
        "distinct": len(counts),
        "top": [[value, n] for value, n in counts.most_common(TOP)],
        # the largest share of the rows one value fills, against the column's cap (max_share)
        "top_share": round(counts.most_common(1)[0][1] / len(rows), 4) if counts else 0.0,
        "max_share": share_cap(field),
        "distribution": field.distribution.spec() if field.distribution is not None else None,
    }
    cases = _cases(field, rows)
    categorical = field.type in ("enum", "bool") or (cases and all(d.categorical for d, _, _ in cases))
    if categorical or (field.type not in _NUMERIC and len(counts) <= CATEGORIES):
        out["histogram"] = _categories(counts, cases, len(values))
    elif field.type in _NUMERIC:
        out["histogram"] = _numeric_histogram(field, values, cases)
    else:
        out["histogram"] = _lengths(values)
    fits = [(_fit(field, draw, members), key) for draw, members, key in cases if draw.name != "faker"]
    fits = [(fit, key) for fit, key in fits if fit is not None]
    if fits:
        worst, _ = max(fits, key=lambda pair: pair[0]["statistic"])
        out["fit"] = dict(worst)
        if isinstance(field.distribution, ByColumn):
            out["fit"]["cases"] = {key: fit for fit, key in fits}
    return out


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) else str(value)


def _cases(field: Field, rows: list[dict[str, Any]]) -> list[tuple[Draw, list[Any], str]]:
    """(declared draw, the values drawn from it, case name) for each case of the field's distribution."""
    dist = field.distribution
    if dist is None:
        return []
    if isinstance(dist, Draw):
        return [(dist, [row[field.name] for row in rows], "")]
    groups: dict[str, tuple[Any, list[Any]]] = {}
    for row in rows:
        groups.setdefault(case_key(row[dist.by]), (row[dist.by], []))[1].append(row[field.name])
    return [(dist.draw_for(by_value), members, key) for key, (by_value, members) in sorted(groups.items())]


def _fit(field: Field, draw: Draw, values: list[Any]) -> dict[str, Any] | None:
    if not values:
        return None
    if draw.categorical:
        choices, probabilities = categorical_law(draw)
        counts = Counter(values)
        observed = np.array([counts.get(c, 0) for c in choices]) / len(values)
        stray = sum(n for value, n in counts.items() if value not in choices) / len(values)
        tv = 0.5 * (float(np.abs(observed - probabilities).sum()) + stray)
        return {"test": "tv", "statistic": round(tv, 4), "p_value": None, "n": len(values)}
    law = numeric_law(draw, field)
    x = np.array([to_number(v, field) for v in values])
    if law.integer or law.base is None:
        return {"test": "ks", "statistic": round(_discrete_ks(law, x), 4), "p_value": None, "n": len(x)}
    from scipy import stats

    result = stats.kstest(x, law.cdf)
    return {
        "test": "ks",
        "statistic": round(float(result.statistic), 4),
        "p_value": round(float(result.pvalue), 4),
        "n": len(x),
    }


def _discrete_ks(law: NumericLaw, x: np.ndarray) -> float:
    """sup |F_n - F| for a law with atoms (whole numbers, or one point): both are steps at the
    atoms, so the supremum is taken at an observed value or just below one."""
    x = np.sort(x)
    points = np.unique(np.concatenate([x, np.nextafter(x, -np.inf)]))
    empirical = np.searchsorted(x, points, side="right") / len(x)
    return float(np.abs(empirical - law.cdf(points)).max())


def _categories(counts: Counter, cases, n: int) -> dict[str, Any]:
    expected: Counter = Counter()
    for draw, members, _ in cases:
        if draw.categorical:
            choices, probabilities = categorical_law(draw)
            for choice, p in zip(choices, probabilities, strict=True):
                expected[_hashable(choice)] += p * len(members)
    keys = [value for value, _ in counts.most_common(CATEGORIES)]
    keys += [k for k, _ in expected.most_common() if k not in counts][: max(0, CATEGORIES - len(keys))]
    return {
        "kind": "categorical",
        "labels": [case_key(k) for k in keys],
        "counts": [counts.get(k, 0) for k in keys],
        "expected": [round(expected.get(k, 0.0), 2) for k in keys] if expected else None,
    }


def _numeric_histogram(field: Field, values: list[Any], cases) -> dict[str, Any]:
    x = np.array([to_number(v, field) for v in values]) if values else np.zeros(0)
    whole = field.type in ("int", "date")
    lo, hi = (float(x.min()), float(x.max())) if len(x) else (0.0, 0.0)
    if whole and hi - lo + 1 <= MAX_UNIT_BINS:
        edges = np.arange(lo - 0.5, hi + 1.0, 1.0)
    elif whole:
        edges = np.linspace(lo - 0.5, hi + 0.5, BINS + 1)
    else:
        edges = np.linspace(lo, hi, BINS + 1) if hi > lo else np.array([lo - 0.5, lo + 0.5])
    if len(edges) < 2 or not np.all(np.diff(edges) > 0):
        # Values so large (an int64 near 1e18) that ±0.5 or a unit step is lost in float: one bar.
        edges = np.array([lo, hi if hi > lo else np.nextafter(lo, np.inf)])
    counts, _ = np.histogram(x, bins=edges)
    expected = np.zeros(len(edges) - 1)
    # np.histogram's first bar holds its left edge, so its expected mass starts just below it
    closed = np.concatenate([[np.nextafter(edges[0], -np.inf)], edges[1:]])
    for draw, members, _ in cases:
        if draw.name != "faker" and not draw.categorical:
            expected += len(members) * np.diff(numeric_law(draw, field).cdf(closed))
    ends = (edges[0], edges[-1])
    dated = field.type in ("date", "datetime")
    return {
        "kind": "numeric",
        "edges": [round(float(e), 6) for e in edges],
        "labels": [str(from_number(np.ceil(e), field)) if dated else f"{e:g}" for e in ends],
        "counts": counts.tolist(),
        "expected": [round(float(e), 2) for e in expected] if cases else None,
    }


def _lengths(values: list[Any]) -> dict[str, Any]:
    lengths = np.array([len(str(v)) for v in values]) if values else np.zeros(0)
    top = int(lengths.max()) if len(lengths) else 0
    edges = np.linspace(-0.5, top + 0.5, min(BINS, top + 1) + 1)
    counts, _ = np.histogram(lengths, bins=edges)
    return {
        "kind": "length",
        "edges": [round(float(e), 3) for e in edges],
        "labels": ["0", str(top)],
        "counts": counts.tolist(),
        "expected": None,
    }
