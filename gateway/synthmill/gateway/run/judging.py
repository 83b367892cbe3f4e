"""What the gateway records of an image server's judging: the score, the candidates (losers written
under candidates/), the boxes, the caption, and the class list the boxes' category ids refer to."""

from __future__ import annotations

from typing import Any

from synthmill.common.errors import Unavailable
from synthmill.common.judging import CAPTION, DETECTIONS
from synthmill.gateway.outputs.coco import box_row
from synthmill.gateway.outputs.folder import JobFolder
from synthmill.gateway.outputs.records import ImageRecord
from synthmill.gateway.store.job_store import Item, JobStore
from synthmill.gateway.upstream import Upstream
from synthmill.v1 import common_pb2, gateway_pb2, image_pb2

CATEGORIES = "categories"  # store item kind: the class names of a job with annotations


def judged_fields(folder: JobFolder, index: int, image: image_pb2.GeneratedImage) -> dict[str, Any]:
    """The `ImageRecord` fields of a generated image's judging; writes its kept losing candidates."""
    fields: dict[str, Any] = {}
    if image.HasField("score"):
        fields["score"] = round(image.score, 4)
    if image.candidates:
        fields["candidate"] = image.candidate
        fields["candidates"] = [
            {
                "number": c.number,
                "seed": c.seed,
                "score": round(c.score, 4),
                "file_name": folder.write_candidate(index, c.number, c.png) if c.png else None,
            }
            for c in image.candidates
        ]
    fields.update(labelled(image.params.annotations, image))
    return fields


def labelled(annotations: list[str], image: Any) -> dict[str, Any]:
    """The `ImageRecord` fields of what `annotations` asked for, from a `GeneratedImage` or an
    `AnnotatedImage`: its boxes, its caption."""
    fields: dict[str, Any] = {}
    if any(kind in DETECTIONS for kind in annotations):
        fields["boxes"] = [box_row(box) for box in image.boxes]
    if CAPTION in annotations:
        fields["caption"] = image.caption
    return fields


async def note_categories(
    store: JobStore, upstream: Upstream, job: gateway_pb2.Job, owner: str, params: common_pb2.ImageParams
) -> None:
    """Records, once per job, the class names that its boxes' category ids count from 1."""
    if not any(kind in DETECTIONS for kind in params.annotations) or await store.items(job.id, CATEGORIES):
        return
    names = list(params.labels)
    if not names:
        try:
            names = list((await upstream.info()).detector_labels)
        except Unavailable:  # Upstream.info's error for an unreachable server
            return  # the COCO file then names the categories its boxes carry
    await store.commit(job, owner, items=[Item(CATEGORIES, 0, {"names": names})])


async def categories(store: JobStore, job_id: str, images: list[ImageRecord]) -> list[str]:
    """The recorded class names, else those the boxes carry (ids 1..max, gaps unnamed)."""
    recorded = await store.items(job_id, CATEGORIES)
    if recorded:
        return recorded[0]["names"]
    seen = {box["category_id"]: box["label"] for image in images for box in image.boxes or []}
    return [seen.get(i, f"class {i}") for i in range(1, max(seen, default=0) + 1)]
