"""Rows: valid rows per second, constrained and batched through the stack against one-row-at-a-time loops.

(a) service: text jobs through Client → gateway → text server (grammar-constrained, batch
    SYNTHMILL_TEXT_BATCH_SIZE, default 8), timed from SubmitJob to COMPLETED; the rows are read back
    from each job's data.jsonl and validated again.
(a') the same rows as (a) (same job seed, indices and batch size) from the server's `TextEngine` called
    directly in this process: what the stack adds on top of the model work.
(b) constrained, one row at a time: the same `TextEngine` the server runs, called directly in this
    process with batch_size 1 (same grammar, prompts, per-row seeds, sampling and retry rule).
(c) unconstrained, one row at a time, as the REST prototype does: plain `model.generate` on the chat
    template (the same prompt (b) uses, the same temperature/top-p/token budget), then parse the JSON
    (code fences skipped, first {...} decoded), validate with `synthmill.common.schema`, and retry a
    failed row up to --unconstrained-attempts times.

The arms are interleaved on a shared machine: a job of `--server-batch` rows for (a), then the same
number of rows for (b) and (c), row by row, and again until `--rows` rows per arm.

Time per token, (b) against (c): both batch 1 with the same prompts, so the difference is the grammar's
cost. Measured inside `generate` by a last logits processor that stamps every decoding step; the
headline compares the mean step time over the first --early-steps steps of every sample (the same
context lengths on both sides: unconstrained samples run on to far longer contexts, which cost more
per step for reasons that have nothing to do with the grammar). Target <= 1.2.

    python -m benchmarks.rows --device cpu --model smollm2-135m
    python -m benchmarks.rows --device cuda --model HuggingFaceTB/SmolLM2-1.7B-Instruct --rows 64
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import common
from synthmill.client import Client, text_job
from synthmill.client._common import state_name
from synthmill.common.metrics import Scrape
from synthmill.common.schema import InvalidRow, parse_schema
from synthmill.v1 import gateway_pb2

NAME = "rows"
TARGET_TOKEN_RATIO = 1.2
# The REST prototype's example schema (the demo's CUSTOMER_SCHEMA).
SCHEMA = {"customer_name": "string", "age": "int", "order_value": "float"}
INSTRUCTIONS = "Customers of an online shop."


# --smoke: one round at the smallest sizes
SMOKE = {
    "model": "tiny-llama",
    "rows": 2,
    "server_batch": 2,
    "unconstrained_rows": 1,
    "unconstrained_attempts": 1,
    "early_steps": 4,
}


def _valid(schema, row: Any) -> bool:
    if not isinstance(row, dict):
        return False
    try:
        schema.validate(row)
    except InvalidRow:
        return False
    return True


def parse_loose(text: str) -> Any:
    """What a REST prototype does with free text: skip code fences and prose, decode the first object."""
    start = text.find("{")
    if start < 0:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(text[start:])
    except json.JSONDecodeError:
        return None
    return value


class StepClock:
    """Times `generate` from the inside: a last logits processor stamps each decoding step, so prefill
    (call start → first stamp) and decoding (stamp to stamp, the grammar's mask included) are apart."""

    def __init__(self, model, early_steps: int):
        self.early_steps = early_steps
        self.prefill_s = self.decode_s = self.early_s = 0.0
        self.calls = self.decode_steps = self.early_n = 0
        self.model = model
        self._generate = model.generate

    def __enter__(self) -> StepClock:
        self.model.generate = self._wrapped
        return self

    def __exit__(self, *exc: object) -> None:
        self.model.generate = self._generate

    def _wrapped(self, *args, **kwargs):
        from transformers import LogitsProcessorList

        stamps: list[float] = []

        def stamp(input_ids, scores):
            stamps.append(time.perf_counter())
            return scores

        kwargs["logits_processor"] = LogitsProcessorList([*(kwargs.get("logits_processor") or []), stamp])
        started = time.perf_counter()
        out = self._generate(*args, **kwargs)
        if stamps:
            self.calls += 1
            self.prefill_s += stamps[0] - started
            self.decode_s += stamps[-1] - stamps[0]
            self.decode_steps += len(stamps) - 1
            early = stamps[: self.early_steps + 1]
            self.early_s += early[-1] - early[0]
            self.early_n += len(early) - 1
        return out

    def report(self) -> dict[str, float]:
        return {
            "prefill_ms_per_call": round(1000 * self.prefill_s / max(1, self.calls), 2),
            "decode_ms_per_step": round(1000 * self.decode_s / max(1, self.decode_steps), 2),
            "early_decode_ms_per_step": round(1000 * self.early_s / max(1, self.early_n), 2),
            "decode_steps": self.decode_steps,
        }


class Arm:
    """Totals of one arm over its slices."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.rows = self.valid = self.samples = self.tokens = 0
        self.examples: list[str] = []
        self.made: list[dict] = []

    def report(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "seconds": round(self.seconds, 3),
            "rows": self.rows,
            "valid": self.valid,
            "samples": self.samples,
            "valid_rows_per_s": round(self.valid / self.seconds, 4) if self.seconds else 0.0,
            "valid_row_ratio": round(self.valid / max(1, self.samples), 4),
        }
        if self.tokens:
            out["tokens"] = self.tokens
            out["all_in_ms_per_token"] = round(1000 * self.seconds / self.tokens, 2)
        if self.examples:
            out["example_outputs"] = self.examples
        return {**out, **(extra or {})}


# ---------------------------------------------------------------------------------------------- arms


def service_slice(
    client: Client, text_metrics: Callable[[], Scrape], n: int, seed: int, arm: Arm, args
) -> None:
    """(a): one text job of `n` rows; `text_metrics` reads the text server's metrics."""
    before = text_metrics()
    started = time.perf_counter()
    job = client.submit(text_job(SCHEMA, n, instructions=INSTRUCTIONS, seed=seed, model=args.model))
    job = client.wait(job.id)
    arm.seconds += time.perf_counter() - started
    if job.state != gateway_pb2.JOB_STATE_COMPLETED:
        raise RuntimeError(f"job {job.id} ended {state_name(job.state)}: {job.error}")
    schema = parse_schema(SCHEMA)
    folder = Path(job.output_dir)
    rows = [json.loads(line) for line in (folder / "data.jsonl").read_text().splitlines() if line.strip()]
    arm.rows += len(rows)
    arm.made += rows
    arm.valid += sum(_valid(schema, row) for row in rows)
    # Samples drawn: the rows of every generate call the text server made for this job.
    drawn = "synthmill_text_batch_size_sum"
    arm.samples += int(text_metrics().value(drawn) - before.value(drawn))


class EngineRows:
    """The server's engine, called directly in this process with batch size `batch`."""

    def __init__(self, loaded, args, batch: int):
        from synthmill.text.domain import Sampling
        from synthmill.text.engine import TextEngine
        from synthmill.text.settings import TextSettings

        self.settings = TextSettings(batch_size=batch)
        self.engine = TextEngine(loaded, self.settings)
        self.sampling = Sampling(self.settings.temperature, self.settings.top_p, self.settings.max_new_tokens)
        self.schema = parse_schema(SCHEMA)
        self.accepted: list[dict] = []
        self.args = args

    def rows(self, start: int, count: int, seed: int, arm: Arm, existing: bool = True) -> None:
        """Rows start..start+count-1 as one engine request (with the rows so far as existing rows when
        `existing`, so uniqueness works as in one job)."""
        from synthmill.text.domain import AcceptedRow, RowsJob, RowsTotals
        from synthmill.text.interrupt import Interrupt

        prior = tuple(self.accepted) if existing else ()
        job = RowsJob(self.schema, start, count, seed, INSTRUCTIONS, self.sampling, prior)
        started = time.perf_counter()
        events = list(self.engine.generate_rows(job, Interrupt()))
        arm.seconds += time.perf_counter() - started
        for event in events:
            if isinstance(event, AcceptedRow):
                row = json.loads(event.row_json)
                self.accepted.append(row)
                arm.made.append(row)
                arm.rows += 1
                arm.valid += _valid(self.schema, row)
            elif isinstance(event, RowsTotals):
                arm.samples += event.accepted + event.rejected_duplicates + event.rejected_invalid
                arm.tokens += event.tokens


class PlainRows:
    """(c): plain `generate` with the chat template, parse, validate, retry (bounded)."""

    def __init__(self, loaded, args):
        from synthmill.text.settings import TextSettings

        self.loaded = loaded
        self.settings = TextSettings()
        tok, model = loaded.tokenizer, loaded.model
        self.stop_ids = sorted({tok.eos_token_id, *_as_list(model.generation_config.eos_token_id)})
        self.schema = parse_schema(SCHEMA)
        self.args = args

    def row(self, index: int, arm: Arm) -> None:
        import torch

        from synthmill.common.seeds import sample_seed
        from synthmill.text import prompting

        tok, model, s = self.loaded.tokenizer, self.loaded.model, self.settings
        started = time.perf_counter()
        for attempt in range(self.args.unconstrained_attempts):
            seed = sample_seed(self.args.seed, index, attempt)
            messages = prompting.row_messages(self.schema, INSTRUCTIONS, index, seed)
            enc = tok.apply_chat_template(
                [messages], add_generation_prompt=True, return_dict=True, return_tensors="pt"
            )
            input_ids = enc["input_ids"].to(self.loaded.device)
            torch.manual_seed(seed % 2**63)
            with torch.inference_mode():
                out = model.generate(
                    input_ids=input_ids,
                    attention_mask=enc["attention_mask"].to(self.loaded.device),
                    do_sample=True,
                    temperature=s.temperature,
                    top_p=s.top_p,
                    max_new_tokens=s.max_new_tokens,
                    eos_token_id=self.stop_ids,
                    pad_token_id=tok.pad_token_id,
                )
            new = out[0, input_ids.shape[1] :].cpu()
            stops = torch.isin(new, torch.tensor(self.stop_ids)).nonzero()
            length = int(stops[0]) + 1 if len(stops) else len(new)
            text = tok.decode(new[:length], skip_special_tokens=True)
            arm.tokens += length
            arm.samples += 1
            if len(arm.examples) < 3:
                arm.examples.append(text[:300])
            if _valid(self.schema, parse_loose(text)):
                arm.rows += 1
                arm.valid += 1
                break
        arm.seconds += time.perf_counter() - started


def _as_list(value) -> list[int]:
    if value is None:
        return []
    return [value] if isinstance(value, int) else list(value)


# ---------------------------------------------------------------------------------------------- run


def run(args) -> dict[str, Any]:
    from synthmill.text import loader
    from synthmill.text.settings import TextSettings

    common.set_threads(args.threads)
    loaded = loader.load(args.model, TextSettings(device=args.device))
    a, direct, b, c = Arm(), Arm(), Arm(), Arm()
    batched_rows = EngineRows(loaded, args, args.server_batch)
    engine_rows, plain_rows = EngineRows(loaded, args, 1), PlainRows(loaded, args)
    clock_b = StepClock(loaded.model, args.early_steps)
    clock_c = StepClock(loaded.model, args.early_steps)
    with (
        common.stack(
            NAME,
            text_model=args.model,
            image_model="tiny-sd",
            device=args.device,
            threads=args.threads,
            env={"SYNTHMILL_TEXT_BATCH_SIZE": str(args.server_batch)},
            keep=args.keep_logs,
        ) as s,
        Client(s.gateway_target) as client,
    ):
        pids = common.server_pids(s)
        plain_done = 0
        # Warm-up in this process (the text server warmed up at start): kernels, grammar compiles.
        batched_rows.rows(0, args.server_batch, args.seed - 1, Arm(), existing=False)
        engine_rows.rows(0, 1, args.seed - 1, Arm(), existing=False)
        batched_rows.accepted.clear()
        engine_rows.accepted.clear()
        with common.RssSampler(pids) as sampler:
            for start in range(0, args.rows, args.server_batch):
                n = min(args.server_batch, args.rows - start)
                service_slice(client, lambda: common.scrape(s, "text"), n, args.seed + start, a, args)
                # (a'): the very rows of that job (same seed, indices, batch), without gateway and gRPC
                batched_rows.rows(0, n, args.seed + start, direct, existing=False)
                plain_quota = -(-args.unconstrained_rows * (start + n) // args.rows) - plain_done
                for index in range(start, start + n):
                    with clock_b:
                        engine_rows.rows(index, 1, args.seed, b)
                    if index - start < plain_quota:
                        with clock_c:
                            plain_rows.row(index, c)
                        plain_done += 1
                common.log(
                    f"  rows {start + n}/{args.rows}: (a) {a.seconds:.1f}s, (a') {direct.seconds:.1f}s, "
                    f"(b) {b.seconds:.1f}s, "
                    f"(c) {c.seconds:.1f}s ({c.valid} valid of {c.samples} samples)"
                )
        memory = {k: common.mib(v) for k, v in sampler.peaks.items()}
    arms = {
        "a_service_constrained_batched": a.report(),
        "a_direct_engine_constrained_batched": direct.report(),
        "b_constrained_one_at_a_time": b.report(clock_b.report()),
        "c_unconstrained_one_at_a_time_retry": c.report(clock_c.report()),
    }
    ra, rd, rb, rc = arms.values()
    early_ratio = rb["early_decode_ms_per_step"] / rc["early_decode_ms_per_step"]

    def rate_ratio(x: dict, y: dict) -> float | None:
        return round(x["valid_rows_per_s"] / y["valid_rows_per_s"], 3) if y["valid_rows_per_s"] else None

    return {
        "description": "valid rows/s: constrained + batched through the stack, constrained one at a time "
        "(the engine, batch 1), unconstrained one at a time with parse-and-retry (the REST prototype)",
        "machine": common.machine(),
        "params": {
            "model": args.model,
            "device": str(loaded.device),
            "dtype": loaded.card.dtype,
            "rows_per_arm": {"a": args.rows, "b": args.rows, "c": args.unconstrained_rows},
            "schema": SCHEMA,
            "instructions": INSTRUCTIONS,
            "seed": args.seed,
            "sampling": "server defaults: temperature 0.9, top_p 0.95, max_new_tokens 256",
            "server_batch": args.server_batch,
            "engine_max_attempts": engine_rows.settings.max_attempts,
            "unconstrained_attempts": args.unconstrained_attempts,
            "early_steps": args.early_steps,
            "torch_threads": {
                "service": f"SYNTHMILL_TEXT_THREADS={args.threads}" if args.threads else "torch default",
                "in_process": f"torch.set_num_threads({args.threads})" if args.threads else "torch default",
            },
            "interleaving": f"a job of {args.server_batch} rows, then those rows for (b) and the first of them for (c), row by row",
        },
        "arms": arms,
        "ratios": {
            "stack_overhead_wall_a_over_a_direct": round(ra["seconds"] / rd["seconds"], 3),
            "rows_identical_a_and_a_direct": f"{sum(x == y for x, y in zip(a.made, direct.made, strict=False))} of {len(a.made)}",
            "valid_rows_per_s_a_over_b": rate_ratio(ra, rb),
            "valid_rows_per_s_a_over_c": rate_ratio(ra, rc),
            "valid_rows_per_s_b_over_c": rate_ratio(rb, rc),
            "time_per_token_constrained_over_unconstrained": round(early_ratio, 3),
            "decode_step_all_lengths_constrained_over_unconstrained": round(
                rb["decode_ms_per_step"] / rc["decode_ms_per_step"], 3
            ),
            "all_in_time_per_token_constrained_over_unconstrained": round(
                rb["all_in_ms_per_token"] / rc["all_in_ms_per_token"], 3
            ),
        },
        "target": f"decode time per token (first {args.early_steps} steps of each sample) constrained / "
        f"unconstrained <= {TARGET_TOKEN_RATIO}",
        "met": early_ratio <= TARGET_TOKEN_RATIO,
        "server_peak_rss_mib_during_a": memory,
    }


def summary(result: dict[str, Any]) -> list[list[str]]:
    a, d, b, c = result["arms"].values()
    r = result["ratios"]

    def arm(x) -> str:
        return f"{x['valid_rows_per_s']:.3f} rows/s; {x['valid']} valid of {x['samples']} samples ({x['valid_row_ratio']:.2f})"

    return [
        common.row(NAME, "(a) constrained, batched, via stack", arm(a)),
        common.row(
            NAME,
            "(a) stack / (a') same rows from the engine in-process, wall",
            f"{r['stack_overhead_wall_a_over_a_direct']:.3f} ({a['seconds']:.1f}s / {d['seconds']:.1f}s)",
        ),
        common.row(NAME, "(b) constrained, 1 at a time (engine)", arm(b)),
        common.row(NAME, "(c) unconstrained + parse/retry, 1 at a time", arm(c)),
        common.row(
            NAME,
            "valid rows/s ratios a/b, a/c, b/c",
            ", ".join(
                "n/a" if r[key] is None else f"{r[key]}x"
                for key in (
                    "valid_rows_per_s_a_over_b",
                    "valid_rows_per_s_a_over_c",
                    "valid_rows_per_s_b_over_c",
                )
            ),
        ),
        common.row(
            NAME,
            f"time/token constrained / unconstrained ({b['early_decode_ms_per_step']} / "
            f"{c['early_decode_ms_per_step']} ms/step)",
            f"{r['time_per_token_constrained_over_unconstrained']:.3f}",
            f"<= {TARGET_TOKEN_RATIO}",
            result["met"],
        ),
    ]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.parser(NAME, __doc__, "text")
    p.add_argument("--rows", type=int, default=16, help="rows per arm (default 16)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--unconstrained-rows",
        type=int,
        default=8,
        help="rows asked of (c) (default 8: an unconstrained sample runs ~10 s on CPU and most fail)",
    )
    p.add_argument(
        "--unconstrained-attempts", type=int, default=3, help="samples per row in (c) before giving up"
    )
    p.add_argument(
        "--server-batch", type=int, default=8, help="SYNTHMILL_TEXT_BATCH_SIZE for (a) (default 8)"
    )
    p.add_argument(
        "--early-steps", type=int, default=16, help="decode steps per sample compared for time/token"
    )
    args = common.parse(p, argv, SMOKE)
    result = run(args)
    return common.finish(args.results_dir, NAME, result, summary(result))


if __name__ == "__main__":
    main()
