"""Scoring, selection and detection of one finished pipeline batch, each reported as its own phase.

The batch rendered `best_of` candidates per item (candidate k with seed `candidate_seed(seed, k)`).
Every candidate is scored against its prompt; each item keeps its best candidate over all of its
rounds (`winner`: ties go to the lower number). An item whose best stays below `min_score` is sent
round again while rounds are left; the others are final, and the detector runs on their kept images
(and the segmenter on its boxes, when masks are asked for, and the captioner, when captions are: still
the "detecting" phase); the scorer embeds their kept images when `embed` asks for it.
Model work runs on the device worker; this module only orders it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PIL import Image

from synthmill.common.judging import winner
from synthmill.image.domain import GenerationParams
from synthmill.image.judging.boxes import Box
from synthmill.runtime.worker import DeviceWorker

if TYPE_CHECKING:  # the judges hold torch models; this module and the batcher stay torch-free
    from synthmill.image.judging.models import JudgingModels

# Judges a finished batch: (params, prompts, rounds, earlier, fresh, on_phase) → one Verdict per item.
Judge = Callable[
    [
        GenerationParams,
        Sequence[str],
        Sequence[int],
        Sequence[Sequence["Rendered"]],
        Sequence[Sequence["Rendered"]],
        "PhaseCallback",
    ],
    Awaitable[list["Verdict"]],
]
# Called with a phase name ("scoring", "selecting", "detecting") and the positions of the items it covered.
PhaseCallback = Callable[[str, Sequence[int]], None]


@dataclass(frozen=True)
class Rendered:
    """One candidate of an item."""

    number: int
    seed: int
    image: Image.Image
    score: float | None = None


@dataclass
class Verdict:
    """An item after this batch: its candidates so far, the kept one, and whether it is done."""

    candidates: list[Rendered]
    kept: Rendered
    final: bool
    boxes: list[Box] = field(default_factory=list)
    caption: str = ""
    embedding: list[float] = field(default_factory=list)


async def judge(
    worker: DeviceWorker,
    judges: JudgingModels,
    params: GenerationParams,
    prompts: Sequence[str],
    rounds: Sequence[int],
    earlier: Sequence[Sequence[Rendered]],
    fresh: Sequence[Sequence[Rendered]],
    on_phase: PhaseCallback,
) -> list[Verdict]:
    """Verdicts of the items at the same positions of `prompts`, `rounds` (0-based), `earlier`
    (scored candidates of their previous rounds) and `fresh` (this batch's candidates)."""
    positions = range(len(prompts))
    if judges.scorer is not None:
        flat = [(p, rendered) for p in positions for rendered in fresh[p]]
        scores = await worker.run(judges.score, [r.image for _, r in flat], [prompts[p] for p, _ in flat])
        scored: list[list[Rendered]] = [list(earlier[p]) for p in positions]
        for (p, rendered), score in zip(flat, scores, strict=True):
            scored[p].append(Rendered(rendered.number, rendered.seed, rendered.image, score))
        on_phase("scoring", positions)
    else:
        scored = [list(earlier[p]) + list(fresh[p]) for p in positions]
    verdicts = []
    for p in positions:
        candidates = scored[p]
        kept = candidates[winner([c.score for c in candidates])] if judges.scorer else candidates[0]
        again = kept.score is not None and kept.score < params.min_score and rounds[p] + 1 < judges.max_rounds
        verdicts.append(Verdict(candidates, kept, final=not again))
    if params.best_of > 1 or params.min_score:
        on_phase("selecting", positions)
    final = [p for p in positions if verdicts[p].final]
    kept_images = [verdicts[p].kept.image for p in final]
    if params.annotations and final:
        found = await worker.run(judges.label, kept_images, params.labels, params.annotations)
        for p, (boxes, caption) in zip(final, found, strict=True):
            verdicts[p].boxes, verdicts[p].caption = boxes, caption
        on_phase("detecting", final)
    if params.embed and final and judges.scorer is not None:
        embedded = await worker.run(judges.embed, kept_images)
        for p, embedding in zip(final, embedded, strict=True):
            verdicts[p].embedding = embedding
    return verdicts


async def unjudged(
    params: GenerationParams,
    prompts: Sequence[str],
    rounds: Sequence[int],
    earlier: Sequence[Sequence[Rendered]],
    fresh: Sequence[Sequence[Rendered]],
    on_phase: PhaseCallback,
) -> list[Verdict]:
    """No judges: every item keeps its first candidate, unscored (a server without a scorer)."""
    return [Verdict([*e, *f], [*e, *f][0], final=True) for e, f in zip(earlier, fresh, strict=True)]
