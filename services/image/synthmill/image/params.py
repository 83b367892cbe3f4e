"""The domain form of a request: shared parameters (with defaults applied) and the items."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GenerationParams:
    """Parameters shared by every image of a pipeline batch; also the dynamic batcher's merge key."""

    model: str
    width: int
    height: int
    steps: int
    guidance: float
    scheduler: str
    negative_prompt: str
    best_of: int = 1  # candidates rendered per item
    keep_candidates: bool = False
    min_score: float = 0.0  # 0: no re-rendering
    annotations: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()  # for the open-vocabulary detector


@dataclass(frozen=True)
class Item:
    """One image to make."""

    index: int
    prompt: str
    seed: int
