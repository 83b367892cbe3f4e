"""The typed records of a job's finished items, and their JSON form.

The JSON form is what the store keeps and, for images, what `metadata.jsonl` prints: one record read
back from either is the same record. A row record holds the row, the seed of the sample that made it
and the samples drawn. An image record holds the image's own fields (what it is, how it was made, how
it was judged) and what the job records beside it: axis values, caption id, row index and the row's
fields. A name that clashes with an own field is recorded with a prefix (`axis_seed`, `row_model`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

ROW = "row"  # the store's item kind of a row
IMAGE = "image"  # the store's item kind of an image


@dataclass
class RowRecord:
    row: dict[str, Any]
    seed: int
    attempts: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "seed": self.seed, "attempts": self.attempts}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RowRecord:
        return cls(dict(data["row"]), data["seed"], data.get("attempts", 0))


@dataclass
class ImageRecord:
    """One line of metadata.jsonl. Fields left None are not printed: an annotated image has no prompt."""

    file_name: str
    width: int
    height: int
    prompt: str | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    steps: int | None = None
    cfg: float | None = None
    scheduler: str | None = None
    model: str | None = None
    device: str | None = None
    dtype: str | None = None
    score: float | None = None
    candidate: int | None = None
    candidates: list[dict[str, Any]] | None = None
    boxes: list[dict[str, Any]] | None = None
    styles: list[str] | None = None
    # Made from images (run.edits): the strength, the steps that ran, the init image's SHA-256, the
    # mask blur, and each ControlNet unit with the control image it was given.
    strength: float | None = None
    denoising_steps: int | None = None
    init_image_sha256: str | None = None
    mask_blur: int | None = None
    controls: list[dict[str, Any]] | None = None
    mask_labels_found: list[str] | None = None  # Edit Anything: the labels found (empty: none)
    edit_mask: dict[str, Any] | None = None  # Edit Anything: the mask repainted, COCO RLE with its area
    # Recorded beside the image: axis values, caption id, row index (prefixed `axis_` on a clash) and
    # the row's fields (prefixed `row_`). Read back from JSON, every other key lands in `extra`.
    extra: dict[str, Any] = field(default_factory=dict)
    row: dict[str, Any] = field(default_factory=dict)

    @property
    def row_index(self) -> int | None:
        return self.extra.get("row_index")

    def to_json(self) -> dict[str, Any]:
        order = ("file_name", "prompt", "negative_prompt", "seed", "steps", "cfg", "scheduler", "width")
        own = {name: getattr(self, name) for name in order}
        own.update({name: getattr(self, name) for name in _OWN if name not in own})
        out = {name: value for name, value in own.items() if value is not None}
        for prefix, beside in (("axis_", self.extra), ("row_", self.row)):
            taken = {*_OWN, *out}
            out.update({(f"{prefix}{k}" if k in taken else k): v for k, v in beside.items()})
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ImageRecord:
        own = {name: value for name, value in data.items() if name in _OWN}
        return cls(**own, extra={name: value for name, value in data.items() if name not in _OWN})


_OWN = tuple(f.name for f in fields(ImageRecord) if f.name not in ("extra", "row"))
