"""What the gateway records of an image made from images: the strength, the init image's SHA-256, the
steps that ran, each ControlNet unit with the control image it was given (written under controls/
beside the outputs), and for Edit Anything the labels found and the mask repainted (COCO RLE)."""

from __future__ import annotations

from typing import Any

from synthmill.gateway.outputs.folder import JobFolder, write_atomic
from synthmill.v1 import image_pb2


def control_name(index: int, unit: int) -> str:
    return f"controls/{index:05d}-{unit}.png"


def edit_fields(folder: JobFolder, index: int, image: image_pb2.GeneratedImage) -> dict[str, Any]:
    """The `ImageRecord` fields of an img2img, inpainting or ControlNet image; writes its control images."""
    p = image.params
    fields: dict[str, Any] = {}
    if p.HasField("strength"):
        fields["strength"] = round(p.strength, 4)
        fields["denoising_steps"] = image.denoising_steps
        fields["init_image_sha256"] = image.init_image_sha256
    if p.mask_blur or p.inpaint_full_res:
        fields["mask_blur"] = p.mask_blur
    controls = []
    for n, (unit, png) in enumerate(zip(p.controls, image.control_images, strict=True)):
        name = control_name(index, n)
        write_atomic(folder.path / name, png)
        controls.append(
            {
                "kind": unit.kind,
                "model": unit.model,
                "scale": round(unit.scale, 4),
                "start": round(unit.start, 4),
                "end": round(unit.end, 4),
                "control_image": name,
            }
        )
    if controls:
        fields["controls"] = controls
    if p.mask_labels:
        mask = image.edit_mask
        fields["mask_labels_found"] = list(image.edit_labels)
        fields["edit_mask"] = {"size": [mask.height, mask.width], "counts": mask.counts, "area": mask.area}
    return fields
