"""The reconnect bookkeeping of `watch` with an injected clock: give-up time, backoff, resumption."""

from __future__ import annotations

import grpc
import pytest

from synthmill.client import SynthmillError
from synthmill.client._common import BACKOFF_MAX, BACKOFF_START, Resume
from synthmill.v1 import gateway_pb2


class Failure(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode):
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return "gateway away"


class Clock:
    def __init__(self, now: float = 0.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


UNAVAILABLE = Failure(grpc.StatusCode.UNAVAILABLE)


@pytest.mark.parametrize("start", [0.0, 1000.0])  # 0.0: a clock that starts at zero is a time like any other
def test_resume_gives_up_after_the_reconnect_timeout(start):
    clock = Clock(start)
    resume = Resume(0, reconnect_timeout=10.0, clock=clock)
    delays = [resume.failed(UNAVAILABLE)]
    clock.now += 10.0
    delays.append(resume.failed(UNAVAILABLE))  # exactly at the limit: still retrying
    clock.now += 0.5
    with pytest.raises(SynthmillError) as info:
        resume.failed(UNAVAILABLE)
    assert info.value.code == grpc.StatusCode.UNAVAILABLE
    assert delays == [BACKOFF_START, BACKOFF_START * 2]


def test_an_event_resets_the_give_up_clock_and_the_backoff():
    clock = Clock()
    resume = Resume(0, reconnect_timeout=10.0, clock=clock)
    for _ in range(10):
        resume.failed(UNAVAILABLE)
    assert resume.backoff == BACKOFF_MAX
    clock.now = 9.0
    assert resume.fresh(gateway_pb2.JobEvent(seq=1))
    assert not resume.fresh(gateway_pb2.JobEvent(seq=1))  # already delivered
    assert resume.backoff == BACKOFF_START
    clock.now = 15.0  # 15 s since the first failure, but the first since the event
    assert resume.failed(UNAVAILABLE) == BACKOFF_START
    clock.now = 25.5
    with pytest.raises(SynthmillError):
        resume.failed(UNAVAILABLE)
    assert resume.last == 1


def test_errors_other_than_unavailable_are_not_retried():
    with pytest.raises(SynthmillError) as info:
        Resume(0, reconnect_timeout=10.0, clock=Clock()).failed(Failure(grpc.StatusCode.NOT_FOUND))
    assert info.value.code == grpc.StatusCode.NOT_FOUND
