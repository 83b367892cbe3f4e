"""Start-up: health stays NOT_SERVING until the models are ready; racing first builds are safe."""

from __future__ import annotations

import time

import grpc
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc
from image_helpers import generate, pixels, request

from synthmill.v1 import image_pb2_grpc

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
# Retry connecting every 50 ms, not after gRPC's default 1 s+ backoff, so the short loading window is seen.
FAST_RECONNECT = [
    ("grpc.initial_reconnect_backoff_ms", 50),
    ("grpc.min_reconnect_backoff_ms", 50),
    ("grpc.max_reconnect_backoff_ms", 50),
]


def _statuses_until_serving(targets: list[str], timeout: float = 120.0) -> dict[str, list[int]]:
    """The distinct health statuses each target reported, in order, until all are SERVING."""
    seen: dict[str, list[int]] = {target: [] for target in targets}
    channels = [grpc.insecure_channel(target, options=FAST_RECONNECT) for target in targets]
    stubs = {target: health_pb2_grpc.HealthStub(ch) for target, ch in zip(targets, channels, strict=True)}
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and any(s[-1:] != [SERVING] for s in seen.values()):
            for target, stub in stubs.items():
                try:
                    status = stub.Check(
                        health_pb2.HealthCheckRequest(service="synthmill.v1.ImageService"), timeout=1
                    ).status
                except grpc.RpcError:
                    continue  # not listening yet
                if seen[target][-1:] != [status]:
                    seen[target].append(status)
            time.sleep(0.02)
    finally:
        for channel in channels:
            channel.close()
    return seen


def test_health_goes_not_serving_to_serving_and_racing_first_builds_agree(server_factory, tmp_path):
    # Two servers build the embedded model into the same empty cache at the same time.
    env = {"SYNTHMILL_IMAGE_CACHE_DIR": str(tmp_path / "cache"), "SYNTHMILL_IMAGE_THREADS": "1"}
    servers = [server_factory("image", env, wait=False) for _ in range(2)]

    seen = _statuses_until_serving([server.target for server in servers])

    for statuses in seen.values():
        assert statuses == [NOT_SERVING, SERVING]
    assert sorted(p.name for p in (tmp_path / "cache" / "models").iterdir()) == ["tiny-sd"]  # no leftovers
    images = []
    for server in servers:
        with grpc.insecure_channel(server.target) as channel:
            stub = image_pb2_grpc.ImageServiceStub(channel)
            images.append(generate(stub, request(["a dog"], seeds=[3], steps=4)).images[0])
    assert np.array_equal(pixels(images[0].png), pixels(images[1].png))
