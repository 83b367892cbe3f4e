"""Jobs as JSON, in seed 003's shapes (`status` is queued|running|completed|failed|cancelled)."""

from __future__ import annotations

from typing import Any

from google.protobuf.json_format import MessageToDict

from synthmill.client import state_name
from synthmill.http.progress import percent
from synthmill.v1 import gateway_pb2 as pb


def kind(job: pb.Job) -> str:
    """ "text", "images" or "unified", as in the /generate/<kind> route that made it."""
    return job.spec.WhichOneof("kind") or "unknown"


def status(job: pb.Job) -> str:
    return state_name(job.state).lower()


def _time(stamp: Any, present: bool) -> str | None:
    return stamp.ToJsonString() if present else None


def summary(job: pb.Job) -> dict[str, Any]:
    """A `GET /jobs` entry: seed 003's keys, then progress and counts."""
    return {
        "job_id": job.id,
        "type": kind(job),
        "status": status(job),
        "created_at": _time(job.created_at, job.HasField("created_at")),
        "progress": percent(job.counts, job.state),
        "counts": counts(job.counts),
        "error": job.error,
    }


def job_status(job: pb.Job) -> dict[str, Any]:
    """`GET /status/{job_id}`: seed 003's keys (`progress` an int 0-100), then what else is known."""
    return {
        "job_id": job.id,
        "status": status(job),
        "progress": int(percent(job.counts, job.state)),
        "output_path": job.output_dir,
        "type": kind(job),
        "error": job.error,
        "counts": counts(job.counts),
    }


def detail(job: pb.Job) -> dict[str, Any]:
    """`GET /jobs/{job_id}`: everything the gateway records, for the job page."""
    return {
        **summary(job),
        "output_path": job.output_dir,
        "seed": job.spec.seed,
        "spec": MessageToDict(job.spec, preserving_proto_field_name=True),
        "started_at": _time(job.started_at, job.HasField("started_at")),
        "finished_at": _time(job.finished_at, job.HasField("finished_at")),
        "distinct_row_ratio": job.distinct_row_ratio if kind(job) != "images" else None,
    }


def counts(value: pb.JobCounts) -> dict[str, int]:
    return MessageToDict(value, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)
