"""Quality of generated rows against the sample, with SDMetrics' definitions (sdv-dev/SDMetrics, MIT):

- Column shapes: `KSComplement` (1 - the two-sample KS statistic, gaps dropped, values rounded to 14
  decimals) for int, float, date and datetime columns; `TVComplement` (1 - half the total variation
  over the real categories, a synthetic-only category counted against a real share of 1e-6) for enum
  and bool columns. Free-text, e-mail and uuid columns are not scored, as SDMetrics skips id and pii.
- Column pair trends: `CorrelationSimilarity` (1 - |Pearson_real - Pearson_synthetic| / 2, over rows
  where both are present) for two numeric columns; `ContingencySimilarity` (1 - half the total
  variation of the joint frequencies, gaps as a value) for two categorical ones; for one of each,
  the numeric one is cut into numpy's 10 histogram bins of each table (as SDMetrics' quality report
  does) and `ContingencySimilarity` is used.
- As in SDMetrics' QualityReport (0.2x and later), a pair counts towards the pair-trends average
  only where the real data shows a trend: |Pearson| > 0.5 for two numeric columns, Cramér's V > 0.3
  (of the real contingency table, gaps as a value) otherwise. Every pair is still listed, with
  `meets_threshold`. The overall score is the mean of the two properties' averages (one of them
  alone when no pair meets its threshold).
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import numpy as np

from synthmill.common.fit.columns import as_number
from synthmill.common.schema import Schema

NUMERIC = ("int", "float", "date", "datetime")
CATEGORICAL = ("enum", "bool")
_DECIMALS = 14  # SDMetrics' MAX_DECIMALS: sys.float_info.dig - 1
REAL_CORRELATION_THRESHOLD = 0.5  # SDMetrics' DEFAULT_REAL_CORRELATION_THRESHOLD
REAL_ASSOCIATION_THRESHOLD = 0.3  # SDMetrics' DEFAULT_REAL_ASSOCIATION_THRESHOLD


def scored_kind(field_type: str) -> str | None:
    return "numeric" if field_type in NUMERIC else "categorical" if field_type in CATEGORICAL else None


def numbers(values: list[Any], field_type: str) -> np.ndarray:
    return np.array([np.nan if v is None else as_number(v, field_type) for v in values], dtype=float)


def ks_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    from scipy.stats import ks_2samp

    real = np.round(real[~np.isnan(real)], _DECIMALS)
    synthetic = np.round(synthetic[~np.isnan(synthetic)], _DECIMALS)
    if not len(real) or not len(synthetic):
        return float("nan")
    return float(1 - ks_2samp(real, synthetic).statistic)


def tv_complement(real: list[Any], synthetic: list[Any]) -> float:
    real_counts = Counter(v for v in real if v is not None)
    synthetic_counts = Counter(v for v in synthetic if v is not None)
    if not real_counts or not synthetic_counts:
        return float("nan")
    for value in synthetic_counts:
        if value not in real_counts:
            real_counts[value] += 1e-6
    real_total, synthetic_total = sum(real_counts.values()), sum(synthetic_counts.values())
    variation = sum(
        abs(synthetic_counts[v] / synthetic_total - real_counts[v] / real_total) for v in real_counts
    )
    return float(1 - 0.5 * variation)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    both = ~np.isnan(a) & ~np.isnan(b)
    if both.sum() < 2 or a[both].std() == 0 or b[both].std() == 0:
        return float("nan")
    return float(np.corrcoef(a[both], b[both])[0, 1])


def correlation_similarity(
    real: tuple[np.ndarray, np.ndarray], synthetic: tuple[np.ndarray, np.ndarray]
) -> float:
    return 1 - abs(pearson(*real) - pearson(*synthetic)) / 2


def _joint(a: list, b: list) -> Counter:
    return Counter(zip(map(_key, a), map(_key, b), strict=True))


def contingency_similarity(real: tuple[list, list], synthetic: tuple[list, list]) -> float:
    r, s = _joint(*real), _joint(*synthetic)
    n_r, n_s = len(real[0]), len(synthetic[0])
    return float(1 - sum(abs(r.get(k, 0) / n_r - s.get(k, 0) / n_s) for k in set(r) | set(s)) / 2)


def real_association(a: list, b: list) -> float:
    """Cramér's V of the real contingency table (NaN when a side has a single value)."""
    from scipy.stats.contingency import association

    counts = _joint(a, b)
    rows = {k: i for i, k in enumerate(dict.fromkeys(x for x, _ in counts))}
    cols = {k: i for i, k in enumerate(dict.fromkeys(y for _, y in counts))}
    if len(rows) < 2 or len(cols) < 2:
        return float("nan")
    table = np.zeros((len(rows), len(cols)), dtype=np.int64)
    for (x, y), c in counts.items():
        table[rows[x], cols[y]] = c
    return float(association(table, method="cramer"))


def _key(value: Any) -> Any:
    return ("nan",) if value is None or (isinstance(value, float) and np.isnan(value)) else value


def _binned(x: np.ndarray) -> list[Any]:
    present = x[~np.isnan(x)]
    if not len(present):
        return [None] * len(x)
    return np.digitize(x, np.histogram_bin_edges(present)).tolist()


def report(schema: Schema, real: dict[str, list[Any]], synthetic: list[dict[str, Any]]) -> dict[str, Any]:
    """Shapes, pair trends and the overall score of `synthetic` rows against `real` columns."""
    kinds = {f.name: scored_kind(f.type) for f in schema.fields if scored_kind(f.type) and f.name in real}
    types = {f.name: f.type for f in schema.fields}
    synth = {name: [row.get(name) for row in synthetic] for name in kinds}
    data: dict[str, tuple[Any, Any]] = {}
    for name, kind in kinds.items():
        if kind == "numeric":
            data[name] = (numbers(real[name], types[name]), numbers(synth[name], types[name]))
        else:
            data[name] = (real[name], synth[name])
    shapes = {}
    for name, kind in kinds.items():
        metric = ks_complement if kind == "numeric" else tv_complement
        shapes[name] = {
            "metric": "KSComplement" if kind == "numeric" else "TVComplement",
            "score": metric(*data[name]),
        }
    pairs = []
    for a, b in itertools.combinations(kinds, 2):
        if kinds[a] == kinds[b] == "numeric":
            real_pair, synthetic_pair = (data[a][0], data[b][0]), (data[a][1], data[b][1])
            strength = pearson(*real_pair)
            entry = {"metric": "CorrelationSimilarity", "real_correlation": strength}
            entry["score"] = correlation_similarity(real_pair, synthetic_pair)
            meets = abs(strength) > REAL_CORRELATION_THRESHOLD
        else:
            ra, sa = _discrete(data[a], kinds[a])
            rb, sb = _discrete(data[b], kinds[b])
            strength = real_association(ra, rb)
            entry = {"metric": "ContingencySimilarity", "real_association": strength}
            entry["score"] = contingency_similarity((ra, rb), (sa, sb))
            meets = strength > REAL_ASSOCIATION_THRESHOLD
        pairs.append({"columns": [a, b], **entry, "meets_threshold": bool(meets)})
    shape_score = _mean(s["score"] for s in shapes.values())
    pair_score = _mean(p["score"] for p in pairs if p["meets_threshold"])
    overall = _mean([shape_score, pair_score])
    return {
        "score": overall,
        "column_shapes": {"score": shape_score, "columns": shapes},
        "column_pair_trends": {"score": pair_score, "pairs": pairs},
    }


def _discrete(pair: tuple[Any, Any], kind: str) -> tuple[list, list]:
    return (_binned(pair[0]), _binned(pair[1])) if kind == "numeric" else (list(pair[0]), list(pair[1]))


def _mean(values: Any) -> float | None:
    kept = [v for v in values if v is not None and not np.isnan(v)]
    return float(np.mean(kept)) if kept else None
