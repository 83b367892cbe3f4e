"""The relational report of a tables job (stats.json), gathered from the rows as they are written:

- `integrity`: for every reference column, how many values it holds, how many are null, and how
  many name no key of the table it references (orphans); `joined` is the share that resolve, which
  integrity by construction keeps at 1.0;
- `children`: for every table with `per_parent`, the number of its rows under each parent row (of
  the first `STATS_ROWS` parents), against the declared law (the stats report of one column, so KS for numeric laws and TV for
  weights, per case of a `by`);
- `distinct_row_ratio`: distinct rows (within their table) over all rows;
- `tables`: each table's column stats as a text job has them (on its first `STATS_ROWS` rows); a
  column drawn `by` a parent's column is fitted per case of that column.

Memory stays small for any size: a referenced table's keys are kept as one 64-bit hash each (a
numpy array, sorted once its table is written), references are looked up in it a step at a time,
and child counts are one integer per parent row.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from synthmill.common.schema import Field, Schema
from synthmill.common.tables import Table, Tables
from synthmill.gateway.outputs import stats

STATS_ROWS = 20_000


def _hashes(values: list) -> np.ndarray:
    """64-bit hashes of keys (strings in lower case: a uuid in another case is the same key)."""
    return np.fromiter(
        (hash(v.lower() if isinstance(v, str) else v) for v in values), dtype=np.int64, count=len(values)
    )


class _Keys:
    """The keys of one table, in row order, and the parent columns its children's `by`s read."""

    def __init__(self, columns: list[str]):
        self.parts: list[np.ndarray] = []
        self.columns = {column: [] for column in columns}
        self.order: np.ndarray | None = None
        self.sorted: np.ndarray | None = None

    def add(self, keys: list, rows: list[dict]) -> None:
        self.parts.append(_hashes(keys))
        for column, values in self.columns.items():
            values.extend(row[column] for row in rows)

    def rows_of(self, values: list) -> tuple[np.ndarray, np.ndarray]:
        """The row index of each key value, and whether it is a key at all."""
        if self.sorted is None:
            hashed = np.concatenate(self.parts) if self.parts else np.zeros(0, dtype=np.int64)
            self.order = np.argsort(hashed, kind="stable")
            self.sorted = hashed[self.order]
        h = _hashes(values)
        at = np.minimum(np.searchsorted(self.sorted, h), max(len(self.sorted) - 1, 0))
        found = self.sorted[at] == h if len(self.sorted) else np.zeros(len(h), dtype=bool)
        return (self.order[at] if len(self.order) else at), found

    @property
    def count(self) -> int:
        return sum(len(part) for part in self.parts)


class RelationsReport:
    def __init__(self, tables: Tables):
        self.tables = tables
        reads: dict[str, list[str]] = {}
        for table in tables.tables:
            for by in table.outer_columns():
                reads.setdefault(table.parent, []).append(by.partition(".")[2])
        referenced = {r.table for t in tables.tables for r in t.refs}
        self._keys = {name: _Keys(sorted(set(reads.get(name, [])))) for name in referenced}
        self._children: dict[str, np.ndarray] = {}
        self._refs = {(t.name, r.field): [0, 0, 0] for t in tables.tables for r in t.refs}
        self._sample: dict[str, list[dict]] = {t.name: [] for t in tables.tables}
        self._rows = dict.fromkeys(tables.names, 0)
        self._row_hashes: dict[str, list[np.ndarray]] = {name: [] for name in tables.names}

    def add(self, name: str, rows: list[dict[str, Any]]) -> None:
        """Rows of table `name`, in order; tables come in dependency order."""
        table = self.tables[name]
        self._rows[name] += len(rows)
        self._row_hashes[name].append(
            np.fromiter((hash(tuple(row.values())) for row in rows), dtype=np.int64, count=len(rows))
        )
        if name in self._keys:
            self._keys[name].add([row[table.key.field] for row in rows], rows)
        parents = None
        for ref in table.refs:
            values = [row[ref.field] for row in rows]
            present = [v for v in values if v is not None]
            at, found = self._keys[ref.table].rows_of(present)
            counts = self._refs[(name, ref.field)]
            counts[0] += len(values)
            counts[1] += len(values) - len(present)
            counts[2] += int((~found).sum())
            if ref.table == table.parent:
                parents = at
        if table.per_parent is not None:
            tally = np.bincount(parents, minlength=self._keys[table.parent].count)
            self._children[name] = self._children.get(name, 0) + tally
        room = STATS_ROWS - len(self._sample[name])
        if room > 0:
            self._sample[name] += self._with_parent(table, rows[:room], parents)

    def _with_parent(self, table: Table, rows: list[dict], parents: np.ndarray | None) -> list[dict]:
        """Rows with the parent's columns their `by`s read (``customers.plan``) beside their own."""
        outer = table.outer_columns()
        if not outer:
            return rows
        columns = self._keys[table.parent].columns
        pairs = [(by, columns[by.partition(".")[2]]) for by in outer]
        return [
            {**row, **{by: values[p] for by, values in pairs}}
            for row, p in zip(rows, parents.tolist(), strict=False)
        ]

    def report(self) -> dict[str, Any]:
        integrity = {}
        for (name, field), (total, nulls, orphans) in self._refs.items():
            ref = next(r for r in self.tables[name].refs if r.field == field)
            values = total - nulls
            integrity[f"{name}.{field}"] = {
                "references": ref.target,
                "values": total,
                "nulls": nulls,
                "orphans": orphans,
                "joined": 1.0 if values == 0 else round((values - orphans) / values, 6),
            }
        children = {name: self._child_counts(name) for name in self._children}
        tables = {
            t.name: {
                **(stats.report(t.schema, self._sample[t.name]) if self._sample[t.name] else {}),
                "rows": self._rows[t.name],
            }
            for t in self.tables.tables
        }
        distinct = sum(len(np.unique(np.concatenate(parts))) for parts in self._row_hashes.values() if parts)
        total = sum(self._rows.values())
        return {
            "distinct_row_ratio": distinct / total if total else 0.0,
            "tables": tables,
            "integrity": integrity,
            "children": children,
            "headline": self._headline(integrity, children),
        }

    def _child_counts(self, name: str) -> dict[str, Any]:
        table = self.tables[name]
        law = table.per_parent
        draws = law.draws() if hasattr(law, "draws") else [law]
        weights = any(d.name == "weights" for d in draws)
        field = Field("children", "string" if weights else "int", distribution=law)
        counts = self._children[name][:STATS_ROWS].tolist()  # the first parents: a sample of the law
        rows: list[dict[str, Any]] = [{"children": str(c) if weights else c} for c in counts]
        by = getattr(law, "by", None)
        if by:
            for row, value in zip(rows, self._keys[table.parent].columns[by.partition(".")[2]], strict=False):
                row[by] = value
        column = stats.report(Schema((field,)), rows)["columns"]["children"]
        return {"parent": table.parent, "per_parent": law.spec(), **column}

    def _headline(self, integrity: dict, children: dict) -> str:
        total = sum(self._rows.values())
        joined = min((entry["joined"] for entry in integrity.values()), default=1.0)
        parts = [f"{total} rows in {len(self._rows)} tables", f"references joined {joined:.2%}"]
        for name, column in children.items():
            fit = column.get("fit")
            if fit:
                parts.append(f"{name} per {column['parent']} {fit['test'].upper()} {fit['statistic']:.3f}")
        return "; ".join(parts)
