"""Generate on a real server: streaming order, reproducibility, dynamic batching, PNG text, models."""

from __future__ import annotations

import io
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from image_helpers import collect, generate, pixels, request
from PIL import Image

from synthmill.v1 import common_pb2


def test_four_images_stream_every_step_then_the_image_in_order_per_item(stub):
    result = generate(stub, request(["a red car", "a dog", "a cat", "a house"], steps=4))

    assert len(result.steps) == 16
    assert len(result.images) == 4
    for index in range(4):
        assert result.item_events(index) == [(1, 4), (2, 4), (3, 4), (4, 4), "image"]
    image = result.images[2]
    assert image.seed == 2
    assert Image.open(io.BytesIO(image.png)).size == (64, 64)  # the tiny model's native size


def test_defaults_are_applied_and_echoed(stub):
    image = generate(stub, request(["a dog"])).images[0]

    assert (image.params.model, image.params.width, image.params.height) == ("tiny-sd", 64, 64)
    assert (image.params.steps, image.params.guidance, image.params.scheduler) == (20, 7.5, "Euler")


def test_same_seed_gives_identical_pixels_and_other_seeds_differ(stub):
    req = request(["a photo of a dog", "a photo of a dog"], seeds=[7, 8], steps=6)
    first, second = generate(stub, req), generate(stub, req)

    assert np.array_equal(pixels(first.images[0].png), pixels(second.images[0].png))
    assert np.array_equal(pixels(first.images[1].png), pixels(second.images[1].png))
    assert np.abs(pixels(first.images[0].png) - pixels(first.images[1].png)).max() > 10


def test_concurrent_compatible_requests_share_one_batch_with_the_same_pixels(stub, image_server):
    prompts = ["a red car", "a dog at night", "a house in fog"]
    singles = [request([p], seeds=[100 + i], steps=8, scheduler="Euler a") for i, p in enumerate(prompts)]
    alone = [generate(stub, req).images[0] for req in singles]

    # A long, incompatible request holds the device, so the three queue up behind it together.
    mark = image_server.log_mark()
    blocker = stub.Generate(request(["blocker"], steps=50, width=256, height=256), timeout=120)
    next(blocker)  # its first step has run: the worker is busy
    calls = [stub.Generate(req, timeout=120) for req in singles]
    with ThreadPoolExecutor(len(calls)) as pool:
        together = [result.images[0] for result in pool.map(collect, calls)]
    collect(blocker)

    # Logged before its images went out, so already in the log.
    assert "batch done: items=3 requests=3 model=tiny-sd size=64x64 steps=8" in image_server.log_since(mark)
    assert len({image.seconds for image in together}) == 1  # one batch's wall time, shared
    for single, merged in zip(alone, together, strict=True):
        assert np.abs(pixels(single.png) - pixels(merged.png)).max() <= 2


def test_png_carries_the_a1111_parameters_chunk(stub):
    req = request(
        ["a lighthouse at dusk 🌅"], seeds=[42], steps=3, width=64, height=48, guidance=5.0,
        scheduler="DDIM", negative_prompt="blurry",
    )  # fmt: skip
    image = generate(stub, req).images[0]

    expected = (
        "a lighthouse at dusk 🌅\nNegative prompt: blurry\n"
        "Steps: 3, Sampler: DDIM, CFG scale: 5, Seed: 42, Size: 64x48, Model: tiny-sd, Device: cpu, Dtype: float32"
        f", CLIPScore: {image.score:.2f}"  # scored by the embedded tiny CLIP
    )
    assert image.parameters_text == expected
    assert (image.device, image.dtype) == ("cpu", "float32")
    decoded = Image.open(io.BytesIO(image.png))
    assert decoded.info["parameters"] == expected
    assert decoded.size == (64, 48)


def test_every_listed_scheduler_runs_with_one_event_per_step(stub):
    names = stub.GetInfo(common_pb2.GetInfoRequest()).schedulers
    for name in names:
        result = generate(stub, request(["a cat"], steps=3, scheduler=name))
        assert [s.step for s in result.steps] == [1, 2, 3], name
        assert result.images[0].params.scheduler == name
        assert pixels(result.images[0].png).std() > 0, name


def test_tiny_sdxl_loads_from_a_saved_directory_and_generates(stub, tiny_sdxl_dir):
    info = stub.GetInfo(common_pb2.GetInfoRequest())
    sdxl = next(m for m in info.models if m.name == str(tiny_sdxl_dir))
    assert (sdxl.family, sdxl.source, sdxl.is_default) == ("sdxl", str(tiny_sdxl_dir), False)

    result = generate(stub, request(["a product on white background"], steps=3, model=str(tiny_sdxl_dir)))
    image = result.images[0]
    assert len(result.steps) == 3
    assert image.params.model == str(tiny_sdxl_dir)
    assert re.search(
        r"Model: .*my-sdxl, Device: cpu, Dtype: float32, CLIPScore: [\d.]+$", image.parameters_text
    )
    assert Image.open(io.BytesIO(image.png)).size == (64, 64)
