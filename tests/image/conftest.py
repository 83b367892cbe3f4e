"""Fixtures of the image server tests: one real server shared by the session, and its stub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from image_helpers import ImageServer, serve_image

from synthmill.v1 import image_pb2_grpc


@pytest.fixture(scope="session")
def tiny_sdxl_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny SDXL pipeline saved with `save_pretrained` to a plain directory, as a user would."""
    from synthmill.image.embedded import pipelines  # torch is only imported by the tests that need it

    directory = tmp_path_factory.mktemp("models") / "my-sdxl"
    pipelines.build_sdxl().save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def image_server(tmp_path_factory: pytest.TempPathFactory, tiny_sdxl_dir: Path) -> Iterator[ImageServer]:
    """A `python -m synthmill.image` process serving tiny-sd (default), the saved tiny SDXL and tiny-sd3."""
    env = {"SYNTHMILL_IMAGE_MODELS": f"tiny-sd,{tiny_sdxl_dir},tiny-sd3", "SYNTHMILL_IMAGE_MAX_BATCH": "8"}
    yield from serve_image(tmp_path_factory, env)


@pytest.fixture(scope="session")
def stub(image_server: ImageServer) -> Iterator[image_pb2_grpc.ImageServiceStub]:
    with grpc.insecure_channel(image_server.target) as channel:
        yield image_pb2_grpc.ImageServiceStub(channel)
