"""Replicas: one text job over two text replicas against the same job over one.

Two text servers run (one torch thread each, so on a 2-core machine each has a core), each in a
session of its own (see `Server`). One gateway
dials replica A only, another dials A and B; both keep `SYNTHMILL_GATEWAY_ROW_REQUESTS_IN_FLIGHT`
row requests in flight. The same seeded job of --rows rows goes to each gateway in turn,
interleaved over --rounds rounds, timed by the job's own `started_at`/`finished_at` (read with
GetJob, not from logs). The headline is time(one replica) / time(two replicas); target >= 1.7.
Every run's rows are compared: a seeded job must make the same rows over one replica or two.

    python -m benchmarks.replicas --device cpu --model smollm2-135m
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import common
from synthmill.client import Client, text_job
from synthmill.client.stack import free_port
from synthmill.common.probe import is_serving
from synthmill.v1 import gateway_pb2

SCHEMA = {"customer_name": "string", "age": "int", "order_value": "float"}
INSTRUCTIONS = "orders from a German bicycle shop"
TARGET = 1.7


class Server:
    """One real server process on a free loopback port."""

    def __init__(self, kind: str, env: dict[str, str], work: Path):
        self.port = free_port()
        self.target = f"127.0.0.1:{self.port}"
        prefix = f"SYNTHMILL_{kind.upper()}_"
        env = {**os.environ, f"{prefix}HOST": "127.0.0.1", f"{prefix}PORT": str(self.port), **env}
        log = open(work / f"{kind}-{self.port}.log", "wb")
        # A session of its own: Linux's scheduler autogroups give each session one share of the CPU,
        # so replicas in one session would split one share instead of each having one, as separate
        # machines do.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", f"synthmill.{kind}"],
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )

    def wait_serving(self, timeout_s: float = 600.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not is_serving(self.target, timeout=2.0):
            if self.proc.poll() is not None:
                raise RuntimeError(f"server on {self.target} exited with {self.proc.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.target} not SERVING after {timeout_s:.0f}s")
            time.sleep(0.5)  # the next health poll

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)


# --smoke: one round at the smallest sizes
SMOKE = {"model": "tiny-llama", "rows": 2, "rounds": 1, "in_flight": 2}


def run_job(target: str, rows: int, seed: int, model: str) -> tuple[float, list[dict]]:
    """Seconds from RUNNING to COMPLETED by the job's own clock, and its rows."""
    with Client(target, timeout=600) as client:
        job = client.submit(text_job(SCHEMA, rows, instructions=INSTRUCTIONS, seed=seed, model=model))
        job = client.wait(job.id)
    if job.state != gateway_pb2.JOB_STATE_COMPLETED:
        raise RuntimeError(f"job {job.id}: {job.error}")
    seconds = (job.finished_at.ToNanoseconds() - job.started_at.ToNanoseconds()) / 1e9
    lines = (Path(job.output_dir) / "data.jsonl").read_text().splitlines()
    return seconds, [json.loads(line) for line in lines]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.parser("replicas", __doc__, "text", model_help="text model of both replicas")
    p.add_argument("--rows", type=int, default=32, help="rows per job")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    p.add_argument("--in-flight", type=int, default=4, help="row requests one job keeps in flight")
    args = common.parse(p, argv, SMOKE)
    work = Path(tempfile.mkdtemp(prefix="synthmill-bench-replicas-"))
    text_env = {
        "SYNTHMILL_TEXT_MODEL": args.model,
        "SYNTHMILL_TEXT_DEVICE": args.device,
        "SYNTHMILL_TEXT_THREADS": str(args.threads),
    }
    replicas = [Server("text", text_env, work) for _ in range(2)]
    gateways = {}
    try:
        for name, targets in (("one", replicas[:1]), ("two", replicas)):
            env = {
                "SYNTHMILL_GATEWAY_TEXT_TARGET": ",".join(r.target for r in targets),
                "SYNTHMILL_GATEWAY_OUTPUT_DIR": str(work / name),
                "SYNTHMILL_GATEWAY_ROW_REQUESTS_IN_FLIGHT": str(args.in_flight),
            }
            gateways[name] = Server("gateway", env, work)
        started = time.monotonic()
        for server in [*replicas, *gateways.values()]:
            server.wait_serving()
        common.log(f"[replicas] servers up in {time.monotonic() - started:.1f}s")
        results, outputs = common.Rounds(), {"one": [], "two": []}

        def arm(name: str):
            def once() -> float:
                seconds, rows = run_job(gateways[name].target, args.rows, 7, args.model)
                outputs[name].append(rows)
                return seconds

            return once

        common.interleaved(args.rounds, {"one": arm("one"), "two": arm("two")}, results)
    finally:
        for server in [*gateways.values(), *replicas]:
            server.stop()
        if not args.keep_logs:
            subprocess.run(["rm", "-rf", str(work)], check=False)
    ratio = results.ratio("one", "two")
    reference = outputs["one"][0]
    same = all(rows == reference for arm_rows in outputs.values() for rows in arm_rows)
    result = {
        "machine": common.machine(),
        "settings": {
            "rows": args.rows,
            "rounds": args.rounds,
            "in_flight": args.in_flight,
            "threads": args.threads,
        },
        "model": args.model,
        "times": results.as_dict(),
        "rows_per_s": {name: round(args.rows / results.median(name), 3) for name in ("one", "two")},
        "speedup_two_vs_one": ratio,
        "same_rows_over_one_or_two_replicas": same,
        "target": TARGET,
    }
    return common.finish(args.results_dir, "replicas", result, summary(result))


def summary(result: dict[str, Any]) -> list[list[str]]:
    speedup = result["speedup_two_vs_one"]["median_of_round_ratios"]
    rates = result["rows_per_s"]
    same = result["same_rows_over_one_or_two_replicas"]
    return [
        common.row("replicas", "rows/s, 1 / 2 text replicas", f"{rates['one']} / {rates['two']}"),
        common.row(
            "replicas", "speedup, 2 replicas vs 1", f"{speedup:.2f}x", f">= {TARGET}", speedup >= TARGET
        ),
        common.row("replicas", "same rows over 1 or 2 replicas", str(same), "True", same),
    ]


if __name__ == "__main__":
    main()
