"""Bad init images, masks, strengths and control units get INVALID_ARGUMENT naming the field, before any
work is queued; an image over the pixel budget is refused from its header."""

from __future__ import annotations

import re
import struct
import zlib

import grpc
import pytest
from image_helpers import edit_request, generate, photo, png_of
from PIL import Image

from synthmill.v1 import common_pb2

INIT = png_of(photo(64, 64))
MASK = png_of(Image.new("L", (64, 64), 255))


def _bomb(width: int, height: int) -> bytes:
    """A PNG header declaring width x height, with a few bytes of data: refusing it must not decode it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def _second_init(data: bytes) -> object:
    """Two items; the second's init image is `data`."""
    req = edit_request(["a", "b"], INIT, steps=2, strength=0.5)
    req.items[1].init_image = data
    return req


CASES = {
    "strength over 1": (edit_request(["a"], INIT, strength=1.5), r"params.strength: 1.5 is not in \(0, 1\]"),
    "strength 0": (edit_request(["a"], INIT, strength=0.0), r"params.strength: 0 is not in \(0, 1\]"),
    "NaN strength": (
        edit_request(["a"], INIT, strength=float("nan")),
        r"params.strength: nan is not a finite",
    ),
    "no strength": (edit_request(["a"], INIT), r"params.strength: is required with an init image"),
    "strength without an init image": (
        edit_request(["a"], strength=0.5),
        r"params.strength: applies only with an init",
    ),
    "undecodable init image": (
        edit_request(["a"], b"not an image", strength=0.5),
        r"items\[0\].init_image: not a PNG or JPEG image",
    ),
    "truncated init image": (
        edit_request(["a"], INIT[:200], strength=0.5),
        r"items\[0\].init_image: cannot be decoded",
    ),
    "undecodable mask": (
        edit_request(["a"], INIT, b"GIF89a", strength=0.5),
        r"items\[0\].mask: not a PNG or JPEG image",
    ),
    "mask of another size": (
        edit_request(["a"], INIT, png_of(Image.new("L", (64, 32))), strength=0.5),
        r"items\[0\].mask: 64x32 differs from the init image's 64x64",
    ),
    "mask without an init image": (
        edit_request(["a"], b"", MASK),
        r"items\[0\].init_image: a mask needs an init image",
    ),
    "items that mix": (
        _second_init(b""),
        r"items\[1\].init_image: every item of a request has an init image",
    ),
    "over the pixel budget by its header": (
        edit_request(["a"], _bomb(8000, 6000), strength=0.5),
        r"items\[0\].init_image: 8000 x 6000 is 48000000 pixels, over the limit of 40000000",
    ),
    "far over the budget": (
        edit_request(["a"], _bomb(60000, 60000), strength=0.5),
        r"items\[0\].init_image: 60000 x 60000 is 3600000000 pixels, over the limit",
    ),
    "init sizes differ without a size": (
        _second_init(png_of(photo(32, 32))),
        r"items\[1\]\.init_image: 32x32 differs from items\[0\]'s 64x64",
    ),
    "unknown control kind": (
        edit_request(["a"], control_images=(INIT,), controls=[common_pb2.ControlUnit(kind="depth")]),
        r"params.controls\[0\].kind: unknown kind 'depth'; one of canny, scribble, lineart, none",
    ),
    "unknown ControlNet": (
        edit_request(
            ["a"], control_images=(INIT,), controls=[common_pb2.ControlUnit(kind="canny", model="x")]
        ),
        r"params.controls\[0\].model: ControlNet 'x' is not loaded for tiny-sd; loaded: tiny-controlnet",
    ),
    "control start after end": (
        edit_request(
            ["a"], control_images=(INIT,), controls=[common_pb2.ControlUnit(kind="canny", start=0.8, end=0.5)]
        ),
        r"params.controls\[0\].end: start 0.8 and end 0.5",
    ),
    "missing control image": (
        edit_request(["a"], controls=[common_pb2.ControlUnit(kind="canny")]),
        r"items\[0\].control_images: 0 images for 1 control units",
    ),
    "mask blur over the limit": (
        edit_request(["a"], INIT, MASK, strength=0.5, mask_blur=1000),
        r"params.mask_blur: 1000 is over the limit of 256",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_invalid_argument_naming_the_field(stub, case):
    req, message = CASES[case]
    with pytest.raises(grpc.RpcError) as caught:
        generate(stub, req)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert re.search(message, caught.value.details() or ""), caught.value.details()
