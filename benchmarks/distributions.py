"""Distributions: rows/s of a 6-column schema with 4 columns sampled against the same schema written
whole by the LLM, through the same stack in the same run.

Arms, interleaved round by round (the order rotates, so no arm always runs first):
(llm)      the 6 columns written by the LLM: name, age, plan, spend, city, note;
(sampled4) the same columns, with name (Faker), age (normal), plan (weights) and spend (by plan)
           sampled in the gateway and pinned; the LLM writes city and note around them;
(sampled6) every column sampled (city by Faker, note by weights): no LLM at all, `--sampled-rows`
           rows per job.
Each arm is timed from SubmitJob to COMPLETED. Its rows are read back from the job's data.jsonl, and
the LLM-written part of each row (its free columns as JSON) is tokenized with the model's tokenizer,
which shows how many fewer tokens the LLM writes once columns are sampled.

    python -m benchmarks.distributions --device cpu --model smollm2-135m
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from benchmarks import common
from synthmill.client import Client, text_job
from synthmill.client._common import state_name
from synthmill.v1 import gateway_pb2

NAME = "distributions"
INSTRUCTIONS = "Customers of a software company."
BASE = {
    "name": {"type": "string", "max_length": 40, "description": "the customer's full name"},
    "age": {"type": "int", "minimum": 18, "maximum": 90},
    "plan": {"type": "enum", "choices": ["free", "pro", "team", "enterprise"]},
    "spend": {"type": "float", "minimum": 0, "maximum": 5000, "description": "monthly spend in USD"},
    "city": {"type": "string", "max_length": 30, "description": "where the customer lives"},
    "note": {"type": "string", "max_length": 60, "description": "a short note from the account manager"},
}
PLANS = {"free": 0.5, "pro": 0.3, "team": 0.15, "enterprise": 0.05}
SAMPLED = {
    "name": "faker(name)",
    "age": "normal(41, 13)",
    "plan": f"weights({json.dumps(PLANS)})",
    "spend": {"by": "plan", "cases": {"free": "uniform(0, 0)", "pro": "normal(49, 8)", "team": "normal(199, 30)",
                                      "enterprise": "lognormal(7, 0.3)"}},
}  # fmt: skip
ALL_SAMPLED = {**SAMPLED, "city": "faker(city)", "note": 'weights({"renewal due": 2, "asked for a demo": 1})'}


# --smoke: one round at the smallest sizes
SMOKE = {"model": "tiny-llama", "rows": 2, "sampled_rows": 20, "rounds": 1}


def schema_with(distributions: dict[str, Any]) -> dict[str, Any]:
    """BASE with a distribution on the named fields."""
    return {
        name: {**spec, "distribution": distributions[name]} if name in distributions else spec
        for name, spec in BASE.items()
    }


def run_job(client: Client, schema: dict, count: int, seed: int) -> tuple[float, list[dict]]:
    started = time.perf_counter()
    job = client.submit(text_job(schema, count, seed=seed, instructions=INSTRUCTIONS))
    job = client.wait(job.id)
    seconds = time.perf_counter() - started
    if job.state != gateway_pb2.JOB_STATE_COMPLETED:
        raise RuntimeError(f"job {job.id} {state_name(job.state)}: {job.error}")
    rows = [json.loads(line) for line in (Path(job.output_dir) / "data.jsonl").read_text().splitlines()]
    return seconds, rows


def run(args) -> dict[str, Any]:
    from transformers import AutoTokenizer

    from synthmill.common.settings import default_cache_dir
    from synthmill.text import embedded

    path = (
        str(embedded.ensure(args.model, default_cache_dir())) if args.model in embedded.NAMES else args.model
    )
    tokenizer = AutoTokenizer.from_pretrained(path)
    arms = {
        "llm": (schema_with({}), args.rows, list(BASE)),
        "sampled4": (schema_with(SAMPLED), args.rows, [n for n in BASE if n not in SAMPLED]),
        "sampled6": (schema_with(ALL_SAMPLED), args.sampled_rows, []),
    }
    totals = {name: {"rows": 0, "seconds": 0.0, "llm_tokens": 0} for name in arms}
    rounds = common.Rounds()
    with (
        common.stack(
            NAME, text_model=args.model, image_model="tiny-sd", device=args.device, threads=args.threads,
            keep=args.keep_logs,
        ) as s,
        Client(s.gateway_target) as client,
    ):  # fmt: skip
        run_job(client, arms["sampled4"][0], 2, args.seed - 1)  # warm-up: grammars, Faker, scipy

        def arm(name: str) -> Any:
            def go() -> float:
                schema, count, free = arms[name]
                seconds, rows = run_job(client, schema, count, args.seed)
                total = totals[name]
                total["rows"] += len(rows)
                total["seconds"] += seconds
                for row in rows:
                    if free:
                        total["llm_tokens"] += len(
                            tokenizer(json.dumps({n: row[n] for n in free}))["input_ids"]
                        )
                return seconds / len(rows)  # seconds per row: arms make different row counts

            return go

        common.interleaved(args.rounds, {name: arm(name) for name in arms}, rounds)
    report = {
        name: {
            "rows": t["rows"],
            "seconds": round(t["seconds"], 3),
            "rows_per_s": round(t["rows"] / t["seconds"], 3),
            "llm_written_tokens_per_row": round(t["llm_tokens"] / t["rows"], 2),
        }
        for name, t in totals.items()
    }
    speedup = rounds.ratio("llm", "sampled4")  # seconds per row, llm over sampled4 = rows/s ratio
    return {
        "description": "rows/s of a 6-column schema: 4 columns sampled and pinned vs all written by the LLM, "
        "and all 6 sampled (no LLM), through the same stack in the same run",
        "machine": common.machine(),
        "params": {
            "model": args.model,
            "rows_per_job": {"llm": args.rows, "sampled4": args.rows, "sampled6": args.sampled_rows},
            "rounds": args.rounds,
            "seed": args.seed,
            "schema": BASE,
            "sampled4": SAMPLED,
            "sampled6": ALL_SAMPLED,
            "instructions": INSTRUCTIONS,
            "torch_threads": args.threads,
        },
        "arms": report,
        "rounds_seconds_per_row": rounds.as_dict(),
        "ratios": {
            "rows_per_s_sampled4_over_llm": speedup,
            "rows_per_s_sampled6_over_llm": rounds.ratio("llm", "sampled6"),
            "llm_tokens_per_row_sampled4_over_llm": round(
                report["sampled4"]["llm_written_tokens_per_row"]
                / report["llm"]["llm_written_tokens_per_row"],
                3,
            ),
        },
    }


def summary(result: dict[str, Any]) -> list[list[str]]:
    arms, ratios = result["arms"], result["ratios"]
    return [
        common.row(NAME, "rows/s: llm / 4 sampled / all sampled",
                   f"{arms['llm']['rows_per_s']} / {arms['sampled4']['rows_per_s']} / {arms['sampled6']['rows_per_s']}"),
        common.row(NAME, "rows/s 4 sampled over all LLM (median of rounds)",
                   f"{ratios['rows_per_s_sampled4_over_llm']['median_of_round_ratios']}x", "> 1"),
        common.row(NAME, "LLM tokens per row, 4 sampled over all LLM", str(ratios["llm_tokens_per_row_sampled4_over_llm"]), "< 1"),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = common.parser(NAME, __doc__, "text")
    p.add_argument("--rows", type=int, default=16, help="rows per job in the llm and sampled4 arms")
    p.add_argument("--sampled-rows", type=int, default=1000, help="rows per job in the sampled6 arm")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seed", type=int, default=100)
    args = common.parse(p, argv, SMOKE)
    result = run(args)
    common.finish(args.results_dir, NAME, result, summary(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
