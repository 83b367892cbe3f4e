"""Runs gpu-check (see the package docstring); exits 2 when CUDA cannot run, 1 when a check failed."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from pathlib import Path

from tools.gpu_check import environment
from tools.gpu_check.report import Report, line

PARTS = ("families", "servers", "figures", "tests")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.gpu_check", description=(__package__ or "gpu_check"))
    p.add_argument(
        "--models", default="tiny-sd,tiny-sdxl,tiny-sd3", help="image models for the family checks"
    )
    p.add_argument(
        "--sd15", default="stable-diffusion-v1-5/stable-diffusion-v1-5", help="SD 1.5 for images/s"
    )
    p.add_argument("--text-model", default="smollm2-135m", help="text model for the servers and rows/s")
    p.add_argument("--server-image-model", default="tiny-sd", help="image model of the servers check")
    p.add_argument("--device", default="cuda", help="cuda or cuda:N")
    p.add_argument("--steps", type=int, default=20, help="steps of the family checks")
    p.add_argument("--batch", type=int, default=4, help="batch of the images/s figure")
    p.add_argument("--rows", type=int, default=32, help="rows of the rows/s figure")
    p.add_argument("--skip", default="", help=f"comma-separated parts to leave out: {', '.join(PARTS)}")
    p.add_argument("--out", type=Path, default=Path("."), help="where the sample images go")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    host = environment.Host.probe()
    for what, value in environment.describe(host):
        line(what, value)
    stop = environment.problem(host)
    if stop:
        line("CUDA", f"FAILED: {stop}")
        return 2
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    report = Report()
    if "families" not in skip:
        from tools.gpu_check import determinism, families

        for name in args.models.split(","):
            families.check(report, name.strip(), args.device, args.steps, args.out)
            determinism.check(report, name.strip(), args.device)
    if "servers" not in skip:
        from tools.gpu_check import servers

        servers.check(report, args.text_model, args.server_image_model, args.device)
    if "figures" not in skip:
        from tools.gpu_check import figures

        figures.check(report, args.sd15, args.text_model, args.device, args.batch, args.rows)
        line("figures", figures.write_figures(report, host))
    if "tests" not in skip:
        report.check("pytest -m gpu (SYNTHMILL_REQUIRE_GPU=1)", _gpu_tests)
    if report.failed:
        line("gpu-check", f"FAILED: {len(report.failed)} check(s): {', '.join(report.failed)}")
        return 1
    line("gpu-check", "every check passed")
    return 0


def _gpu_tests() -> str:
    env = {**os.environ, "SYNTHMILL_REQUIRE_GPU": "1"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "gpu", "-rs"], env=env, check=False)
    if done.returncode:
        raise AssertionError(f"pytest -m gpu exited {done.returncode}")
    return "every gpu test passed"


if __name__ == "__main__":
    sys.exit(main())
