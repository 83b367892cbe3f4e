"""The gateway's metrics: jobs by state, items recorded, and upstream retries and errors.

`synthmill_gateway_jobs{state}` is read from the job store at each scrape, on the gateway's event
loop, so it counts every job in the store: gateways sharing one store report the same numbers (take
`max` across them, not `sum`). The counters count what this gateway did.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator

from prometheus_client import REGISTRY, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from synthmill.v1 import gateway_pb2 as pb

log = logging.getLogger(__name__)

SCRAPE_WAIT_S = 5.0  # how long a scrape waits for the store's counts
JOB_STATES = {
    state: pb.JobState.Name(state).removeprefix("JOB_STATE_").lower()
    for state in pb.JobState.values()
    if state != pb.JOB_STATE_UNSPECIFIED
}

ROWS = Counter("synthmill_gateway_rows", "Rows recorded for jobs (rate: rows/s).")
IMAGES = Counter("synthmill_gateway_images", "Images recorded for jobs (rate: images/s).")
UPSTREAM_ERRORS = Counter(
    "synthmill_gateway_upstream_errors",
    "Failed tries of upstream requests, by server and gRPC status (UNAVAILABLE when no replica was "
    "reachable, INCOMPLETE for a reply that ended without the items asked for).",
    ["server", "code"],
)
UPSTREAM_RETRIES = Counter(
    "synthmill_gateway_upstream_retries",
    "Upstream requests tried again after a failed try, by server and the failure's gRPC status.",
    ["server", "code"],
)


class JobsCollector(Collector):
    """`synthmill_gateway_jobs{state}` from `count(state)`, awaited on `loop` at each scrape."""

    def __init__(self, loop: asyncio.AbstractEventLoop, count: Callable[[int], Awaitable[int]]):
        self.loop = loop
        self.count = count

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily("synthmill_gateway_jobs", "Jobs in the store, by state.", labels=["state"])

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield self._family()  # registering must not call collect: that waits on the loop it runs on

    async def _counts(self) -> dict[str, int]:
        return {name: await self.count(state) for state, name in JOB_STATES.items()}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            counts = asyncio.run_coroutine_threadsafe(self._counts(), self.loop).result(SCRAPE_WAIT_S)
        except Exception as exc:  # a scrape goes on without this family
            log.warning("jobs by state left out of this scrape: %s", exc)
            return
        family = self._family()
        for name, value in counts.items():
            family.add_metric([name], value)
        yield family


def watch_jobs(count: Callable[[int], Awaitable[int]]) -> None:
    """Exports jobs by state from `count`; call once, on the gateway's event loop."""
    REGISTRY.register(JobsCollector(asyncio.get_running_loop(), count))
