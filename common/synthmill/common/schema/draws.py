"""The values of declared distributions: a `Draw` (a named law and its arguments) or a `ByColumn`
conditional, and how a `by` column's value names its case. Parsed from the string syntax by
`distributions`; drawn from by `laws` and the sampler."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

NUMERIC_LAWS = ("uniform", "normal", "lognormal", "poisson", "empirical")


@dataclass(frozen=True)
class Draw:
    """One unconditional distribution: its name and parsed arguments."""

    name: str
    args: tuple[Any, ...]

    def spec(self) -> str:
        """The canonical string form (what schema.json records)."""
        if self.name == "weights":
            return f"weights({json.dumps(dict(self.args[0]))})"
        if self.name == "faker":
            provider, locale = self.args
            return f'faker({provider}, "{locale}")' if locale else f"faker({provider})"
        return f"{self.name}({', '.join(json.dumps(a) for a in self.args)})"

    @property
    def categorical(self) -> bool:
        return self.name in ("bernoulli", "weights")

    @property
    def numeric(self) -> bool:
        """A law on numbers (not dates): what a copula may couple."""
        return self.name in NUMERIC_LAWS


@dataclass(frozen=True)
class ByColumn:
    """A conditional distribution: the case of column `by` picks the draw."""

    by: str
    cases: tuple[tuple[str, Draw], ...]
    default: Draw | None = None

    def spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"by": self.by, "cases": {key: draw.spec() for key, draw in self.cases}}
        if self.default is not None:
            out["default"] = self.default.spec()
        return out

    def draw_for(self, value: Any) -> Draw:
        """The draw of the case that `value` (of column `by`) selects."""
        key = case_key(value)
        for name, draw in self.cases:
            if name == key:
                return draw
        assert self.default is not None, f"no case for {key!r}"  # excluded by check_conditions
        return self.default

    def draws(self) -> list[Draw]:
        return [draw for _, draw in self.cases] + ([self.default] if self.default else [])


Distribution = Draw | ByColumn


def case_key(value: Any) -> str:
    """How a value of a `by` column is spelled as a case name (bools as true/false)."""
    return json.dumps(value) if isinstance(value, bool) else str(value)
