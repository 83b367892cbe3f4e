"""How many distinct rows a schema allows, when every field is finite (enums, bools, ints with both
bounds), and the check that a job asks for no more than that. Rows are never repeated (whole rows, and
the values of a `unique` field), so a job of 50 rows over `{"color": ["red", "blue"]}` is doomed
from its spec: it is refused at submit, naming the count and the limit."""

from __future__ import annotations

import math

from synthmill.common.errors import InvalidArgument
from synthmill.common.schema.model import Field, Schema


def field_capacity(field: Field) -> int | None:
    """The number of distinct values `field` takes (null included when nullable); None when unbounded."""
    if field.type == "enum":
        count = len(field.choices)
    elif field.type == "bool":
        count = 2
    elif field.type == "int" and field.minimum is not None and field.maximum is not None:
        count = max(0, math.floor(field.maximum) - math.ceil(field.minimum) + 1)
    else:
        return None
    return count + 1 if field.nullable else count


def row_capacity(schema: Schema) -> int | None:
    """The number of distinct rows, or None when some field is unbounded."""
    total = 1
    for field in schema.fields:
        count = field_capacity(field)
        if count is None:
            return None
        total *= count
    return total


def check_capacity(schema: Schema, count: int, path: str) -> None:
    """InvalidArgument at `path` when `count` distinct rows cannot exist under `schema`."""
    for field in schema.fields:
        values = field_capacity(field)
        # A unique field's nulls may repeat (as in SQL), so only a non-nullable one is bounded.
        if field.unique and not field.nullable and values is not None and count > values:
            raise InvalidArgument(
                path, f"{count} rows need {count} distinct values of unique {field.name!r}; it has {values}"
            )
    rows = row_capacity(schema)
    if rows is not None and count > rows:
        raise InvalidArgument(
            path, f"{count} rows is over the {rows} distinct rows the schema allows (rows never repeat)"
        )
