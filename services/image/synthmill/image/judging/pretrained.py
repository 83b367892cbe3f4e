"""A transformers model that judges images (scorer, open-vocabulary detector, segmenter), as loaded:
its name, where it came from, the model with its processor, and its device."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Pretrained:
    name: str  # as configured: an embedded name, a hub id or a path
    source: str  # what from_pretrained read: the embedded model's folder, else the name
    model: Any
    processor: Any
    device: Any
