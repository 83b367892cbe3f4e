"""The GPU acceptance rules, on this CPU-only machine: with SYNTHMILL_REQUIRE_GPU=1 (as `make gpu-check`
sets it) a skipped `gpu` test fails the run, and gpu-check itself stops non-zero on a CPU-only torch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# One gpu test that skips here at collection (no CUDA), without loading a model.
GPU_TEST = "tests/test_gpu.py::test_auto_and_bare_cuda_bind_the_worker_thread_to_device_0"


def _pytest(*args: str, require: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SYNTHMILL_REQUIRE_GPU"}
    if require is not None:
        env["SYNTHMILL_REQUIRE_GPU"] = require
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the rule where CUDA is missing")
def test_a_skipped_gpu_test_fails_the_run_when_a_gpu_is_required() -> None:
    plain = _pytest("-m", "gpu", GPU_TEST, require=None)
    assert plain.returncode == 0 and "1 skipped" in plain.stdout, plain.stdout[-2000:]
    required = _pytest("-m", "gpu", GPU_TEST, require="1")
    assert required.returncode == 1, required.stdout[-2000:]
    assert "1 error" in required.stdout  # the skip came at set-up: pytest counts it as an error
    assert "SYNTHMILL_REQUIRE_GPU=1 and this gpu test skipped: needs a CUDA device" in required.stdout
