"""The relational report of a tables job (stats.json), gathered from the rows as they are written:

- `integrity`: for every reference column, how many values it holds, how many are null, and how
  many name no key of the table it references (orphans); `joined` is the share that resolve, which
  integrity by construction keeps at 1.0;
- `children`: for every table with `per_parent`, the number of its rows under each parent row,
  against the declared law (the stats report of one column, so KS for numeric laws and TV for
  weights, per case of a `by`);
- `tables`: each table's column stats as a text job has them (on its first `STATS_ROWS` rows); a
  column drawn `by` a parent's column is fitted per case of that column.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from synthmill.common.schema import Field, Schema
from synthmill.common.tables import Tables
from synthmill.gateway.outputs import stats

STATS_ROWS = 20_000


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


class RelationsReport:
    def __init__(self, tables: Tables):
        self.tables = tables
        self._keys: dict[str, set] = {r.table: set() for t in tables.tables for r in t.refs}
        self._reads: dict[str, list[str]] = {}
        for table in tables.tables:
            for by in table.outer_columns():
                self._reads.setdefault(table.parent, []).append(by.partition(".")[2])
        self._values: dict[str, dict[Any, dict]] = {name: {} for name in self._reads}
        self._children: dict[str, Counter] = {t.name: Counter() for t in tables.tables if t.parent}
        self._refs = {(t.name, r.field): [0, 0, 0] for t in tables.tables for r in t.refs}
        self._sample: dict[str, list[dict]] = {t.name: [] for t in tables.tables}
        self._rows: Counter = Counter()

    def add(self, name: str, rows: list[dict[str, Any]]) -> None:
        """Rows of table `name`, in order; tables come in dependency order."""
        table = self.tables[name]
        self._rows[name] += len(rows)
        if name in self._keys:
            self._keys[name].update(_norm(row[table.key.field]) for row in rows)
        if name in self._values:
            for row in rows:
                self._values[name][_norm(row[table.key.field])] = {c: row[c] for c in self._reads[name]}
        for ref in table.refs:
            counts, keys = self._refs[(name, ref.field)], self._keys[ref.table]
            for row in rows:
                value = row[ref.field]
                counts[0] += 1
                if value is None:
                    counts[1] += 1
                elif _norm(value) not in keys:
                    counts[2] += 1
        parent_ref = table.parent_ref
        if parent_ref is not None:
            self._children[name].update(_norm(row[parent_ref.field]) for row in rows)
        room = STATS_ROWS - len(self._sample[name])
        if room > 0:
            self._sample[name] += self._with_parent(table, rows[:room])

    def _with_parent(self, table, rows: list[dict]) -> list[dict]:
        """Rows with the parent's columns their `by`s read (``customers.plan``) beside their own."""
        outer = table.outer_columns()
        if not outer:
            return rows
        values, ref = self._values[table.parent], table.parent_ref.field
        pairs = [(by, by.partition(".")[2]) for by in outer]
        return [{**row, **{by: values[_norm(row[ref])][column] for by, column in pairs}} for row in rows]

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
        children = {name: self._child_counts(name) for name in self._children if self.tables[name].per_parent}
        tables = {
            t.name: {**stats.report(t.schema, self._sample[t.name]), "rows": self._rows[t.name]}
            for t in self.tables.tables
        }
        return {
            "tables": tables,
            "integrity": integrity,
            "children": children,
            "headline": self._headline(integrity, children),
        }

    def _child_counts(self, name: str) -> dict[str, Any]:
        table = self.tables[name]
        law = table.per_parent
        weights = getattr(law, "name", None) == "weights" or any(
            d.name == "weights" for d in getattr(law, "draws", lambda: [])()
        )
        field = Field("children", "string" if weights else "int", distribution=law)
        counts = self._children[name]
        outer = table.outer_columns()
        rows = []
        for key in self._keys[table.parent]:
            row: dict[str, Any] = {"children": str(counts[key]) if weights else counts[key]}
            if outer:
                row[outer[0]] = self._values[table.parent][key][outer[0].partition(".")[2]]
            rows.append(row)
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
