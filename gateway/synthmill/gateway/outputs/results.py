"""What a job leaves in its folder when it ends, written from its recorded items: the data file
(unified rows list their images), the stats report of the rows (stats.json, stats.html),
metadata.jsonl (images carry their row's fields) and job.json."""

from __future__ import annotations

import json
import platform
import time
from importlib import metadata
from typing import Any

from google.protobuf.json_format import MessageToDict

from synthmill.common.schema import parse_schema
from synthmill.gateway.outputs import coco, scores, stats, stats_html
from synthmill.gateway.outputs.folder import JobFolder
from synthmill.v1 import gateway_pb2 as pb


def write_results(
    job: pb.Job,
    folder: JobFolder,
    rows: dict[int, dict],
    images: dict[int, dict],
    text_model: str,
    categories: list[str],
) -> None:
    """Writes every result file; sets `job.distinct_row_ratio` and `job.stats_headline` for jobs with
    rows and `job.score` for jobs with scored images."""
    spec = job.spec
    rows_spec = (
        spec.text if spec.HasField("text") else spec.unified.rows if spec.HasField("unified") else None
    )
    if rows_spec is not None:
        table = [dict(item["row"]) for item in rows.values()]
        job.distinct_row_ratio = distinct_ratio(table)
        schema = parse_schema(rows_spec.schema_json)
        if table:
            summary = stats.report(schema, table)
            job.stats_headline = summary["headline"]
            folder.write_json("stats.json", summary)
            folder.write_text("stats.html", stats_html.render(f"synthmill job {job.id}", summary))
        if spec.HasField("unified"):
            by_row: dict[int, list[str]] = {}
            for meta in images.values():
                by_row.setdefault(meta["row_index"], []).append(meta["file_name"])
            for index, row in zip(rows, table, strict=True):
                row["images"] = by_row.get(index, [])
        if table:
            folder.write_rows(table, schema, rows_spec.format)
    if images:
        folder.write_metadata(list(images.values()))
        if any("boxes" in meta for meta in images.values()):
            folder.write_json(coco.FILE, coco.instances(list(images.values()), categories))
    kind = spec.WhichOneof("kind")
    params = getattr(spec, kind).params if kind in ("images", "unified") else None
    score = scores.summary(images.values(), params.min_score if params else 0.0)
    if score is not None:
        job.score.CopyFrom(score)
    models = {
        "text": [text_model] if text_model else [],
        "image": sorted({m["model"] for m in images.values() if "model" in m}),
    }
    folder.write_json("job.json", describe(job, {kind: names for kind, names in models.items() if names}))


def describe(job: pb.Job, models: dict[str, list[str]]) -> dict[str, Any]:
    """job.json: spec, state, seed, counts, timings, models and versions."""
    started = job.started_at.ToNanoseconds() / 1e9 if job.HasField("started_at") else None
    has_rows = job.spec.HasField("text") or job.spec.HasField("unified")
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
