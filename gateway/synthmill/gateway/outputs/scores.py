"""The score summary of a job: count, mean, min and 10th percentile of its images' CLIPScores."""

from __future__ import annotations

import math
from collections.abc import Iterable

from synthmill.gateway.outputs.records import ImageRecord
from synthmill.v1 import gateway_pb2 as pb


def summary(images: Iterable[ImageRecord], min_score: float) -> pb.ScoreSummary | None:
    """None when no image has a score; `below_min_score` counts those under a non-zero `min_score`."""
    scores = sorted(image.score for image in images if image.score is not None)
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
