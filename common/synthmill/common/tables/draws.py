"""The drawn part of every table of one job: row counts, keys, references and sampled columns.

Every draw is counter-based (`synthmill.common.philox`, as the sampler's), keyed by the table's seed (a hash
of the job's seed and the table's name), the row and the column, so any row of any table is the
same whatever was made before it or how the work was cut:

- a root table has `rows` rows (times the job's scale);
- a child with `per_parent` has, for parent row p, a count drawn from uniform(seed_c + p, COUNT);
  its rows are grouped by parent in parent order, so child row i belongs to the parent whose range
  of rows holds i; a child with `rows` draws each row's parent from uniform(seed_c + i, PARENT);
- key i is `keys.values(key, seed_t, [i])` (unique by construction);
- any other reference draws a row of its table from uniform(seed_t + i, column) (a reference to its
  own table: a row before i), and is null when uniform(seed_t + i, column, 1) < null_probability;
- sampled columns are `ColumnSampler` rows with the table's seed; a `by` over a parent's column reads
  the parent row's value.

A reference always names a key that exists, since the keys of a table are known from its row count
alone: integrity holds by construction, before any row is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from synthmill.common import philox
from synthmill.common.errors import InvalidArgument
from synthmill.common.sampler import ColumnSampler
from synthmill.common.schema.draws import Draw, case_key
from synthmill.common.schema.laws import categorical_law, from_number, numeric_law, pick, to_number
from synthmill.common.tables import keys
from synthmill.common.tables.model import Ref, Table, Tables
from synthmill.common.tables.parse import COUNT_FIELD

COUNT = 2**31  # the column ordinal of a parent's child count
PARENT = 2**31 + 1  # the column ordinal of a `rows` child's parent

# Rows of another table, by index: (table, indices) -> one dict of its columns per index.
Lookup = Callable[[str, Sequence[int]], list[dict[str, Any]]]


def table_seed(seed: int, name: str) -> int:
    """The seed of one table's draws: a hash of the job's seed and the table's name (62 bits, so seed + row stays an int64)."""
    digest = hashlib.blake2b(f"{seed}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 2


def _uniforms(seed: int, indices: Sequence[int], ordinal: int, attempt: int = 0) -> np.ndarray:
    """The sampler's own draws: keyed by (seed, ordinal), row index as counter, attempt in the high word."""
    return philox.uniforms((seed, ordinal), np.asarray(indices, dtype=np.uint64), attempt << 32)


def count_values(draw: Draw, u: np.ndarray) -> np.ndarray:
    """Child counts drawn from `draw` (a numeric law on whole numbers, or weights of counts)."""
    if draw.name == "weights":
        values, probabilities = categorical_law(draw)
        return np.array([int(values[k]) for k in pick(probabilities, u)], dtype=np.int64)
    return numeric_law(draw, COUNT_FIELD).sample(u).astype(np.int64)


class Draws:
    """Counts, keys, references and sampled columns of the tables of one job (`seed`, `scale`).

    `lookup` gives rows of a table that a `by` reads; by default the drawn rows themselves, which
    hold every sampled column (a job whose parents have LLM-written columns passes its own). With a
    `limit`, the rows of all tables together may not pass it: the counts stop at the table that
    would (InvalidArgument naming it), before its children are drawn."""

    def __init__(
        self, tables: Tables, seed: int, scale: int = 1, path: str = "tables.tables", limit: int | None = None
    ):
        self.tables = tables
        self.seed = seed
        self.scale = scale
        self.path = path
        self.limit = limit
        self.seeds = {t.name: table_seed(seed, t.name) for t in tables.tables}
        self._samplers = {t.name: ColumnSampler(t.schema) for t in tables.tables}
        self._offsets: dict[str, np.ndarray] = {}
        self.counts: dict[str, int] = {}
        for table in tables.tables:
            self.counts[table.name] = self._count(table)

    # Counts and parents

    def _count(self, table: Table) -> int:
        if table.per_parent is None:
            count = table.rows * (self.scale if table.parent is None else 1)
        else:
            per = self.children_per_parent(table)
            self._offsets[table.name] = np.concatenate([[0], np.cumsum(per)])
            count = int(self._offsets[table.name][-1])
        total = sum(self.counts.values()) + count
        if self.limit is not None and total > self.limit:
            what = "rows" if table.per_parent is None else "per_parent"
            raise InvalidArgument(
                f"{self.path}.{table.name}.{what}",
                f"makes {total} rows in all, over the limit of {self.limit}",
            )
        room = keys.capacity(table.key) if table.key else None
        if room is not None and count > room:
            where = f"{self.path}.{table.name}.fields.{table.key.field}"
            what = "maximum" if table.key.kind == "sequence" else "pattern"
            raise InvalidArgument(f"{where}.{what}", f"leaves {room} distinct keys for {count} rows")
        return count

    def children_per_parent(self, table: Table) -> np.ndarray:
        """The number of rows of `table` under each row of its parent."""
        parents = self.counts[table.parent]
        seed = self.seeds[table.name]
        u = _uniforms(seed, range(parents), COUNT)
        law = table.per_parent
        if isinstance(law, Draw):
            return count_values(law, u)
        column = law.by.partition(".")[2]
        by = [row[column] for row in self.rows(table.parent, range(parents))]
        out = np.zeros(parents, dtype=np.int64)
        groups: dict[str, list[int]] = {}
        for p, value in enumerate(by):
            groups.setdefault(case_key(value), []).append(p)
        for members in groups.values():
            out[members] = count_values(law.draw_for(by[members[0]]), u[members])
        return out

    def parent_of(self, table: Table, indices: Sequence[int]) -> np.ndarray:
        """The parent row of each row `indices` of a child table."""
        idx = np.asarray(indices, dtype=np.int64)
        if table.name in self._offsets:
            return np.searchsorted(self._offsets[table.name], idx, side="right") - 1
        u = _uniforms(self.seeds[table.name], idx, PARENT)
        return np.minimum((u * self.counts[table.parent]).astype(np.int64), self.counts[table.parent] - 1)

    # Rows

    def keys(self, name: str, indices: Sequence[int]) -> list:
        table = self.tables[name]
        return keys.values(table.key, self.seeds[name], indices)

    def rows(self, name: str, indices: Sequence[int], lookup: Lookup | None = None) -> list[dict[str, Any]]:
        """The drawn columns (keys, references, sampled fields) of rows `indices`, in schema order."""
        table = self.tables[name]
        seed = self.seeds[name]
        columns: dict[str, list] = {}
        parents = self.parent_of(table, indices) if table.parent else None
        if table.key:
            columns[table.key.field] = keys.values(table.key, seed, indices)
        for ref in table.refs:
            columns[ref.field] = self._ref(table, ref, indices, parents)
        given = None
        outer = table.outer_columns()
        if outer:
            parent_rows = (lookup or self.rows)(table.parent, parents.tolist())
            given = [{by: row[by.partition(".")[2]] for by in outer} for row in parent_rows]
        sampled = self._samplers[name].rows(seed, indices, given)
        for field, column in table.after:
            self._after(table, field, column, seed, indices, given, sampled)
        names = table.pinned_names
        return [
            {n: (columns[n][k] if n in columns else values[n]) for n in names}
            for k, values in enumerate(sampled)
        ]

    def _after(self, table: Table, name: str, column: str, seed: int, indices, given, rows) -> None:
        """Redraws `name` uniformly between the parent's date and the end of its date_between (the
        parent's date itself when that is later), from the same uniform as its own draw."""
        field = table.field(name)
        ordinal = table.schema.names.index(name)
        last = numeric_law(field.distribution, field).vmax
        u = _uniforms(seed, indices, ordinal)
        for k in range(len(indices)):
            first = to_number(given[k][column], field)
            x = first + np.floor(u[k] * (last - first + 1)) if first <= last else first
            rows[k][name] = from_number(x, field)

    def _ref(self, table: Table, ref: Ref, indices: Sequence[int], parents: np.ndarray | None) -> list:
        if ref.table == table.parent:
            return self.keys(ref.table, parents)
        ordinal = table.schema.names.index(ref.field)
        seed = self.seeds[table.name]
        idx = np.asarray(indices, dtype=np.int64)
        u = _uniforms(seed, idx, ordinal)
        size = idx if ref.table == table.name else np.full(len(idx), self.counts[ref.table])
        picked = np.minimum((u * size).astype(np.int64), np.maximum(size - 1, 0))
        null = size == 0
        if ref.nullable and ref.null_probability > 0:
            null |= _uniforms(seed, idx, ordinal, 1) < ref.null_probability
        values = self.keys(ref.table, picked)
        return [None if n else v for v, n in zip(values, null.tolist(), strict=True)]
