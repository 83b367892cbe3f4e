"""Start-up: health stays NOT_SERVING until the models are ready; racing first builds are safe."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2
from image_helpers import generate, pixels, request
from servers import wait_serving

from synthmill.v1 import image_pb2_grpc

pytestmark = pytest.mark.e2e
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def test_health_goes_not_serving_to_serving_and_racing_first_builds_agree(server_factory, tmp_path):
    # Two servers build the embedded model into the same empty cache at the same time.
    env = {
        "SYNTHMILL_IMAGE_CACHE_DIR": str(tmp_path / "cache"),
        "SYNTHMILL_IMAGE_DETECTOR": "none",  # its download is not what this test races
    }
    servers = [server_factory("image", env, wait=False) for _ in range(2)]

    # Both health streams watched at once: the statuses each pushed, until SERVING.
    with ThreadPoolExecutor(2) as pool:
        seen = list(pool.map(lambda s: wait_serving(s.target, s.proc, "synthmill.v1.ImageService"), servers))

    for statuses in seen:
        assert statuses == [NOT_SERVING, SERVING]
    assert sorted(p.name for p in (tmp_path / "cache" / "models").iterdir()) == [
        "tiny-blip",
        "tiny-clip",
        "tiny-sam",
        "tiny-sd",
    ]  # no leftovers
    images = []
    for server in servers:
        with grpc.insecure_channel(server.target) as channel:
            stub = image_pb2_grpc.ImageServiceStub(channel)
            images.append(generate(stub, request(["a dog"], seeds=[3], steps=4)).images[0])
    assert np.array_equal(pixels(images[0].png), pixels(images[1].png))
