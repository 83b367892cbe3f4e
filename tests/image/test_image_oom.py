"""Out-of-memory isolation through a real image server, with OOMs injected by the FAULTS test hook.

The server runs the tiny SDXL in float16 (on the CPU), so the VAE is really upcast to fp32 for the
decode (`force_upcast`), as on a GPU: an OOM inside the decode that left it in fp32 would make every
later batch fail with "Input type (Half) and bias type (float)". The hook raises torch.OutOfMemoryError
in the UNet when a batch holds more than 2 images of 64x64, and in the VAE decoder for more than 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from image_helpers import ImageServer, collect, generate, pixels, request, serve_image

from synthmill.common.probe import is_serving
from synthmill.v1 import image_pb2_grpc

PIXELS = 64 * 64


@pytest.fixture(scope="module")
def oom_server(tmp_path_factory: pytest.TempPathFactory, tiny_sdxl_dir: Path) -> Iterator[ImageServer]:
    env = {
        "SYNTHMILL_IMAGE_MODELS": str(tiny_sdxl_dir),
        "SYNTHMILL_IMAGE_DTYPE": "float16",
        "SYNTHMILL_IMAGE_FAULTS": f"oom@unet:{2 * PIXELS},oom@vae:{PIXELS}",
    }
    yield from serve_image(tmp_path_factory, env)


@pytest.fixture(scope="module")
def oom_stub(oom_server: ImageServer) -> Iterator[image_pb2_grpc.ImageServiceStub]:
    with grpc.insecure_channel(oom_server.target) as channel:
        yield image_pb2_grpc.ImageServiceStub(channel)


def test_a_batch_out_of_memory_in_the_vae_decode_is_split_and_the_vae_is_restored(oom_stub, oom_server):
    mark = oom_server.log_mark()
    both = generate(oom_stub, request(["a red cube", "a blue cone"], seeds=[7, 8], steps=2))
    log = oom_server.log_since(mark)
    assert "batch of 2 ran out of device memory; retrying as 1 + 1" in log, log[-3000:]
    assert "vae was left in torch.float32; back to torch.float16" in log
    # Each half is a batch of one, made with the VAE back in fp16: the same bits as an image made alone.
    alone = generate(oom_stub, request(["a blue cone"], seeds=[8], steps=2))
    assert sorted(both.images) == [0, 1]
    assert (pixels(both.images[1].png) == pixels(alone.images[0].png)).all()


def test_a_batch_out_of_memory_in_the_unet_is_split_and_steps_are_not_repeated(oom_stub, oom_server):
    mark = oom_server.log_mark()
    result = generate(oom_stub, request(["one", "two", "three"], steps=2))
    log = oom_server.log_since(mark)
    assert "batch of 3 ran out of device memory; retrying as 2 + 1" in log, log[-3000:]
    assert "batch of 2 ran out of device memory; retrying as 1 + 1" in log  # then the VAE of the 2
    for index in range(3):
        assert result.item_events(index) == [(1, 2), (2, 2), "image"]


def test_an_image_that_does_not_fit_alone_fails_resource_exhausted_and_the_server_serves_on(
    oom_stub, oom_server
):
    with pytest.raises(grpc.RpcError) as caught:
        collect(oom_stub.Generate(request(["too big"], steps=2, width=128, height=128), timeout=120))
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    details = caught.value.details()
    assert "out of device memory: a batch of 1 txt2img at 128x128, 2 steps" in details, details
    assert "(cpu, float16)" in details and "oom@unet" in details

    assert is_serving(oom_server.target)
    assert len(generate(oom_stub, request(["the next one"], steps=2)).images) == 1
