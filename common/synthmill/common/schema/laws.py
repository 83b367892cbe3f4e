"""Declared distributions as probability laws over a field's values (scipy, torch-free).

A numeric law is the declared scipy distribution restricted to the field's [minimum, maximum]. On an
int field a continuous law is rounded: whole number k gets the mass of [k - 0.5, k + 0.5), so the
bounds are not over-weighted. A value is drawn from one uniform u by the inverse CDF of the
truncated law, so it depends on u alone (see `synthmill.common.sampler`). `cdf` is that same
truncated law, which the stats report tests the written values against.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthmill.common.schema.draws import Draw
from synthmill.common.schema.model import Field

_EPOCH = dt.datetime(1970, 1, 1)
_INT_LIMIT = float(2**62)


class Empirical:
    """A sample's quantile function: knots at probabilities 0, 1/K, ..., 1, linear in between."""

    def __init__(self, knots: tuple[float, ...]):
        self.knots = np.asarray(knots, dtype=float)
        self.probabilities = np.linspace(0.0, 1.0, len(knots))

    def ppf(self, p: np.ndarray) -> np.ndarray:
        return np.interp(p, self.probabilities, self.knots)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        # With repeated knots (a value held by many rows) the CDF jumps there: take its top.
        right = np.searchsorted(self.knots, x, side="right")
        inside = np.interp(x, self.knots, self.probabilities)
        at_knot = np.isin(x, self.knots)
        top = self.probabilities[np.clip(right - 1, 0, len(self.knots) - 1)]
        return np.where(at_knot, top, inside) * (x >= self.knots[0])


@dataclass(frozen=True)
class NumericLaw:
    """A law on numbers: truncated to [lo, hi] in the base law's own space."""

    base: Any  # a frozen scipy.stats distribution, or None for a single point
    lo: float
    hi: float
    vmin: float  # the values' own bounds, for clipping
    vmax: float
    rounded: bool = False  # a continuous base rounded to whole numbers
    discrete: bool = False  # a discrete base (poisson, randint)
    point: float | None = None

    @property
    def integer(self) -> bool:
        return self.rounded or self.discrete

    @property
    def mass(self) -> float:
        """How much of the untruncated law lies inside the bounds."""
        if self.base is None:
            inside = self.vmin <= self.point <= self.vmax
            return float(inside and (self.point == round(self.point) or not self.integer))
        return float(self.base.cdf(self.hi) - self.base.cdf(self.lo))

    def sample(self, u: np.ndarray) -> np.ndarray:
        """Values for uniforms `u` in [0, 1), by the inverse CDF of the truncated law."""
        if self.base is None:
            return np.full(len(u), self.point, dtype=float)
        low, high = self.base.cdf(self.lo), self.base.cdf(self.hi)
        x = self.base.ppf(low + np.asarray(u) * (high - low))
        if self.rounded:
            x = np.floor(x + 0.5)
        return np.clip(x, self.vmin, self.vmax)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """P(value <= x) under the truncated law."""
        x = np.asarray(x, dtype=float)
        if self.base is None:
            return (x >= self.point).astype(float)
        if self.rounded:
            x = np.floor(x) + 0.5
        elif self.discrete:
            x = np.floor(x)
        low, high = self.base.cdf(self.lo), self.base.cdf(self.hi)
        return np.clip((self.base.cdf(np.clip(x, self.lo, self.hi)) - low) / (high - low), 0.0, 1.0)


def numeric_law(draw: Draw, field: Field) -> NumericLaw:
    """The law of uniform/normal/lognormal/poisson/empirical on `field`, or date_between as day or second numbers."""
    from scipy import stats

    if draw.name == "date_between":
        start, end = (dt.date.fromisoformat(a) for a in draw.args)
        if field.type == "date":
            first, last = start.toordinal(), end.toordinal()
        else:
            first = int((dt.datetime.combine(start, dt.time()) - _EPOCH).total_seconds())
            last = int((dt.datetime.combine(end, dt.time()) - _EPOCH).total_seconds()) + 86399
        return NumericLaw(stats.randint(first, last + 1), first - 1, last, first, last, discrete=True)
    integer = field.type == "int"
    fmin = -math.inf if field.minimum is None else float(field.minimum)
    fmax = math.inf if field.maximum is None else float(field.maximum)
    vmin, vmax = (max(fmin, -_INT_LIMIT), min(fmax, _INT_LIMIT)) if integer else (fmin, fmax)
    if draw.name == "uniform" and draw.args[0] == draw.args[1]:
        return NumericLaw(None, fmin, fmax, vmin, vmax, rounded=integer, point=float(draw.args[0]))
    if draw.name == "uniform" and integer:
        first, last = math.ceil(draw.args[0]), math.floor(draw.args[1])
        base = stats.randint(first, max(first, last) + 1) if first <= last else None
        if base is None:  # no whole number inside: an empty law, refused for its zero mass
            return NumericLaw(None, fmin, fmax, vmin, vmax, discrete=True, point=0.5)
        return NumericLaw(base, fmin - 1, fmax, vmin, vmax, discrete=True)
    if draw.name == "poisson":
        return NumericLaw(stats.poisson(draw.args[0]), fmin - 1, fmax, vmin, vmax, discrete=True)
    if draw.name == "empirical":
        base = Empirical(draw.args[0])
        if integer:
            return NumericLaw(base, fmin - 0.5, fmax + 0.5, vmin, vmax, rounded=True)
        return NumericLaw(base, fmin, fmax, vmin, vmax)
    a, b = draw.args
    base = {
        "uniform": lambda: stats.uniform(a, b - a),
        "normal": lambda: stats.norm(a, b),
        "lognormal": lambda: stats.lognorm(s=b, scale=math.exp(a)),
    }[draw.name]()
    if integer:
        return NumericLaw(base, fmin - 0.5, fmax + 0.5, vmin, vmax, rounded=True)
    return NumericLaw(base, fmin, fmax, vmin, vmax)


def categorical_law(draw: Draw) -> tuple[list[Any], np.ndarray]:
    """Values and probabilities of bernoulli or weights."""
    if draw.name == "bernoulli":
        p = draw.args[0]
        return [True, False], np.array([p, 1 - p])
    values = [value for value, _ in draw.args[0]]
    weights = np.array([weight for _, weight in draw.args[0]], dtype=float)
    return values, weights / weights.sum()


def pick(probabilities: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Indices drawn from `probabilities` by uniforms `u` (inverse CDF)."""
    edges = np.cumsum(probabilities)
    return np.minimum(np.searchsorted(edges / edges[-1], u, side="right"), len(probabilities) - 1)


def to_value(law: NumericLaw, x: float, field: Field) -> Any:
    """A number drawn from `law` as the field's JSON value (floats to six significant digits)."""
    if field.type == "float":
        return min(max(float(f"{x:.6g}"), law.vmin), law.vmax)
    return from_number(x, field)


def from_number(x: float, field: Field) -> Any:
    """A whole number as the value of an int, date (day number) or datetime (epoch second) field."""
    if field.type == "date":
        return dt.date.fromordinal(int(x)).isoformat()
    if field.type == "datetime":
        return (_EPOCH + dt.timedelta(seconds=int(x))).isoformat()
    return int(x)


def to_number(value: Any, field: Field) -> float:
    """A field value as the number its law is over (the inverse of `to_value`)."""
    if field.type == "date":
        return float(dt.date.fromisoformat(value).toordinal())
    if field.type == "datetime":
        moment = dt.datetime.fromisoformat(value).replace(tzinfo=None)
        return float(int((moment - _EPOCH).total_seconds()))
    return float(value)
