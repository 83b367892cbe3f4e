"""A progress interval thins step reports but always sends the last step."""

from __future__ import annotations

import grpc
from image_helpers import generate, request

from synthmill.v1 import image_pb2_grpc


def test_progress_interval_keeps_only_the_last_step(server_factory):
    server = server_factory(
        "image",
        {
            "SYNTHMILL_IMAGE_MODELS": "tiny-sd",
            "SYNTHMILL_IMAGE_PROGRESS_INTERVAL_MS": "600000",
        },
    )
    with grpc.insecure_channel(server.target) as channel:
        result = generate(image_pb2_grpc.ImageServiceStub(channel), request(["a", "b"], steps=6))
    # The first step of a batch is reported (nothing came before it), then only the last.
    assert [(s.index, s.step) for s in result.steps] == [(0, 1), (1, 1), (0, 6), (1, 6)]
    assert len(result.images) == 2
