"""`max_share`: how much of a job one value of an LLM-written column may take (mode collapse).

A small model asked for many rows falls back on its prior: 22.5% of 200 ages were "30". A column with
no declared distribution whose domain allows at least `MIN_DOMAIN` values gets a cap, its `max_share`
(default `DEFAULT_MAX_SHARE`; 1 turns it off): once a value has been written in `cap_count` rows of
the job, a later row holding it is asked for again, like a repeated row, so it never passes the cap.
`unique` fields, bools and small enums or ranges have no cap.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synthmill.common.schema.model import Field, Schema

DEFAULT_MAX_SHARE = 0.1
MIN_DOMAIN = 20
MIN_CAP_ROWS = 5  # a value may fill this many rows whatever the share, so small jobs stay makeable


def domain_size(field: Field) -> float:
    """How many values the field allows (inf where it is unbounded)."""
    if field.type == "bool":
        return 2
    if field.type == "enum":
        return len(field.choices)
    if field.type == "int" and field.minimum is not None and field.maximum is not None:
        return field.maximum - field.minimum + 1
    if field.type == "float" and field.minimum is not None and field.minimum == field.maximum:
        return 1
    return math.inf


def share_cap(field: Field) -> float | None:
    """The field's cap on one value's share of the rows (None: no cap)."""
    if field.distribution is not None or field.unique or domain_size(field) < MIN_DOMAIN:
        return None
    share = DEFAULT_MAX_SHARE if field.max_share is None else field.max_share
    return None if share >= 1 else share


def check_shares(schema: Schema, rows: int, where: str) -> None:
    """Refuses a job whose caps leave a column fewer values than rows (`where` names the count)."""
    from synthmill.common.errors import InvalidArgument

    caps = cap_counts(schema, rows)
    for field in schema.fields:
        cap = caps.get(field.name)
        if cap is not None and not field.nullable and domain_size(field) * cap < rows:  # nulls have no cap
            raise InvalidArgument(
                where,
                f"{rows} rows cannot fit {field.name}'s max_share: its {int(domain_size(field))} values "
                f"fill at most {cap} rows each",
            )


def cap_counts(schema: Schema, rows: int) -> dict[str, int]:
    """Per capped field, the most rows of a `rows`-row job one value may fill."""
    caps = {}
    for field in schema.fields:
        share = share_cap(field)
        if share is not None:
            caps[field.name] = max(MIN_CAP_ROWS, math.ceil(share * rows))
    return caps
