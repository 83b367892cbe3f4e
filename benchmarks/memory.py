"""Memory: resident set of each server of the stack, idle and under load.

The stack runs the default models (smollm2-135m, tiny-sd). Figures per server, in MiB:
- startup peak: VmHWM once SERVING (loading and warm-up included);
- idle: RSS after start-up, split into anonymous memory and file-backed pages (the text model's
  safetensors file is memory-mapped, so its weights count as file pages, shared with the page cache);
- under load: the largest RSS sampled every 50 ms while a text job and an image job run at once, and
  VmHWM after them;
- judges: what loading each of the image server's judges adds to a process's RSS, and what the idle
  server pays for them lazy (`judge_costs`).

    python -m benchmarks.memory --device cpu
    python -m benchmarks.memory --device cuda --text-model HuggingFaceTB/SmolLM2-1.7B-Instruct --model stable-diffusion-v1-5/stable-diffusion-v1-5 --size 512
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks import common, judge_costs
from synthmill.client import Client, image_job, text_job
from synthmill.client._common import state_name
from synthmill.v1 import gateway_pb2

NAME = "memory"
SCHEMA = {"customer_name": "string", "age": "int", "order_value": "float"}


# --smoke: one round at the smallest sizes
SMOKE = {"text_model": "tiny-llama", "rows": 1, "images": 2, "steps": 1}


def run(args) -> dict[str, Any]:
    with (
        common.stack(
            NAME,
            text_model=args.text_model,
            image_model=args.model,
            device=args.device,
            threads=args.threads,
            keep=args.keep_logs,
        ) as s,
        Client(s.gateway_target) as client,
    ):
        pids = common.server_pids(s)
        time.sleep(1.0)  # let start-up garbage settle
        idle = {k: common.proc_status(pid) for k, pid in pids.items()}
        with common.RssSampler(pids) as sampler:
            started = time.perf_counter()
            jobs = [
                client.submit(text_job(SCHEMA, args.rows, seed=1)),
                client.submit(
                    image_job(
                        "a red bicycle leaning on a brick wall",
                        args.images,
                        model=args.model,
                        size=(args.size, args.size),
                        steps=args.steps,
                        seed=1,
                    )
                ),
            ]
            done = [client.wait(job.id) for job in jobs]
            seconds = time.perf_counter() - started
        after = {k: common.proc_status(pid) for k, pid in pids.items()}
    bad = [j for j in done if j.state != gateway_pb2.JOB_STATE_COMPLETED]
    if bad:
        raise RuntimeError(f"job {bad[0].id} ended {state_name(bad[0].state)}: {bad[0].error}")
    servers = {
        k: {
            "startup_peak_mib": idle[k].get("VmHWM"),
            "idle_rss_mib": idle[k].get("VmRSS"),
            "idle_anon_mib": idle[k].get("RssAnon"),
            "idle_file_mib": idle[k].get("RssFile"),
            "load_peak_sampled_mib": common.mib(sampler.peaks[k]),
            "load_peak_vmhwm_mib": after[k].get("VmHWM"),
            "after_load_rss_mib": after[k].get("VmRSS"),
        }
        for k in pids
    }
    return {
        "description": "resident memory of each server: start-up peak, idle, and peak under a text job and "
        "an image job running at once",
        "machine": common.machine(),
        "params": {
            "text_model": args.text_model,
            "image_model": args.model,
            "device": args.device,
            "load": f"text job of {args.rows} rows + image job of {args.images} images {args.size}x{args.size}, "
            f"{args.steps} steps, at once",
            "load_seconds": round(seconds, 2),
            "torch_threads": args.threads or "torch default",
        },
        "servers": servers,
        "judges": judge_costs.costs("cpu" if args.device == "auto" else args.device),
    }


def summary(result: dict[str, Any]) -> list[list[str]]:
    return [
        common.row(
            NAME,
            f"{kind} RSS: idle (anon+file) / start-up peak / load peak",
            f"{m['idle_rss_mib']:.0f} ({m['idle_anon_mib']:.0f}+{m['idle_file_mib']:.0f}) / "
            f"{m['startup_peak_mib']:.0f} / {max(m['load_peak_sampled_mib'], m['load_peak_vmhwm_mib']):.0f} MiB",
        )
        for kind, m in result["servers"].items()
    ] + [
        common.row(
            NAME,
            "image judges loaded: " + ", ".join(j for j in judge_costs.JUDGES),
            " / ".join(f"{result['judges'][f'{j}_mib']:.0f}" for j in judge_costs.JUDGES)
            + f" MiB; all lazy: {result['judges']['all_lazy_mib']:.0f} MiB",
        )
    ]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.parser(NAME, __doc__, "image")
    p.add_argument("--text-model", default="smollm2-135m", help="text model (default smollm2-135m)")
    p.add_argument("--rows", type=int, default=8)
    p.add_argument("--images", type=int, default=16)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--steps", type=int, default=8)
    args = common.parse(p, argv, SMOKE)
    result = run(args)
    return common.finish(args.results_dir, NAME, result, summary(result))


if __name__ == "__main__":
    main()
