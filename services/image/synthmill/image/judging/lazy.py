"""A judge that loads on first use: the scorer, the detectors, the segmenter and the captioner cost
memory only once a request needs them (`SYNTHMILL_IMAGE_JUDGES_AT_START` loads them
at start instead). Loaded once, then shared by every request.

Every judge call runs on the device worker thread, one at a time, so the first use loads it exactly
once without a lock. At start each lazy judge is only checked: an embedded one is built and saved (not
kept in memory), and a hub id or folder has its config read (`check`), so a missing model still stops
the server at start, naming its setting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class Lazy(Generic[T]):
    def __init__(
        self, name: str, load: Callable[[], T], warm: Callable[[T], None], labels: tuple[str, ...] = ()
    ):
        self.name = name  # as configured
        self.labels = labels  # a closed-vocabulary detector's classes, known before it loads
        self._load, self._warm = load, warm
        self._model: T | None = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def get(self) -> T:
        """The judge, loaded and warmed on the first call (on the device worker)."""
        if self._model is None:
            model = self._load()
            self._warm(model)
            self._model = model
            log.info("loaded %s on first use", self.name)
        return self._model


def ready(judge: Lazy[T] | T) -> T:
    """The judge itself, loading it first when it is lazy."""
    return judge.get() if isinstance(judge, Lazy) else judge
