"""A schema from a sample: each column's type, law and null share, its categorical parent, and a
Gaussian copula over the correlated numeric columns. The result is the simple-map schema syntax,
checked by the schema parser before it is returned, so a fit gives a whole valid schema or an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from synthmill.common.errors import InvalidArgument
from synthmill.common.fit import dependence, marginals, privacy
from synthmill.common.fit.columns import Column, type_columns
from synthmill.common.fit.defaults import DEFAULT_MIN_COUNT, HOLDOUT_SHARE
from synthmill.common.fit.sample import Sample
from synthmill.common.schema import Field, Schema, parse_schema

EXAMPLES = 5


@dataclass
class FitOptions:
    min_count: int = DEFAULT_MIN_COUNT  # categories seen fewer times are dropped (a privacy rule)
    keep_rare: bool = False
    holdout: float = HOLDOUT_SHARE  # the share of rows held out of the fit, for the DCR figure
    now: dt.datetime | None = None  # the fit's time, for fitted_from (injected by tests)


@dataclass
class Fitted:
    """The fitted schema, in the simple-map syntax and parsed, and the typed sample it came from."""

    spec: dict[str, Any]
    schema: Schema
    columns: list[Column] = field(default_factory=list)


def fit(whole: Sample, options: FitOptions | None = None) -> Fitted:
    """Fits the sample's training part (all of it with holdout 0)."""
    options = options or FitOptions()
    if not 0 <= options.holdout < 1:
        raise InvalidArgument("holdout", "must be at least 0 and below 1")
    train, _ = privacy.split(whole.rows, options.holdout, whole.split_seed)
    sample = whole.subset(train) if options.holdout else whole
    if not sample.rows:
        raise InvalidArgument("sample", f"has {whole.rows} rows, none left to fit after the holdout")
    columns = type_columns(sample)
    specs: dict[str, dict[str, Any]] = {}
    dropped: dict[str, int] = {}
    for column in columns:
        specs[column.name] = _marginal(column, options, dropped)
    for k, column in enumerate(columns):
        _conditional(column, columns[:k], specs, options)
    spec: dict[str, Any] = dict(specs)
    coupled = _copula(columns, specs)
    if coupled:
        spec["copula"] = coupled
    spec["fitted_from"] = _note(whole, options, dropped)
    return Fitted(spec, parse_schema(spec), columns)


def _marginal(column: Column, options: FitOptions, dropped: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": column.type}
    present = column.present
    if len(present) < len(column.values):
        out["nullable"] = True
    if not present:
        return out
    if column.categorical:
        got = marginals.categorical(present, column.type == "bool", options.min_count, options.keep_rare)
        if got is None:  # every category is rare: the LLM writes the column instead
            dropped[column.name] = len(set(present))
            return _free_text(column, present, out | {"type": "string"}, with_examples=False)
        if got.dropped:
            dropped[column.name] = got.dropped
        if column.type == "enum":
            out["choices"] = [str(v) for v in got.choices]
        out["distribution"] = got.spec
    elif column.numeric:
        x = column.numbers()
        x = x[~np.isnan(x)]
        lo, hi = (int(x.min()), int(x.max())) if column.type == "int" else (float(x.min()), float(x.max()))
        out |= {"minimum": lo, "maximum": hi}
        out["distribution"] = marginals.numeric(_field(column.name, out), x, options.min_count).spec
    elif column.type in ("date", "datetime"):
        days = sorted(str(v)[:10] for v in present)
        out["distribution"] = f'date_between("{days[0]}", "{days[-1]}")'
    elif column.type in ("email", "uuid"):
        out["distribution"] = "faker(email)" if column.type == "email" else "faker(uuid4)"
    else:
        return _free_text(column, present, out, with_examples=True)
    if "nullable" in out:
        out["null_share"] = marginals.short(column.null_share)
    return out


def _free_text(
    column: Column, present: list[Any], out: dict[str, Any], with_examples: bool
) -> dict[str, Any]:
    texts = [str(v) for v in present]
    out["description"] = f"free text like the sample's {column.name} column"
    out["max_length"] = max(len(t) for t in texts)
    if with_examples:  # k values spread over the sample, shown to the LLM as few-shot examples
        picks = np.linspace(0, len(texts) - 1, min(EXAMPLES, len(texts))).astype(int)
        out["examples"] = list(dict.fromkeys(texts[k] for k in picks))
    return out


def _field(name: str, spec: dict[str, Any]) -> Field:
    return Field(name, spec["type"], minimum=spec.get("minimum"), maximum=spec.get("maximum"))


def _conditional(child: Column, earlier: list[Column], specs: dict, options: FitOptions) -> None:
    """Makes `child` a {by, cases} of its most associated earlier categorical column, if one is clear."""
    mine = specs[child.name]
    if "distribution" not in mine or not (child.categorical or child.numeric):
        return
    best: tuple[float, Column] | None = None
    for parent in earlier:
        theirs = specs[parent.name]
        if not parent.categorical or "distribution" not in theirs or "null_share" in theirs:
            continue
        if child.categorical:
            strength, p_value = dependence.cramers_v(parent.values, child.values)
        else:
            strength, p_value = dependence.correlation_ratio(parent.values, child.numbers())
        if strength >= dependence.MIN_ASSOCIATION and p_value < dependence.MAX_P:
            if best is None or strength > best[0]:
                best = (strength, parent)
    if best is None:
        return
    parent = best[1]
    cases = {}
    for value in _support(specs[parent.name], parent):
        rows = [c for p, c in zip(parent.values, child.values, strict=True) if p == value and c is not None]
        if len(rows) < 4 * options.min_count:  # too few rows to fit a case: the default covers it
            continue
        cases[_case(value)] = _case_law(child, mine, rows, options)
    if cases:
        mine["distribution"] = {"by": parent.name, "cases": cases, "default": mine["distribution"]}


def _support(spec: dict[str, Any], parent: Column) -> list[Any]:
    if parent.type == "bool":
        return [True, False]
    return list(spec.get("choices", []))


def _case(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _case_law(child: Column, spec: dict[str, Any], rows: list[Any], options: FitOptions) -> str:
    if child.categorical:
        allowed = set(spec.get("choices", [])) if child.type == "enum" else {True, False}
        counts = [v for v in rows if v in allowed]
        got = marginals.categorical(counts or rows, child.type == "bool", 1, True)
        return got.spec if got else spec["distribution"]
    x = np.array([float(v) for v in rows])
    return marginals.numeric(_field(child.name, spec), x, options.min_count).spec


def _copula(columns: list[Column], specs: dict) -> dict[str, Any] | None:
    numeric = [c for c in columns if c.numeric and "distribution" in specs[c.name]]
    if len(numeric) < 2:
        return None
    matrix = dependence.correlation([dependence.normal_scores(c.numbers()) for c in numeric])
    strong = np.abs(matrix - np.eye(len(numeric))) >= dependence.MIN_CORRELATION
    keep = [k for k in range(len(numeric)) if strong[k].any()]
    if len(keep) < 2:
        return None
    sub = dependence.nearest_correlation(matrix[np.ix_(keep, keep)])
    rounded = np.round(sub, 4)
    np.fill_diagonal(rounded, 1.0)
    return {"columns": [numeric[k].name for k in keep], "correlation": rounded.tolist()}


def _note(sample: Sample, options: FitOptions, dropped: dict[str, int]) -> dict[str, Any]:
    now = options.now or dt.datetime.now(dt.UTC)
    note: dict[str, Any] = {
        "rows": sample.rows,
        "sha256": sample.sha256,
        "fitted_at": now.replace(microsecond=0).isoformat(),
        "min_count": options.min_count,
        "holdout": options.holdout,
        "rare_categories_dropped": dropped if not options.keep_rare else {},
    }
    renamed = {name: raw for name, raw in sample.header.items() if name != raw}
    if renamed:
        note["renamed_columns"] = renamed
    return note
