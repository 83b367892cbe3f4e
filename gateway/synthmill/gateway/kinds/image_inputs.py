"""The images an images job starts from: its init image (img2img), mask (inpainting) and control images
(ControlNet units).

At submit they are checked against the image server's GetInfo as the server would check them (decoded
within its max_input_pixels, the mask the init image's size, one control image per unit, the strength
and units by `rules.check_edit_params`, the output size an init image gives within the model's
limits), then kept in the job folder as inputs/<role>/<file name> (init_image, mask, control-N) and
dropped from the stored spec, which keeps their names. The run sends them with every item.
"""

from __future__ import annotations

from pathlib import Path

from synthmill.common import image_input, rules
from synthmill.common.errors import InvalidArgument
from synthmill.common.image_header import MAX_INPUT_PIXELS
from synthmill.common.paths import BadPath, plain_name
from synthmill.common.rules import IMAGE_SUFFIXES
from synthmill.gateway.outputs.folder import write_atomic
from synthmill.v1 import common_pb2, image_pb2
from synthmill.v1 import gateway_pb2 as pb

INPUTS = "inputs"


def check_file_name(name: str, path: str) -> None:
    """A plain .png, .jpg or .jpeg file name (`paths.plain_name`: no folders, no control characters,
    at most 255 bytes; not hidden)."""
    try:
        plain_name(name)
    except BadPath as exc:
        raise InvalidArgument(path, str(exc)) from None
    if name.startswith(".") or not name.lower().endswith(IMAGE_SUFFIXES):
        raise InvalidArgument(path, f"{name!r} is not a plain .png, .jpg or .jpeg file name")


def _given(images: pb.ImageJobSpec) -> list[tuple[str, str, pb.InputImage]]:
    """(field path, folder under inputs/, image) of each input image."""
    out = [
        (f"images.{field}", field, getattr(images, field))
        for field in ("init_image", "mask")
        if images.HasField(field)
    ]
    out += [(f"images.control_images[{n}]", f"control-{n}", c) for n, c in enumerate(images.control_images)]
    return out


def task_of(images: pb.ImageJobSpec) -> str:
    return "inpaint" if images.HasField("mask") else "img2img" if images.HasField("init_image") else "txt2img"


def validate(images: pb.ImageJobSpec, info: image_pb2.ImageServerInfo | None) -> None:
    """Raises InvalidArgument naming the field of any input image the image server would refuse."""
    max_pixels = info.max_input_pixels if info is not None else MAX_INPUT_PIXELS
    sizes = {}
    for path, _role, image in _given(images):
        check_file_name(image.file_name, f"{path}.file_name")
        sizes[path] = image_input.open_checked(image.data, f"{path}.data", max_pixels).size
    if images.HasField("mask"):
        if not images.HasField("init_image"):
            raise InvalidArgument("images.init_image", "a mask needs an init image")
        mask, init = sizes["images.mask"], sizes["images.init_image"]
        if mask != init:
            raise InvalidArgument(
                "images.mask.data", f"{mask[0]}x{mask[1]} differs from the init image's {init[0]}x{init[1]}"
            )
    if len(images.control_images) != len(images.params.controls):
        raise InvalidArgument(
            "images.control_images",
            f"{len(images.control_images)} images for {len(images.params.controls)} control units",
        )
    task = task_of(images)
    model = rules.check_image_params(images.params, "images.params", info)
    rules.check_edit_params(images.params, "images.params", model, task)
    rules.check_mask_labels(images.params, "images.params", info)
    if task != "txt2img" and not (images.params.width and images.params.height):
        multiple = model.size_multiple if model and model.size_multiple else rules.SIZE_MULTIPLE
        sized = common_pb2.ImageParams()
        sized.CopyFrom(images.params)
        sized.width, sized.height = rules.init_output_size(
            sized.width, sized.height, sizes["images.init_image"], multiple, "images.init_image"
        )
        rules.check_image_params(sized, "images.params", info)


def store(folder: Path, images: pb.ImageJobSpec) -> None:
    """Keeps each input image under inputs/ and only its name in the spec."""
    for _path, role, image in _given(images):
        write_atomic(folder / INPUTS / role / image.file_name, image.data)
        image.ClearField("data")


def item_template(folder: Path, images: pb.ImageJobSpec) -> image_pb2.ImageItem:
    """An ImageItem carrying the job's input images, read back from inputs/; its index, prompt and seed
    are set per item."""
    item = image_pb2.ImageItem()
    for _path, role, image in _given(images):
        data = (folder / INPUTS / role / image.file_name).read_bytes()
        if role.startswith("control-"):
            item.control_images.append(data)
        else:
            setattr(item, role, data)
    return item
