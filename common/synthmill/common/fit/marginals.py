"""One column's own law: the best of normal, lognormal, uniform and poisson by KS, else empirical;
weights for categories, with the rare ones dropped.

A law is judged as the sampler will draw it: truncated to the column's observed [min, max] and, on
int columns, rounded to whole numbers (`synthmill.common.schema.laws`). It fits when its Kolmogorov-Smirnov
distance to the sample is within `ks_tolerance(n)`: the 5% critical value 1.36/sqrt(n), but never
below 0.02 (with 100,000 rows no real column is exactly normal, and 2% is already a shape score of
0.98). The empirical law keeps `n // min_count` intervals at most (100 at most), so each quantile
knot stands for at least `min_count` sample values.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthmill.common.errors import InvalidArgument
from synthmill.common.schema import Field, distributions
from synthmill.common.schema.laws import numeric_law

MAX_INTERVALS = 100


@dataclass(frozen=True)
class NumericFit:
    spec: str  # the distribution, e.g. "normal(41.2, 12.9)"
    ks: float  # its KS distance to the values it was fitted on


def ks_tolerance(n: int) -> float:
    return max(0.02, 1.36 / math.sqrt(n))


def short(x: float) -> float | int:
    """A number to six significant digits, as a whole number where it is one."""
    value = float(f"{x:.6g}")
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def numeric(field: Field, x: np.ndarray, min_count: int) -> NumericFit:
    """The best-fitting law for the values `x` of numeric `field` (its bounds are the observed range)."""
    x = np.sort(x)
    fits = []
    for spec in _candidates(field, x):
        try:
            draw = distributions.parse(spec, field, "fit")
        except InvalidArgument:  # e.g. less than 1% of the law inside the observed range
            continue
        fits.append(NumericFit(spec, ks_distance(x, numeric_law(draw, field).cdf, field.type == "int")))
    best = min(fits, key=lambda f: f.ks, default=None)
    if best is not None and best.ks <= ks_tolerance(len(x)):
        return best
    spec = empirical(x, min_count)
    draw = distributions.parse(spec, field, "fit")
    return NumericFit(spec, ks_distance(x, numeric_law(draw, field).cdf, field.type == "int"))


def _candidates(field: Field, x: np.ndarray) -> list[str]:
    mean, sd = float(x.mean()), float(x.std(ddof=1)) if len(x) > 1 else 0.0
    out = []
    if sd > 0:
        out.append(f"normal({short(mean)}, {short(sd)})")
        out.append(f"uniform({short(x[0])}, {short(x[-1])})")
    if x[0] > 0:
        logs = np.log(x)
        if logs.std() > 0:
            out.append(f"lognormal({short(logs.mean())}, {short(logs.std(ddof=1))})")
    if field.type == "int" and x[0] >= 0 and mean > 0:
        out.append(f"poisson({short(mean)})")
    return out


def empirical(x: np.ndarray, min_count: int) -> str:
    intervals = max(1, min(MAX_INTERVALS, len(x) // max(1, min_count)))
    knots = np.quantile(x, np.linspace(0, 1, intervals + 1))
    knots = np.maximum.accumulate([short(q) for q in knots])  # rounding keeps them non-decreasing
    return f"empirical([{', '.join(str(short(q)) for q in knots)}])"


def ks_distance(x: np.ndarray, cdf: Any, integer: bool) -> float:
    """sup |ECDF - F| over the sorted values `x`: at each value and just before it."""
    values, counts = np.unique(x, return_counts=True)
    right = np.cumsum(counts) / len(x)
    left = right - counts / len(x)
    if integer:  # step laws: the gap before a value is F(value - 1) against the ECDF just below
        return float(max(np.abs(right - cdf(values)).max(), np.abs(left - cdf(values - 1)).max()))
    at = cdf(values)
    return float(max(np.abs(right - at).max(), np.abs(left - at).max()))


@dataclass(frozen=True)
class CategoricalFit:
    spec: str  # weights({...}) or bernoulli(p)
    choices: tuple[Any, ...]  # the kept values, most frequent first
    dropped: int  # categories seen fewer than min_count times, left out


def categorical(values: list[Any], is_bool: bool, min_count: int, keep_rare: bool) -> CategoricalFit | None:
    """Weights of the values seen at least `min_count` times (all with `keep_rare`); None if none is."""
    counts = Counter(v for v in values if v is not None)
    kept = {v: c for v, c in counts.most_common() if keep_rare or c >= min_count}
    if not kept:
        return None
    total = sum(kept.values())
    dropped = len(counts) - len(kept)
    if is_bool:
        return CategoricalFit(f"bernoulli({short(kept.get(True, 0) / total)})", tuple(kept), dropped)
    shares = {str(v): short(c / total) for v, c in kept.items()}
    return CategoricalFit(f"weights({_json(shares)})", tuple(kept), dropped)


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
