"""What gpu-check prints and remembers: one line per check, its failures, and the figures."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any


def line(what: str, value: object) -> None:
    print(f"{what:<36} {value}", flush=True)


class Report:
    """Runs checks one by one: a failure is printed and counted, and the next check still runs."""

    def __init__(self) -> None:
        self.failed: list[str] = []
        self.figures: dict[str, Any] = {}

    def check(self, name: str, run: Callable[..., str | None], *args: Any) -> None:
        try:
            said = run(*args)
        except Exception as exc:  # every check is reported; one failure does not hide the others
            self.failed.append(name)
            line(name, f"FAILED: {type(exc).__name__}: {exc}")
            traceback.print_exc(limit=-3)
            return
        line(name, f"ok{f': {said}' if said else ''}")

    def fail(self, name: str, why: str) -> None:
        self.failed.append(name)
        line(name, f"FAILED: {why}")
