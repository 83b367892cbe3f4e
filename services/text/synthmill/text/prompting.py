"""Chat messages for the LLM: the table's instructions, each field's meaning, and per-row hints.

Grammar-constrained decoding makes rows valid, not varied: a small model asked the same question
many times gives the same few answers (ages at the minimum). Each row's prompt therefore carries
hints drawn from the row's own seed — a target value inside a numeric range, an initial letter, an
enum choice, a month — so rows spread over the value space and any row can be made again alone.
"""

from __future__ import annotations

import json
import random
import uuid

from synthmill.common.schema import Field, Schema

SYSTEM_ROWS = (
    "You write rows of realistic synthetic tabular data. Answer with exactly one JSON object with the "
    "requested fields, nothing else. Values must be plausible and consistent with each other."
)
SYSTEM_PROMPTS = (
    "You write prompts for a text-to-image model. Each prompt is one vivid, specific sentence describing "
    "a picture: subject, setting, composition, lighting and style. Answer with a JSON list of strings."
)
_INITIALS = "ABCDEFGHIJKLMNOPRSTVW"
_MONTHS = ("January February March April May June July August September October November December").split()
_SPREAD = ("low", "below-average", "typical", "above-average", "high")
_NULL_RATE = 0.1

Message = dict[str, str]


def describe_field(field: Field) -> str:
    """One line of the field list: name, type, constraints, description."""
    parts = [field.type]
    if field.type == "enum":
        parts = [f"one of {', '.join(field.choices)}"]
    if field.minimum is not None and field.maximum is not None:
        parts.append(f"between {field.minimum:g} and {field.maximum:g}")
    elif field.minimum is not None:
        parts.append(f"at least {field.minimum:g}")
    elif field.maximum is not None:
        parts.append(f"at most {field.maximum:g}")
    if field.min_length is not None or field.max_length is not None:
        parts.append(
            f"{field.min_length or 0}-{field.max_length if field.max_length is not None else '…'} chars"
        )
    if field.pattern:
        parts.append(f"matching {field.pattern}")
    if field.nullable:
        parts.append("may be null")
    if field.unique:
        parts.append("unique per row")
    line = f"- {field.name} ({', '.join(parts)})"
    line = f"{line}: {field.description}" if field.description else line
    if field.examples:  # few-shot values (a fitted sample's free text): their style, not to be copied
        line += f"; in the style of {', '.join(json.dumps(e, ensure_ascii=False) for e in field.examples)}"
    return line


def field_hint(field: Field, rng: random.Random) -> str | None:
    """A target for this row, drawn from the row's own random stream (None: no hint)."""
    if field.nullable and rng.random() < _NULL_RATE:
        return f"{field.name} = null"
    kind = field.type
    lo, hi = field.minimum, field.maximum
    if kind == "int" and lo is not None and hi is not None:
        return f"{field.name} = {rng.randint(int(lo), int(hi))}"
    if kind == "float" and lo is not None and hi is not None:
        return f"{field.name} ≈ {rng.uniform(lo, hi):.2f}"
    if kind in ("int", "float"):
        return f"{field.name}: a {rng.choice(_SPREAD)} value"
    if kind == "enum":
        return f"{field.name} = {rng.choice(field.choices)}"
    if kind == "bool":
        return f"{field.name} = {rng.choice(('true', 'false'))}"
    if kind in ("date", "datetime"):
        return f"{field.name}: in {rng.choice(_MONTHS)} of {rng.randint(1950, 2025)}"
    if kind == "uuid":
        return f"{field.name} = {uuid.UUID(int=rng.getrandbits(128), version=4)}"
    if kind in ("string", "email") and not field.pattern:
        return f"{field.name}: starts with the letter {rng.choice(_INITIALS)}"
    return None


def row_messages(
    schema: Schema,
    instructions: str,
    row_index: int,
    sample_seed: int,
    pinned: dict | None = None,
    context: dict | None = None,
) -> list[Message]:
    """The conversation for one row sample; it depends only on its arguments. `pinned` values are
    fixed: the prompt names them, so the other fields are written to fit them. `context` maps other
    tables to the row of each this row belongs to (a parent row), shown for the same purpose."""
    rng = random.Random(sample_seed)
    pinned = pinned or {}
    hints = [h for h in (field_hint(f, rng) for f in schema.fields if f.name not in pinned) if h]
    lines = [
        f"Table: {instructions.strip() or 'realistic records'}",
        "Fields:",
        *(describe_field(f) for f in schema.fields),
        f"Write row number {row_index + 1}.",
    ]
    if pinned:
        fixed = "; ".join(
            f"{name} = {json.dumps(value, ensure_ascii=False)}" for name, value in pinned.items()
        )
        lines.append(f"This row's values are fixed: {fixed}. Write the other fields to fit them.")
    for table, row in (context or {}).items():
        lines.append(f"This row belongs to this {table} row: {json.dumps(row, ensure_ascii=False)}.")
    if hints:
        lines.append("For variety, this row uses: " + "; ".join(hints) + ".")
    return [{"role": "system", "content": SYSTEM_ROWS}, {"role": "user", "content": "\n".join(lines)}]


def prompt_messages(topic: str, count: int, avoid: list[str], sample_seed: int) -> list[Message]:
    """The conversation for one list of `count` image prompts on `topic`."""
    rng = random.Random(sample_seed)
    angles = rng.sample(
        ["close-up", "wide shot", "aerial view", "at night", "at dawn", "in fog", "in rain", "minimalist",
         "photorealistic", "watercolor", "isometric", "vintage film", "bright daylight", "overhead view"],
        k=3,
    )  # fmt: skip
    lines = [
        f"Write {count} different image prompts. Every prompt shows: {topic.strip()}.",
        f"Vary the details between prompts, for example {', '.join(angles)}.",
    ]
    if avoid:
        lines.append("Do not repeat these existing prompts:\n" + "\n".join(f"- {p}" for p in avoid[-12:]))
    return [{"role": "system", "content": SYSTEM_PROMPTS}, {"role": "user", "content": "\n".join(lines)}]
