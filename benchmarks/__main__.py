"""`python -m benchmarks` (`make bench`): runs every benchmark, each in its own process, then prints one
summary table from their JSON results in benchmarks/results/.

    python -m benchmarks                               # CPU, embedded models, 1 torch thread
    python -m benchmarks --only images,batching
    python -m benchmarks --smoke                       # one round at the smallest sizes: do they all run?
    python -m benchmarks --device cuda --threads 0 \\
        --image-model stable-diffusion-v1-5/stable-diffusion-v1-5 --text-model HuggingFaceTB/SmolLM2-360M-Instruct \\
        --extra images:--size=512 --extra images:--steps=20 --extra batching:--size=512 --extra batching:--steps=20
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import time

from benchmarks import common

# name → which model flag it takes from the top-level --image-model / --text-model
BENCHMARKS = {
    "images": "image",
    "batching": "image",
    "rows": "text",
    "replicas": "text",
    "fanout": "image",
    "memory": "image",
    "distributions": "text",
    "http_api": "image",
    "judging": "image",
    "fitting": "text",  # takes --model like the others, uses no model
    "edits": "image",
    "store_scale": "image",  # runs no model: the flag is accepted and unused
    "tables": "text",
    "masking": "text",
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    p.add_argument("--device", default="auto")
    p.add_argument(
        "--threads", type=int, default=1, help="torch threads in servers and baselines (0 = default)"
    )
    p.add_argument("--image-model", help="default: each benchmark's own (tiny-sd)")
    p.add_argument(
        "--text-model", help="default: each benchmark's own (smollm2-135m; tiny-llama with --smoke)"
    )
    p.add_argument("--only", default="", help="comma-separated benchmarks to run (default all)")
    p.add_argument("--skip", default="", help="comma-separated benchmarks to leave out")
    p.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="NAME:FLAG",
        help="a flag for one benchmark, e.g. rows:--rows=32",
    )
    p.add_argument("--results-dir", default=str(common.RESULTS_DIR))
    p.add_argument(
        "--smoke", action="store_true", help="each benchmark once at its smallest sizes (checks they run)"
    )
    args = p.parse_args(argv)
    only = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    skip = {n for n in args.skip.split(",") if n}
    unknown = (set(only) | skip) - set(BENCHMARKS)
    if unknown:
        p.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}; have {', '.join(BENCHMARKS)}")
    names = [n for n in only if n not in skip]

    rows: list[list[str]] = []
    failed: list[str] = []
    durations: dict[str, float] = {}
    started = time.monotonic()
    for name in names:
        model = args.image_model if BENCHMARKS[name] == "image" else args.text_model
        cmd = [
            sys.executable, "-m", f"benchmarks.{name}",
            "--device", args.device, "--threads", str(args.threads), "--results-dir", args.results_dir,
        ]  # fmt: skip
        if model:
            cmd += ["--model", model]
        if name == "memory" and args.text_model:
            cmd += ["--text-model", args.text_model]
        if args.smoke:
            cmd.append("--smoke")
        cmd += [flag.split(":", 1)[1] for flag in args.extra if flag.split(":", 1)[0] == name]
        common.log(f"\n=== {name}: {' '.join(cmd[1:])}")
        t = time.monotonic()
        code = subprocess.run(cmd, check=False).returncode
        durations[name] = time.monotonic() - t
        if code != 0:
            failed.append(name)
            rows.append([name, "FAILED", f"exit code {code}", "", ""])
            continue
        module = importlib.import_module(f"benchmarks.{name}")
        with open(f"{args.results_dir}/{name}.json") as handle:
            rows.extend(module.summary(json.load(handle)))

    total = time.monotonic() - started
    print()
    print(common.table(rows, common.SUMMARY_HEADER))
    print(
        f"\n{len(names)} benchmarks in {total / 60:.1f} min ("
        + ", ".join(f"{n} {s:.0f}s" for n, s in durations.items())
        + f"); JSON in {args.results_dir}/"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
