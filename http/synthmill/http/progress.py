"""How far a job is, in percent: written rows and images, plus the denoising steps of images under way."""

from __future__ import annotations

from synthmill.v1 import gateway_pb2 as pb


def percent(counts: pb.JobCounts, state: int, partial: float = 0.0) -> float:
    """0-100 with one decimal; `partial` counts unfinished images by their fraction of steps done.
    A completed job is 100 even when it made nothing."""
    if state == pb.JOB_STATE_COMPLETED:
        return 100.0
    total = counts.rows_total + counts.images_total
    if total == 0:
        return 0.0
    done = counts.rows_done + counts.images_done + partial
    return round(min(100.0 * done / total, 100.0), 1)


class Progress:
    """Follows one job's events and keeps the step fraction of each image not written yet."""

    def __init__(self) -> None:
        self.counts = pb.JobCounts()
        self.state = pb.JOB_STATE_UNSPECIFIED  # known from the first state event
        self.steps: dict[int, tuple[int, int]] = {}  # image index -> (step, total_steps)

    def update(self, event: pb.JobEvent) -> float:
        self.counts.CopyFrom(event.counts)
        kind = event.WhichOneof("event")
        if kind == "state":
            self.state = event.state.state
        elif kind == "step":
            self.steps[event.step.index] = (event.step.step, event.step.total_steps)
        elif kind == "image":
            self.steps.pop(event.image.index, None)
        return self.percent

    @property
    def percent(self) -> float:
        partial = sum(step / total for step, total in self.steps.values() if total)
        return percent(self.counts, self.state, partial)

    @property
    def current_step(self) -> tuple[int, int]:
        """(step, total_steps) of the image furthest behind among those under way, else (0, 0)."""
        return min(self.steps.values(), default=(0, 0))
