"""A caller that cancels or leaves stops the text server's work within one decoding step."""

from __future__ import annotations

import grpc
import pytest
from server_logs import ServerLog

from synthmill.v1 import text_pb2

STOPPED = r"generation stopped: caller gone after step (\d+), stopped after step (\d+)"


def _assert_stopped_within_a_step(log: ServerLog, mark: int) -> None:
    line = log.wait_for_log(mark, STOPPED, timeout=120)
    gone, stopped = int(line.group(1)), int(line.group(2))
    assert stopped - gone <= 1, line.group(0)  # the step in flight finishes, no further one starts


def test_generate_rows_stops_when_the_caller_cancels(tiny_text_server, text_stub):
    log = ServerLog(tiny_text_server.log_path)
    mark = log.log_mark()
    # 40 rows in batches of 4: after the first row, nine batches are still to come.
    request = text_pb2.GenerateRowsRequest(schema_json='{"name": "string", "city": "string"}', count=40)
    call = text_stub.GenerateRows(request, timeout=300)
    assert next(call).HasField("row")
    call.cancel()
    _assert_stopped_within_a_step(log, mark)

    # The worker is free again: the next request runs.
    rows = [
        r for r in text_stub.GenerateRows(text_pb2.GenerateRowsRequest(schema_json='{"a": "int"}', count=1))
    ]
    assert rows[-1].HasField("summary")


def test_expand_prompts_stops_when_the_caller_cancels(tiny_text_server, text_stub):
    log = ServerLog(tiny_text_server.log_path)
    mark = log.log_mark()
    future = text_stub.ExpandPrompts.future(
        text_pb2.ExpandPromptsRequest(topic="small kitchens", count=50, seed=1), timeout=300
    )
    log.wait_for_log(mark, r"expanding 'small kitchens' into 50 prompts")
    future.cancel()
    _assert_stopped_within_a_step(log, mark)
    with pytest.raises(grpc.FutureCancelledError):
        future.result()
