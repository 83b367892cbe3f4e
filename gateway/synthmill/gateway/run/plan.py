"""Turns a job spec into the list of images to make: prompts, axes, captions, rows.

Item `i` of a job always gets the same prompt, axis values and seed (`seed + i`), so any
item can be made again alone: after a restart, on another replica, or by a user.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from synthmill.common.prompt_syntax import escape
from synthmill.v1 import gateway_pb2 as pb

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class ImagePlan:
    """One image of a job: what to render and what to record beside it."""

    index: int
    prompt: str
    seed: int
    # Recorded beside the image (see ImageRecord): axis values, caption id and row index in `extra`,
    # the row's fields in `row`.
    extra: dict[str, Any] = field(default_factory=dict)
    row: dict[str, Any] = field(default_factory=dict)
    retry: int = 0  # times it was rendered again as a near-duplicate (its seed is then another)


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def fill(template: str, values: Mapping[str, Any]) -> str:
    """Replaces `{name}` with values[name]; other braces are left as written."""
    return PLACEHOLDER.sub(
        lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), template
    )


def combinations(axes: Sequence[pb.Axis]) -> list[dict[str, str]]:
    """Every combination of axis values, once each; [{}] without axes.

    The order is chosen greedily so that every prefix also keeps each axis's own values
    balanced: the next combination is the unused one whose values are least used so far.
    """
    remaining = list(itertools.product(*(axis.values for axis in axes)))
    used = [dict.fromkeys(axis.values, 0) for axis in axes]
    ordered = []
    while remaining:
        best = min(remaining, key=lambda combo: sum(used[j][v] for j, v in enumerate(combo)))
        remaining.remove(best)
        for j, value in enumerate(best):
            used[j][value] += 1
        ordered.append(dict(zip([axis.name for axis in axes], best, strict=True)))
    return ordered


def balanced(index: int, n_prompts: int, n_combos: int) -> tuple[int, int]:
    """(prompt, combination) of item `index`: combinations cycle fastest, so for any
    number of items each combination appears equally often, within one."""
    return (index // n_combos) % n_prompts, index % n_combos


def image_count(spec: pb.ImageJobSpec, n_prompts: int) -> int:
    """Total images: `count`, or one per prompt and combination."""
    return spec.count or n_prompts * len(combinations(spec.axes))


def images_per_row(spec: pb.UnifiedJobSpec) -> int:
    """Images of each row of a `unified` job: 0 means 1."""
    return spec.images_per_row or 1


def unified_image_count(spec: pb.UnifiedJobSpec) -> int:
    return spec.rows.count * images_per_row(spec)


def plan_images(spec: pb.ImageJobSpec, prompts: Sequence[str], seed: int) -> list[ImagePlan]:
    """Images of an `images` job; `prompts` are the spec's, the captions' or the expanded ones."""
    combos = combinations(spec.axes)
    captions = list(spec.captions)
    plans = []
    for index in range(image_count(spec, len(prompts))):
        p, c = balanced(index, len(prompts), len(combos))
        extra: dict[str, Any] = dict(combos[c])
        if captions:
            extra["caption_id"] = captions[p].id
        plans.append(ImagePlan(index, fill(prompts[p], combos[c]), seed + index, extra))
    return plans


def plan_row_images(
    spec: pb.UnifiedJobSpec, row_index: int, row: Mapping[str, Any], seed: int
) -> list[ImagePlan]:
    """Images of one row of a `unified` job: the template filled from the row and the axes,
    or the fixed prompts taken in turn. Row values are text the LLM wrote, not emphasis markup:
    their brackets are escaped, so `Smith (Jr.)` reaches the model as written."""
    per_row = images_per_row(spec)
    combos = combinations(spec.axes)
    plans = []
    for k in range(per_row):
        index = row_index * per_row + k
        combo = combos[index % len(combos)]
        template = spec.prompt_template or spec.prompts[row_index % len(spec.prompts)]
        extra = {**combo, "row_index": row_index}
        values = {**{name: escape(str(value)) for name, value in row.items()}, **combo}
        plans.append(ImagePlan(index, fill(template, values), seed + index, extra, dict(row)))
    return plans
