"""A client cancel stops the work within one step, drops queued items, and frees the server."""

from __future__ import annotations

import re

from image_helpers import generate, request


def test_cancel_halfway_stops_within_one_step_and_the_next_request_runs(stub, image_server):
    mark = image_server.log_mark()
    # 10 items with max_batch 8: one running batch of 8, and 2 items queued behind it.
    call = stub.Generate(request([f"a street {i}" for i in range(10)], steps=50, width=128, height=128))
    for response in call:
        if response.step.step == 25:
            call.cancel()
            break

    # Batches run one at a time, so the next request's images come after the cancelled batch has ended,
    # and its log line is written: no waiting on the log.
    result = generate(stub, request(["the next request"], steps=4))
    assert len(result.images) == 1
    line = re.search(
        r"batch interrupted: requesters gone after step (\d+), stopped after step (\d+) of 50",
        image_server.log_since(mark),
    )
    assert line, image_server.log_since(mark)[-3000:]
    gone, stopped = int(line.group(1)), int(line.group(2))
    assert 25 <= gone < 50  # the cancel reached the server while the batch ran
    assert stopped - gone <= 1  # the step in flight finishes, no further one starts
    # The two queued items of the cancelled request never ran: the next batch is the new request.
    batches = re.findall(
        r"batch done: items=(\d+) requests=\d+ model=\S+ size=(\d+x\d+)", image_server.log_since(mark)
    )
    assert batches == [("1", "64x64")]
