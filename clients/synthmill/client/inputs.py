"""The images an images job is given (an init image, a mask, control images), from paths or bytes."""

from __future__ import annotations

from pathlib import Path

from synthmill.client.errors import SpecError
from synthmill.v1 import common_pb2, gateway_pb2

ImageSource = str | Path | bytes | gateway_pb2.InputImage | None


def input_image(source: ImageSource, name: str) -> gateway_pb2.InputImage | None:
    """A path (its file name is kept), raw bytes (named `name`.png) or an InputImage as it is."""
    if source is None or isinstance(source, gateway_pb2.InputImage):
        return source
    if isinstance(source, bytes):
        return gateway_pb2.InputImage(file_name=f"{name}.png", data=source)
    path = Path(source).expanduser()
    if not path.is_file():
        raise SpecError(f"--{name.replace('_', '-')}: {source} is not a file")
    return gateway_pb2.InputImage(file_name=path.name, data=path.read_bytes())


def parse_control(text: str) -> tuple[common_pb2.ControlUnit, str]:
    """`canny:in.png` or `scribble:plan.png:0.8` → (the unit, the image's path)."""
    kind, _, rest = text.partition(":")
    path, _, scale = rest.partition(":")
    if not kind or not path:
        raise SpecError(f"--control: expected KIND:PATH[:SCALE] such as canny:in.png, got {text!r}")
    unit = common_pb2.ControlUnit(kind=kind)
    if scale:
        try:
            unit.scale = float(scale)
        except ValueError:
            raise SpecError(f"--control: scale {scale!r} is not a number") from None
    return unit, path


def add_inputs(
    spec: gateway_pb2.ImageJobSpec,
    init_image: ImageSource = None,
    mask: ImageSource = None,
    control_images: list[ImageSource] | tuple = (),
) -> None:
    """Puts the input images into an images job's spec."""
    for field, source in (("init_image", init_image), ("mask", mask)):
        image = input_image(source, field)
        if image is not None:
            getattr(spec, field).CopyFrom(image)
    for n, source in enumerate(control_images):
        spec.control_images.append(input_image(source, f"control_{n}"))
