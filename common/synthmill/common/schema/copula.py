"""A Gaussian copula over sampled numeric columns: their joint dependence, apart from their laws.

    "copula": {"columns": ["age", "income"], "correlation": [[1, 0.6], [0.6, 1]]}

(`x-copula` in the JSON Schema form.) Each listed column keeps its own declared law; the copula only
couples the uniforms its values are drawn from. Row i's independent uniforms u go to normal scores
z = Φ⁻¹(u), are mixed by the Cholesky factor L of the correlation matrix (z' = L z), and come back
as Φ(z'): uniforms again, now with the declared correlation between the columns' normal scores.
Every problem raises InvalidArgument naming the part, e.g. ``schema.copula.correlation``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from synthmill.common.errors import InvalidArgument
from synthmill.common.schema.draws import ByColumn, Distribution


class Column(Protocol):
    """What the copula reads of a field (the schema model's `Field`)."""

    name: str
    distribution: Distribution | None


_KEYS = {"columns", "correlation"}
_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Copula:
    """The columns coupled, in order, and their normal-score correlation matrix."""

    columns: tuple[str, ...]
    correlation: tuple[tuple[float, ...], ...]

    def spec(self) -> dict[str, Any]:
        return {"columns": list(self.columns), "correlation": [list(row) for row in self.correlation]}

    def factor(self) -> np.ndarray:
        """The lower Cholesky factor L of the correlation (a semi-definite one is nudged to definite)."""
        matrix = np.asarray(self.correlation, dtype=float)
        return np.linalg.cholesky(matrix + np.eye(len(matrix)) * 1e-9)

    def couple(self, u: np.ndarray) -> np.ndarray:
        """Independent uniforms (rows x columns, in (0, 1)) to uniforms with this copula."""
        from scipy.special import ndtr, ndtri

        return ndtr(ndtri(u) @ self.factor().T)


def is_copula(value: Any) -> bool:
    """Whether a simple-map entry is the schema's copula rather than a field."""
    return isinstance(value, dict) and "columns" in value and "correlation" in value


def parse(raw: Any, fields: Sequence[Column], where: str) -> Copula:
    """Checks the columns (sampled numeric fields, at least two, no repeats) and the matrix."""
    if not isinstance(raw, dict):
        raise InvalidArgument(where, "must be an object with columns and correlation")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise InvalidArgument(f"{where}.{unknown[0]}", "is not a key of a copula (columns, correlation)")
    columns = raw.get("columns")
    if not isinstance(columns, list) or len(columns) < 2 or not all(isinstance(c, str) for c in columns):
        raise InvalidArgument(f"{where}.columns", "must list at least two column names")
    if len(set(columns)) != len(columns):
        raise InvalidArgument(f"{where}.columns", "names a column twice")
    by_name = {field.name: field for field in fields}
    for name in columns:
        if name not in by_name:
            raise InvalidArgument(f"{where}.columns", f"names {name!r}, which is not a column")
        if not _numeric_sampled(by_name[name]):
            raise InvalidArgument(
                f"{where}.columns", f"{name!r} has no numeric distribution (uniform, normal, lognormal, ...)"
            )
    return Copula(tuple(columns), _matrix(raw.get("correlation"), len(columns), f"{where}.correlation"))


def _numeric_sampled(field: Column) -> bool:
    dist = field.distribution
    draws = dist.draws() if isinstance(dist, ByColumn) else [dist] if dist is not None else []
    return bool(draws) and all(draw.numeric for draw in draws)


def _matrix(raw: Any, size: int, where: str) -> tuple[tuple[float, ...], ...]:
    shape_ok = isinstance(raw, list) and len(raw) == size
    shape_ok = shape_ok and all(isinstance(row, list) and len(row) == size for row in raw)
    if not shape_ok:
        raise InvalidArgument(where, f"must be a {size} x {size} matrix, one row per column")
    values = [v for row in raw for v in row]
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
        raise InvalidArgument(where, "must hold numbers")
    matrix = np.asarray(raw, dtype=float)
    if not np.all(np.isfinite(matrix)) or np.abs(matrix).max() > 1 + _TOLERANCE:
        raise InvalidArgument(where, "correlations lie between -1 and 1")
    if np.abs(np.diag(matrix) - 1).max() > _TOLERANCE:
        raise InvalidArgument(where, "the diagonal must be 1 (each column with itself)")
    if np.abs(matrix - matrix.T).max() > _TOLERANCE:
        raise InvalidArgument(where, "must be symmetric")
    if np.linalg.eigvalsh(matrix).min() < -_TOLERANCE:
        raise InvalidArgument(where, "is not a correlation matrix (not positive semi-definite)")
    return tuple(tuple(float(v) for v in row) for row in raw)
