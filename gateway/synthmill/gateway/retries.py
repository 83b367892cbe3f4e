"""How a job rides out a failing upstream: wait for a reachable replica, retry transient errors with a
doubling backoff, and fail the job after `max_attempts` failures in a row (a try that made progress
resets the count). Its only contact with time is `sleep`, so tests give it a fake one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc

log = logging.getLogger(__name__)

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
    job_id: str = "",
) -> None:
    """Runs `attempt` once `ready()` says a replica of the `name` server is reachable; on a transient
    error, retries after the backoff. `progress()` counts what the tries have achieved so far."""
    failures = 0
    while True:
        before = progress()
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel
            # that lands just as the inner call finishes, and the job would run on.
            async with asyncio.timeout(policy.upstream_wait_s):
                await ready()
            return await attempt()
        except (grpc.aio.AioRpcError, TimeoutError) as exc:
            failures = 1 if progress() > before else failures + 1
            if isinstance(exc, TimeoutError):
                code = grpc.StatusCode.UNAVAILABLE
                reason = f"{name} server: UNAVAILABLE: no replica reachable for {policy.upstream_wait_s:g}s"
            else:
                code, reason = exc.code(), f"{name} server: {exc.code().name}: {exc.details()}"
            if code not in RETRYABLE or failures >= policy.max_attempts:
                raise JobFailed(reason) from None
            delay = policy.backoff_s * 2 ** (failures - 1)
            log.warning("job %s: %s; retry %d in %.1fs", job_id, reason, failures, delay)
            await policy.sleep(delay)
