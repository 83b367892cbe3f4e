"""The retry rules of a job's upstream calls, with fake attempts and a fake sleep: no server, no waiting."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from synthmill.gateway.retries import JobFailed, RetryPolicy, retrying


def rpc_error(code: grpc.StatusCode, details: str = "boom") -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details)


class Script:
    """An upstream scripted try by try: None succeeds, an error fails, (n, outcome) first delivers n items."""

    def __init__(self, *tries: grpc.aio.AioRpcError | tuple[int, grpc.aio.AioRpcError | None] | None):
        self.tries = list(tries)
        self.done = 0  # items delivered so far: the progress
        self.calls = 0
        self.slept: list[float] = []

    async def ready(self) -> None:
        pass

    async def attempt(self) -> None:
        self.calls += 1
        step = self.tries.pop(0)
        if isinstance(step, tuple):
            self.done += step[0]
            step = step[1]
        if isinstance(step, Exception):
            raise step

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def run(self, max_attempts: int = 3, ready=None) -> None:
        policy = RetryPolicy(max_attempts, backoff_s=1.0, upstream_wait_s=5.0, sleep=self.sleep)
        asyncio.run(retrying(policy, "image", ready or self.ready, self.attempt, lambda: self.done, "job1"))


UNAVAILABLE = rpc_error(grpc.StatusCode.UNAVAILABLE, "connection refused")


def test_transient_errors_are_retried_with_a_doubling_backoff():
    script = Script(UNAVAILABLE, UNAVAILABLE, None)
    script.run()
    assert (script.calls, script.slept) == (3, [1.0, 2.0])


def test_max_attempts_failures_in_a_row_fail_the_job_naming_the_upstream():
    script = Script(UNAVAILABLE, UNAVAILABLE, UNAVAILABLE, None)
    with pytest.raises(JobFailed, match=r"^image server: UNAVAILABLE: connection refused$"):
        script.run(max_attempts=3)
    assert (script.calls, script.slept) == (3, [1.0, 2.0])


def test_an_error_that_is_not_transient_fails_at_once():
    script = Script(rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "width: 100"), None)
    with pytest.raises(JobFailed, match=r"^image server: INVALID_ARGUMENT: width: 100$"):
        script.run()
    assert (script.calls, script.slept) == (1, [])


def test_a_try_that_made_progress_resets_the_count_and_the_backoff():
    # Two failures, then a try that delivers 4 items before failing: it counts as the first failure again.
    script = Script(UNAVAILABLE, UNAVAILABLE, (4, UNAVAILABLE), UNAVAILABLE, None)
    script.run(max_attempts=3)
    assert (script.calls, script.slept) == (5, [1.0, 2.0, 1.0, 2.0])


def test_no_reachable_replica_counts_as_unavailable():
    async def never_ready() -> None:
        raise TimeoutError  # what asyncio.timeout raises when no replica answers within upstream_wait_s

    script = Script(None)
    with pytest.raises(JobFailed, match=r"^image server: UNAVAILABLE: no replica reachable for 5s$"):
        script.run(max_attempts=2, ready=never_ready)
    assert (script.calls, script.slept) == (0, [1.0])
