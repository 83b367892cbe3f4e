"""Duplicate checks for rows: whole rows, and the values of `unique` fields."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from synthmill.common.schema import Schema
from synthmill.common.schema.shares import cap_counts


def _key(kind: str, value: Any) -> Any:
    if isinstance(value, list | dict):  # only from foreign existing rows; keep it hashable
        return json.dumps(value, sort_keys=True)
    if kind in ("email", "uuid") and isinstance(value, str):
        return value.lower()  # the same mailbox / id in another case is still a duplicate
    return value


class RowDeduper:
    """Remembers accepted rows; `conflict` says why a new row would repeat one (None if it is new).

    Nulls do not count as values of a unique field (as in SQL UNIQUE). Given the job's `rows`, a value
    of a capped column (`max_share`, see `schema.shares`) that fills its rows already is a conflict.
    """

    def __init__(
        self, schema: Schema, forbidden: Callable[[dict[str, Any]], bool] | None = None, rows: int = 0
    ):
        self._forbidden = forbidden  # rows that may never be accepted (a fitted sample's records)
        self._caps = cap_counts(schema, rows) if rows else {}  # max_share, as rows per value
        self._seen: dict[str, Counter] = {name: Counter() for name in self._caps}
        self._kinds = {f.name: f.type for f in schema.fields if f.unique}
        self._rows: set[str] = set()
        self._values: dict[str, set[Any]] = {name: set() for name in self._kinds}

    def conflict(self, row: dict[str, Any]) -> str | None:
        for name, kind in self._kinds.items():
            value = row.get(name)
            if value is not None and _key(kind, value) in self._values[name]:
                return f"{name}: {value!r} is already used"
        if json.dumps(row, sort_keys=True) in self._rows:
            return "the whole row repeats an earlier row"
        for name, cap in self._caps.items():
            value = row.get(name)
            if value is not None and self._seen[name][_key("", value)] >= cap:
                return f"{name}: {value!r} already fills {cap} rows, its max_share"
        if self._forbidden is not None and self._forbidden(row):
            return "the row copies the sample (a whole record, or a free-text value)"
        return None

    def add(self, row: dict[str, Any]) -> None:
        self._rows.add(json.dumps(row, sort_keys=True))
        for name, seen in self._seen.items():
            if row.get(name) is not None:
                seen[_key("", row[name])] += 1
        for name, kind in self._kinds.items():
            value = row.get(name)
            if value is not None:
                self._values[name].add(_key(kind, value))
