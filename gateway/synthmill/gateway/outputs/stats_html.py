"""stats.html: the stats report as one self-contained page, a histogram per column as inline SVG
(no scripts, no external files). Bars are the written values; dots are what the declared
distribution expects in each bar, so a fit can be judged at a glance."""

from __future__ import annotations

import json
from html import escape
from typing import Any

WIDTH, HEIGHT, PAD = 400, 170, 24
_STYLE = """
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; background: #fafafa; }
h1 { font-size: 20px; margin: 0 0 4px; } .headline { color: #444; margin: 0 0 20px; }
.grid { display: flex; flex-wrap: wrap; gap: 16px; }
.card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 12px 14px; width: 410px; }
.card h2 { font-size: 15px; margin: 0 0 2px; } .dist { font: 12px monospace; color: #555; margin: 0 0 6px; }
.facts { font-size: 12px; color: #444; margin: 6px 0 0; } .fit { font-weight: 600; }
.bar { fill: #4e79a7; } .exp { fill: #e15759; } .axis { font-size: 10px; fill: #666; }
"""


def render(title: str, stats: dict[str, Any]) -> str:
    cards = "\n".join(_card(name, column) for name, column in stats["columns"].items())
    return (
        f"<!doctype html>\n<html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>\n<h1>{escape(title)}</h1>\n"
        f"<p class='headline'>{escape(stats['headline'])}</p>\n<div class='grid'>\n{cards}\n</div></body></html>\n"
    )


def render_tables(title: str, report: dict[str, Any]) -> str:
    """A tables job's report: child counts per parent first, then every table's columns."""
    columns = {f"{name} per {c['parent']}": c for name, c in report["children"].items()}
    for table, table_stats in report["tables"].items():
        columns.update({f"{table}.{name}": c for name, c in table_stats.get("columns", {}).items()})
    return render(title, {"columns": columns, "headline": report["headline"]})


def _card(name: str, column: dict[str, Any]) -> str:
    dist = column["distribution"]
    spec = json.dumps(dist) if isinstance(dist, dict) else dist
    fit = column.get("fit")
    fit_text = ""
    if fit:
        p_value = f", p = {fit['p_value']:.3f}" if fit.get("p_value") is not None else ""
        fit_text = f"<span class='fit'>{fit['test'].upper()} {fit['statistic']:.3f}{p_value}</span> · "
    top = ", ".join(f"{escape(str(value))} ({n})" for value, n in column["top"][:3])
    return (
        f"<div class='card'><h2>{escape(name)} <small>({column['type']})</small></h2>"
        f"<p class='dist'>{escape(spec) if spec else 'written by the LLM'}</p>"
        f"{_svg(column['histogram'])}"
        f"<p class='facts'>{fit_text}{column['count']} values, {column['distinct']} distinct, "
        f"{column['nulls']} null · top: {top}</p></div>"
    )


def _svg(histogram: dict[str, Any]) -> str:
    counts, expected = histogram["counts"], histogram.get("expected")
    if not counts:
        return ""
    peak = max([*counts, *(expected or [])], default=1) or 1
    n = len(counts)
    step = (WIDTH - 2 * PAD) / n
    scale = (HEIGHT - 2 * PAD) / peak
    parts = [f"<svg width='{WIDTH}' height='{HEIGHT}' viewBox='0 0 {WIDTH} {HEIGHT}' role='img'>"]
    for k, count in enumerate(counts):
        h = count * scale
        x = PAD + k * step
        parts.append(
            f"<rect class='bar' x='{x + 1:.1f}' y='{HEIGHT - PAD - h:.1f}' width='{max(step - 2, 1):.1f}' "
            f"height='{h:.1f}'><title>{count}</title></rect>"
        )
        if expected:
            cy = HEIGHT - PAD - expected[k] * scale
            parts.append(f"<circle class='exp' cx='{x + step / 2:.1f}' cy='{cy:.1f}' r='3'/>")
    if histogram["kind"] == "categorical":
        for k, label in enumerate(histogram["labels"]):
            x = PAD + (k + 0.5) * step
            parts.append(
                f"<text class='axis' x='{x:.1f}' y='{HEIGHT - 8}' text-anchor='middle'>{escape(label[:10])}</text>"
            )
    else:
        first, last = histogram["labels"]
        suffix = " chars" if histogram["kind"] == "length" else ""
        parts.append(f"<text class='axis' x='{PAD}' y='{HEIGHT - 8}'>{escape(first)}</text>")
        parts.append(
            f"<text class='axis' x='{WIDTH - PAD}' y='{HEIGHT - 8}' text-anchor='end'>{escape(last)}{suffix}</text>"
        )
    parts.append(f"<text class='axis' x='{PAD}' y='{PAD - 8}'>max {max(counts)}</text></svg>")
    return "".join(parts)
