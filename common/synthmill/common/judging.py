"""The judging rules the gateway and the image server share: candidate seeds, the winner, and the
checks of the judging fields, so a request the server would refuse is refused at submit.

Candidate k of an item whose seed is s is rendered with seed (s + k * 1,000,003) mod 2^63: candidate 0
is the item's own seed, so `best_of: 1` makes the same image as no best-of; the stride is larger than
any job, so candidates never reuse another item's seed (`seed + index`), and it changes the low 32
bits, the only ones torch's CPU generator reads. k counts on over the rounds that `min_score` adds: round r
renders candidates r * best_of ... r * best_of + best_of - 1. So (seed, index, parameters) give every
candidate and, through the scores, the same winner again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from synthmill.common.errors import InvalidArgument

SEED_STRIDE = 1_000_003
_SEED_MODULUS = 1 << 63
# Scores are compared at this many decimals: a batch of another shape moves them by float noise only.
SCORE_DECIMALS = 2
MAX_SCORE = 100.0
BBOX, MASK = "bbox", "mask"
ANNOTATION_KINDS = (BBOX, MASK)  # a mask is drawn from its box, so "mask" implies "bbox"


def candidate_seed(item_seed: int, number: int) -> int:
    """The seed of candidate `number` of an item whose own seed is `item_seed`."""
    return (item_seed + number * SEED_STRIDE) % _SEED_MODULUS


def winner(scores: Sequence[float]) -> int:
    """Position of the highest score (compared at SCORE_DECIMALS); ties go to the earliest."""
    return max(range(len(scores)), key=lambda k: (round(scores[k], SCORE_DECIMALS), -k))


@dataclass(frozen=True)
class Capabilities:
    """What an image server can judge and label, from its settings or its GetInfo."""

    scorer: bool
    max_best_of: int
    annotation_kinds: tuple[str, ...]
    closed_detector: bool
    open_detector: bool
    segmenter: bool = False

    @classmethod
    def from_info(cls, info: Any) -> Capabilities:
        """From an `ImageServerInfo`."""
        return cls(
            scorer=bool(info.scorer),
            max_best_of=info.max_best_of,
            annotation_kinds=tuple(info.annotation_kinds),
            closed_detector=bool(info.detector),
            open_detector=bool(info.open_detector),
            segmenter=bool(info.segmenter),
        )


def check_labelling(
    annotations: Sequence[str], labels: Sequence[str], path: str, caps: Capabilities | None
) -> None:
    """Annotation kinds and open-vocabulary labels; `path` is the message holding them."""
    known = caps.annotation_kinds if caps else ANNOTATION_KINDS
    for i, kind in enumerate(annotations):
        if kind in known:
            continue
        if kind not in ANNOTATION_KINDS:
            have = ", ".join(known) or "none: the server has no detector"
            reason = f"unknown annotation kind {kind!r}; one of {have}"
        elif kind == MASK and caps and not caps.segmenter:
            reason = "'mask' needs a segmenter, and none is loaded on the image server"
        else:
            reason = f"{kind!r} needs a detector, and none is loaded on the image server"
        raise InvalidArgument(f"{path}.annotations[{i}]", reason)
    for i, label in enumerate(labels):
        if not label.strip():
            raise InvalidArgument(f"{path}.labels[{i}]", "is empty")
    if labels and caps and not caps.open_detector:
        raise InvalidArgument(f"{path}.labels", "no open-vocabulary detector is loaded on the image server")
    if annotations and not labels and caps and not caps.closed_detector:
        raise InvalidArgument(
            f"{path}.labels", "required: the image server has only an open-vocabulary detector"
        )
    if labels and not annotations:
        raise InvalidArgument(f"{path}.labels", 'labels need annotations, e.g. ["bbox"]')


def check_annotate(
    annotations: Sequence[str], labels: Sequence[str], path: str, caps: Capabilities | None
) -> None:
    """An annotate request (a job's or the server's): at least one annotation kind, then its labelling."""
    if not annotations:
        raise InvalidArgument(f"{path}.annotations", 'at least one kind is required, e.g. ["bbox"]')
    check_labelling(annotations, labels, path, caps)


def check_params(params: Any, path: str, caps: Capabilities | None) -> None:
    """The judging fields of an `ImageParams`: best_of, min_score, annotations and labels."""
    if params.HasField("best_of") and params.best_of == 0:
        raise InvalidArgument(f"{path}.best_of", "must be at least 1 (leave it unset for one candidate)")
    if caps and params.best_of > caps.max_best_of:
        raise InvalidArgument(
            f"{path}.best_of", f"{params.best_of} is over the server's maximum of {caps.max_best_of}"
        )
    if not math.isfinite(params.min_score) or not 0 <= params.min_score <= MAX_SCORE:
        raise InvalidArgument(f"{path}.min_score", f"{params.min_score:g} is outside 0–100")
    if caps and not caps.scorer:
        for name in ("best_of", "min_score"):
            if getattr(params, name) > (1 if name == "best_of" else 0):
                raise InvalidArgument(f"{path}.{name}", "the image server has no scorer loaded")
    check_labelling(params.annotations, params.labels, path, caps)
