"""Declared distributions of schema fields: the string syntax, parsed and checked against the field.

A field may carry a `distribution` (simple map) or `x-distribution` (JSON Schema). Its value is one
of these strings, or a conditional object:

    uniform(a, b)          int, float: uniform in [a, b] (ints: each whole number equally likely)
    normal(mean, sd)       int, float: Gaussian, truncated to the field's minimum/maximum
    lognormal(mu, sigma)   int, float: exp of a Gaussian, truncated likewise
    poisson(lam)           int: Poisson counts, truncated likewise
    empirical([q0, ..., qK])  int, float: quantiles at probabilities 0, 1/K, ..., 1 of a sample;
                           values interpolate between them, so they stay inside [q0, qK]
    bernoulli(p)           bool: true with probability p
    weights({"a": 3, ...}) enum (or string): each value with probability weight / sum of weights
    date_between("2020-01-01", "2025-12-31")   date, datetime: uniform day (or second) in the range
    faker(name) | faker(city, "de_DE")          string-like: a Faker provider, optionally a locale

    {"by": "plan", "cases": {"free": "uniform(0, 0)", "pro": "normal(49, 8)"}, "default": "..."}

A conditional field draws from the case named by the value of `by`, an earlier sampled categorical
column; every value `by` can take needs a case, unless a `default` is given.

"Impossible" parameters: a numeric law must put at least `MIN_MASS` (1%) of its probability inside
the field's [minimum, maximum] (for ints: on the whole numbers inside them); less is refused rather
than silently piling every row onto a bound. Every problem raises InvalidArgument naming the field,
e.g. ``schema.age.distribution``.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from synthmill.common.errors import InvalidArgument
from synthmill.common.schema import fakers
from synthmill.common.schema.draws import NUMERIC_LAWS, ByColumn, Distribution, Draw
from synthmill.common.schema.laws import numeric_law
from synthmill.common.schema.model import Field

MIN_MASS = 0.01
MAX_QUANTILES = 1001
_TYPES = {
    "uniform": ("int", "float"),
    "normal": ("int", "float"),
    "lognormal": ("int", "float"),
    "poisson": ("int",),
    "empirical": ("int", "float"),
    "bernoulli": ("bool",),
    "weights": ("enum", "string"),
    "date_between": ("date", "datetime"),
    "faker": ("string", "email", "date", "datetime", "uuid"),
}
_CALL = re.compile(r"^\s*([a-z_]+)\s*\((.*)\)\s*$", re.DOTALL)
_FAKER_ARGS = re.compile(r'^\s*([a-z][a-z0-9_]*)\s*(?:,\s*"?([A-Za-z]{2,3}(?:_[A-Za-z]{2,4})?)"?\s*)?$')
_CONDITION_KEYS = {"by", "cases", "default"}


def parse(raw: Any, field: Field, where: str) -> Distribution:
    """Parses a field's distribution and checks it against the field's type and bounds."""
    if field.unique:
        raise InvalidArgument(where, "a sampled field cannot be unique: independent draws may repeat")
    if isinstance(raw, dict):
        return _parse_condition(raw, field, where)
    return _parse_draw(raw, field, where)


def _parse_condition(raw: dict, field: Field, where: str) -> ByColumn:
    unknown = sorted(set(raw) - _CONDITION_KEYS)
    if unknown:
        raise InvalidArgument(f"{where}.{unknown[0]}", "is not a key of a conditional (by, cases, default)")
    by, cases = raw.get("by"), raw.get("cases")
    if not isinstance(by, str) or not by:
        raise InvalidArgument(f"{where}.by", "must name an earlier sampled column")
    if not isinstance(cases, dict) or not cases:
        raise InvalidArgument(f"{where}.cases", "must map each value of the `by` column to a distribution")
    parsed = tuple(
        (str(key), _parse_draw(value, field, f"{where}.cases.{key}")) for key, value in cases.items()
    )
    default = raw.get("default")
    return ByColumn(by, parsed, None if default is None else _parse_draw(default, field, f"{where}.default"))


def _parse_draw(raw: Any, field: Field, where: str) -> Draw:
    if not isinstance(raw, str):
        raise InvalidArgument(where, "must be a string such as 'normal(41, 13)' or a {by, cases} object")
    match = _CALL.match(raw)
    if match is None:
        raise InvalidArgument(where, f"{raw!r} is not of the form name(arguments)")
    name, inner = match.groups()
    if name not in _TYPES:
        raise InvalidArgument(where, f"unknown distribution {name!r}; use one of {', '.join(_TYPES)}")
    if field.type not in _TYPES[name]:
        raise InvalidArgument(
            where, f"{name} applies to {' or '.join(_TYPES[name])} fields, not {field.type}"
        )
    if name == "faker":
        draw = _faker_draw(inner, where)
    else:
        try:
            args = json.loads(f"[{inner}]")
        except json.JSONDecodeError:
            raise InvalidArgument(where, f"cannot read the arguments of {raw!r}") from None
        draw = _CHECK_ARGS[name](args, where)
    _check_against_field(draw, field, where)
    return draw


def _numbers(args: list, count: int, where: str, name: str) -> list[float]:
    if len(args) != count or any(isinstance(a, bool) or not isinstance(a, int | float) for a in args):
        raise InvalidArgument(where, f"{name} takes {count} number{'s' if count > 1 else ''}")
    return args


def _uniform(args: list, where: str) -> Draw:
    a, b = _numbers(args, 2, where, "uniform")
    if a > b:
        raise InvalidArgument(where, f"uniform({a}, {b}): the lower end is above the upper end")
    return Draw("uniform", (a, b))


def _positive_second(name: str) -> Callable[[list, str], Draw]:
    def check(args: list, where: str) -> Draw:
        first, second = _numbers(args, 2, where, name)
        if second <= 0:
            raise InvalidArgument(where, f"{name}: the spread {second} must be positive")
        return Draw(name, (first, second))

    return check


def _poisson(args: list, where: str) -> Draw:
    (lam,) = _numbers(args, 1, where, "poisson")
    if lam <= 0:
        raise InvalidArgument(where, f"poisson({lam}): the rate must be positive")
    return Draw("poisson", (lam,))


def _empirical(args: list, where: str) -> Draw:
    knots = args[0] if len(args) == 1 and isinstance(args[0], list) else None
    if knots is None or not 2 <= len(knots) <= MAX_QUANTILES:
        raise InvalidArgument(
            where, f"empirical takes one list of 2 to {MAX_QUANTILES} quantiles, e.g. [0, 3, 10]"
        )
    if any(isinstance(q, bool) or not isinstance(q, int | float) or not math.isfinite(q) for q in knots):
        raise InvalidArgument(where, "empirical: every quantile must be a finite number")
    if any(b < a for a, b in itertools.pairwise(knots)):
        raise InvalidArgument(where, "empirical: the quantiles must not decrease")
    return Draw("empirical", (tuple(knots),))


def _bernoulli(args: list, where: str) -> Draw:
    (p,) = _numbers(args, 1, where, "bernoulli")
    if not 0 <= p <= 1:
        raise InvalidArgument(where, f"bernoulli({p}): p must be between 0 and 1")
    return Draw("bernoulli", (p,))


def _weights(args: list, where: str) -> Draw:
    if len(args) != 1 or not isinstance(args[0], dict) or not args[0]:
        raise InvalidArgument(where, 'weights takes one object, e.g. weights({"free": 0.7, "pro": 0.3})')
    table = args[0]
    for value, weight in table.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise InvalidArgument(where, f"the weight of {value!r} must be a non-negative number")
    if sum(table.values()) <= 0:
        raise InvalidArgument(where, "the weights sum to zero")
    return Draw("weights", (tuple(table.items()),))


def _date_between(args: list, where: str) -> Draw:
    import datetime as dt

    if len(args) != 2 or not all(isinstance(a, str) for a in args):
        raise InvalidArgument(where, 'date_between takes two ISO dates, e.g. ("2020-01-01", "2025-12-31")')
    try:
        start, end = (dt.date.fromisoformat(a) for a in args)
    except ValueError as exc:
        raise InvalidArgument(where, f"date_between: {exc}") from None
    if start > end:
        raise InvalidArgument(where, f"date_between: {args[0]} is after {args[1]}")
    return Draw("date_between", tuple(args))


def _faker_draw(inner: str, where: str) -> Draw:
    match = _FAKER_ARGS.match(inner)
    if match is None:
        raise InvalidArgument(where, 'use faker(provider) or faker(provider, "de_DE")')
    provider, locale = match.groups()
    problem = fakers.check(provider, locale or "")
    if problem:
        raise InvalidArgument(where, problem)
    return Draw("faker", (provider, locale or ""))


_CHECK_ARGS: dict[str, Callable[[list, str], Draw]] = {
    "uniform": _uniform,
    "normal": _positive_second("normal"),
    "lognormal": _positive_second("lognormal"),
    "poisson": _poisson,
    "empirical": _empirical,
    "bernoulli": _bernoulli,
    "weights": _weights,
    "date_between": _date_between,
}


def _check_against_field(draw: Draw, field: Field, where: str) -> None:
    if draw.name in NUMERIC_LAWS:
        mass = numeric_law(draw, field).mass
        if mass < MIN_MASS:
            bounds = f"[{_bound(field.minimum)}, {_bound(field.maximum)}]"
            raise InvalidArgument(
                where,
                f"{draw.spec()} puts {mass:.2%} of its mass inside {bounds}; at least {MIN_MASS:.0%} must "
                "fall inside the field's minimum/maximum",
            )
    elif draw.name == "weights":
        for value, _ in draw.args[0]:
            if field.type == "enum" and value not in field.choices:
                raise InvalidArgument(
                    where, f"weights name {value!r}, which is not one of {list(field.choices)}"
                )
            _fits(field, value, where)
    elif draw.name == "faker":
        problem = fakers.check_fits(draw.args[0], draw.args[1], field)
        if problem:
            raise InvalidArgument(where, problem)


def _fits(field: Field, value: Any, where: str) -> None:
    try:
        field.validate(value)
    except ValueError as exc:  # InvalidRow
        raise InvalidArgument(where, str(exc)) from None


def _bound(value: float | None) -> str:
    return "-inf" if value is None else f"{value:g}"


def support(dist: Distribution | None) -> set[str] | None:
    """The case names a categorical distribution can produce (None: not categorical)."""
    if dist is None:
        return None
    if isinstance(dist, ByColumn):
        parts = [support(draw) for draw in dist.draws()]
        return None if any(p is None for p in parts) else set().union(*parts)
    if dist.name == "bernoulli":
        p = dist.args[0]
        return {key for key, mass in (("true", p), ("false", 1 - p)) if mass > 0}
    if dist.name == "weights":
        return {value for value, weight in dist.args[0] if weight > 0}
    return None


def check_conditions(
    fields: Sequence[Field], where_of: Callable[[str], str], outer: Mapping[str, set[str]] | None = None
) -> None:
    """Checks every `by`: an earlier sampled categorical column whose values all have a case, or a
    column `outer` names (another table's, e.g. ``customers.plan``) with the values it takes."""
    position = {field.name: k for k, field in enumerate(fields)}
    by_name = {field.name: field for field in fields}
    outer = outer or {}
    for k, field in enumerate(fields):
        dist = field.distribution
        if not isinstance(dist, ByColumn):
            continue
        where = f"{where_of(field.name)}.by"
        if dist.by in outer:
            _check_cases(dist, outer[dist.by], field.name, where_of)
            continue
        if dist.by not in position:
            raise InvalidArgument(where, f"names {dist.by!r}, which is not a column")
        if dist.by == field.name:
            raise InvalidArgument(where, f"{field.name} depends on itself (a cycle)")
        if position[dist.by] > k:
            chain = _chain(by_name, dist.by, field.name)
            if chain:
                raise InvalidArgument(where, f"a cycle: {' -> '.join([field.name, *chain])}")
            raise InvalidArgument(
                where, f"names {dist.by!r}, a later column; a column depends on earlier ones"
            )
        if by_name[dist.by].null_share:
            raise InvalidArgument(where, f"{dist.by!r} may be null (a null share); a `by` column may not")
        values = support(by_name[dist.by].distribution)
        if values is None:
            raise InvalidArgument(
                where,
                f"{dist.by!r} is not a sampled categorical column (weights, bernoulli, or by over them)",
            )
        _check_cases(dist, values, field.name, where_of)


def _check_cases(dist: ByColumn, values: set[str], name: str, where_of: Callable[[str], str]) -> None:
    """Every case is a value `by` takes, and every value has a case (or there is a default)."""
    for key, _ in dist.cases:
        if key not in values:
            raise InvalidArgument(f"{where_of(name)}.cases.{key}", f"{dist.by} never takes {key!r}")
    missing = sorted(values - {key for key, _ in dist.cases})
    if missing and dist.default is None:
        raise InvalidArgument(
            f"{where_of(name)}.cases", f"no case for {dist.by} = {missing[0]!r} and no default"
        )


def _chain(by_name: dict[str, Field], start: str, target: str) -> list[str]:
    """The `by` path from `start` that leads back to `target` ([] when there is none)."""
    path, name = [start], start
    while isinstance(by_name[name].distribution, ByColumn):
        name = by_name[name].distribution.by
        if name not in by_name or name in path:
            return []
        path.append(name)
        if name == target:
            return path
    return []
