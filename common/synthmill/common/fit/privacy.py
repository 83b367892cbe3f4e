"""How close generated rows come to the sample's records.

- `exact_matches`: generated rows equal to a sample record on every column (the sampler redraws such
  rows when it is given the sample, so with it this is 0 by construction).
- DCR, as SDMetrics' `DCROverfittingProtection` (dcr_utils.py): the distance between two rows is the
  mean over the scored columns of |a - b| / (the reference column's range), capped at 1, for numbers
  (a gap against a value counts 1, two gaps 0), and 0 or 1 for categories. Each generated row's
  distance to the closest record of the training part and of the holdout is compared; the figure is
  the share closer to the training part (ideal ≈ 0.5) and the score min(1, 2 (1 - share)).
- NNDR: the distance to the nearest training record over the distance to the second nearest, per
  generated row (near 1: no record stands out as the row's source); its median is reported.
The three tables are subsampled to the same size, at most `MAX_ROWS`, from a fixed seed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np

from synthmill.common.fit.quality import numbers, scored_kind
from synthmill.common.schema import Schema

MAX_ROWS = 2000
_CHUNK = 256


def split(rows: int, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training, holdout) row indices: a `share` of the rows held out, chosen from `seed`."""
    order = np.random.default_rng(seed).permutation(rows)
    cut = round(rows * share)
    return np.sort(order[cut:]), np.sort(order[:cut])


def record_key(row: dict[str, Any], names: tuple[str, ...]) -> tuple:
    """A row's values in a form where equal records compare equal (numbers as floats)."""
    return tuple(
        float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
        for v in (row.get(n) for n in names)
    )


def typed(rows: list[dict[str, Any]], schema: Schema) -> list[dict[str, Any]]:
    """Rows with each value in its field's JSON type (CSV cells are strings), unknown columns dropped."""
    return [{f.name: _as(row.get(f.name), f.type) for f in schema.fields} for row in rows]


def _as(value: Any, kind: str) -> Any:
    if value is None or value == "":
        return None
    try:
        if kind == "int":
            return int(float(value))
        if kind == "float":
            return float(value)
        if kind == "bool":
            return value if isinstance(value, bool) else str(value).lower() == "true"
        if kind == "date":
            return dt.date.fromisoformat(str(value)[:10]).isoformat()
        if kind == "datetime":
            return dt.datetime.fromisoformat(str(value)).replace(microsecond=0, tzinfo=None).isoformat()
        if kind == "uuid":
            return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)
    return str(value)


def excluder(schema: Schema, sample: list[dict[str, Any]]) -> Callable[[dict[str, Any]], bool]:
    """Whether a generated row copies the (raw) sample: equals one of its records, or holds one of its
    values in a free-text column (a string the LLM writes, shown sample values as examples)."""
    records = typed(sample, schema)
    seen = {record_key(row, schema.names) for row in records}
    free = [f.name for f in schema.fields if f.type == "string" and f.distribution is None]
    texts = {name: {row[name] for row in records if row[name] is not None} for name in free}

    def copies(row: dict[str, Any]) -> bool:
        if any(row.get(name) in values for name, values in texts.items()):
            return True
        return record_key(row, schema.names) in seen

    return copies


def exact_matches(schema: Schema, sample: list[dict[str, Any]], synthetic: list[dict[str, Any]]) -> int:
    seen = {record_key(row, schema.names) for row in sample}
    return sum(record_key(row, schema.names) in seen for row in synthetic)


class _Table:
    """Scored columns of some rows, as numbers (numeric) or category codes (categorical)."""

    def __init__(self, schema: Schema, rows: list[dict[str, Any]], codes: dict[str, dict]):
        self.numeric: dict[str, np.ndarray] = {}
        self.categorical: dict[str, np.ndarray] = {}
        for field in schema.fields:
            kind = scored_kind(field.type)
            values = [row.get(field.name) for row in rows]
            if kind == "numeric":
                self.numeric[field.name] = numbers(values, field.type)
            elif kind == "categorical":
                table = codes.setdefault(field.name, {None: -1})
                self.categorical[field.name] = np.array([table.setdefault(v, len(table)) for v in values])

    @property
    def width(self) -> int:
        return len(self.numeric) + len(self.categorical)


def _distances(data: _Table, reference: _Table) -> np.ndarray:
    """Distances (len(data) x len(reference)) as SDMetrics' dcr_utils computes them."""
    n = len(next(iter({**data.numeric, **data.categorical}.values())))
    m = len(next(iter({**reference.numeric, **reference.categorical}.values())))
    total = np.zeros((n, m))
    for name, x in data.numeric.items():
        ref = reference.numeric[name]
        present = ref[~np.isnan(ref)]
        spread = present.max() - present.min() if len(present) else 0.0
        diff = np.abs(x[:, None] - ref[None, :])
        part = (diff > 0).astype(float) if spread == 0 else np.minimum(diff / spread, 1.0)
        gap_x, gap_r = np.isnan(x)[:, None], np.isnan(ref)[None, :]
        total += np.where(gap_x & gap_r, 0.0, np.where(gap_x | gap_r, 1.0, part))
    for name, x in data.categorical.items():
        total += x[:, None] != reference.categorical[name][None, :]
    return total / data.width


def _nearest(data: _Table, reference: _Table, k: int) -> np.ndarray:
    """The k smallest distances of each data row to the reference rows, in chunks (rows x k)."""
    rows = len(next(iter({**data.numeric, **data.categorical}.values())))
    out = []
    for start in range(0, rows, _CHUNK):
        part = _Table.__new__(_Table)
        part.numeric = {n: v[start : start + _CHUNK] for n, v in data.numeric.items()}
        part.categorical = {n: v[start : start + _CHUNK] for n, v in data.categorical.items()}
        d = _distances(part, reference)
        out.append(np.sort(np.partition(d, min(k, d.shape[1]) - 1, axis=1)[:, :k], axis=1))
    return np.concatenate(out)


def report(
    schema: Schema,
    train: list[dict[str, Any]],
    holdout: list[dict[str, Any]],
    synthetic: list[dict[str, Any]],
    sample: list[dict[str, Any]],
    seed: int = 0,
) -> dict[str, Any]:
    """Exact matches against the whole sample, DCR against train/holdout, and the NNDR."""
    out: dict[str, Any] = {"exact_matches": exact_matches(schema, sample, synthetic)}
    if not any(scored_kind(f.type) for f in schema.fields) or len(holdout) < 2 or len(train) < 2:
        out["dcr"] = None
        out["nndr"] = None
        out["note"] = "no holdout (or no scored column): DCR and NNDR need a sample split at fit time"
        return out
    rng = np.random.default_rng(seed)
    size = min(len(train), len(holdout), len(synthetic), MAX_ROWS)

    def pick(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [rows[k] for k in np.sort(rng.choice(len(rows), size, replace=False))]

    codes: dict[str, dict] = {}
    train_t, holdout_t, synth_t = (_Table(schema, pick(rows), codes) for rows in (train, holdout, synthetic))
    to_train = _nearest(synth_t, train_t, 2)
    to_holdout = _nearest(synth_t, holdout_t, 1)[:, 0]
    closer = float(np.mean(to_train[:, 0] < to_holdout))
    ratio = np.where(
        to_train[:, 1] > 0, to_train[:, 0] / np.where(to_train[:, 1] > 0, to_train[:, 1], 1), 1.0
    )
    out["dcr"] = {
        "closer_to_training": closer,
        "closer_to_holdout": 1 - closer,
        "score": min(1.0, 2 * (1 - closer)),
        "rows_compared": size,
    }
    out["nndr"] = {"median": float(np.median(ratio)), "p5": float(np.percentile(ratio, 5))}
    return out
