"""The thresholds a report of rows made from a sample must meet (`--fail-under quality=0.85,dcr=0.6`),
importable without numpy: the client parses them, the gateway and `synthmill quality` check them."""

from __future__ import annotations

from collections.abc import Mapping

from synthmill.common.errors import InvalidArgument

THRESHOLDS = ("quality", "dcr")  # the overall quality score; the DCROverfittingProtection score


def check(values: Mapping[str, float], where: str) -> dict[str, float]:
    """`values` as a plain dict; refuses unknown names and values outside [0, 1], naming `where`."""
    for name, value in values.items():
        if name not in THRESHOLDS:
            raise InvalidArgument(where, f"{name!r} is not one of {', '.join(THRESHOLDS)}")
        if not 0 <= value <= 1:
            raise InvalidArgument(f"{where}.{name}", f"{value} is not between 0 and 1")
    return dict(values)


def parse(text: str, where: str = "fail_under") -> dict[str, float]:
    """'quality=0.85,dcr=0.6' as {"quality": 0.85, "dcr": 0.6}."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise InvalidArgument(where, f"{part!r}: give name=number, e.g. quality=0.85") from None
    return check(out, where)
