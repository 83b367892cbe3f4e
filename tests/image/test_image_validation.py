"""Bad requests get INVALID_ARGUMENT with the field named, before any work is queued."""

from __future__ import annotations

import re

import grpc
import pytest
from image_helpers import generate, request

from synthmill.v1 import common_pb2, image_pb2

FOUR = ["a", "b", "c", "d"]
CASES = {
    "width not a multiple of 8": (
        request(["a dog"], width=100),
        r"params.width: 100 is not a multiple of 8 for tiny-sd",
    ),
    "height over max_size": (
        request(["a dog"], height=2056),
        r"params.height: 2056 is over the limit of 1024 for tiny-sd \(sd15\)",
    ),
    "height over the family's max_size": (
        request(["a dog"], height=1032),
        r"params.height: 1032 is over the limit of 1024 for tiny-sd \(sd15\)",
    ),
    "width over max_size": (request(["a dog"], width=4096), r"params.width: 4096 is over the limit"),
    "too many steps": (request(["a dog"], steps=151), r"params.steps: 151 is over the limit of 150"),
    "negative guidance": (request(["a dog"], guidance=-1.0), r"params.guidance: -1.0 is negative"),
    "NaN guidance": (request(["a dog"], guidance=float("nan")), r"params.guidance: nan is not a finite"),
    "unknown scheduler": (
        request(["a dog"], scheduler="Eulr"),
        r"params.scheduler: unknown scheduler 'Eulr'.*Euler a",
    ),
    "unknown model": (
        request(["a dog"], model="sd-9"),
        r"params.model: model 'sd-9' is not loaded; loaded: tiny-sd",
    ),
    "no items": (image_pb2.GenerateImagesRequest(), r"items: at least one item is required"),
    "too many items": (request(["a dog"] * 65), r"items: 65 items is more than the maximum 64"),
    "empty prompt": (request([*FOUR[:3], "  "]), r"items\[3\].prompt: is empty"),
    "repeated index": (
        image_pb2.GenerateImagesRequest(items=[image_pb2.ImageItem(index=5, prompt="a")] * 2),
        r"items\[1\].index: 5 repeats items\[0\].index",
    ),
    "unbalanced emphasis": (
        request(["a dog", "a (red barn"]),
        r"items\[1\].prompt: '\(' is never closed by '\)' at position 2 of prompt 'a \(red barn'",
    ),
    "weight not a number": (request(["(red:much)"]), r"items\[0\].prompt: weight 'much' is not a number"),
    "unbalanced negative": (request(["a dog"], negative_prompt="blur]"), r"params.negative_prompt: '\]'"),
    "weights for sd3": (
        request(["a (red:1.6) barn"], model="tiny-sd3"),
        r"items\[0\].prompt: tiny-sd3 is sd3, which does not support emphasis weights",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_invalid_argument_naming_the_field(stub, case):
    req, message = CASES[case]
    with pytest.raises(grpc.RpcError) as caught:
        generate(stub, req)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() is not None
    assert re.search(message, caught.value.details()), caught.value.details()


def test_zero_steps_and_sizes_pick_the_defaults(stub):
    image = generate(stub, request(["a dog"], steps=0, width=0, height=0)).images[0]
    assert (image.params.steps, image.params.width, image.params.height) == (20, 64, 64)


def test_get_info_lists_models_schedulers_and_limits(stub):
    info = stub.GetInfo(common_pb2.GetInfoRequest())
    default = info.models[0]
    assert (default.name, default.family, default.device, default.dtype) == (
        "tiny-sd",
        "sd15",
        "cpu",
        "float32",
    )
    assert default.is_default and default.source.endswith("models/tiny-sd")
    assert {"Euler", "Euler a", "DDIM", "DPM++ 2M", "UniPC", "PNDM"} <= set(info.schedulers)
    assert (info.max_size, info.max_steps, info.max_items, info.max_batch) == (2048, 150, 64, 8)
