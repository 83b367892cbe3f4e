"""Masking: the grammar mask's cost per decoding step against unconstrained decoding, in process.

Three arms decode the same batch of row prompts (the text engine's own prompts and grammar for the
REST prototype's customer schema, batch --batch, --steps steps, the same per-row seeds), each with
the engine's `RowSampler` as the last logits processor:
- free: no grammar mask (unconstrained decoding);
- host: `GrammarMask` on the host (the logits copied to the CPU as float32, xgrammar's CPU kernel);
- device: `GrammarMask(on_device=True)` and the sampler on the model's device
  (SYNTHMILL_TEXT_MASK_ON_DEVICE; on a CPU-only host that device is the CPU).
A stamping processor after the sampler times every decoding step; each arm's figure is the mean step
time of its call, and the arms take turns round by round. Target: host / free <= 1.05.

    python -m benchmarks.masking --device cpu --model smollm2-135m
    python -m benchmarks.masking --device cuda --model Qwen/Qwen2.5-1.5B-Instruct --threads 0
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks import common

NAME = "masking"
TARGET = 1.05
SCHEMA = {"customer_name": "string", "age": "int", "order_value": "float"}  # the REST prototype's
# --smoke: one round at the smallest sizes
SMOKE = {"model": "tiny-llama", "batch": 2, "steps": 4, "rounds": 1}


def run(args) -> dict[str, Any]:
    import torch
    from transformers import GenerationConfig, LogitsProcessorList

    from synthmill.common.schema import parse_schema
    from synthmill.common.seeds import sample_seed
    from synthmill.text import loader, prompting
    from synthmill.text.engine import TextEngine
    from synthmill.text.masking import GrammarMask
    from synthmill.text.sampling import RowSampler
    from synthmill.text.settings import TextSettings

    common.set_threads(args.threads)
    settings = TextSettings(model=args.model, device=args.device, threads=args.threads)
    loaded = loader.load(args.model, settings)
    engine = TextEngine(loaded, settings)
    schema = parse_schema(SCHEMA)
    compiled = engine.compile_rows(schema)
    seeds = [sample_seed(args.seed, i, 0) for i in range(args.batch)]
    conversations = [prompting.row_messages(schema, "", i, s, {}) for i, s in enumerate(seeds)]
    enc = loaded.tokenizer.apply_chat_template(
        conversations, add_generation_prompt=True, padding=True, return_dict=True, return_tensors="pt"
    )
    inputs = {k: v.to(loaded.device) for k, v in enc.items()}
    config = GenerationConfig(
        do_sample=False, max_new_tokens=args.steps, eos_token_id=engine._stop_ids,
        pad_token_id=loaded.tokenizer.pad_token_id,
    )  # fmt: skip
    steps_seen: dict[str, list[int]] = {}
    tokens: dict[str, list[list[int]]] = {}  # each arm's last output: host and device must agree

    def arm(name: str):
        def go() -> float:
            stamps: list[float] = []

            def stamp(_ids, scores):
                stamps.append(time.perf_counter())
                return scores

            on_device = name == "device"
            sampler = RowSampler(seeds, 0.9, 0.95, loaded.device, on_device)
            mask = [] if name == "free" else [GrammarMask([compiled] * args.batch, (), on_device)]
            with torch.inference_mode():
                out = loaded.model.generate(
                    **inputs, generation_config=config,
                    logits_processor=LogitsProcessorList([*mask, sampler, stamp]),
                )  # fmt: skip
            tokens[name] = out.tolist()
            steps_seen.setdefault(name, []).append(len(stamps) - 1)
            return (stamps[-1] - stamps[0]) / max(1, len(stamps) - 1)

        return go

    for name in ("free", "host", "device"):  # warm-up: lazy initialisation, grammar caches
        arm(name)()

    steps_seen.clear()
    rounds = common.Rounds()
    common.interleaved(args.rounds, {name: arm(name) for name in ("free", "host", "device")}, rounds)
    host, device = rounds.ratio("host", "free"), rounds.ratio("device", "free")
    return {
        "description": "time per decoding step with the grammar mask (host or device) over unconstrained "
        "decoding, same prompts, seeds and sampler",
        "machine": common.machine(),
        "params": {
            "model": args.model,
            "device": str(loaded.device),
            "dtype": str(loaded.dtype),
            "batch": args.batch,
            "steps": args.steps,
            "rounds": args.rounds,
            "torch_threads": args.threads,
            "vocabulary": int(loaded.model.config.vocab_size),
        },
        "decode_steps_per_call": steps_seen,
        "same_tokens_host_and_device": tokens["host"] == tokens["device"],
        "rounds_seconds_per_step": rounds.as_dict(),
        "ratios": {"host_over_free": host, "device_over_free": device},
        "target": f"step time host / free <= {TARGET}",
        "met": host["median_of_round_ratios"] <= TARGET,
    }


def summary(result: dict[str, Any]) -> list[list[str]]:
    ratios = result["ratios"]
    host, device = ratios["host_over_free"], ratios["device_over_free"]
    return [
        common.row(NAME, "step time, mask on host / unconstrained", f"{host['median_of_round_ratios']}",
                   f"<= {TARGET}", host["median_of_round_ratios"] <= TARGET),
        common.row(NAME, "step time, mask on device / unconstrained", f"{device['median_of_round_ratios']}"),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = common.parser(NAME, __doc__, "text")
    p.add_argument("--batch", type=int, default=8, help="rows decoded together (the server's batch_size)")
    p.add_argument("--steps", type=int, default=24, help="decoding steps per call")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--seed", type=int, default=100)
    args = common.parse(p, argv, SMOKE)
    result = run(args)
    common.finish(args.results_dir, NAME, result, summary(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
