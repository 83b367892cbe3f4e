"""`synthmill augment DIR`: the job spec of a labelled dataset's variations.

DIR holds images and, optionally, COCO `annotations/instances.json` (what `synthmill annotate DIR`
writes), whose image file names are relative to DIR. Without it, the images directly in DIR are the
sources and carry no objects.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from synthmill.client.specs import SpecError, image_params
from synthmill.common.rules import IMAGE_SUFFIXES
from synthmill.v1 import common_pb2, gateway_pb2


def _sources(folder: Path) -> tuple[list[gateway_pb2.AugmentSource], list[str]]:
    coco_path = folder / "annotations" / "instances.json"
    if not coco_path.is_file():
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        images = [gateway_pb2.InputImage(file_name=p.name, data=p.read_bytes()) for p in files]
        return [gateway_pb2.AugmentSource(image=image) for image in images], []
    try:
        coco = json.loads(coco_path.read_text())
        names = {c["id"]: c["name"] for c in coco.get("categories", [])}
        by_image: dict[int, list[dict[str, Any]]] = {}
        for annotation in coco.get("annotations", []):
            by_image.setdefault(annotation["image_id"], []).append(annotation)
        sources = []
        for image in coco["images"]:
            path = folder / image["file_name"]
            objects = [
                gateway_pb2.AugmentObject(
                    label=names[a["category_id"]],
                    x=a["bbox"][0],
                    y=a["bbox"][1],
                    width=a["bbox"][2],
                    height=a["bbox"][3],
                    segmentation_json=json.dumps(a["segmentation"]) if a.get("segmentation") else "",
                )
                for a in by_image.get(image["id"], [])
            ]
            data = gateway_pb2.InputImage(file_name=path.name, data=path.read_bytes())
            sources.append(gateway_pb2.AugmentSource(image=data, objects=objects))
    except (OSError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise SpecError(f"augment: {coco_path} is not a COCO instances file of DIR's images: {exc}") from None
    return sources, [names[i] for i in sorted(names)]


def augment_job(
    folder: str | Path,
    n: int,
    prompts: str | Sequence[str],
    *,
    strength: float = 0.5,
    controls: Sequence[str] = (),
    drop_unverified: bool = False,
    verify_iou: float = 0.0,
    seed: int | None = None,
    **params: Any,
) -> gateway_pb2.JobSpec:
    """`n` variations of every image of `folder`; `controls` are ControlNet kinds (canny, scribble,
    lineart, none) fed the source image; other params are `image_params`'."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise SpecError(f"augment: {folder} is not a folder")
    sources, categories = _sources(path)
    if not sources:
        raise SpecError(f"augment: no images in {folder}")
    units = [common_pb2.ControlUnit(kind=kind) for kind in controls]
    spec = gateway_pb2.JobSpec(
        augment=gateway_pb2.AugmentJobSpec(
            sources=sources,
            variations=n,
            prompts=[prompts] if isinstance(prompts, str) else list(prompts),
            params=image_params(strength=strength, controls=units, **params),
            drop_unverified=drop_unverified,
            verify_iou=verify_iou,
            categories=categories,
        )
    )
    if seed is not None:
        spec.seed = seed
    return spec
