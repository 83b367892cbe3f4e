"""Pinned values: fields fixed before decoding (sampled by the gateway), written ahead of the LLM.

A request's pinned fields come first in its decoding grammar, so one grammar per pinned-field set
serves every row: compiled once and cached, where a grammar with each row's values as constants
would cost a compile per row (0.8-1.8 s each for a four-field schema on the dev VM, more than the
row's own decoding). Each row's answer is pre-filled with its pinned values, `{"age": 63, "plan":
"pro", `, as the start of the assistant turn, and its grammar matcher is advanced over the same text
(`masking.GrammarMask`): the model writes only the free fields, and reads the pinned ones as its
own output. The row is put back into schema order after decoding.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any


def pinned_first(decoding: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """The decoding schema with `names` first; their values come from the prefix, so any value of the
    field's JSON type is accepted there (the server checked them against the schema)."""
    props = decoding["properties"]
    order = [*names, *(name for name in props if name not in names)]
    first = {name: {"type": props[name]["type"]} for name in names}
    return {
        **decoding,
        "properties": {name: first.get(name, props[name]) for name in order},
        "required": order,
    }


def prefix(pinned: Mapping[str, Any], field_count: int) -> str:
    """The start of a row's answer: its pinned values, in the separators of xgrammar's JSON grammar."""
    if not pinned:
        return ""
    text = json.dumps(dict(pinned), ensure_ascii=False)
    return text if len(pinned) == field_count else text[:-1] + ", "
