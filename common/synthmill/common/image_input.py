"""Images that users send (init images, masks, control images), decoded only after their header
passed `image_header.check_image` (a PNG or JPEG within the pixel budget), so a decompression bomb
costs nothing. Torch-free: the gateway checks at submit as the image server does."""

from __future__ import annotations

import hashlib
import io

from PIL import Image

from synthmill.common.errors import InvalidArgument
from synthmill.common.image_header import check_image

FORMATS = ("PNG", "JPEG")


def open_checked(data: bytes, path: str, max_pixels: int) -> Image.Image:
    """The decoded image, or InvalidArgument naming `path`: empty, not a PNG or JPEG, over
    `max_pixels` by its header, or truncated."""
    if not data:
        raise InvalidArgument(path, "is empty")
    check_image(data, path, max_pixels)
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
        image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise InvalidArgument(path, f"cannot be decoded: {exc}") from None
    return image


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
