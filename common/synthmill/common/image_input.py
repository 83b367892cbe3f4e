"""Images that users send (init images, masks, control images): refused by their header before the
pixels are decoded, so a decompression bomb costs nothing. Torch-free: the gateway checks the same
way at submit as the image server does."""

from __future__ import annotations

import hashlib
import io

from PIL import Image

from synthmill.common.errors import InvalidArgument

FORMATS = ("PNG", "JPEG", "WEBP")


def open_checked(data: bytes, path: str, max_pixels: int) -> Image.Image:
    """The decoded image, or InvalidArgument naming `path`: empty, not a PNG/JPEG/WebP, truncated, or
    with more than `max_pixels` pixels by its header (0: no budget)."""
    if not data:
        raise InvalidArgument(path, "is empty")
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)  # reads the header only
    except Image.DecompressionBombError as exc:  # PIL's own ceiling, also from the header
        raise InvalidArgument(path, f"is over the pixel budget: {exc}") from None
    except (OSError, ValueError) as exc:
        raise InvalidArgument(path, f"is not a PNG, JPEG or WebP image: {exc}") from None
    width, height = image.size
    if max_pixels and width * height > max_pixels:
        raise InvalidArgument(
            path,
            f"{width}x{height} is {width * height} pixels, over the budget of {max_pixels} "
            "(SYNTHMILL_IMAGE_MAX_INPUT_PIXELS)",
        )
    try:
        image.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidArgument(path, f"cannot be decoded: {exc}") from None
    return image


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
