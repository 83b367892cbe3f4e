"""The retry rules of a job's upstream calls, with scripted tries and a fake sleep: no server, no waiting."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from prometheus_client import REGISTRY

from synthmill.gateway.run.retries import JobFailed, RetryPolicy, retrying


def rpc_error(code: grpc.StatusCode, details: str = "boom") -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details)


UNAVAILABLE = rpc_error(grpc.StatusCode.UNAVAILABLE, "connection refused")


class Script:
    """An upstream scripted try by try: (n, outcome) delivers n items, then ends the stream (outcome
    None) or raises the outcome. The job wants `wanted` items."""

    def __init__(self, wanted: int, *tries: tuple[int, grpc.aio.AioRpcError | None]):
        self.wanted = wanted
        self.tries = list(tries)
        self.done = 0
        self.calls = 0
        self.slept: list[float] = []

    async def ready(self) -> None:
        pass

    async def attempt(self) -> None:
        self.calls += 1
        delivered, outcome = self.tries.pop(0)
        self.done += delivered
        if outcome is not None:
            raise outcome

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def run(self, max_attempts: int = 3, ready=None) -> tuple[int, list[float]]:
        policy = RetryPolicy(max_attempts, backoff_s=1.0, upstream_wait_s=5.0, sleep=self.sleep)
        asyncio.run(
            retrying(
                policy,
                "image",
                ready or self.ready,
                self.attempt,
                lambda: self.done,
                lambda: self.done < self.wanted,
                "job1",
            )
        )
        return self.calls, self.slept


def test_transient_errors_are_retried_with_a_doubling_backoff():
    assert Script(2, (0, UNAVAILABLE), (0, UNAVAILABLE), (2, None)).run() == (3, [1.0, 2.0])


def test_max_attempts_failures_in_a_row_fail_the_job_naming_the_upstream():
    script = Script(1, (0, UNAVAILABLE), (0, UNAVAILABLE), (0, UNAVAILABLE), (1, None))
    with pytest.raises(JobFailed, match=r"^image server: UNAVAILABLE: connection refused$"):
        script.run(max_attempts=3)
    assert (script.calls, script.slept) == (3, [1.0, 2.0])


def test_an_error_that_is_not_transient_fails_at_once():
    script = Script(1, (0, rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "width: 100")), (1, None))
    with pytest.raises(JobFailed, match=r"^image server: INVALID_ARGUMENT: width: 100$"):
        script.run()
    assert (script.calls, script.slept) == (1, [])


def test_a_failed_try_that_made_progress_resets_the_count_and_the_backoff():
    script = Script(8, (0, UNAVAILABLE), (0, UNAVAILABLE), (4, UNAVAILABLE), (0, UNAVAILABLE), (4, None))
    assert script.run(max_attempts=3) == (5, [1.0, 2.0, 1.0, 2.0])


def test_a_stream_that_ends_early_is_asked_again_for_the_rest():
    assert Script(4, (2, None), (2, None)).run() == (2, [])


def test_streams_that_end_early_without_items_fail_the_job_after_max_attempts():
    script = Script(2, (0, None), (0, None), (0, None), (2, None))
    with pytest.raises(JobFailed, match=r"^image server: its replies ended without the items asked for$"):
        script.run(max_attempts=3)
    assert script.calls == 3


def test_a_stream_broken_after_its_last_item_is_not_asked_again():
    assert Script(2, (2, UNAVAILABLE), (0, None)).run()[0] == 1


def test_no_reachable_replica_counts_as_unavailable():
    async def never_ready() -> None:
        raise TimeoutError  # what asyncio.timeout raises when no replica answers within upstream_wait_s

    script = Script(1, (1, None))
    with pytest.raises(JobFailed, match=r"^image server: UNAVAILABLE: no replica reachable for 5s$"):
        script.run(max_attempts=2, ready=never_ready)
    assert (script.calls, script.slept) == (0, [1.0])


def test_out_of_memory_is_not_retried_as_is():
    # A server answers RESOURCE_EXHAUSTED once the batch failed even at half size: the same request would
    # run out of memory again, and every request merged with it would fail with it.
    oom = rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, "out of device memory: a batch of 1 at 2048x2048")
    script = Script(1, (0, oom), (1, None))
    with pytest.raises(JobFailed, match=r"^image server: RESOURCE_EXHAUSTED: out of device memory"):
        script.run()
    assert (script.calls, script.slept) == (1, [])


def test_every_failed_try_is_counted_and_each_retry_too():
    errors = REGISTRY.get_sample_value
    labels = {"server": "image", "code": "UNAVAILABLE"}
    before = [
        errors(f"synthmill_gateway_upstream_{kind}_total", labels) or 0 for kind in ("errors", "retries")
    ]
    script = Script(1, (0, UNAVAILABLE), (0, UNAVAILABLE), (0, UNAVAILABLE))
    with pytest.raises(JobFailed):
        script.run(max_attempts=3)
    after = [errors(f"synthmill_gateway_upstream_{kind}_total", labels) for kind in ("errors", "retries")]
    assert [a - b for a, b in zip(after, before, strict=True)] == [3, 2]  # the third failure ends the job
