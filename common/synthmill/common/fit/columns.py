"""Typing a sample's columns: int, float, bool, date, datetime, enum, email, uuid or string.

Each non-null value is classed on its own (a CSV cell by its spelling, a JSON value by its JSON type
and, for strings, its spelling); ints and floats merge to float, dates and datetimes to datetime. A
column of one class takes that type. A column mostly of one non-string class with a few values of
another is a mistake in the data, refused naming the column and the first line that breaks it; any
other mixture is a string column. Strings with few distinct values are categories (enum); the rest
are free text, written by the LLM.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthmill.common.errors import InvalidArgument
from synthmill.common.fit.sample import Sample
from synthmill.common.schema.checks import EMAIL_RE, INT64_MAX

MAX_CATEGORIES = 100
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_MERGED = {"int": "float", "date": "datetime"}
_EPOCH = dt.datetime(1970, 1, 1)


@dataclass(frozen=True)
class Column:
    """One typed column: its values as the schema writes them (None for a gap)."""

    name: str
    type: str  # a schema type
    values: list[Any]
    categorical: bool = False  # an enum or bool column, sampled by weights

    @property
    def present(self) -> list[Any]:
        return [v for v in self.values if v is not None]

    @property
    def null_share(self) -> float:
        return 1 - len(self.present) / len(self.values)

    @property
    def numeric(self) -> bool:
        return self.type in ("int", "float")

    def numbers(self) -> np.ndarray:
        """Numeric, date (day number) and datetime (epoch second) values as floats, NaN for gaps."""
        return np.array([np.nan if v is None else as_number(v, self.type) for v in self.values], dtype=float)


def as_number(value: Any, kind: str) -> float:
    if kind == "date":
        return float(dt.date.fromisoformat(value).toordinal())
    if kind == "datetime":
        moment = dt.datetime.fromisoformat(value).replace(tzinfo=None)
        return (moment - _EPOCH).total_seconds()
    return float(value)


def type_columns(sample: Sample) -> list[Column]:
    return [_column(name, values, sample.lines) for name, values in sample.columns.items()]


def _column(name: str, values: list[Any], lines: list[int]) -> Column:
    known = {key: _class(key[1]) for key in {(type(v), v) for v in values if v is not None}}  # each once
    classes = [None if v is None else known[type(v), v] for v in values]
    counts = Counter(_MERGED.get(c, c) for c in classes if c is not None)
    if not counts:
        return Column(name, "string", values)
    kind, count = counts.most_common(1)[0]
    if len(counts) > 1:
        if kind == "string" or count * 2 <= sum(counts.values()):
            return Column(name, "string", [None if v is None else str(v) for v in values])
        k = next(k for k, c in enumerate(classes) if c is not None and _MERGED.get(c, c) != kind)
        raise InvalidArgument(
            f"sample line {lines[k]}",
            f"column {name!r} holds {values[k]!r} ({classes[k]}) where most rows hold {kind} values",
        )
    if kind == "float" and set(classes) <= {"int", None}:
        kind = "int"
    if kind == "datetime" and set(classes) <= {"date", None}:
        kind = "date"
    typed = [None if v is None else _convert(v, kind) for v in values]
    if kind == "bool":
        return Column(name, kind, typed, categorical=True)
    if kind == "string":
        distinct = len(set(typed) - {None})
        present = sum(v is not None for v in typed)
        if distinct <= min(MAX_CATEGORIES, max(2, present // 2)):
            return Column(name, "enum", typed, categorical=True)
    return Column(name, kind, typed)


def _class(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int" if abs(value) <= INT64_MAX else "float"
    if isinstance(value, float):
        return "float" if np.isfinite(value) else "string"
    return _string_class(str(value))


def _string_class(text: str) -> str:
    if _INT.fullmatch(text):
        return "int" if abs(int(text)) <= INT64_MAX else "float"
    if _FLOAT.fullmatch(text):
        return "float"
    if text.lower() in ("true", "false"):
        return "bool"
    if _DATE.fullmatch(text) and _parses(dt.date.fromisoformat, text):
        return "date"
    if _DATETIME.fullmatch(text) and _parses(dt.datetime.fromisoformat, text):
        return "datetime"
    if _UUID.fullmatch(text):
        return "uuid"
    if EMAIL_RE.fullmatch(text):
        return "email"
    return "string"


def _parses(parse: Any, text: str) -> bool:
    try:
        parse(text)
        return True
    except ValueError:
        return False


def _convert(value: Any, kind: str) -> Any:
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if kind == "date":
        return dt.date.fromisoformat(str(value)).isoformat()
    if kind == "datetime":
        return dt.datetime.fromisoformat(str(value)).replace(microsecond=0, tzinfo=None).isoformat()
    if kind == "uuid":
        return str(uuid.UUID(str(value)))
    return str(value)
