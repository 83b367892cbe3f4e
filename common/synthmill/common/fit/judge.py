"""The quality and privacy report of rows made from a fitted sample: quality.json and quality.html,
and the `--fail-under quality=0.85,dcr=0.6` check.

The sample is read again and typed by the fitted schema's own field types, and split into the same
training part and holdout as at fit time (the split seed comes from the sample's SHA-256, the share
from the schema's `fitted_from`).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from synthmill.common.errors import InvalidArgument
from synthmill.common.fit import privacy, quality
from synthmill.common.fit.sample import Sample
from synthmill.common.schema import Schema


def judge(schema: Schema, sample: Sample, synthetic: list[dict[str, Any]]) -> dict[str, Any]:
    """quality.json's content: shapes, pair trends, overall score and privacy figures."""
    if not synthetic:
        raise InvalidArgument("data", "has no rows to judge")
    note = schema.fitted_from or {}
    if note.get("sha256") not in (None, sample.sha256):
        raise InvalidArgument("sample", "is not the sample this schema was fitted from (its SHA-256 differs)")
    records = privacy.typed(sample.records(), schema)
    rows = privacy.typed(synthetic, schema)
    train_idx, holdout_idx = privacy.split(sample.rows, float(note.get("holdout", 0)), sample.split_seed)
    train = [records[k] for k in train_idx]
    holdout = [records[k] for k in holdout_idx]
    real = {name: [r[name] for r in train] for name in schema.names}
    out = quality.report(schema, real, rows)
    out["privacy"] = privacy.report(schema, train, holdout, rows, records, seed=sample.split_seed)
    out["privacy"]["rare_categories_dropped"] = note.get("rare_categories_dropped", {})
    out["privacy"]["min_count"] = note.get("min_count")
    out["rows"] = {
        "sample": sample.rows,
        "training": len(train),
        "holdout": len(holdout),
        "generated": len(rows),
    }
    return out


def shortfalls(report: dict[str, Any], thresholds: dict[str, float]) -> list[str]:
    """Each threshold the report falls below, with both figures (empty: it passes)."""
    figures = {"quality": report.get("score"), "dcr": (report["privacy"].get("dcr") or {}).get("score")}
    out = []
    for name, minimum in thresholds.items():
        value = figures[name]
        if value is None or value < minimum:
            shown = "n/a" if value is None else f"{value:.3f}"
            out.append(f"{name} {shown} is below {minimum:g}")
    if report["privacy"]["exact_matches"]:
        out.append(f"{report['privacy']['exact_matches']} generated rows equal a sample record")
    return out


def write(report: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "quality.json").write_text(json.dumps(report, indent=2) + "\n")
    (folder / "quality.html").write_text(to_html(report))


def to_html(report: dict[str, Any]) -> str:
    """A one-page summary: the scores, each column's shape, each pair's trend, and privacy."""

    def fmt(v: Any) -> str:
        return "n/a" if v is None else f"{v:.3f}" if isinstance(v, float) else html.escape(str(v))

    shapes = "".join(
        f"<tr><td>{html.escape(n)}</td><td>{c['metric']}</td><td>{fmt(c['score'])}</td></tr>"
        for n, c in report["column_shapes"]["columns"].items()
    )
    pairs = "".join(
        f"<tr><td>{html.escape(' / '.join(p['columns']))}</td><td>{p['metric']}</td><td>{fmt(p['score'])}</td></tr>"
        for p in report["column_pair_trends"]["pairs"]
    )
    priv = report["privacy"]
    dcr = priv.get("dcr") or {}
    nndr = priv.get("nndr") or {}
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>synthmill quality</title>
<style>body{{font:14px sans-serif;margin:2em}}td,th{{padding:2px 10px;border-bottom:1px solid #ddd}}</style></head>
<body><h1>Quality {fmt(report["score"])}</h1>
<p>Column shapes {fmt(report["column_shapes"]["score"])} · column pair trends
{fmt(report["column_pair_trends"]["score"])} (SDMetrics' definitions)</p>
<h2>Column shapes</h2><table><tr><th>column</th><th>metric</th><th>score</th></tr>{shapes}</table>
<h2>Column pair trends</h2><table><tr><th>columns</th><th>metric</th><th>score</th></tr>{pairs}</table>
<h2>Privacy</h2><table>
<tr><td>generated rows equal to a sample record</td><td>{priv["exact_matches"]}</td></tr>
<tr><td>closer to training than to holdout (ideal ≈ 0.5)</td><td>{fmt(dcr.get("closer_to_training"))}</td></tr>
<tr><td>DCR overfitting protection</td><td>{fmt(dcr.get("score"))}</td></tr>
<tr><td>nearest-neighbour distance ratio (median)</td><td>{fmt(nndr.get("median"))}</td></tr>
<tr><td>rare categories dropped (seen under {fmt(priv.get("min_count"))} times)</td>
<td>{fmt(json.dumps(priv.get("rare_categories_dropped", {})))}</td></tr>
</table></body></html>
"""
