"""The metrics both inference servers have, defined once and named per server (`synthmill_text_*`,
`synthmill_image_*`).

Names follow Prometheus and vLLM/TGI practice: a `synthmill_<server>_` prefix, base units in the
name (`_seconds`), counters ending in `_total` (rates derive from them), and only low-cardinality
labels: a model name or a state, never a job id.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from prometheus_client import Gauge, Histogram

# Items per pipeline batch or generate call.
BATCH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)
# Seconds, from a fast GPU step (ms) to a large image made on a CPU (minutes).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60, 120, 300, 600)


class ModelServerMetrics:
    """What both inference servers measure: work outstanding, batch sizes, step time, model loads."""

    def __init__(self, server: str, unit: str):
        prefix = f"synthmill_{server}"
        self.queue_depth = Gauge(
            f"{prefix}_queue_depth",
            f"{unit.capitalize()} asked for by requests in progress and not yet made.",
        )
        self.batch_size = Histogram(
            f"{prefix}_batch_size", f"{unit.capitalize()} per model call.", ["model"], buckets=BATCH_BUCKETS
        )
        self.step_seconds = Histogram(
            f"{prefix}_step_seconds",
            "Seconds per step of a model call (a denoising step or a decoding step), for the whole batch.",
            ["model"],
            buckets=LATENCY_BUCKETS,
        )
        self.model_load_seconds = Gauge(
            f"{prefix}_model_load_seconds", "Seconds the model took to load and warm up.", ["model"]
        )

    def model_call(self, model: str, size: int, steps: int, seconds: float) -> None:
        """One model call of `size` items that ran `steps` steps in `seconds`."""
        self.batch_size.labels(model).observe(size)
        if steps:
            self.step_seconds.labels(model).observe(seconds / steps)

    @contextmanager
    def loading(self, model: str) -> Iterator[None]:
        """Times a model's load and warm-up."""
        started = time.monotonic()
        yield
        self.model_load_seconds.labels(model).set(time.monotonic() - started)

    @contextmanager
    def outstanding(self, count: int) -> Iterator[Callable[[], None]]:
        """Adds a request's `count` items to the queue depth; call the yielded function as each is made.
        Whatever is left when the request ends (done, failed or cancelled) leaves the queue then."""
        left = count
        self.queue_depth.inc(count)

        def made() -> None:
            nonlocal left
            left -= 1
            self.queue_depth.dec()

        try:
            yield made
        finally:
            self.queue_depth.dec(left)
