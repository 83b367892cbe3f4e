"""How a job rides out a failing upstream: wait for a reachable replica, try again while work is left
(after a transient error, with a doubling backoff, or after a stream that ended early), and fail the job
after `max_attempts` failures in a row (a failed try that made progress resets the count). Its only
contact with time is `sleep`, so tests give it a fake one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc

from synthmill.gateway import metrics

log = logging.getLogger(__name__)

# Not RESOURCE_EXHAUSTED, on purpose: an inference server answers it when a batch ran out of device
# memory even after splitting it down to one item, or a request was refused for its size, so the same
# request would fail again. INVALID_ARGUMENT, NOT_FOUND and FAILED_PRECONDITION are not transient either.
RETRYABLE = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.CANCELLED,
    }
)


class JobFailed(Exception):
    """The job cannot go on; the message says why."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int  # failures in a row before the job fails
    backoff_s: float  # the first retry delay; doubles with each failure in a row
    upstream_wait_s: float  # how long a try waits for a reachable replica
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


async def retrying(
    policy: RetryPolicy,
    name: str,
    ready: Callable[[], Awaitable[None]],
    attempt: Callable[[], Awaitable[None]],
    progress: Callable[[], int],
    pending: Callable[[], bool],
    job_id: str = "",
) -> None:
    """Runs `attempt` once `ready()` says a replica of the `name` server is reachable, and again while
    `pending()` says work is left. `progress()` counts what the tries have achieved so far. A stream
    that breaks after its last item is not asked again."""
    failures = 0
    while pending():
        before = progress()
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel
            # that lands just as the inner call finishes, and the job would run on.
            async with asyncio.timeout(policy.upstream_wait_s):
                await ready()
            await attempt()
            if pending() and progress() == before:
                failures += 1
                metrics.UPSTREAM_ERRORS.labels(name, "INCOMPLETE").inc()
                if failures >= policy.max_attempts:
                    raise JobFailed(f"{name} server: its replies ended without the items asked for")
                metrics.UPSTREAM_RETRIES.labels(name, "INCOMPLETE").inc()
        except (grpc.aio.AioRpcError, TimeoutError) as exc:
            failures = 1 if progress() > before else failures + 1
            if isinstance(exc, TimeoutError):
                code = grpc.StatusCode.UNAVAILABLE
                reason = f"{name} server: UNAVAILABLE: no replica reachable for {policy.upstream_wait_s:g}s"
            else:
                code, reason = exc.code(), f"{name} server: {exc.code().name}: {exc.details()}"
            metrics.UPSTREAM_ERRORS.labels(name, code.name).inc()
            if code not in RETRYABLE or failures >= policy.max_attempts:
                raise JobFailed(reason) from None
            metrics.UPSTREAM_RETRIES.labels(name, code.name).inc()
            delay = policy.backoff_s * 2 ** (failures - 1)
            log.warning("job %s: %s; retry %d in %.1fs", job_id, reason, failures, delay)
            await policy.sleep(delay)
