"""Shares: mode collapse in LLM-written columns, with and without `max_share`, and what the cap costs.

Seed 003's own schema (customer_name, age, order_value; no distributions declared) through the same
stack, two arms taking turns: `capped` (the default max_share, 0.1) and `free` (max_share 1 on every
column: no cap). For each arm: rows/s, each column's largest share of the rows, and age's p5-p95.
The ratio of the arms' seconds per row is what the cap costs.

    python -m benchmarks.shares --device cpu --model smollm2-135m --rows 200
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import common
from synthmill.client import Client, text_job
from synthmill.client._common import state_name
from synthmill.v1 import gateway_pb2

NAME = "shares"
SEED_003 = {"customer_name": "string", "age": "int", "order_value": "float"}
ARMS = {
    "capped": SEED_003,
    "free": {name: {"type": kind, "max_share": 1} for name, kind in SEED_003.items()},
}


def run_job(client: Client, schema: dict, count: int, seed: int) -> tuple[float, list[dict]]:
    started = time.perf_counter()
    job = client.wait(client.submit(text_job(schema, count, seed=seed)).id)
    seconds = time.perf_counter() - started
    if job.state != gateway_pb2.JOB_STATE_COMPLETED:
        raise RuntimeError(f"job {job.id} {state_name(job.state)}: {job.error}")
    return seconds, [
        json.loads(line) for line in (Path(job.output_dir) / "data.jsonl").read_text().splitlines()
    ]


def shape(rows: list[dict]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in SEED_003:
        values = [r[name] for r in rows if r[name] is not None]
        value, count = Counter(values).most_common(1)[0]
        out[name] = {"top_value": value, "top_share": round(count / len(rows), 4)}
    ages = np.array([r["age"] for r in rows if r["age"] is not None])
    out["age"]["p5_p95"] = [float(np.percentile(ages, 5)), float(np.percentile(ages, 95))]
    return out


def summary(result: dict[str, Any]) -> list[list[str]]:
    arms = result["arms"]
    rows = [
        common.row(NAME, f"{arm}: rows/s; top share of age / name / value", f"{a['rows_per_s']}; "
                   f"{a['shape']['age']['top_share']} / {a['shape']['customer_name']['top_share']} / "
                   f"{a['shape']['order_value']['top_share']}",
                   "top share <= 0.1" if arm == "capped" else "",
                   all(c["top_share"] <= 0.1 for c in a["shape"].values()) if arm == "capped" else None)
        for arm, a in arms.items()
    ]  # fmt: skip
    rows.append(common.row(NAME, "seconds per row, capped / free", f"{result['ratio']['capped_over_free']}"))
    return rows


def main(argv: list[str] | None = None) -> int:
    p = common.parser(NAME, __doc__, "text")
    p.add_argument("--rows", type=int, default=200)
    p.add_argument("--seed", type=int, default=3)
    args = p.parse_args(argv)
    totals = {arm: {"seconds": 0.0, "rows": []} for arm in ARMS}
    with (
        common.stack(NAME, text_model=args.model, image_model="tiny-sd", device=args.device,
                     threads=args.threads, keep=args.keep_logs) as s,
        Client(s.gateway_target) as client,
    ):  # fmt: skip
        run_job(client, SEED_003, 2, args.seed - 1)  # warm-up: grammars
        for arm in ("free", "capped"):
            seconds, rows = run_job(client, ARMS[arm], args.rows, args.seed)
            totals[arm]["seconds"] += seconds
            totals[arm]["rows"] = rows
            common.log(f"[{NAME}] {arm}: {len(rows)} rows in {seconds:.1f}s")
    arms = {
        arm: {
            "rows": len(t["rows"]),
            "seconds": round(t["seconds"], 2),
            "rows_per_s": round(len(t["rows"]) / t["seconds"], 3),
            "shape": shape(t["rows"]),
        }
        for arm, t in totals.items()
    }
    ratio = round(arms["capped"]["seconds"] / arms["free"]["seconds"], 3)
    result = {
        "description": "seed 003's schema on the LLM: one value's share of a column with and without max_share",
        "machine": common.machine(),
        "params": {"model": args.model, "rows": args.rows, "seed": args.seed, "schema": SEED_003},
        "arms": arms,
        "ratio": {"capped_over_free": ratio},
    }
    common.finish(args.results_dir, NAME, result, summary(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
