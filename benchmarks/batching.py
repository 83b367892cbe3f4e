"""Batching gain: 16 concurrent single-image jobs with dynamic batching on (max batch 8) and off (1).

Service arms: two stacks side by side, identical except `SYNTHMILL_IMAGE_MAX_BATCH` (8 and 1). Each
round submits `--jobs` one-image jobs at once through `AsyncClient` and times until all are COMPLETED.
The gateway keeps its defaults (8 jobs running at once, the rest queued), as a user gets them, unless
--gateway-max-jobs says otherwise (with 8, the 16 jobs run in two waves of 8).

Baseline arms: the same pipeline in this process over the same images and seeds, `--batch` prompts per
call against one per call. The gain is time(batch 1) / time(batch 8) on each side; the service keeps
`service gain / bare gain` of the pipeline's own gain (target >= 0.90).

    python -m benchmarks.batching --device cpu --model tiny-sd
    python -m benchmarks.batching --device cuda --model stable-diffusion-v1-5/stable-diffusion-v1-5 --size 512 --steps 20
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import common, images
from synthmill.client import AsyncClient
from synthmill.client._common import state_name
from synthmill.v1 import gateway_pb2

NAME = "batching"
TARGET = 0.90


async def _jobs(target: str, args) -> float:
    async with AsyncClient(target) as client:
        started = time.perf_counter()
        jobs = await asyncio.gather(
            *(client.submit(images.spec_for(args, args.model, 1, args.seed + i)) for i in range(args.jobs))
        )
        done = await asyncio.gather(*(client.wait(job.id) for job in jobs))
        seconds = time.perf_counter() - started
    bad = [j for j in done if j.state != gateway_pb2.JOB_STATE_COMPLETED]
    if bad:
        raise RuntimeError(f"job {bad[0].id} ended {state_name(bad[0].state)}: {bad[0].error}")
    return seconds


# --smoke: one round at the smallest sizes
SMOKE = {"rounds": 1, "images": 1, "steps": 1, "jobs": 2, "batch": 2}


def run(args) -> dict[str, Any]:
    n = args.jobs
    prompts = [images.PROMPTS[0]] * n  # each one-image job renders prompt 0 with seed args.seed + i
    seeds = [args.seed + i for i in range(n)]
    loaded = images.bare_pipeline(args.model, args.device, args.threads)
    scratch = Path(tempfile.mkdtemp(prefix="synthmill-bench-bare-"))
    rounds = common.Rounds()
    gateway_env = (
        {"SYNTHMILL_GATEWAY_MAX_CONCURRENT_JOBS": str(args.gateway_max_jobs)} if args.gateway_max_jobs else {}
    )
    try:
        with contextlib.ExitStack() as stacks:
            s = {
                b: stacks.enter_context(
                    common.stack(
                        f"{NAME}-max{b}",
                        image_model=args.model,
                        device=args.device,
                        threads=args.threads,
                        env={"SYNTHMILL_IMAGE_MAX_BATCH": str(b), **gateway_env},
                        keep=args.keep_logs,
                    )
                )
                for b in (args.batch, 1)
            }
            for stack in s.values():  # warm-up at the measured shapes
                asyncio.run(_jobs(stack.gateway_target, args))
            for b in (args.batch, 1):
                images.run_bare(loaded, prompts, seeds, args, b, scratch)
            marks = {b: common.scrape(stack, "image") for b, stack in s.items()}
            common.interleaved(
                args.rounds,
                {
                    f"service_batch{args.batch}": lambda: asyncio.run(
                        _jobs(s[args.batch].gateway_target, args)
                    ),
                    "service_batch1": lambda: asyncio.run(_jobs(s[1].gateway_target, args)),
                    f"bare_batch{args.batch}": lambda: images.run_bare(
                        loaded, prompts, seeds, args, args.batch, scratch
                    ),
                    "bare_batch1": lambda: images.run_bare(loaded, prompts, seeds, args, 1, scratch),
                },
                rounds,
            )
            seen = {
                b: common.image_batches(marks[b], common.scrape(stack, "image")) for b, stack in s.items()
            }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    b = args.batch
    service_gain = rounds.ratio("service_batch1", f"service_batch{b}")
    bare_gain = rounds.ratio("bare_batch1", f"bare_batch{b}")
    kept = service_gain["ratio_of_medians"] / bare_gain["ratio_of_medians"]
    per_round_kept = [
        round(x / y, 4) for x, y in zip(service_gain["round_ratios"], bare_gain["round_ratios"], strict=True)
    ]
    return {
        "description": f"{n} concurrent one-image jobs, server max batch {b} vs 1, against the bare "
        f"pipeline's own batch-{b} vs batch-1 gain",
        "machine": common.machine(),
        "params": {
            "model": args.model,
            "device": str(loaded.device),
            "jobs": n,
            "size": f"{args.size}x{args.size}",
            "steps": args.steps,
            "guidance": args.guidance,
            "rounds": args.rounds,
            "torch_threads": args.threads or "torch default",
            "gateway_max_concurrent_jobs": args.gateway_max_jobs or "default (8)",
            "image_batch_delay_ms": "default (20)",
        },
        "times": rounds.as_dict(),
        "service_gain": service_gain,
        "bare_gain": bare_gain,
        "kept_fraction": round(kept, 4),
        "kept_fraction_per_round": per_round_kept,
        "target": f"service gain / bare gain >= {TARGET}",
        "met": kept >= TARGET,
        "server_batch_sizes": {
            f"max{b}": {
                "batches": seen[b]["batches"],
                "mean_items": round(seen[b]["items"] / max(1, seen[b]["batches"]), 2),
                "by_size": seen[b]["by_size"],
            },
            "max1": {"batches": seen[1]["batches"]},
        },
    }


def summary(result: dict[str, Any]) -> list[list[str]]:
    sg, bg = result["service_gain"]["ratio_of_medians"], result["bare_gain"]["ratio_of_medians"]
    mean = next(iter(result["server_batch_sizes"].values()))["mean_items"]
    return [
        common.row(
            NAME,
            f"batch gain kept by the service (service {sg:.2f}x / bare {bg:.2f}x; mean batch {mean})",
            f"{result['kept_fraction']:.3f}",
            f">= {TARGET}",
            result["met"],
        )
    ]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.parser(NAME, __doc__, "image")
    images.add_image_flags(p)
    p.set_defaults(rounds=8)
    p.add_argument("--jobs", type=int, default=16, help="concurrent one-image jobs (default 16)")
    p.add_argument("--batch", type=int, default=8, help="the batched arm's max batch (default 8)")
    p.add_argument(
        "--gateway-max-jobs",
        type=int,
        default=0,
        help="SYNTHMILL_GATEWAY_MAX_CONCURRENT_JOBS for both stacks (default: the gateway's own, 16)",
    )
    args = common.parse(p, argv, SMOKE)
    result = run(args)
    return common.finish(args.results_dir, NAME, result, summary(result))


if __name__ == "__main__":
    main()
