"""Text jobs made from a sample (`TextJobSpec.like`, `synthmill text --like`): the gateway's part.

- At submit (`prepare`, off the event loop): the sample is read and fitted (`synthmill.common.fit`)
  and the fitted schema becomes the spec's `schema_json`; a sample that does not parse, an empty one,
  a column of mixed types or one over `max_sample_bytes` is refused naming the line and column, and
  no job is made. From then on the job is an ordinary text job.
- `store_inputs`: the sample goes to the job folder (inputs/sample.<format>), out of the stored spec.
- While rows are made, a row equal to a sample record is drawn again (`forbidden`).
- Once every row is made (`judge`): quality.json and quality.html, `Job.quality_headline`, and
  the `fail_under` thresholds; below one, the job keeps its files and fails with the figures.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from synthmill.common.errors import InvalidArgument
from synthmill.common.fit import thresholds
from synthmill.common.fit.defaults import DEFAULT_MIN_COUNT, FORMATS, HOLDOUT_SHARE
from synthmill.gateway.outputs.folder import JobFolder, write_atomic
from synthmill.gateway.run.retries import JobFailed
from synthmill.gateway.settings import GatewaySettings
from synthmill.v1 import gateway_pb2 as pb


def prepare(rows: pb.TextJobSpec, settings: GatewaySettings) -> None:
    """Fits the sample of `rows.like` into `rows.schema_json` (nothing without a sample)."""
    from synthmill.common.fit.fitter import FitOptions, fit
    from synthmill.common.fit.sample import read_sample

    if not rows.HasField("like") or rows.like.stored_as:  # no sample, or fitted already
        return
    like = rows.like
    if rows.schema_json:
        raise InvalidArgument("text.schema_json", "give a schema or a sample to fit (like), not both")
    if rows.count == 0:
        raise InvalidArgument("text.count", "is 0: a job made from a sample needs at least 1 row")
    if like.format and like.format not in FORMATS:
        raise InvalidArgument(
            "text.like.format", f"unknown format {like.format!r}; use one of {', '.join(FORMATS)}"
        )
    thresholds.check(like.fail_under, "text.like.fail_under")
    holdout = like.holdout if like.HasField("holdout") else HOLDOUT_SHARE
    if not 0 <= holdout < 1:
        raise InvalidArgument("text.like.holdout", f"{holdout} is not in [0, 1)")
    try:
        sample = read_sample(like.data, like.format or "csv", settings.max_sample_bytes)
        options = FitOptions(
            min_count=like.min_count or DEFAULT_MIN_COUNT, keep_rare=like.keep_rare, holdout=holdout
        )
        fitted = fit(sample, options)
    except InvalidArgument as exc:  # e.g. "sample line 12: column 'age' holds 'old' ..."
        raise InvalidArgument(f"text.like.{exc.field}", str(exc).split(": ", 1)[1]) from None
    rows.schema_json = json.dumps(fitted.spec, ensure_ascii=False)


def store_inputs(folder: JobFolder, rows: pb.TextJobSpec) -> None:
    if not rows.HasField("like") or rows.like.stored_as:
        return
    name = f"inputs/sample.{rows.like.format or 'csv'}"
    write_atomic(folder.path / name, rows.like.data)
    rows.like.stored_as = name
    rows.like.ClearField("data")


def _sample(folder: JobFolder, like: pb.FitSample):
    from synthmill.common.fit.sample import read_sample

    with folder.open_file(like.stored_as) as handle:
        return read_sample(handle.read(), like.format or "csv", limit=2**62)


def forbidden(folder: JobFolder, rows: pb.TextJobSpec) -> Callable[[dict[str, Any]], bool] | None:
    """Whether a row equals a record of the job's sample (None for a job without one)."""
    from synthmill.common.fit.privacy import excluder
    from synthmill.common.schema import parse_schema

    if not rows.HasField("like"):
        return None
    return excluder(parse_schema(rows.schema_json), _sample(folder, rows.like).records())


def judge(job: pb.Job, folder: JobFolder, rows: list[dict[str, Any]]) -> None:
    """Writes the report of a job made from a sample; JobFailed when it falls below `fail_under`."""
    from synthmill.common.fit.judge import judge as score
    from synthmill.common.fit.judge import shortfalls, to_html
    from synthmill.common.schema import parse_schema

    spec = job.spec.text
    report = score(parse_schema(spec.schema_json), _sample(folder, spec.like), rows)
    folder.write_json("quality.json", report)
    folder.write_text("quality.html", to_html(report))
    job.quality_headline = headline(report)
    problems = shortfalls(report, dict(spec.like.fail_under))
    if problems:
        raise JobFailed(f"the quality report falls short: {'; '.join(problems)} ({job.quality_headline})")


def headline(report: dict[str, Any]) -> str:
    pairs = report["column_pair_trends"]["score"]
    dcr = report["privacy"].get("dcr") or {}
    parts = [
        f"quality {report['score']:.3f} (shapes {report['column_shapes']['score']:.3f}"
        + (f", pairs {pairs:.3f})" if pairs is not None else ")"),
        f"{report['privacy']['exact_matches']} rows equal a sample record",
    ]
    if dcr:
        parts.append(f"DCR {dcr['score']:.3f} ({dcr['closer_to_training']:.2f} closer to training)")
    return "; ".join(parts)
