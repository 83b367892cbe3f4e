"""Sampled columns: the values of fields with a declared distribution, drawn per row from its seed.

Field `j` of row `i` in a job with seed `s` draws from the uniform u(s + i, j, attempt): the first 53
bits of BLAKE2b over those numbers (counter-based, like Philox, but stable across numpy releases).
Row `i` uses the item seed `s + i`, as every item of a job does, so its sampled values depend only
on that seed and the schema: not on batch sizes, on how many replicas share the job, nor on which
rows were made before. Faker values
use the same hash as the Faker seed; a Faker value that fails the field's constraints (a name longer
than maxLength) is drawn again with the next attempt number.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from synthmill.common.schema import Field, InvalidRow, Schema, fakers
from synthmill.common.schema.draws import ByColumn, Draw, case_key
from synthmill.common.schema.laws import categorical_law, numeric_law, pick, to_value

FAKER_ATTEMPTS = 64


def _digest(item_seed: int, ordinal: int, attempt: int) -> int:
    packed = struct.pack("<QII", item_seed % 2**64, ordinal, attempt)
    return int.from_bytes(hashlib.blake2b(packed, digest_size=8).digest(), "little")


def uniform(item_seed: int, ordinal: int, attempt: int = 0) -> float:
    """The uniform in [0, 1) of field `ordinal` of the row with `item_seed` (see the module docstring)."""
    return (_digest(item_seed, ordinal, attempt) >> 11) * 2.0**-53


class ColumnSampler:
    """Draws the sampled fields of any rows of one schema."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.sampled = [(j, f) for j, f in enumerate(schema.fields) if f.distribution is not None]
        self._laws: dict[tuple[str, Draw], Any] = {}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for _, f in self.sampled)

    @property
    def all_sampled(self) -> bool:
        return len(self.sampled) == len(self.schema.fields)

    def rows(
        self, seed: int, indices: Sequence[int], given: Sequence[dict[str, Any]] | None = None
    ) -> list[dict[str, Any]]:
        """The sampled values of rows `indices`, each a dict in schema order. `given` holds, per row,
        values of other tables' columns a `by` reads (``{"customers.plan": "pro"}``); they are not
        returned."""
        rows: list[dict[str, Any]] = [dict(g) for g in given] if given is not None else [{} for _ in indices]
        for j, field in self.sampled:
            u = np.array([uniform(seed + i, j) for i in indices])
            dist = field.distribution
            if isinstance(dist, Draw):
                values = self._values(field, dist, u, seed, indices, j)
            else:
                values = self._conditional(field, dist, u, seed, indices, j, rows)
            for row, value in zip(rows, values, strict=True):
                row[field.name] = value
        if given:
            for row in rows:
                for name in given[0]:
                    del row[name]
        return rows

    def _conditional(self, field, dist: ByColumn, u, seed, indices, j, rows) -> list[Any]:
        values: list[Any] = [None] * len(indices)
        groups: dict[str, list[int]] = {}
        for k, row in enumerate(rows):
            groups.setdefault(case_key(row[dist.by]), []).append(k)
        for members in groups.values():
            draw = dist.draw_for(rows[members[0]][dist.by])
            picked = self._values(field, draw, u[members], seed, [indices[k] for k in members], j)
            for k, value in zip(members, picked, strict=True):
                values[k] = value
        return values

    def _values(self, field: Field, draw: Draw, u, seed: int, indices: Sequence[int], j: int) -> list[Any]:
        if draw.name == "faker":
            return [self._faker(field, draw, seed, i, j) for i in indices]
        if draw.categorical:
            choices, probabilities = categorical_law(draw)
            return [choices[k] for k in pick(probabilities, u)]
        key = (field.name, draw)
        law = self._laws.get(key) or self._laws.setdefault(key, numeric_law(draw, field))
        return [to_value(law, x, field) for x in law.sample(u)]

    @staticmethod
    def _faker(field: Field, draw: Draw, seed: int, index: int, j: int) -> Any:
        provider, locale = draw.args
        for attempt in range(FAKER_ATTEMPTS):
            value = fakers.value(provider, locale, _digest(seed + index, j, attempt))
            try:
                field.validate(value)
                return value
            except InvalidRow:
                continue
        raise InvalidRow(field.name, f"faker({provider}) gave no valid value in {FAKER_ATTEMPTS} draws")


def plain(schema: Schema) -> Schema:
    """The schema without distributions: what the LLM's grammar and prompt are made from."""
    return Schema(tuple(replace(f, distribution=None) for f in schema.fields))
