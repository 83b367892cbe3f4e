"""Out-of-memory isolation through a real text server, with OOMs injected by the FAULTS test hook: the
model's forward raises torch.OutOfMemoryError when a generate call's rows × max_new_tokens is over 100."""

from __future__ import annotations

import json
from collections.abc import Iterator

import grpc
import pytest

from synthmill.common.probe import is_serving
from synthmill.v1 import common_pb2, text_pb2, text_pb2_grpc

SCHEMA = json.dumps(
    {"name": {"type": "string", "max_length": 10}, "age": {"type": "int", "minimum": 18, "maximum": 90}}
)


@pytest.fixture(scope="module")
def oom_text_stub(oom_text_server) -> Iterator[text_pb2_grpc.TextServiceStub]:
    with grpc.insecure_channel(oom_text_server.target) as channel:
        yield text_pb2_grpc.TextServiceStub(channel)


def rows(stub, count: int, max_new_tokens: int) -> list[text_pb2.GeneratedRow]:
    sampling = common_pb2.SamplingParams(max_new_tokens=max_new_tokens)
    request = text_pb2.GenerateRowsRequest(schema_json=SCHEMA, count=count, seed=3, sampling=sampling)
    return [event.row for event in stub.GenerateRows(request, timeout=180) if event.HasField("row")]


def test_a_generate_call_out_of_memory_is_redone_in_halves(oom_text_stub, oom_text_server):
    log = oom_text_server.log_path
    mark = log.stat().st_size
    made = rows(oom_text_stub, count=2, max_new_tokens=64)  # 2 × 64 = 128 > 100: halves of one row
    assert [row.index for row in made] == [0, 1]
    assert "retrying as two halves" in log.read_text()[mark:]


def test_a_row_that_does_not_fit_alone_fails_resource_exhausted_and_the_server_serves_on(
    oom_text_stub, oom_text_server
):
    with pytest.raises(grpc.RpcError) as caught:
        rows(oom_text_stub, count=1, max_new_tokens=128)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    details = caught.value.details()
    assert "out of device memory: a generate call of 1 row(s)" in details, details
    assert "max_new_tokens 128" in details and "oom@generate:100" in details

    assert is_serving(oom_text_server.target)
    assert len(rows(oom_text_stub, count=1, max_new_tokens=64)) == 1
