"""The score summary of a job: count, mean, min and 10th percentile of its images' CLIPScores."""

from __future__ import annotations

import math
from collections.abc import Iterable

from synthmill.v1 import gateway_pb2 as pb


def summary(rows: Iterable[dict], min_score: float) -> pb.ScoreSummary | None:
    """None when no row has a score; `below_min_score` counts rows under a non-zero `min_score`."""
    scores = sorted(row["score"] for row in rows if row.get("score") is not None)
    if not scores:
        return None
    p10 = scores[max(0, math.ceil(0.1 * len(scores)) - 1)]  # nearest rank
    return pb.ScoreSummary(
        count=len(scores),
        mean=round(sum(scores) / len(scores), 4),
        min=round(scores[0], 4),
        p10=round(p10, 4),
        below_min_score=sum(score < min_score for score in scores) if min_score else 0,
    )
