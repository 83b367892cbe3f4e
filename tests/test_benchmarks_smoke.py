"""Every benchmark runs once at its smallest sizes (`--smoke`), so one that crashes fails the suite.

Each goes through `python -m benchmarks --smoke --only NAME` (the runner `make bench` uses) in a
subprocess; its JSON result must load, give its summary rows, and hold the checks it makes of what the
stack produced. Times are not checked: these are runs, not measurements.
"""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.__main__ import BENCHMARKS

REPO = Path(__file__).resolve().parent.parent

# What a benchmark's result says about the stack's output, besides its times: these must hold.
CHECKS = {
    "images": lambda r: r["all_files_written"],
    "fanout": lambda r: all(
        r[w]["every_watcher_got_every_stored_event_in_order"] for w in ("one_watcher", "many_watchers")
    ),
    "replicas": lambda r: r["same_rows_over_one_or_two_replicas"],
    "rows": lambda r: len(set(r["ratios"]["rows_identical_a_and_a_direct"].split(" of "))) == 1,
    "masking": lambda r: r["same_tokens_host_and_device"],
}


@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_every_benchmark_has_smoke_sizes_and_reads_them(name: str) -> None:
    """`--smoke` is every benchmark's flag (common.parser); a benchmark that declares no `SMOKE` or parses
    its flags without `common.parse` would ignore it and run at full size in the suite."""
    module = importlib.import_module(f"benchmarks.{name}")
    assert isinstance(getattr(module, "SMOKE", None), dict), f"benchmarks/{name}.py declares no SMOKE"
    assert "common.parse(p, argv, SMOKE)" in inspect.getsource(module), (
        f"benchmarks/{name}.py ignores --smoke"
    )


@pytest.mark.e2e
@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_benchmark_runs(name: str, tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--device", "cpu", "--only", name,
         "--results-dir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-4000:] + run.stdout[-2000:]
    result = json.loads((tmp_path / f"{name}.json").read_text())
    assert result["benchmark"] == name
    rows = importlib.import_module(f"benchmarks.{name}").summary(result)
    assert rows and all(len(row) == 5 for row in rows)
    if name in CHECKS:
        assert CHECKS[name](result), json.dumps(result, indent=1)[:4000]
