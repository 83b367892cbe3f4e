"""The txt2img calls this process is serving, for `/sdapi/v1/progress` and `/sdapi/v1/interrupt`.

A1111 has one global generation; here each txt2img call is its own gateway job. A caller sees and
interrupts only the calls made with the same Authorization header as theirs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from synthmill.http.progress import Progress


@dataclass
class Run:
    job_id: str
    owner: str | None
    progress: Progress = field(default_factory=Progress)
    started: float = field(default_factory=time.monotonic)
    interrupted: bool = False


class Runs:
    def __init__(self) -> None:
        self._runs: dict[str, Run] = {}

    def add(self, job_id: str, owner: str | None) -> Run:
        run = self._runs[job_id] = Run(job_id, owner)
        return run

    def remove(self, job_id: str) -> None:
        self._runs.pop(job_id, None)

    def of(self, owner: str | None) -> list[Run]:
        """The caller's runs, oldest first."""
        return sorted((r for r in self._runs.values() if r.owner == owner), key=lambda r: r.started)
