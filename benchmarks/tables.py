"""Tables: rows/s of relational jobs, all drawn (three tables of growing size, to about 1,000,000
rows) and LLM-written (a child table whose note the LLM writes reading its parent row), each against
a baseline in the same run.

(sampled)  customers -> orders (poisson(3) per customer) -> order_items (uniform(1, 4) per order),
           every column drawn; one job per size, timed from SubmitJob to COMPLETED through the
           gateway, against the same tables drawn and written in this process by the same code
           (`write_tables`) without the gateway. The gateway's peak RSS during each job shows
           whether memory stays flat as the tables grow.
(llm)      orders (id, customer_id, a drawn amount, an LLM-written note), made as the child table of
           a tables job (its keys and references pinned, the parent row in each prompt) against the
           same four columns as a single-table text job of the same row count (id and customer_id
           drawn and pinned alike); interleaved round by round.

    python -m benchmarks.tables --device cpu --model smollm2-135m
    python -m benchmarks.tables --smoke          # tiny sizes and tiny-llama: a check that it runs
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import common
from synthmill.client import Client, tables_job, text_job
from synthmill.client._common import state_name
from synthmill.v1 import common_pb2, gateway_pb2

NAME = "tables"
AMOUNT = {"type": "float", "minimum": 0, "distribution": "normal(50, 10)"}
NOTE = {"type": "string", "max_length": 24, "description": "why the customer ordered"}
# --smoke: tiny sizes, tiny-llama, one round (seconds)
SMOKE = {"customers": "100,1000", "llm_rows": 4, "rounds": 1, "model": "tiny-llama"}


def sampled_schema(customers: int) -> dict[str, Any]:
    plan = {"type": "enum", "choices": ["free", "pro"], "distribution": 'weights({"free": 0.7, "pro": 0.3})'}
    amount = {"by": "customers.plan", "cases": {"free": "normal(20, 5)", "pro": "normal(80, 10)"}}
    return {
        "tables": {
            "customers": {"rows": customers, "primary_key": "id", "fields": {"id": "int", "plan": plan}},
            "orders": {
                "parent": "customers",
                "per_parent": "poisson(3)",
                "primary_key": "id",
                "fields": {
                    "id": "uuid",
                    "customer_id": {"ref": "customers.id"},
                    "amount": {"type": "float", "minimum": 0, "distribution": amount},
                },
            },
            "order_items": {
                "parent": "orders",
                "per_parent": "uniform(1, 4)",
                "fields": {
                    "order_id": {"ref": "orders.id"},
                    "quantity": {"type": "int", "minimum": 1, "distribution": "poisson(2)"},
                },
            },
        }
    }


def child_schema(parents: int) -> dict[str, Any]:
    """`parents` customers (drawn), two orders each whose note the LLM writes."""
    return {
        "tables": {
            "customers": {
                "rows": parents,
                "primary_key": "id",
                "fields": {
                    "id": "int",
                    "plan": {
                        "type": "enum",
                        "choices": ["free", "pro"],
                        "distribution": 'weights({"free": 1, "pro": 1})',
                    },
                },
            },
            "orders": {
                "parent": "customers",
                "per_parent": "uniform(2, 2)",
                "primary_key": "id",
                "fields": {
                    "id": "int",
                    "customer_id": {"ref": "customers.id"},
                    "amount": AMOUNT,
                    "note": NOTE,
                },
            },
        }
    }


def single_schema(rows: int) -> dict[str, Any]:
    """The child table's columns as one text table: its id and customer_id drawn from the same ranges."""
    ids = {"type": "int", "minimum": 1, "distribution": f"uniform(1, {rows})"}
    parents = {"type": "int", "minimum": 1, "distribution": f"uniform(1, {max(rows // 2, 1)})"}
    return {"id": ids, "customer_id": parents, "amount": AMOUNT, "note": NOTE}


def _wait(client: Client, spec: gateway_pb2.JobSpec) -> tuple[float, gateway_pb2.Job]:
    started = time.perf_counter()
    job = client.wait(client.submit(spec).id)
    seconds = time.perf_counter() - started
    if job.state != gateway_pb2.JOB_STATE_COMPLETED:
        raise RuntimeError(f"job {job.id} {state_name(job.state)}: {job.error}")
    return seconds, job


def _tokenizer(model: str):
    from transformers import AutoTokenizer

    from synthmill.common.settings import default_cache_dir
    from synthmill.text import embedded

    path = str(embedded.ensure(model, default_cache_dir())) if model in embedded.NAMES else model
    return AutoTokenizer.from_pretrained(path)


def in_process(schema: dict, seed: int) -> tuple[float, int]:
    """The same tables drawn and written here, by the gateway's own code, without the gateway."""
    from synthmill.common.tables import parse_tables
    from synthmill.common.tables.draws import Draws
    from synthmill.gateway.outputs.tables_files import write_tables

    started = time.perf_counter()
    tables = parse_tables(schema)
    draws = Draws(tables, seed)
    with tempfile.TemporaryDirectory() as tmp:
        write_tables(Path(tmp), tables, draws, common_pb2.ROW_FORMAT_CSV, {})
    return time.perf_counter() - started, sum(draws.counts.values())


def run(args) -> dict[str, Any]:
    sizes = [int(n) for n in args.customers.split(",")]
    sampled: list[dict[str, Any]] = []
    rounds = common.Rounds()
    with (
        common.stack(NAME, text_model=args.model, image_model="tiny-sd", device=args.device, threads=args.threads,
                     keep=args.keep_logs) as s,
        Client(s.gateway_target) as client,
    ):  # fmt: skip
        gateway_pid = common.server_pids(s)["gateway"]
        _wait(client, tables_job(sampled_schema(10), seed=args.seed - 1))  # warm-up: imports, scipy laws
        for customers in sizes:
            schema = sampled_schema(customers)
            spec = tables_job(schema, format="csv", seed=args.seed)
            with common.RssSampler({"gateway": gateway_pid}, interval=0.2) as rss:
                seconds, job = _wait(client, spec)
            base_seconds, rows = in_process(schema, args.seed)
            assert job.counts.rows_total == rows
            sampled.append({
                "customers": customers, "rows": rows,
                "gateway_seconds": round(seconds, 3), "gateway_rows_per_s": round(rows / seconds),
                "in_process_seconds": round(base_seconds, 3), "in_process_rows_per_s": round(rows / base_seconds),
                "gateway_over_in_process_rows_per_s": round(base_seconds / seconds, 3),
                "gateway_peak_rss_mib": common.mib(rss.peaks["gateway"]),
            })  # fmt: skip
            common.log(
                f"  sampled {rows} rows: gateway {rows / seconds:.0f} rows/s, in process {rows / base_seconds:.0f}"
            )

        _wait(client, tables_job(child_schema(1), seed=args.seed - 1))  # warm-up: grammars, model

        tokenizer = _tokenizer(args.model)
        written = {"child": [0, 0.0], "single": [0, 0.0]}  # note tokens, seconds

        def measured(arm: str, spec: gateway_pb2.JobSpec, file: str) -> float:
            seconds, job = _wait(client, spec)
            lines = (Path(job.output_dir) / file).read_text().splitlines()
            written[arm][0] += sum(len(tokenizer(json.loads(line)["note"])["input_ids"]) for line in lines)
            written[arm][1] += seconds
            return seconds / args.llm_rows

        def child() -> float:
            return measured(
                "child", tables_job(child_schema(args.llm_rows // 2), seed=args.seed), "orders.jsonl"
            )

        def single() -> float:
            spec = text_job(single_schema(args.llm_rows), args.llm_rows, seed=args.seed)
            return measured("single", spec, "data.jsonl")

        common.interleaved(args.rounds, {"child": child, "single": single}, rounds)
    largest = sampled[-1]
    return {
        "description": "rows/s of all-drawn tables of growing size (gateway vs in process) and of an "
        "LLM-written child table vs a single text table of the same fields",
        "machine": common.machine(),
        "params": {
            "model": args.model,
            "customers": sizes,
            "llm_rows": args.llm_rows,
            "rounds": args.rounds,
            "seed": args.seed,
            "torch_threads": args.threads,
            "sampled_schema": sampled_schema(sizes[-1]),
            "child_schema": child_schema(args.llm_rows // 2),
            "single_schema": single_schema(args.llm_rows),
        },
        "sampled": sampled,
        "note_tokens_per_row": {
            arm: round(n / (args.llm_rows * args.rounds), 2) for arm, (n, _) in written.items()
        },
        "rounds_seconds_per_row": rounds.as_dict(),
        "ratios": {
            # seconds per row single / child = rows/s child / single
            "llm_child_over_single_rows_per_s": rounds.ratio("single", "child"),
            # the note's tokens the LLM wrote per second, child over single (rows differ in length)
            "llm_child_over_single_note_tokens_per_s": round(
                (written["child"][0] / written["child"][1]) / (written["single"][0] / written["single"][1]), 4
            ),
            "peak_rss_largest_over_smallest": round(
                largest["gateway_peak_rss_mib"] / sampled[0]["gateway_peak_rss_mib"], 3
            ),
        },
        "targets": {"sampled_rows_per_s": 20000, "llm_child_over_single": 0.9},
    }


def summary(result: dict[str, Any]) -> list[list[str]]:
    largest = result["sampled"][-1]
    child = result["ratios"]["llm_child_over_single_rows_per_s"]["median_of_round_ratios"]
    return [
        common.row(NAME, f"sampled rows/s at {largest['rows']} rows (3 tables)", str(largest["gateway_rows_per_s"]),
                   ">= 20000", largest["gateway_rows_per_s"] >= 20000),
        common.row(NAME, "gateway over in-process rows/s", str(largest["gateway_over_in_process_rows_per_s"])),
        common.row(NAME, "gateway peak RSS MiB, largest / smallest job",
                   f"{largest['gateway_peak_rss_mib']} / {result['sampled'][0]['gateway_peak_rss_mib']}"),
        common.row(NAME, "LLM child rows/s over single table", f"{child}x", ">= 0.9", child >= 0.9),
        common.row(NAME, "LLM child note tokens/s over single table",
                   f"{result['ratios']['llm_child_over_single_note_tokens_per_s']}x"),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = common.parser(NAME, __doc__, "text")
    p.add_argument("--customers", default="1000,10000,87000", help="customers per size (x ~11.5 rows in all)")
    p.add_argument("--llm-rows", type=int, default=16, help="LLM-written rows per job of the llm arms")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seed", type=int, default=7)
    args = common.parse(p, argv, SMOKE)
    result = run(args)
    common.finish(args.results_dir, NAME, result, summary(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
