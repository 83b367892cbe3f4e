"""Dependence between a sample's columns: which categorical parent a column follows, and the normal-
score correlation of numeric columns (a Gaussian copula).

A parent is kept when its association with the child is clear: Cramér's V (categorical child) or
the correlation ratio η (numeric child) of at least `MIN_ASSOCIATION`, with a chi-square or ANOVA
p-value under `MAX_P`. The copula's matrix is the Pearson correlation of the columns' normal scores
Φ⁻¹(rank / (n + 1)) over the rows where both are present, mended to the nearest correlation matrix
when pairwise gaps make it indefinite; a column joins the copula when it correlates with another at
|ρ| ≥ `MIN_CORRELATION`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MIN_ASSOCIATION = 0.1
MAX_P = 0.01
MIN_CORRELATION = 0.1


def cramers_v(parent: list[Any], child: list[Any]) -> tuple[float, float]:
    """(Cramér's V, chi-square p-value) of two categorical columns, over rows where both are present."""
    from scipy.stats import chi2_contingency

    pairs = [(p, c) for p, c in zip(parent, child, strict=True) if p is not None and c is not None]
    rows = {p: k for k, p in enumerate(dict.fromkeys(p for p, _ in pairs))}
    cols = {c: k for k, c in enumerate(dict.fromkeys(c for _, c in pairs))}
    if len(rows) < 2 or len(cols) < 2:
        return 0.0, 1.0
    table = np.zeros((len(rows), len(cols)))
    for p, c in pairs:
        table[rows[p], cols[c]] += 1
    chi2, p_value, _, _ = chi2_contingency(table, correction=False)
    return float(np.sqrt(chi2 / (len(pairs) * (min(table.shape) - 1)))), float(p_value)


def correlation_ratio(parent: list[Any], x: np.ndarray) -> tuple[float, float]:
    """(η, one-way ANOVA p-value) of numeric values `x` grouped by `parent`, over present rows."""
    from scipy.stats import f_oneway

    keep = ~np.isnan(x) & np.array([p is not None for p in parent])
    groups: dict[Any, list[float]] = {}
    for p, v in zip(np.asarray(parent, dtype=object)[keep], x[keep], strict=True):
        groups.setdefault(p, []).append(v)
    arrays = [np.asarray(g) for g in groups.values() if len(g) > 1]
    values = x[keep]
    total = ((values - values.mean()) ** 2).sum()
    if len(arrays) < 2 or total == 0:
        return 0.0, 1.0
    between = sum(len(g) * (g.mean() - values.mean()) ** 2 for g in arrays)
    return float(np.sqrt(between / total)), float(f_oneway(*arrays).pvalue)


def normal_scores(x: np.ndarray) -> np.ndarray:
    """Φ⁻¹ of each present value's mid-rank / (n + 1); NaN stays NaN."""
    from scipy.special import ndtri
    from scipy.stats import rankdata

    out = np.full(len(x), np.nan)
    present = ~np.isnan(x)
    out[present] = ndtri(rankdata(x[present]) / (present.sum() + 1))
    return out


def correlation(scores: list[np.ndarray]) -> np.ndarray:
    """The pairwise-complete correlation matrix of normal scores, mended to a correlation matrix."""
    k = len(scores)
    matrix = np.eye(k)
    for a in range(k):
        for b in range(a + 1, k):
            both = ~np.isnan(scores[a]) & ~np.isnan(scores[b])
            if both.sum() > 2 and scores[a][both].std() > 0 and scores[b][both].std() > 0:
                matrix[a, b] = matrix[b, a] = np.corrcoef(scores[a][both], scores[b][both])[0, 1]
    return nearest_correlation(matrix)


def nearest_correlation(matrix: np.ndarray) -> np.ndarray:
    """Negative eigenvalues clipped to a small positive floor, then the diagonal scaled back to 1."""
    values, vectors = np.linalg.eigh(matrix)
    if values.min() > 1e-6:
        return matrix
    mended = vectors @ np.diag(np.maximum(values, 1e-6)) @ vectors.T
    scale = 1 / np.sqrt(np.diag(mended))
    return mended * np.outer(scale, scale)
