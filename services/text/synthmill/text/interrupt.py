"""A caller's cancel as the text engine sees it (torch-free, so the servicer can make one).

The servicer sets it from the event loop when the call ends (the caller cancelled or left); the
engine counts decoding steps on the worker thread and stops at the first step after it is set.
"""

from __future__ import annotations


class Interrupt:
    def __init__(self) -> None:
        self.steps = 0  # decoding steps of the request so far, over all its generate calls
        self.gone_after: int | None = None  # the step count when the caller left

    def set(self) -> None:
        if self.gone_after is None:
            self.gone_after = self.steps

    def step(self) -> bool:
        """Counts one decoding step; True when the work should stop."""
        self.steps += 1
        return self.gone_after is not None
