"""ControlNet on a real server: the embedded tiny-controlnet (random weights, built from each model's UNet
config), preprocessing on the server, the control image used sent back, several units at once, on
txt2img and img2img, SD 1.5 and SDXL."""

from __future__ import annotations

import cv2
import grpc
import numpy as np
import pytest
from image_helpers import edit_request, generate, photo, pixels, png_of

from synthmill.common.image_header import MAX_INPUT_PIXELS
from synthmill.v1 import common_pb2

CANNY = common_pb2.ControlUnit(kind="canny")


def test_get_info_lists_the_controlnets_kinds_and_tasks(stub, tiny_sdxl_dir):
    info = stub.GetInfo(common_pb2.GetInfoRequest())
    assert list(info.controlnets) == ["tiny-controlnet"]
    assert list(info.control_kinds) == ["canny", "scribble", "lineart", "none"]
    assert info.max_input_pixels == MAX_INPUT_PIXELS
    models = {m.name: m for m in info.models}
    assert list(models["tiny-sd"].tasks) == ["txt2img", "img2img", "inpaint"]
    assert (
        list(models["tiny-sd"].controlnets)
        == list(models[str(tiny_sdxl_dir)].controlnets)
        == ["tiny-controlnet"]
    )
    assert list(models["tiny-sd3"].controlnets) == []


def test_the_canny_image_used_is_sent_back_and_recorded(stub):
    source = photo(64, 64)
    req = edit_request(["a portrait"], control_images=(png_of(source),), steps=2, controls=[CANNY])
    image = generate(stub, req).images[0]

    expected = cv2.Canny(np.asarray(source), 100, 200)
    [used] = image.control_images
    assert np.array_equal(pixels(used)[..., 0], expected)
    assert expected.any()  # Grace Hopper has edges
    assert (
        'ControlNet 0: "Module: canny, Model: tiny-controlnet, Weight: 1, Guidance Start: 0, Guidance End: 1"'
        in (image.parameters_text)
    )


def test_the_control_image_steers_the_output(stub):
    def run(control: bytes) -> np.ndarray:
        req = edit_request(["x"], control_images=(control,), seeds=[3], steps=3, controls=[CANNY])
        return pixels(generate(stub, req).images[0].png)

    edges, blank = png_of(photo(64, 64)), png_of(photo(64, 64).point(lambda _: 0))
    first = run(edges)
    assert np.array_equal(first, run(edges))
    assert not np.array_equal(first, run(blank))


@pytest.mark.parametrize("model", ["tiny-sd", "sdxl"])
@pytest.mark.parametrize("img2img", [False, True])
def test_several_units_at_once_on_txt2img_and_img2img(stub, tiny_sdxl_dir, model, img2img):
    units = [
        common_pb2.ControlUnit(kind="canny", low_threshold=50, high_threshold=150, scale=0.8),
        common_pb2.ControlUnit(kind="scribble", start=0.2, end=0.9),
    ]
    source = png_of(photo(64, 64))
    extra = {"strength": 0.5} if img2img else {}
    req = edit_request(
        ["a", "b"], init=source if img2img else b"", control_images=(source, source), steps=4, controls=units,
        model=str(tiny_sdxl_dir) if model == "sdxl" else model, **extra,
    )  # fmt: skip
    result = generate(stub, req)

    assert len(result.images) == 2
    for image in result.images.values():
        assert len(image.control_images) == 2
        assert ', ControlNet 1: "Module: scribble' in image.parameters_text


def test_sd3_has_no_controlnet(stub):
    req = edit_request(
        ["a"], control_images=(png_of(photo(64, 64)),), steps=2, controls=[CANNY], model="tiny-sd3"
    )
    with pytest.raises(grpc.RpcError) as caught:
        generate(stub, req)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith("params.controls[0].model: no ControlNet is loaded for tiny-sd3")
