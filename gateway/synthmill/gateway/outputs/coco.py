"""annotations/instances.json in COCO's detection format, from the boxes of a job's image records.

    images       id, file_name (relative to the job folder), width, height
    annotations  id, image_id, category_id, bbox [x, y, w, h] in pixels, area, score, iscrowd
                 (an augment job's carried boxes: verified and iou instead of score)
                 (+ segmentation as RLE {size: [h, w], counts}, when masks were asked for; area is
                 then the mask's pixels, else the box's)
    categories   id, name: the detector's classes, or the job's labels, numbered from 1

pycocotools' `COCO(path)` loads it; `loadRes` takes its annotations as detections too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from synthmill.gateway.outputs.records import ImageRecord

FILE = "annotations/instances.json"


def instances(records: Sequence[ImageRecord], categories: Sequence[str]) -> dict[str, Any]:
    """The COCO document of a job's image records."""
    images, annotations = [], []
    for image_id, record in enumerate(records, start=1):
        images.append(
            {"id": image_id, "file_name": record.file_name, "width": record.width, "height": record.height}
        )
        for box in record.boxes or []:
            x, y, w, h = box["bbox"]
            annotation = {
                "id": len(annotations) + 1,
                "image_id": image_id,
                "category_id": box["category_id"],
                "bbox": [x, y, w, h],
                "area": box.get("area", round(w * h, 2)),
                "iscrowd": 0,
            }
            # A detector's score; an augment job's carried boxes have none, but `verified` and `iou`.
            for key in ("score", "segmentation", "verified", "iou"):
                if key in box:
                    annotation[key] = box[key]
            annotations.append(annotation)
    return {
        "info": {"description": "synthmill annotations"},
        "images": images,
        "annotations": annotations,
        "categories": [{"id": i, "name": name, "supercategory": ""} for i, name in enumerate(categories, 1)],
    }


def box_row(box: Any) -> dict[str, Any]:
    """A `Box` message as recorded in a metadata row (with its mask's RLE and area when it has one)."""
    row = {
        "label": box.label,
        "category_id": box.category_id,
        "score": round(box.score, 4),
        "bbox": [round(v, 2) for v in (box.x, box.y, box.width, box.height)],
    }
    if box.HasField("mask"):
        row["segmentation"] = {"size": [box.mask.height, box.mask.width], "counts": box.mask.counts}
        row["area"] = box.mask.area
    return row
