"""Live tqdm progress bars fed by a job's WatchJob events: rows, images and denoising steps."""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm

from synthmill.client._common import state_name
from synthmill.v1 import common_pb2, gateway_pb2


class JobProgress:
    """An `on_event` callback drawing bars on stderr; bars appear once the job's totals are known.

    Bars are drawn only on a terminal (tqdm's `disable=None`); state changes are always written as lines.
    """

    def __init__(self, job_id: str, *, file: TextIO | None = None, bars: bool | None = None):
        self.job_id = job_id
        self.file = file or sys.stderr
        self.disable = None if bars is None else not bars
        self.rows: tqdm | None = None
        self.images: tqdm | None = None
        self.steps: tqdm | None = None

    def _bar(self, desc: str, unit: str, total: int) -> tqdm:
        return tqdm(
            total=total, desc=desc, unit=unit, file=self.file, disable=self.disable, dynamic_ncols=True
        )

    def _set(self, bar: tqdm, done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        if done != bar.n:
            bar.update(done - bar.n)

    def __call__(self, event: gateway_pb2.JobEvent) -> None:
        counts = event.counts
        if counts.rows_total:
            self.rows = self.rows or self._bar("rows", "row", counts.rows_total)
            self._set(self.rows, counts.rows_done, counts.rows_total)
        if counts.images_total:
            self.images = self.images or self._bar("images", "img", counts.images_total)
            self._set(self.images, counts.images_done, counts.images_total)
        kind = event.WhichOneof("event")
        if kind == "step" and event.step.phase == common_pb2.PHASE_DENOISING:
            self.steps = self.steps or self._bar("denoising", "step", event.step.total_steps)
            self.steps.set_description(f"image {event.step.index}", refresh=False)
            self._set(self.steps, event.step.step, event.step.total_steps)
        elif kind == "step" and self.steps is not None:  # scoring, selecting, detecting
            phase = common_pb2.Phase.Name(event.step.phase).removeprefix("PHASE_").lower()
            self.steps.set_description(f"image {event.step.index} {phase}")
        elif kind == "state":
            line = f"job {self.job_id}: {state_name(event.state.state)}"
            if event.state.error:
                line += f": {event.state.error}"
            tqdm.write(line, file=self.file)

    def close(self) -> None:
        for bar in (self.rows, self.images, self.steps):
            if bar is not None:
                bar.close()

    def __enter__(self) -> JobProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
