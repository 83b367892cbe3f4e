"""Sampled columns: the values of fields with a declared distribution, drawn per row from its seed.

Field `j` of row `i` in a job with seed `s` draws from a Philox4x64-10 stream keyed by (s, j) with
the row index as counter (`synthmill.common.philox`): row i's values depend only on (s, i) and the
schema, not on batch sizes, on how many replicas share the job, nor on which rows were made before,
and a batch of rows is drawn with array operations. Columns under a copula draw their uniforms the
same way and the copula couples them. Faker values take a 64-bit word of the same stream as their
Faker seed; a Faker value that fails the field's constraints (a name longer than maxLength) is drawn
again with the next attempt number (the counter's second word).

A row that `exclude` rejects (a row equal to a record of a fitted sample) is drawn again whole, with
the next row attempt, so no such row is ever written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from synthmill.common import philox
from synthmill.common.schema import Field, InvalidRow, Schema, fakers
from synthmill.common.schema.draws import ByColumn, Draw, case_key
from synthmill.common.schema.laws import categorical_law, numeric_law, pick, to_value

FAKER_ATTEMPTS = 64
ROW_ATTEMPTS = 64


class ColumnSampler:
    """Draws the sampled fields of any rows of one schema."""

    def __init__(self, schema: Schema, exclude: Callable[[dict[str, Any]], bool] | None = None):
        self.schema = schema
        self.sampled = [(j, f) for j, f in enumerate(schema.fields) if f.distribution is not None]
        self.exclude = exclude
        self._laws: dict[tuple[str, Draw], Any] = {}
        coupled = schema.copula.columns if schema.copula else ()
        self._coupled = {name: k for k, name in enumerate(coupled)}

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
        counters = np.asarray(indices, dtype=np.uint64)
        rows = self._draw(seed, counters, 0, given)
        if self.exclude is None:
            return rows
        pending = [k for k, row in enumerate(rows) if self.exclude(row)]
        for attempt in range(1, ROW_ATTEMPTS + 1):  # each row's first attempt that is not excluded
            if not pending:
                return rows
            again = [given[k] for k in pending] if given is not None else None
            for k, row in zip(pending, self._draw(seed, counters[pending], attempt, again), strict=True):
                rows[k] = row
            pending = [k for k in pending if self.exclude(rows[k])]
        if pending:
            index = int(counters[pending[0]])
            raise InvalidRow("row", f"row {index} equals a sample record in {ROW_ATTEMPTS + 1} draws")
        return rows

    def _draw(
        self, seed: int, indices: np.ndarray, attempt: int, given: Sequence[dict[str, Any]] | None
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = [dict(g) for g in given] if given is not None else [{} for _ in indices]
        uniforms = {j: philox.uniforms((seed, j), indices, attempt << 32) for j, _ in self.sampled}
        if self.schema.copula is not None:
            ordinals = [j for j, f in self.sampled if f.name in self._coupled]
            ordinals.sort(key=lambda j: self._coupled[self.schema.fields[j].name])
            coupled = self.schema.copula.couple(np.stack([uniforms[j] for j in ordinals], axis=1))
            for k, j in enumerate(ordinals):
                uniforms[j] = coupled[:, k]
        for j, field in self.sampled:
            dist = field.distribution
            ctx = (seed, indices, j, attempt)
            if isinstance(dist, Draw):
                values = self._values(field, dist, uniforms[j], ctx)
            else:
                values = self._conditional(field, dist, uniforms[j], ctx, rows)
            if field.null_share:
                gaps = philox.uniforms((seed, j), indices, (attempt << 32) | _NULL_WORD) < field.null_share
                values = [None if gap else value for gap, value in zip(gaps, values, strict=True)]
            for row, value in zip(rows, values, strict=True):
                row[field.name] = value
        if given:
            for row in rows:
                for name in given[0]:
                    del row[name]
        return rows

    def _conditional(self, field: Field, dist: ByColumn, u: np.ndarray, ctx: tuple, rows: list) -> list[Any]:
        seed, indices, j, attempt = ctx
        values: list[Any] = [None] * len(indices)
        groups: dict[str, list[int]] = {}
        for k, row in enumerate(rows):
            groups.setdefault(case_key(row[dist.by]), []).append(k)
        for members in groups.values():
            draw = dist.draw_for(rows[members[0]][dist.by])
            picked = self._values(field, draw, u[members], (seed, indices[members], j, attempt))
            for k, value in zip(members, picked, strict=True):
                values[k] = value
        return values

    def _values(self, field: Field, draw: Draw, u: np.ndarray, ctx: tuple) -> list[Any]:
        if draw.name == "faker":
            seed, indices, j, attempt = ctx
            first = philox.words((seed, j), indices, (attempt << 32) | 1).tolist()
            return [
                self._faker(field, draw, (seed, int(i), j, attempt), s)
                for i, s in zip(indices, first, strict=True)
            ]
        if draw.categorical:
            choices, probabilities = categorical_law(draw)
            return [choices[k] for k in pick(probabilities, u)]
        key = (field.name, draw)
        law = self._laws.get(key) or self._laws.setdefault(key, numeric_law(draw, field))
        return [to_value(law, x, field) for x in law.sample(u).tolist()]

    @staticmethod
    def _faker(field: Field, draw: Draw, ctx: tuple, first_seed: int) -> Any:
        """The first valid Faker value of the row's attempts 1, 2, ... (the first seed drawn in bulk)."""
        provider, locale = draw.args
        seed, index, j, row_attempt = ctx
        for attempt in range(1, FAKER_ATTEMPTS + 1):
            counter = np.array([index], dtype=np.uint64)
            faker_seed = (
                first_seed
                if attempt == 1
                else int(philox.words((seed, j), counter, (row_attempt << 32) | attempt)[0])
            )
            value = fakers.value(provider, locale, faker_seed)
            try:
                field.validate(value)
                return value
            except InvalidRow:
                continue
        raise InvalidRow(field.name, f"faker({provider}) gave no valid value in {FAKER_ATTEMPTS} draws")


_NULL_WORD = 2**31  # the counter word of the null draws (faker attempts use 1..FAKER_ATTEMPTS)


def plain(schema: Schema) -> Schema:
    """The schema without distributions: what the LLM's grammar and prompt are made from."""
    return Schema(tuple(replace(f, distribution=None, null_share=None) for f in schema.fields))
