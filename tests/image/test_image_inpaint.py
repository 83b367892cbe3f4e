"""Inpainting on a real server: with mask_blur 0 every pixel outside the mask is the init image's, byte
for byte (A1111's paste-back), for an ordinary 4-channel checkpoint and a 9-channel inpainting one;
inpaint_full_res repaints only the mask's region and keeps the init image's size."""

from __future__ import annotations

import io
from collections.abc import Iterator

import grpc
import numpy as np
import pytest
from image_helpers import edit_request, generate, photo, pixels, png_of, serve_image
from PIL import Image

from synthmill.v1 import image_pb2_grpc

SIZE = (64, 48)


def _mask(box: tuple[int, int, int, int], size: tuple[int, int] = SIZE) -> Image.Image:
    mask = Image.new("L", size, 0)
    mask.paste(255, box)
    return mask


@pytest.fixture(scope="module")
def inpaint_stub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[image_pb2_grpc.ImageServiceStub]:
    """A server with the embedded 9-channel inpainting checkpoint only."""
    env = {"SYNTHMILL_IMAGE_MODELS": "tiny-sd-inpaint", "SYNTHMILL_IMAGE_SCORER": "none"}
    server = next(serve_image_gen := serve_image(tmp_path_factory, env))
    with grpc.insecure_channel(server.target) as channel:
        yield image_pb2_grpc.ImageServiceStub(channel)
    next(serve_image_gen, None)


def _outside_is_untouched(stub, model: str = "", **params: object) -> None:
    init = photo(*SIZE)
    mask = _mask((16, 8, 40, 32))
    req = edit_request(
        ["a red hat"] * 2, png_of(init), png_of(mask), steps=4, strength=1.0, model=model, **params
    )
    result = generate(stub, req)

    outside = np.asarray(mask) == 0
    source = pixels(png_of(init))
    for image in result.images.values():
        out = pixels(image.png)
        assert out.shape == source.shape
        assert np.array_equal(out[outside], source[outside])
        assert np.abs(out[~outside] - source[~outside]).max() > 30  # the inside was repainted


def test_a_4_channel_checkpoint_keeps_every_pixel_outside_the_mask(stub):
    _outside_is_untouched(stub)


def test_sdxl_and_sd3_keep_every_pixel_outside_the_mask(stub, tiny_sdxl_dir):
    _outside_is_untouched(stub, str(tiny_sdxl_dir))
    _outside_is_untouched(stub, "tiny-sd3", width=64, height=48)


def test_a_9_channel_inpainting_checkpoint_keeps_every_pixel_outside_the_mask(inpaint_stub):
    _outside_is_untouched(inpaint_stub)


def test_an_inpainting_checkpoint_makes_nothing_but_inpainting(inpaint_stub):
    with pytest.raises(grpc.RpcError) as caught:
        generate(inpaint_stub, edit_request(["a"], png_of(photo(*SIZE)), steps=2, strength=0.5))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "params.model: tiny-sd-inpaint does not make img2img; it makes inpaint" in caught.value.details()


def test_a_blurred_mask_leaves_far_pixels_alone_and_blends_the_edge(stub):
    init, mask = photo(*SIZE), _mask((16, 8, 40, 32))
    req = edit_request(["a"], png_of(init), png_of(mask), steps=4, strength=1.0, mask_blur=4)
    out, source = pixels(generate(stub, req).images[0].png), pixels(png_of(init))

    far = np.ones(SIZE[::-1], bool)
    far[0 : 32 + 12, 16 - 12 : 40 + 12] = False  # within 12 px: the blur kernel reaches 10 (21 wide)
    assert np.array_equal(out[far], source[far])
    edge = out[20, 16 - 3] - source[20, 16 - 3]  # just outside the mask's left edge: partly new
    assert np.abs(edge).max() > 0


def test_inverting_the_mask_repaints_the_outside(stub):
    init, mask = photo(*SIZE), _mask((16, 8, 40, 32))
    req = edit_request(["a"], png_of(init), png_of(mask), steps=4, strength=1.0, mask_invert=True)
    out, source = pixels(generate(stub, req).images[0].png), pixels(png_of(init))
    inside = np.asarray(mask) == 255
    assert np.array_equal(out[inside], source[inside])


def test_only_masked_repaints_the_region_at_the_output_size_and_keeps_the_init_size(stub):
    init, mask = photo(96, 80), _mask((40, 30, 56, 46), (96, 80))
    req = edit_request(
        ["a"], png_of(init), png_of(mask), steps=4, strength=1.0, width=64, height=64,
        inpaint_full_res=True, inpaint_full_res_padding=4,
    )  # fmt: skip
    image = generate(stub, req).images[0]

    out, source = pixels(image.png), pixels(png_of(init))
    assert Image.open(io.BytesIO(image.png)).size == (96, 80)
    outside = np.asarray(mask) == 0
    assert np.array_equal(out[outside], source[outside])
    assert ", Mask blur: 0, Inpaint area: Only masked" in image.parameters_text


def test_a_cancelled_inpainting_batch_stops_within_one_step(stub, image_server):
    """ceil(60 x 0.5) = 30 steps run; a cancel at step 10 stops the batch at step 10 or 11 of 30."""
    import re

    init, mask = photo(128, 128), _mask((32, 32, 96, 96), (128, 128))
    mark = image_server.log_mark()
    req = edit_request(["a"] * 4, png_of(init), png_of(mask), steps=60, strength=0.5)
    call = stub.Generate(req)
    for response in call:
        if response.step.step == 10:
            assert response.step.total_steps == 30
            call.cancel()
            break
    assert (
        len(generate(stub, edit_request(["next"], png_of(photo(*SIZE)), steps=2, strength=0.5)).images) == 1
    )
    line = re.search(
        r"requesters gone after step (\d+), stopped after step (\d+) of 30", image_server.log_since(mark)
    )
    assert line, image_server.log_since(mark)[-2000:]
    assert int(line.group(2)) - int(line.group(1)) <= 1
