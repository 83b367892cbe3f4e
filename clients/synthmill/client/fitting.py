"""`synthmill fit` and `synthmill quality`: fitting a schema to a sample and judging rows made from it.

Both run here, with no gateway: the fitter is `synthmill.common.fit` (numpy and scipy, no torch),
imported only when one of these commands runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from synthmill.common.errors import InvalidArgument


def add_parsers(sub: argparse._SubParsersAction) -> None:
    from synthmill.common.fit.defaults import DEFAULT_MIN_COUNT, FORMATS, HOLDOUT_SHARE

    p = sub.add_parser("fit", help="print a schema fitted to a sample (csv, jsonl or parquet; - for stdin)")
    p.add_argument("sample", metavar="SAMPLE")
    p.add_argument("-o", "--output", metavar="FILE", help="write the schema here instead of stdout")
    p.add_argument("--format", choices=FORMATS, help="the sample's format (default: from its name, else csv)")
    p.add_argument(
        "--min-count",
        type=int,
        default=DEFAULT_MIN_COUNT,
        metavar="N",
        help=f"drop categories seen fewer than N times, a privacy rule (default {DEFAULT_MIN_COUNT})",
    )
    p.add_argument(
        "--keep-rare", action="store_true", help="keep categories seen fewer than --min-count times"
    )
    p.add_argument(
        "--holdout",
        type=float,
        default=HOLDOUT_SHARE,
        metavar="F",
        help=f"share of rows kept out of the fit for the privacy report (default {HOLDOUT_SHARE}; 0: none)",
    )

    p = sub.add_parser("quality", help="quality and privacy of rows made from a fitted sample")
    p.add_argument("sample", metavar="SAMPLE", help="the sample the schema was fitted to")
    p.add_argument("data", metavar="DATA", help="the generated rows (csv, jsonl or parquet)")
    p.add_argument("--schema", required=True, metavar="FILE", help="the fitted schema")
    p.add_argument("-o", "--output-dir", metavar="DIR", help="write quality.json and quality.html here")
    p.add_argument("--fail-under", default="", metavar="quality=0.85,dcr=0.6", help="exit 1 below these")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def _read(path: str, fmt: str | None, what: str = "sample", limit: int | None = None):
    from synthmill.common.fit.defaults import MAX_SAMPLE_BYTES
    from synthmill.common.fit.sample import format_of, read_sample

    limit = limit or MAX_SAMPLE_BYTES
    if path == "-":
        data = sys.stdin.buffer.read(limit + 1)
    else:
        file = Path(path)
        if not file.is_file():
            raise InvalidArgument(what, f"{path} is not a file")
        if file.stat().st_size > limit:
            raise InvalidArgument(what, f"{path} is over the limit of {limit:,} bytes")
        data = file.read_bytes()
    return read_sample(data, fmt or format_of(path), limit)


def cmd_fit(args: argparse.Namespace) -> int:
    from synthmill.common.fit.fitter import FitOptions, fit

    if args.min_count < 1:
        raise InvalidArgument("min_count", "must be at least 1")
    options = FitOptions(min_count=args.min_count, keep_rare=args.keep_rare, holdout=args.holdout)
    fitted = fit(_read(args.sample, args.format), options)
    text = json.dumps(fitted.spec, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_quality(args: argparse.Namespace) -> int:
    from synthmill.common.fit import thresholds
    from synthmill.common.fit.judge import judge, shortfalls, write
    from synthmill.common.schema import parse_schema

    minimums = thresholds.parse(args.fail_under)
    schema = parse_schema(Path(args.schema).read_text(), "schema")
    sample = _read(args.sample, None)
    data = _read(args.data, None, "data", limit=2**40)
    report = judge(schema, sample, data.records())
    if args.output_dir:
        write(report, Path(args.output_dir))
    if args.json:
        print(json.dumps(report))
    else:
        dcr = report["privacy"]["dcr"] or {}
        print(
            f"quality {report['score']:.3f} (shapes {report['column_shapes']['score']:.3f}, pairs "
            f"{report['column_pair_trends']['score'] or 0:.3f}); exact matches "
            f"{report['privacy']['exact_matches']}; closer to training {dcr.get('closer_to_training', 'n/a')}"
        )
    problems = shortfalls(report, minimums)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


def run(args: argparse.Namespace) -> int:
    try:
        return {"fit": cmd_fit, "quality": cmd_quality}[args.command](args)
    except InvalidArgument as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
