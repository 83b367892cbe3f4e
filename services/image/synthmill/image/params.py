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


@dataclass(frozen=True)
class Item:
    """One image to make."""

    index: int
    prompt: str
    seed: int
    # 77-token chunks its prompt and the negative prompt take; only equal counts share a batch.
    chunks: int = 1
