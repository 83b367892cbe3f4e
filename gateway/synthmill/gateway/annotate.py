"""Annotate jobs: boxes for images the user already has (`synthmill annotate DIR`).

At submit the images are checked, written under the job folder's images/ with their own names, and
dropped from the stored spec, which keeps only the names. The run sends them to the image servers'
Annotate RPC a request at a time and records each image's boxes like a generated image's, so the
folder ends as an imagefolder dataset with metadata.jsonl and annotations/instances.json.
"""

from __future__ import annotations

from synthmill.common.errors import InvalidArgument
from synthmill.common.judging import Capabilities, check_labelling
from synthmill.gateway.outputs.coco import box_row
from synthmill.gateway.outputs.folder import JobFolder
from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import image_pb2

SUFFIXES = (".png", ".jpg", ".jpeg")


def validate(spec: pb.AnnotateJobSpec, max_images: int, caps: Capabilities | None) -> None:
    if not spec.images:
        raise InvalidArgument("annotate.images", "at least one image is required")
    if len(spec.images) > max_images:
        raise InvalidArgument(
            "annotate.images", f"{len(spec.images)} images is over the limit of {max_images}"
        )
    seen: set[str] = set()
    for i, image in enumerate(spec.images):
        name = image.file_name
        if (
            not name
            or "/" in name
            or "\\" in name
            or name.startswith(".")
            or not name.lower().endswith(SUFFIXES)
        ):
            raise InvalidArgument(
                f"annotate.images[{i}].file_name", f"{name!r} is not a plain .png, .jpg or .jpeg file name"
            )
        if name in seen:
            raise InvalidArgument(f"annotate.images[{i}].file_name", f"{name!r} is given twice")
        seen.add(name)
        if not image.data:
            raise InvalidArgument(f"annotate.images[{i}].data", "is empty")
    if not spec.annotations:
        raise InvalidArgument("annotate.annotations", 'at least one kind is required, e.g. ["bbox"]')
    check_labelling(spec.annotations, spec.labels, "annotate", caps)


def store_inputs(folder: JobFolder, spec: pb.AnnotateJobSpec) -> None:
    """Writes the images into the job folder and keeps only their names in `spec`."""
    for image in spec.images:
        folder.write_input(image.file_name, image.data)
        image.ClearField("data")


def request(folder: JobFolder, spec: pb.AnnotateJobSpec, indexes: list[int]) -> image_pb2.AnnotateRequest:
    items = [
        image_pb2.AnnotateItem(
            index=i, image=(folder.path / "images" / spec.images[i].file_name).read_bytes()
        )
        for i in indexes
    ]
    return image_pb2.AnnotateRequest(annotations=spec.annotations, labels=spec.labels, items=items)


def metadata(spec: pb.AnnotateJobSpec, reply: image_pb2.AnnotatedImage) -> dict:
    return {
        "file_name": f"images/{spec.images[reply.index].file_name}",
        "width": reply.width,
        "height": reply.height,
        "boxes": [box_row(box) for box in reply.boxes],
    }
