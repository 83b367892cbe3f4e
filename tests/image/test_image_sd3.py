"""The SD3 family end to end: tiny-sd3 (MMDiT, three text encoders, 16-channel VAE) on the real server."""

from __future__ import annotations

import io

import grpc
import numpy as np
import pytest
from image_helpers import generate, pixels, request
from PIL import Image

from synthmill.v1 import common_pb2

SD3 = "tiny-sd3"
FLOW_SCHEDULERS = {"Euler", "Heun"}  # flow matching: the only schedulers an SD3 model can use


def _invalid(stub, req) -> str:
    with pytest.raises(grpc.RpcError) as caught:
        generate(stub, req)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    return caught.value.details()


def test_get_info_lists_tiny_sd3_as_family_sd3(stub):
    info = stub.GetInfo(common_pb2.GetInfoRequest())
    sd3 = next(m for m in info.models if m.name == SD3)

    assert (sd3.family, sd3.device, sd3.dtype, sd3.is_default) == ("sd3", "cpu", "float32", False)
    assert (list(sd3.schedulers), sd3.size_multiple) == (["Euler", "Heun"], 16)
    assert sd3.source.endswith(f"models/{SD3}")  # built, saved, and loaded back with from_pretrained


def test_sd3_streams_every_step_then_pngs_with_the_parameters_chunk(stub):
    req = request(
        ["a lighthouse at dusk 🌅", "a red car"], seeds=[42, 43], steps=4, model=SD3, negative_prompt="blurry"
    )
    result = generate(stub, req)

    assert len(result.images) == 2
    for index in range(2):
        assert result.item_events(index) == [(1, 4), (2, 4), (3, 4), (4, 4), "image"]
    image = result.images[0]
    assert (image.params.model, image.params.width, image.params.height) == (SD3, 64, 64)
    assert image.params.scheduler == "Euler"  # the model's own FlowMatchEulerDiscreteScheduler
    expected = (
        "a lighthouse at dusk 🌅\nNegative prompt: blurry\n"
        "Steps: 4, Sampler: Euler, CFG scale: 7.5, Seed: 42, Size: 64x64, Model: tiny-sd3, Device: cpu, Dtype: float32"
        f", CLIPScore: {image.score:.2f}"  # scored by the embedded tiny CLIP
    )
    assert image.parameters_text == expected
    decoded = Image.open(io.BytesIO(image.png))
    assert decoded.info["parameters"] == expected
    assert decoded.size == (64, 64)
    assert pixels(image.png).std() > 0


def test_sd3_same_seed_gives_identical_pixels_and_other_seeds_differ(stub):
    req = request(["a photo of a dog", "a photo of a dog"], seeds=[7, 8], steps=4, model=SD3)
    first, second = generate(stub, req), generate(stub, req)

    assert np.array_equal(pixels(first.images[0].png), pixels(second.images[0].png))
    assert np.array_equal(pixels(first.images[1].png), pixels(second.images[1].png))
    assert np.abs(pixels(first.images[0].png) - pixels(first.images[1].png)).max() > 10


def test_sd3_runs_the_flow_schedulers_and_rejects_the_others_naming_the_field(stub):
    listed = stub.GetInfo(common_pb2.GetInfoRequest()).schedulers
    assert set(listed) > FLOW_SCHEDULERS
    images = {}
    for name in listed:
        req = request(["a cat"], seeds=[5], steps=3, model=SD3, scheduler=name)
        if name in FLOW_SCHEDULERS:
            result = generate(stub, req)
            assert [s.step for s in result.steps] == [1, 2, 3], name
            assert result.images[0].params.scheduler == name
            images[name] = pixels(result.images[0].png)
        else:
            details = _invalid(stub, req)
            assert details == f"params.scheduler: unknown scheduler {name!r} for tiny-sd3; one of Euler, Heun"
    # Heun really runs: its second-order steps give a different image from Euler's at the same seed.
    assert np.abs(images["Euler"] - images["Heun"]).max() > 0


def test_sd3_sizes_are_multiples_of_16_and_non_square_sizes_work(stub):
    # SD3 denoises 2x2 patches of the x8 latent, so 72 (fine for SD 1.5) is refused up front.
    assert _invalid(stub, request(["a dog"], width=72, model=SD3)) == (
        "params.width: 72 is not a multiple of 16 for tiny-sd3"
    )
    assert _invalid(stub, request(["a dog"], height=56, model=SD3)).startswith("params.height: 56")

    image = generate(stub, request(["a dog"], steps=2, width=96, height=48, model=SD3)).images[0]
    assert Image.open(io.BytesIO(image.png)).size == (96, 48)
