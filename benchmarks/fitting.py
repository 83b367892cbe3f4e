"""Fitting: fit time, draw rate and quality figures against sample size, on one core.

The sample is the issue's acceptance table (age, income, plan, churned, name) widened to 10 columns
(tenure, spend by plan, visits, signup date, satisfaction), from a seeded generator, written as CSV.
For each size the benchmark times reading + fitting the CSV, drawing rows from the fitted schema
in-process (the sampler alone, copula included: the gateway's storage path is not in this figure),
and scoring them (`synthmill.common.fit.judge`), and records the report's figures. The process is
pinned to one CPU.

    python -m benchmarks.fitting            # 1,000 / 10,000 / 100,000 rows
    python -m benchmarks.fitting --smoke    # 500 / 2,000 rows, a few seconds
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any

import numpy as np

from benchmarks import common
from benchmarks.people import as_csv, people

NAME = "fitting"
# --smoke: two small sizes, a few seconds
SMOKE = {"sizes": "500,2000", "draws": 2000}
FIT_TARGET_S = 10.0  # a 100,000-row, 10-column CSV
DRAW_TARGET = 20_000  # rows/s for 10 sampled columns, copula included


def wide(n: int, seed: int = 24) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed + 1)
    base = dt.date(2020, 1, 1)
    rows = people(n, seed)
    for row in rows:
        plan = row["plan"]
        row["tenure"] = int(rng.poisson(14))
        row["spend"] = round(float(rng.normal({"free": 0.0, "pro": 49.0, "team": 199.0}[plan], 5)), 2)
        row["visits"] = int(rng.geometric(0.15))
        row["signup"] = (base + dt.timedelta(days=int(rng.integers(0, 1500)))).isoformat()
        row["satisfaction"] = round(float(rng.uniform(1, 5)), 1)
    return rows


class Clock:
    """Wall and CPU seconds of a block (on a shared machine the CPU figure is the one-core cost)."""

    def __enter__(self) -> Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = round(time.perf_counter() - self._wall, 3)
        self.cpu = round(max(time.process_time() - self._cpu, 1e-6), 3)


def measure(n: int, draws: int, seed: int) -> dict[str, Any]:
    from synthmill.common.fit.fitter import FitOptions, fit
    from synthmill.common.fit.judge import judge
    from synthmill.common.fit.privacy import excluder
    from synthmill.common.fit.sample import read_sample
    from synthmill.common.sampler import ColumnSampler

    data = as_csv(wide(n, seed))
    fit(read_sample(as_csv(wide(50, seed)), "csv"), FitOptions())  # imports and first calls, untimed
    with Clock() as fit_clock:
        sample = read_sample(data, "csv")
        fitted = fit(sample, FitOptions())

    def draw(sampler: ColumnSampler) -> list[dict[str, Any]]:
        chunks = (
            sampler.rows(seed, range(first, min(first + 1000, draws))) for first in range(0, draws, 1000)
        )
        return [row for chunk in chunks for row in chunk]

    with Clock() as draw_clock:
        draw(ColumnSampler(fitted.schema))
    with Clock() as guarded_clock:
        rows = draw(ColumnSampler(fitted.schema, exclude=excluder(fitted.schema, sample.records())))
    with Clock() as judge_clock:
        report = judge(fitted.schema, sample, rows)
    laws = {f.name: (f.distribution.spec() if f.distribution else None) for f in fitted.schema.fields}
    result = {
        "sample_rows": n,
        "csv_bytes": len(data),
        "fit_s": fit_clock.wall,
        "fit_cpu_s": fit_clock.cpu,
        "draw_rows": draws,
        "draw_rows_per_s": round(draws / draw_clock.wall),
        "draw_rows_per_cpu_s": round(draws / draw_clock.cpu),
        "draw_rows_per_cpu_s_excluding_sample_records": round(draws / guarded_clock.cpu),
        "judge_s": judge_clock.wall,
        "judge_cpu_s": judge_clock.cpu,
        "quality": round(report["score"], 4),
        "column_shapes": round(report["column_shapes"]["score"], 4),
        "column_pair_trends": report["column_pair_trends"]["score"]
        and round(report["column_pair_trends"]["score"], 4),
        "shapes": {k: round(v["score"], 4) for k, v in report["column_shapes"]["columns"].items()},
        "exact_matches": report["privacy"]["exact_matches"],
        "dcr_closer_to_training": report["privacy"]["dcr"]["closer_to_training"],
        "dcr_score": report["privacy"]["dcr"]["score"],
        "nndr_median": round(report["privacy"]["nndr"]["median"], 4),
        "copula_columns": list(fitted.schema.copula.columns) if fitted.schema.copula else [],
        "laws": {
            k: (v if not isinstance(v, str) or len(v) < 60 else v[:57] + "...") for k, v in laws.items()
        },
    }
    common.log(
        f"{n:>7} rows: fit {fit_clock.cpu:.2f} CPU s ({fit_clock.wall:.2f} s wall), "
        f"draws {result['draw_rows_per_cpu_s']:,} rows per CPU s, quality {result['quality']}"
    )
    return result


def summary(result: dict[str, Any]) -> list[list[str]]:
    runs = result["runs"]
    largest = runs[-1]
    rows = [
        common.row(NAME, f"fit CPU s (wall) at {r['sample_rows']:,} rows x 10 columns", f"{r['fit_cpu_s']} ({r['fit_s']})",
                   f"<= {FIT_TARGET_S}" if r["sample_rows"] >= 100_000 else "",
                   r["fit_cpu_s"] <= FIT_TARGET_S if r["sample_rows"] >= 100_000 else None)
        for r in runs
    ]  # fmt: skip
    rows.append(
        common.row(NAME, "sampler rows per CPU s, 10 columns + copula (in-process)", f"{largest['draw_rows_per_cpu_s']:,}",
                   f">= {DRAW_TARGET:,}", largest["draw_rows_per_cpu_s"] >= DRAW_TARGET)
    )  # fmt: skip
    rows.append(common.row(NAME, "quality by sample size", " / ".join(str(r["quality"]) for r in runs),
                           ">= 0.85 from 2,000 rows", all(r["quality"] >= 0.85 for r in runs if r["sample_rows"] >= 2000)))  # fmt: skip
    rows.append(common.row(NAME, "exact matches", " / ".join(str(r["exact_matches"]) for r in runs), "0",
                           all(r["exact_matches"] == 0 for r in runs)))  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    p = common.parser(NAME, __doc__, "text")
    p.add_argument("--sizes", default="1000,10000,100000", help="sample sizes, comma-separated")
    p.add_argument("--draws", type=int, default=20_000, help="rows drawn and scored per size")
    p.add_argument("--seed", type=int, default=3)
    args = common.parse(p, argv, SMOKE)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    sizes = [int(s) for s in args.sizes.split(",")]
    draws = args.draws
    result = {
        "description": "fit time, in-process draw rate and quality/privacy figures vs sample size (one core)",
        "machine": common.machine(),
        "params": {"sizes": sizes, "draws": draws, "seed": args.seed, "columns": 10, "smoke": args.smoke},
        "runs": [measure(n, draws, args.seed) for n in sizes],
    }
    common.finish(args.results_dir, NAME, result, summary(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
