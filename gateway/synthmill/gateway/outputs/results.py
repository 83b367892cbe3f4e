"""What a job leaves in its folder when it ends, written from its recorded items by the pieces each kind
picks: the data file and the stats report of its rows (stats.json, stats.html), metadata.jsonl and the
COCO file of its images, and job.json for every job."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np
from google.protobuf.json_format import MessageToDict

from synthmill.common.schema import parse_schema
from synthmill.gateway.outputs import coco, diversity, scores, stats, stats_html
from synthmill.gateway.outputs.folder import JobFolder
from synthmill.gateway.outputs.records import ImageRecord, RowRecord
from synthmill.v1 import common_pb2
from synthmill.v1 import gateway_pb2 as pb


@dataclass(frozen=True)
class Recorded:
    """Everything a job recorded, by index: what its kind writes its files from."""

    rows: dict[int, RowRecord]
    images: dict[int, ImageRecord]
    categories: list[str]  # the class names its boxes' category ids count from 1
    text_model: str = ""
    # The CLIP embeddings of its images, by index: {"vector": [...], "retry": dedup re-renders}.
    embeddings: dict[int, dict[str, Any]] = field(default_factory=dict)


def write_rows(
    job: pb.Job,
    folder: JobFolder,
    spec: pb.TextJobSpec,
    rows: dict[int, RowRecord],
    images_of_row: dict[int, list[str]] | None = None,
) -> None:
    """The data file in the job's format and the stats report (stats.json, stats.html); sets
    `job.distinct_row_ratio` and `job.stats_headline`. With `images_of_row`, each row lists its images."""
    table = [dict(record.row) for record in rows.values()]
    job.distinct_row_ratio = distinct_ratio(table)
    if not table:
        return
    schema = parse_schema(spec.schema_json)
    summary = stats.report(schema, table)
    job.stats_headline = summary["headline"]
    folder.write_json("stats.json", summary)
    folder.write_text("stats.html", stats_html.render(f"synthmill job {job.id}", summary))
    if images_of_row is not None:
        for index, row in zip(rows, table, strict=True):
            row["images"] = images_of_row.get(index, [])
    folder.write_rows(table, schema, spec.format)


def write_images(
    job: pb.Job,
    folder: JobFolder,
    recorded: Recorded,
    params: common_pb2.ImageParams | None = None,
    dedup: float = 0.0,
    axes: Sequence[common_pb2.Axis] = (),
) -> None:
    """metadata.jsonl, annotations/instances.json when images have boxes, annotations/captions.json
    when they have captions, `job.score` when they have scores (counting those below
    `params.min_score`), and `job.diversity` with the images' part of stats.json and stats.html when
    they have embeddings (near-duplicates at `dedup`, coverage of `axes`)."""
    images = list(recorded.images.values())
    _note_diversity(job, folder, recorded, dedup, axes)
    if images:
        folder.write_metadata([image.to_json() for image in images])
        if recorded.embeddings and set(recorded.images) <= set(recorded.embeddings):
            vectors = [recorded.embeddings[i]["vector"] for i in recorded.images]
            folder.write_npy(EMBEDDINGS_FILE, np.asarray(vectors, dtype=np.float32))
        if any(image.boxes is not None for image in images):
            folder.write_json(coco.FILE, coco.instances(images, recorded.categories))
        if any(image.caption is not None for image in images):
            folder.write_json(coco.CAPTIONS_FILE, coco.captions(images))
    score = scores.summary(images, params.min_score if params else 0.0)
    if score is not None:
        job.score.CopyFrom(score)


EMBEDDINGS_FILE = "embeddings.npy"  # one row per image, in metadata.jsonl's order


def _note_diversity(
    job: pb.Job, folder: JobFolder, recorded: Recorded, dedup: float, axes: Sequence[common_pb2.Axis]
) -> None:
    vectors = {i: e["vector"] for i, e in recorded.embeddings.items() if i in recorded.images}
    rerendered = sum(e.get("retry", 0) for i, e in recorded.embeddings.items() if i in recorded.images)
    figures = diversity.summary(vectors, dedup, rerendered)
    if figures is None:
        return
    job.diversity.CopyFrom(pb.ImageDiversity(**figures))
    if dedup:
        for index, earlier in diversity.near_duplicates(vectors, dedup).items():
            recorded.images[index].near_duplicate_of = earlier
    rows_report = folder.path / "stats.json"  # written first by a job with rows
    report = json.loads(rows_report.read_text()) if job.stats_headline and rows_report.exists() else None
    headline = (
        f"{figures['images']} images · Vendi {figures['vendi_score']:.2f} · mean pairwise distance "
        f"{figures['mean_pairwise_distance']:.3f}"
    )
    report = report or {"headline": headline, "columns": {}}
    report["images"] = {
        "diversity": figures,
        "coverage": diversity.coverage(list(recorded.images.values()), axes),
    }
    folder.write_json("stats.json", report)
    folder.write_text("stats.html", stats_html.render(f"synthmill job {job.id}", report))


def write_job_json(job: pb.Job, folder: JobFolder, recorded: Recorded, has_rows: bool) -> None:
    images = recorded.images.values()
    models = {
        "text": [recorded.text_model] if recorded.text_model else [],
        "image": sorted({image.model for image in images if image.model is not None}),
    }
    used = {kind: names for kind, names in models.items() if names}
    folder.write_json("job.json", describe(job, used, has_rows))


def describe(job: pb.Job, models: dict[str, list[str]], has_rows: bool) -> dict[str, Any]:
    """job.json: spec, state, seed, counts, timings, models and versions."""
    started = job.started_at.ToNanoseconds() / 1e9 if job.HasField("started_at") else None
    return {
        "id": job.id,
        "state": pb.JobState.Name(job.state).removeprefix("JOB_STATE_").lower(),
        "error": job.error,
        "seed": job.spec.seed,
        "spec": MessageToDict(job.spec, preserving_proto_field_name=True),
        "counts": MessageToDict(
            job.counts, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
        ),
        "distinct_row_ratio": job.distinct_row_ratio if has_rows else None,
        "score": MessageToDict(job.score, preserving_proto_field_name=True)
        if job.HasField("score")
        else None,
        "diversity": MessageToDict(job.diversity, preserving_proto_field_name=True)
        if job.HasField("diversity")
        else None,
        "created_at": job.created_at.ToJsonString(),
        "started_at": job.started_at.ToJsonString() if started else None,
        "finished_at": job.finished_at.ToJsonString() if job.HasField("finished_at") else None,
        "seconds": round(_ended(job) - started, 3) if started else None,
        "models": models,
        "versions": _versions(),
    }


def distinct_ratio(rows: list[dict]) -> float:
    """Distinct rows / rows (0 for no rows)."""
    if not rows:
        return 0.0
    return len({json.dumps(row, sort_keys=True) for row in rows}) / len(rows)


def _ended(job: pb.Job) -> float:
    return job.finished_at.ToNanoseconds() / 1e9 if job.HasField("finished_at") else time.time()


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("synthmill", "grpcio", "protobuf"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions
