"""What each `synthmill` command does, given its parsed arguments. Returns the exit code."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from synthmill.client._common import TERMINAL_STATES, list_request, state_name
from synthmill.client.augment import augment_job
from synthmill.client.client import Client
from synthmill.client.progress import JobProgress
from synthmill.client.specs import spec_from_args
from synthmill.v1 import gateway_pb2, keys_pb2

OK, FAILED, INTERRUPTED = 0, 1, 130


def job_json(job: gateway_pb2.Job) -> dict[str, Any]:
    """The JSON object `--json` prints for a job."""
    out: dict[str, Any] = {
        "job_id": job.id,
        "state": state_name(job.state),
        "kind": job.spec.WhichOneof("kind"),
        "output_dir": job.output_dir,
        "rows_done": job.counts.rows_done,
        "rows_total": job.counts.rows_total,
        "images_done": job.counts.images_done,
        "images_total": job.counts.images_total,
        "error": job.error or None,
    }
    if job.spec.HasField("seed"):
        out["seed"] = job.spec.seed
    for name in ("created_at", "started_at", "finished_at"):
        stamp = getattr(job, name)
        out[name] = stamp.ToJsonString() if job.HasField(name) else None
    if job.counts.rows_total:
        out["distinct_row_ratio"] = job.distinct_row_ratio
    if job.stats_headline:
        out["stats_headline"] = job.stats_headline
    if job.quality_headline:
        out["quality_headline"] = job.quality_headline
    if job.HasField("score"):
        out["score"] = json_format.MessageToDict(job.score, preserving_proto_field_name=True)
    return out


def emit(obj: Any) -> None:
    print(json.dumps(obj, indent=None, sort_keys=False), flush=True)


def _counts(job: gateway_pb2.Job) -> str:
    parts = []
    if job.counts.rows_total:
        parts.append(f"{job.counts.rows_done}/{job.counts.rows_total} rows")
    if job.counts.images_total:
        parts.append(f"{job.counts.images_done}/{job.counts.images_total} images")
    return ", ".join(parts) or "-"


def _report(args: Any, job: gateway_pb2.Job) -> int:
    """Prints a job (JSON or text); non-zero when it ended FAILED or CANCELLED."""
    if args.json:
        emit(job_json(job))
    elif not getattr(args, "quiet", False):
        print(f"job {job.id} {state_name(job.state)}: {_counts(job)}")
        if job.stats_headline:
            print(f"stats: {job.stats_headline} (stats.html)")
        if job.quality_headline:
            print(f"quality: {job.quality_headline} (quality.html)")
        if job.output_dir:
            print(f"output: {job.output_dir}")
        if job.HasField("score"):
            sc = job.score
            print(f"CLIPScore: mean {sc.mean:.2f}, min {sc.min:.2f}, p10 {sc.p10:.2f} over {sc.count} images")
    if job.score.below_min_score:
        print(
            f"warning: {job.score.below_min_score} images stayed below --min-score after every round; kept",
            file=sys.stderr,
        )
    if job.state in (gateway_pb2.JOB_STATE_FAILED, gateway_pb2.JOB_STATE_CANCELLED):
        reason = f": {job.error}" if job.error else ""
        print(f"error: job {job.id} {state_name(job.state)}{reason}", file=sys.stderr)
        return FAILED
    return OK


def follow(args: Any, client: Client, job_id: str) -> int:
    """Waits for the job with progress bars (unless --quiet) and reports how it ended."""
    try:
        if getattr(args, "quiet", False):
            job = client.wait(job_id)
        else:
            with JobProgress(job_id) as bars:
                job = client.wait(job_id, on_event=bars)
    except KeyboardInterrupt:
        print(
            f"\nstopped watching; job {job_id} goes on (synthmill cancel {job_id} stops it)", file=sys.stderr
        )
        return INTERRUPTED
    return _report(args, job)


def cmd_submit(args: Any, client: Client) -> int:
    """`images`, `text`, `unified`: submit the job, then follow it unless --no-wait."""
    return _submit_and_follow(args, client)


def _submit_and_follow(
    args: Any, client: Client, then: Callable[[str], None] | None = None, spec: Any = None
) -> int:
    """Submits the job of the command line (or `spec`) and follows it unless --no-wait; `then(job_id)`
    runs after a job that completed."""
    job = client.submit(spec if spec is not None else spec_from_args(args))
    if args.no_wait:
        if args.json:
            emit(job_json(job))
        else:
            print(job.id)
        return OK
    if not args.quiet and not args.json:
        print(f"job {job.id} submitted", file=sys.stderr)
    code = follow(args, client, job.id)
    if code == OK and then is not None:
        then(job.id)
    return code


def cmd_augment(args: Any, client: Client) -> int:
    """`augment DIR`: variations of the folder's (labelled) images."""
    spec = augment_job(
        args.dir, args.n, args.prompt, strength=args.strength, controls=args.control or [],
        drop_unverified=args.drop_unverified, seed=args.seed, steps=args.steps or 0, model=args.model or "",
    )  # fmt: skip
    return _submit_and_follow(args, client, spec=spec)


def cmd_annotate(args: Any, client: Client) -> int:
    """`annotate DIR`: a job over the folder's images; its COCO file is copied into DIR/annotations/."""
    return _submit_and_follow(args, client, lambda job_id: _copy_coco(args, client, job_id))


def _copy_coco(args: Any, client: Client, job_id: str) -> None:
    """DIR/annotations/instances.json, with file names relative to DIR (the images lie there directly)."""
    with tempfile.TemporaryDirectory() as tmp:
        client.download(job_id, tmp)
        coco = json.loads((Path(tmp) / "annotations" / "instances.json").read_text())
    for image in coco["images"]:
        image["file_name"] = image["file_name"].removeprefix("images/")
    target = Path(args.dir) / "annotations" / "instances.json"
    target.parent.mkdir(exist_ok=True)
    partial = target.with_suffix(".json.tmp")
    partial.write_text(json.dumps(coco, indent=2, ensure_ascii=False) + "\n")
    partial.replace(target)
    if not args.json and not args.quiet:
        print(f"annotations: {target}", file=sys.stderr)


def cmd_jobs(args: Any, client: Client) -> int:
    more = False
    if args.all:
        jobs = client.iter_jobs(args.state, args.limit, kind=args.kind)
    else:
        page = client.page(list_request(args.state, args.limit, kind=args.kind))
        jobs, more = page.jobs, bool(page.next_page_token)
    if args.json:
        emit({"jobs": [job_json(job) for job in jobs]})
        return OK
    shown = 0
    for job in jobs:
        created = (
            job.created_at.ToDatetime().strftime("%Y-%m-%d %H:%M:%S") if job.HasField("created_at") else ""
        )
        kind = job.spec.WhichOneof("kind") or "-"
        print(f"{job.id}  {state_name(job.state):<9}  {kind:<7}  {_counts(job):<28}  {created}")
        shown += 1
    if not shown:
        print("no jobs")
    if more:
        print(f"(the newest {shown}; --all lists every job)", file=sys.stderr)
    return OK


def cmd_status(args: Any, client: Client) -> int:
    job = client.get(args.job)
    if args.json:
        emit(job_json(job))
        return OK
    print(f"job {job.id} {state_name(job.state)} ({job.spec.WhichOneof('kind')}): {_counts(job)}")
    if job.output_dir:
        print(f"output: {job.output_dir}")
    if job.error:
        print(f"error: {job.error}")
    return OK


def cmd_watch(args: Any, client: Client) -> int:
    return follow(args, client, args.job)


def cmd_delete(args: Any, client: Client) -> int:
    job = client.delete(args.job)
    if args.json:
        emit({**job_json(job), "deleted": True})
    else:
        print(f"{job.id}: deleted ({state_name(job.state).lower()} when deleted)")
    return OK


def cmd_cancel(args: Any, client: Client) -> int:
    job = client.cancel(args.job)
    if args.json:
        emit(job_json(job))
    else:
        final = "" if job.state in TERMINAL_STATES else " (stopping)"
        print(f"job {job.id} {state_name(job.state)}{final}")
    return OK


def cmd_download(args: Any, client: Client) -> int:
    dest = Path(args.dir)
    files = client.download(args.job, dest)
    if args.json:
        emit({"job_id": args.job, "dest_dir": str(dest.resolve()), "files": [str(p) for p in files]})
    else:
        for path in files:
            print(path)
        print(f"{len(files)} files from job {args.job} in {dest}", file=sys.stderr)
    return OK


def cmd_health(args: Any, client: Client) -> int:
    report = client.health()
    if args.json:
        emit(
            json_format.MessageToDict(
                report, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
            )
        )
    else:
        status = "SERVING" if report.serving else "NOT SERVING"
        print(
            f"gateway {client.target}: {status} (jobs running {report.jobs_running}, queued {report.jobs_queued})"
        )
        for svc in report.services:
            state = "SERVING" if svc.serving else f"NOT SERVING: {svc.error or 'unknown'}"
            print(f"  {svc.name:<6} {svc.target:<22} {state}")
            for model in svc.models:
                default = ", default" if model.is_default else ""
                print(f"         {model.name} ({model.family}, {model.device}, {model.dtype}{default})")
    return OK if report.serving else FAILED


def cmd_styles(args: Any, client: Client) -> int:
    styles = client.styles()
    if args.json:
        emit(
            {
                "styles": [
                    json_format.MessageToDict(style, preserving_proto_field_name=True) for style in styles
                ]
            }
        )
        return OK
    if not styles:
        print("no styles (the gateway reads them from SYNTHMILL_GATEWAY_STYLES)")
    for style in styles:
        print(f"{style.name}\n  prompt:   {style.prompt}\n  negative: {style.negative_prompt}")
    return OK


def cmd_keys(args: Any, client: Client) -> int:
    """`keys create|list|revoke`; `create --json` prints {"name", "key"} with the secret."""
    if args.keys_command == "create":
        limits = keys_pb2.KeyLimits(
            max_running_jobs=args.max_running_jobs,
            max_queued_jobs=args.max_queued_jobs,
            rows_per_day=args.rows_per_day,
            images_per_day=args.images_per_day,
        )
        made = client.create_key(args.name, limits)
        if args.json:
            emit({"name": made.key.name, "key": made.secret})
        else:
            print(made.secret)
            print(f"key {made.key.name!r} made; its secret is shown only now", file=sys.stderr)
        return OK
    keys = client.list_keys() if args.keys_command == "list" else [client.revoke_key(args.name)]
    rows = [json_format.MessageToDict(key, preserving_proto_field_name=True) for key in keys]
    if args.json:
        emit({"keys": rows} if args.keys_command == "list" else rows[0])
        return OK
    for key in keys:
        state = f"revoked {key.revoked_at.ToJsonString()}" if key.HasField("revoked_at") else "valid"
        limits = json_format.MessageToDict(key.limits, preserving_proto_field_name=True)
        print(f"{key.name:<24} {state:<32} {json.dumps(limits) if limits else 'no limits'}")
    return OK


CLIENT_COMMANDS = {
    "images": cmd_submit,
    "text": cmd_submit,
    "unified": cmd_submit,
    "tables": cmd_submit,
    "annotate": cmd_annotate,
    "augment": cmd_augment,
    "jobs": cmd_jobs,
    "status": cmd_status,
    "watch": cmd_watch,
    "cancel": cmd_cancel,
    "delete": cmd_delete,
    "download": cmd_download,
    "health": cmd_health,
    "styles": cmd_styles,
    "keys": cmd_keys,
}
