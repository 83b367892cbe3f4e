"""The tables of a relational job: keys, references, parents and child counts (see `parse`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from synthmill.common.schema import Field, Schema
from synthmill.common.schema.draws import Distribution

KEY_KINDS = ("sequence", "uuid", "pattern")


@dataclass(frozen=True)
class Key:
    """A table's primary key: an int sequence from `start`, uuids, or strings of a regular pattern."""

    field: str
    kind: str  # one of KEY_KINDS
    start: int = 1  # sequence: the first key
    stop: int | None = None  # sequence: the last key allowed (the field's maximum)
    pattern: str = ""  # pattern: the field's pattern


@dataclass(frozen=True)
class Ref:
    """A column holding the primary key of a row of `table` (a foreign key)."""

    field: str
    table: str
    column: str
    nullable: bool = False
    null_probability: float = 0.0  # how often a nullable reference is null

    @property
    def target(self) -> str:
        return f"{self.table}.{self.column}"


@dataclass(frozen=True)
class Table:
    """One table. A child (`parent` set) has `per_parent` rows for each parent row, or `rows` rows
    whose parents are drawn uniformly; a root has `rows` rows."""

    name: str
    schema: Schema  # every column, in the order given
    key: Key | None = None
    rows: int | None = None
    parent: str | None = None
    per_parent: Distribution | None = None
    refs: tuple[Ref, ...] = ()
    description: str = ""  # what the table holds, for the LLM
    # (field, "<parent>.<column>"): the field's date falls on or after the parent row's
    after: tuple[tuple[str, str], ...] = ()

    @property
    def parent_ref(self) -> Ref | None:
        """The reference to the parent table (a child has exactly one)."""
        return next((ref for ref in self.refs if ref.table == self.parent), None)

    @property
    def pinned_names(self) -> tuple[str, ...]:
        """Columns whose values are drawn, not written by the LLM: the key, references, sampled fields."""
        drawn = {ref.field for ref in self.refs} | ({self.key.field} if self.key else set())
        return tuple(f.name for f in self.schema.fields if f.name in drawn or f.distribution is not None)

    @property
    def all_sampled(self) -> bool:
        return len(self.pinned_names) == len(self.schema.fields)

    def outer_columns(self) -> tuple[str, ...]:
        """The parent's columns (``customers.plan``) this table's distributions and `after`s read."""
        found: list[str] = []
        dists = [f.distribution for f in self.schema.fields] + [self.per_parent]
        reads = [getattr(dist, "by", None) for dist in dists] + [column for _, column in self.after]
        for by in reads:
            if by and "." in by and by not in found:
                found.append(by)
        return tuple(found)

    def field(self, name: str) -> Field:
        return next(f for f in self.schema.fields if f.name == name)


@dataclass(frozen=True)
class Tables:
    """The tables of a job, in dependency order: every table comes after those it references."""

    tables: tuple[Table, ...]

    def __getitem__(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables)

    def children(self, name: str) -> tuple[Table, ...]:
        return tuple(t for t in self.tables if t.parent == name)

    def json(self) -> dict[str, Any]:
        """The normalized form (schema.json): each table's options and its columns as JSON Schema."""
        out: dict[str, Any] = {}
        for table in self.tables:
            entry: dict[str, Any] = {}
            if table.description:
                entry["description"] = table.description
            if table.rows is not None:
                entry["rows"] = table.rows
            if table.key is not None:
                entry["primary_key"] = table.key.field
            if table.parent is not None:
                entry["parent"] = table.parent
            if table.per_parent is not None:
                entry["per_parent"] = table.per_parent.spec()
            entry["schema"] = table.schema.json_schema()
            for name, column in table.after:
                entry["schema"]["properties"][name]["x-after"] = column
            for ref in table.refs:
                prop = entry["schema"]["properties"][ref.field]
                prop["x-ref"] = ref.target
                if ref.nullable:
                    prop["x-null-probability"] = ref.null_probability
            out[table.name] = entry
        return {"tables": out}
