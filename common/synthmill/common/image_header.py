"""An image's size read from its header, and the pixel budget every image that arrives must fit,
checked before anything decodes it (torch- and PIL-free, so the gateway checks at submit what the
image server checks again before `Image.open`).

A 40-byte PNG header can claim 65535 x 65535 pixels: decoded, that is 12 GiB of RGB. PIL's own guard
allows about 179 Mpx per image; here each image is held to `MAX_INPUT_PIXELS` from its header, and a
file whose header is not a PNG's or a JPEG's is refused before any decoder sees it.

    check_image(data, "annotate.images[3].data")   # -> ImageHeader(format, width, height)

Used for annotate inputs; init images, masks and control images call the same function.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from synthmill.common.errors import InvalidArgument

# 40 Mpx: an 8K photograph (7680 x 4320 is 33 Mpx) fits; decoded as RGB, 120 MB.
MAX_INPUT_PIXELS = 40_000_000
_PNG = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers: baseline, progressive, lossless, arithmetic (not DHT C4, JPG C8, DAC CC).
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# Markers without a length: TEM, RST0-7, SOI.
_BARE = {0x01, *range(0xD0, 0xD9)}


@dataclass(frozen=True)
class ImageHeader:
    format: str  # "png" or "jpeg"
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


class NotAnImage(ValueError):
    """Bytes whose header is not a PNG's or a JPEG's, or names no size."""


def read_header(data: bytes) -> ImageHeader:
    """The format and size a PNG or JPEG header states; NotAnImage for anything else."""
    if data.startswith(_PNG):
        if len(data) < 24 or data[12:16] != b"IHDR":
            raise NotAnImage("a PNG without its IHDR header")
        width, height = struct.unpack(">II", data[16:24])
        return ImageHeader("png", width, height)
    if data.startswith(b"\xff\xd8"):
        return _jpeg(data)
    raise NotAnImage("not a PNG or JPEG image")


def _jpeg(data: bytes) -> ImageHeader:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise NotAnImage(f"a JPEG with a broken marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _BARE:
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, or scan data before any frame header
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _SOF:
            if pos + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return ImageHeader("jpeg", width, height)
        pos += 2 + length
    raise NotAnImage("a JPEG without a frame header")


def check_image(data: bytes, field: str, max_pixels: int = MAX_INPUT_PIXELS) -> ImageHeader:
    """The header of `data`, or InvalidArgument naming `field`: not a PNG or JPEG, no size, or more
    pixels than `max_pixels`. Call it before decoding any image a caller sent."""
    try:
        header = read_header(data)
    except NotAnImage as exc:
        raise InvalidArgument(field, str(exc)) from None
    if header.width == 0 or header.height == 0:
        raise InvalidArgument(field, f"a {header.width} x {header.height} image has no pixels")
    if header.pixels > max_pixels:
        raise InvalidArgument(
            field,
            f"{header.width} x {header.height} is {header.pixels} pixels, over the limit of {max_pixels}",
        )
    return header
