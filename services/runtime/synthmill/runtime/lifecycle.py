"""The lifecycle both inference servers share.

Models load on the device worker, off the event loop, while health says NOT_SERVING (see
`common.server.serve`). Until they are loaded and warm, every call, GetInfo included, is UNAVAILABLE
naming what is loading. Shutdown stops the worker off the loop, so in-flight calls end gracefully.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

import grpc

from synthmill.common.errors import Unavailable
from synthmill.common.server import Service
from synthmill.runtime.worker import DeviceWorker

L = TypeVar("L")
T = TypeVar("T")


class Ready(Generic[T]):
    """What a servicer serves once startup has loaded it."""

    def __init__(self, loading: str):
        self.loading = loading  # "the text model", said while it loads
        self._value: T | None = None

    def set(self, value: T) -> None:
        self._value = value

    def get(self) -> T:
        if self._value is None:
            raise Unavailable(f"{self.loading} is still loading; wait for health SERVING")
        return self._value


def model_service(
    *,
    name: str,
    service_name: str,
    register: Callable[[grpc.aio.Server], None],
    worker: DeviceWorker,
    load: Callable[[], L],
    start: Callable[[L], T],
    ready: Ready[T],
    stop: Callable[[], None] = lambda: None,
) -> Service:
    """A Service whose startup runs `load` (blocking: loads and warms the models) on `worker`, then
    `start` on the loop with what it loaded, and hands the result to `ready`."""

    async def startup() -> None:
        loaded = await worker.run(load)
        ready.set(start(loaded))

    async def shutdown() -> None:
        stop()
        await asyncio.to_thread(worker.shutdown)

    return Service(name, [service_name], register, startup, shutdown)
