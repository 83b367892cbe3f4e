"""Parsing a tables schema; every error is an InvalidArgument naming the path of the bad part.

    {"tables": {
      "customers": {"rows": 200, "primary_key": "id", "fields": {"id": "int", "plan": {...}}},
      "orders": {"primary_key": "id", "parent": "customers", "per_parent": "poisson(3)",
                 "fields": {"id": "uuid", "customer_id": {"ref": "customers.id"},
                            "amount": {"type": "float", "distribution": {"by": "customers.plan", ...}}}}}}

A table's `fields` use the simple map of row schemas (`synthmill.common.schema`), plus reference
columns `{"ref": "<table>.<primary key>", "nullable": true, "null_probability": 0.2}`. A `by` may name
a column of the table's parent (``customers.plan``), which must be categorical (sampled by weights or
bernoulli, an enum, or a bool). Tables come out in dependency order; a cycle of references between
tables is refused, and a table may reference itself only through a nullable column (rows point at
earlier rows).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from synthmill.common.errors import InvalidArgument
from synthmill.common.schema import Field, Schema, distributions, parse_schema
from synthmill.common.schema.draws import ByColumn, Distribution, Draw
from synthmill.common.schema.parse import NAME_RE, json_object
from synthmill.common.tables import keys
from synthmill.common.tables.model import Key, Ref, Table, Tables

_TOP_KEYS = {"tables", "description"}
_TABLE_KEYS = {"rows", "primary_key", "parent", "per_parent", "fields", "description"}
_REF_KEYS = {"ref", "type", "nullable", "null_probability", "description"}
COUNT_FIELD = Field("per_parent", "int", minimum=0)
DEFAULT_NULL_PROBABILITY = 0.1


def parse_tables(value: str | dict, path: str = "tables") -> Tables:
    """Parses `{"tables": {...}}` (or its JSON text) into Tables in dependency order."""
    value = json_object(value, path)
    unknown = sorted(set(value) - _TOP_KEYS)
    if unknown:
        raise InvalidArgument(f"{path}.{unknown[0]}", "is not a key of a tables schema (tables)")
    raw = value.get("tables")
    if not isinstance(raw, dict) or not raw:
        raise InvalidArgument(f"{path}.tables", "must map table names to tables, and name at least one")
    path = f"{path}.tables"
    for name, spec in raw.items():
        _check_table(name, spec, f"{path}.{name}")
    refs = {name: _refs(name, spec, raw, f"{path}.{name}") for name, spec in raw.items()}
    parsed: dict[str, Table] = {}
    for name in _order(raw, refs, path):
        parsed[name] = _table(name, raw[name], refs[name], parsed, f"{path}.{name}")
    return Tables(tuple(parsed.values()))


def _check_table(name: Any, spec: Any, where: str) -> None:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise InvalidArgument(where, "a table name must match ^[A-Za-z_][A-Za-z0-9_]*$ (a file and SQL name)")
    if not isinstance(spec, dict):
        raise InvalidArgument(where, "must be an object with fields (and rows, primary_key, parent, ...)")
    unknown = sorted(set(spec) - _TABLE_KEYS)
    if unknown:
        raise InvalidArgument(
            f"{where}.{unknown[0]}", f"is not a table option ({', '.join(sorted(_TABLE_KEYS))})"
        )
    fields = spec.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise InvalidArgument(f"{where}.fields", "must map field names to fields, and name at least one")
    if fields.get("type") == "object" or isinstance(fields.get("properties"), dict):
        raise InvalidArgument(f"{where}.fields", 'give the simple map ({"age": "int"}), not a JSON Schema')
    key = spec.get("primary_key")
    if key is not None and (not isinstance(key, str) or key not in fields):
        raise InvalidArgument(f"{where}.primary_key", f"{key!r} is not a field of the table")


def _refs(name: str, spec: dict, raw: dict, where: str) -> list[Ref]:
    """The reference columns of one table, each checked against the table it names."""
    found = []
    for field, fspec in spec["fields"].items():
        if not (isinstance(fspec, dict) and "ref" in fspec):
            continue
        at = f"{where}.fields.{field}"
        unknown = sorted(set(fspec) - _REF_KEYS)
        if unknown:
            raise InvalidArgument(
                f"{at}.{unknown[0]}", f"is not an option of a reference ({', '.join(sorted(_REF_KEYS))})"
            )
        target = fspec["ref"]
        if not isinstance(target, str) or target.count(".") != 1:
            raise InvalidArgument(f"{at}.ref", "must name <table>.<primary key>, e.g. 'customers.id'")
        table, column = target.split(".")
        if table not in raw:
            raise InvalidArgument(f"{at}.ref", f"names the unknown table {table!r}")
        if column not in raw[table].get("fields", {}):
            raise InvalidArgument(f"{at}.ref", f"names {column!r}, which is not a field of {table}")
        if raw[table].get("primary_key") != column:
            raise InvalidArgument(f"{at}.ref", f"{column!r} is not the primary key of {table}")
        nullable = fspec.get("nullable", False)
        if not isinstance(nullable, bool):
            raise InvalidArgument(f"{at}.nullable", "must be true or false")
        share = fspec.get("null_probability", DEFAULT_NULL_PROBABILITY if nullable else 0.0)
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise InvalidArgument(f"{at}.null_probability", "must be a number between 0 and 1")
        if share and not nullable:
            raise InvalidArgument(f"{at}.null_probability", "needs nullable: true")
        if table == name and not nullable:
            raise InvalidArgument(
                f"{at}.nullable",
                "a reference to its own table must be nullable (the first row has none before it)",
            )
        found.append(Ref(field, table, column, nullable, float(share)))
    return found


def _order(raw: dict, refs: dict[str, list[Ref]], path: str) -> list[str]:
    """Table names in dependency order (a depth-first walk in the given order); a cycle is refused."""
    deps = {name: [r.table for r in refs[name] if r.table != name] for name in raw}
    for name, spec in raw.items():
        parent = spec.get("parent")
        if parent is not None:
            if not isinstance(parent, str) or parent not in raw:
                raise InvalidArgument(f"{path}.{name}.parent", f"names the unknown table {parent!r}")
            if parent == name:
                raise InvalidArgument(f"{path}.{name}.parent", "a table cannot be its own parent")
            deps[name].append(parent)
    done: list[str] = []
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            cycle = [*visiting[visiting.index(name) :], name]
            ref = next((r for r in refs[cycle[-2]] if r.table == name), None)
            where = f"{path}.{cycle[-2]}.fields.{ref.field}.ref" if ref else f"{path}.{cycle[-2]}.parent"
            raise InvalidArgument(where, f"a cycle of references: {' -> '.join(cycle)}")
        visiting.append(name)
        for dep in deps[name]:
            visit(dep)
        visiting.pop()
        done.append(name)

    for name in raw:
        visit(name)
    return done


def _table(name: str, spec: dict, refs: list[Ref], parsed: dict[str, Table], where: str) -> Table:
    parent = spec.get("parent")
    rows, per_parent_raw = spec.get("rows"), spec.get("per_parent")
    if parent is None and per_parent_raw is not None:
        raise InvalidArgument(f"{where}.per_parent", "needs a parent: a table with no parent has `rows`")
    if parent is None and rows is None:
        raise InvalidArgument(f"{where}.rows", "is required for a table with no parent")
    if rows is not None and per_parent_raw is not None:
        raise InvalidArgument(f"{where}.rows", "give rows or per_parent, not both")
    if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int) or rows < 1):
        raise InvalidArgument(f"{where}.rows", "must be a whole number of at least 1")
    if parent is not None:
        if parsed[parent].key is None:
            raise InvalidArgument(f"{where}.parent", f"the parent {parent} has no primary_key to reference")
        to_parent = [r for r in refs if r.table == parent]
        if len(to_parent) != 1:
            problem = "no field references" if not to_parent else "several fields reference"
            raise InvalidArgument(
                f"{where}.parent",
                f'{problem} the parent {parent}; give exactly one {{"ref": "{parent}.{parsed[parent].key.field}"}}',
            )
        if to_parent[0].nullable:
            raise InvalidArgument(
                f"{where}.fields.{to_parent[0].field}.nullable",
                "the reference to the parent cannot be nullable",
            )
    outer = _outer(name, spec, parent, parsed, where)
    fields, after = {}, {}
    for fname, fspec in spec["fields"].items():
        ref = next((r for r in refs if r.field == fname), None)
        if isinstance(fspec, dict) and "after" in fspec:
            after[fname] = fspec["after"]
            fspec = {k: v for k, v in fspec.items() if k != "after"}
        fields[fname] = (
            _ref_field(ref, fspec, parsed, name, spec, f"{where}.fields.{fname}") if ref else fspec
        )
    schema = parse_schema(fields, f"{where}.fields", outer)
    for fname, column in after.items():
        _check_after(schema, fname, column, parent, parsed, f"{where}.fields.{fname}.after")
    key = _key(spec.get("primary_key"), schema, f"{where}")
    if key is not None:
        schema = Schema(tuple(f if f.name != key.field else _unique(f) for f in schema.fields))
    per_parent = None
    if per_parent_raw is not None:
        per_parent = _count_law(per_parent_raw, f"{where}.per_parent", outer)
    description = spec.get("description", "")
    if not isinstance(description, str):
        raise InvalidArgument(f"{where}.description", "must be a string")
    return Table(name, schema, key, rows, parent, per_parent, tuple(refs), description, tuple(after.items()))


def _check_after(
    schema: Schema, name: str, column: Any, parent: str | None, parsed: dict, where: str
) -> None:
    """`after`: a date (or datetime) column of the parent, and a field drawn by date_between."""
    if not isinstance(column, str) or column.partition(".")[0] != parent or parent is None:
        raise InvalidArgument(where, f"must name a date column of this table's parent ({parent or 'none'})")
    owner = parsed[parent]
    other = column.partition(".")[2]
    if other not in owner.schema.names:
        raise InvalidArgument(where, f"names {other!r}, which is not a field of {parent}")
    field = next(f for f in schema.fields if f.name == name)
    if field.type not in ("date", "datetime") or owner.field(other).type != field.type:
        raise InvalidArgument(
            where,
            f"orders two date or two datetime columns, not {field.type} after {owner.field(other).type}",
        )
    if not (isinstance(field.distribution, Draw) and field.distribution.name == "date_between"):
        raise InvalidArgument(where, "an `after` field is drawn: give it a date_between(...) distribution")


def _unique(field: Field) -> Field:
    return replace(field, unique=True)


def _outer(
    name: str, spec: dict, parent: str | None, parsed: dict[str, Table], where: str
) -> dict[str, set[str]]:
    """The parent's columns this table's `by`s read, with the values each takes."""
    reads = []
    for fname, fspec in spec["fields"].items():
        dist = fspec.get("distribution") if isinstance(fspec, dict) else None
        if isinstance(dist, dict) and isinstance(dist.get("by"), str) and "." in dist["by"]:
            reads.append((dist["by"], f"{where}.fields.{fname}.distribution.by"))
    per_parent = spec.get("per_parent")
    if isinstance(per_parent, dict) and isinstance(per_parent.get("by"), str):
        reads.append((per_parent["by"], f"{where}.per_parent.by"))
    outer: dict[str, set[str]] = {}
    for by, at in reads:
        table, _, column = by.partition(".")
        if table != parent:
            raise InvalidArgument(
                at, f"reads {by!r}, not a column of this table's parent ({parent or 'none'})"
            )
        owner = parsed[table]
        if column not in owner.schema.names:
            raise InvalidArgument(at, f"names {column!r}, which is not a field of {table}")
        values = _categories(owner.field(column))
        if at.endswith("per_parent.by") and owner.field(column).distribution is None:
            values = None  # counts are drawn before any row is written: only sampled columns
        if values is None:
            raise InvalidArgument(
                at, f"{by} is not categorical (sampled by weights or bernoulli, an enum, or a bool)"
            )
        outer[by] = values
    return outer


def _categories(field: Field) -> set[str] | None:
    values = distributions.support(field.distribution)
    if values is not None:
        return values
    if field.distribution is not None:
        return None
    if field.type == "enum":
        return set(field.choices)
    return {"true", "false"} if field.type == "bool" else None


def _ref_field(ref: Ref, fspec: dict, parsed: dict[str, Table], name: str, spec: dict, where: str) -> dict:
    """The column spec of a reference: the type of the key it points to."""
    if ref.table == name:  # a self-reference: the key's own spec
        target = spec["fields"][ref.column]
        target = {"type": target} if isinstance(target, str) else dict(target)
        kind, pattern = target.get("type"), target.get("pattern")
    else:
        key_field = parsed[ref.table].field(ref.column)
        kind, pattern = key_field.type, key_field.pattern
    given = fspec.get("type")
    if given is not None and given != kind:
        raise InvalidArgument(
            f"{where}.type", f"{ref.target} is {kind}; leave the type out or make it {kind}"
        )
    out: dict[str, Any] = {"type": kind, "nullable": ref.nullable}
    if pattern:
        out["pattern"] = pattern
    if fspec.get("description"):
        out["description"] = fspec["description"]
    return out


def _key(name: Any, schema: Schema, where: str) -> Key | None:
    if name is None:
        return None
    if not isinstance(name, str) or name not in schema.names:
        raise InvalidArgument(f"{where}.primary_key", f"{name!r} is not a field of the table")
    field = next(f for f in schema.fields if f.name == name)
    at = f"{where}.fields.{name}"
    if field.distribution is not None or field.nullable:
        raise InvalidArgument(at, "a primary key is drawn by the table: no distribution, never null")
    if field.type == "int":
        start = 1 if field.minimum is None else int(field.minimum)
        return Key(name, "sequence", start=start, stop=None if field.maximum is None else int(field.maximum))
    if field.type == "uuid":
        return Key(name, "uuid")
    if field.type == "string" and field.pattern:
        keys.check_pattern(field.pattern, f"{at}.pattern")
        return Key(name, "pattern", pattern=field.pattern)
    raise InvalidArgument(at, f"a primary key is an int, a uuid or a string with a pattern, not {field.type}")


def _count_law(raw: Any, where: str, outer: dict[str, set[str]]) -> Distribution:
    """`per_parent`: a law of whole numbers of children (poisson, uniform, normal, weights), or a
    {by: "<parent>.<column>", cases: {...}} of them."""
    if not isinstance(raw, dict):
        return _count_draw(raw, where)
    unknown = sorted(set(raw) - {"by", "cases", "default"})
    if unknown:
        raise InvalidArgument(f"{where}.{unknown[0]}", "is not a key of a conditional (by, cases, default)")
    cases = raw.get("cases")
    if not isinstance(cases, dict) or not cases:
        raise InvalidArgument(f"{where}.cases", "must map each value of the `by` column to a law of counts")
    parsed = ByColumn(
        raw["by"],
        tuple((str(k), _count_draw(v, f"{where}.cases.{k}")) for k, v in cases.items()),
        None if raw.get("default") is None else _count_draw(raw["default"], f"{where}.default"),
    )
    distributions.check_conditions([Field("per_parent", "int", distribution=parsed)], lambda _: where, outer)
    return parsed


def _count_draw(raw: Any, where: str) -> Draw:
    if isinstance(raw, str) and re.match(r"^\s*weights\s*\(", raw):
        draw = distributions.parse(raw, Field("per_parent", "string"), where)
        for value, _ in draw.args[0]:
            if not re.fullmatch(r"\d+", value):
                raise InvalidArgument(where, f'weights name {value!r}; a count is a whole number such as "2"')
        return draw
    draw = distributions.parse(raw, COUNT_FIELD, where)
    if isinstance(draw, ByColumn) or draw.name not in distributions.NUMERIC_LAWS:
        raise InvalidArgument(
            where, "a count is poisson(l), uniform(a, b), normal(m, s), lognormal(m, s) or weights({...})"
        )
    return draw
