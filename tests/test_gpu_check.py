"""gpu-check on this CPU-only machine: it stops non-zero saying the torch is CPU-only, its verdicts on
other hosts (told, not probed), and its checks' own code run on the CPU with the tiny models, so what
it runs on a GPU host has run before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from synthmill.runtime.devices import CudaState
from tools.gpu_check import environment, families, servers
from tools.gpu_check.environment import Host
from tools.gpu_check.report import Report

ROOT = Path(__file__).resolve().parents[1]
CUDA_13 = CudaState(built="13.0", available=False, count=0)


@pytest.mark.skipif(torch.version.cuda is not None, reason="this torch is a CUDA build")
def test_gpu_check_exits_non_zero_saying_the_torch_is_cpu_only() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tools.gpu_check"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "FAILED: CPU-only torch" in done.stdout and "make venv-gpu" in done.stdout


@pytest.mark.parametrize(
    ("host", "says"),
    [
        (Host("2.13.0+cpu", CudaState(None, False, 0), None), "CPU-only torch (2.13.0+cpu)"),
        (Host("2.13.0", CUDA_13, None), "no NVIDIA driver: libcuda.so.1 does not load"),
        (
            Host("2.13.0", CUDA_13, 12040, driver="550.54.15"),
            "driver too old: the NVIDIA driver 550.54.15 supports CUDA 12.4, torch 2.13.0 is built for "
            "CUDA 13.0; install driver ≥ 580.65.06",
        ),
        (Host("2.13.0", CUDA_13, 13000), "CUDA unusable: torch 2.13.0 is built for CUDA 13.0"),
    ],
)
def test_what_stops_cuda_is_said_plainly(host: Host, says: str) -> None:
    assert says in environment.problem(host)


def test_a_host_whose_cuda_answers_has_no_problem() -> None:
    assert environment.problem(Host("2.13.0", CudaState("13.0", True, 1), 13000)) is None


@pytest.mark.e2e
def test_the_oom_split_check_runs_through_the_real_batcher(capsys) -> None:
    torch.set_num_threads(1)  # the CPU is shared with other test processes
    report = Report()
    report.check("split", families._oom_split, "tiny-sd", "cpu")
    assert not report.failed, capsys.readouterr().out
    assert "all 3 made" in capsys.readouterr().out


@pytest.mark.e2e
def test_the_servers_check_runs_its_jobs_on_a_real_stack(capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SYNTHMILL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SYNTHMILL_TEXT_THREADS", "1")
    monkeypatch.setenv("SYNTHMILL_IMAGE_THREADS", "1")
    report = Report()
    servers.check(report, "tiny-llama", "tiny-sd", "cpu", expect=("cpu", ("float32",)))
    out = capsys.readouterr().out
    assert not report.failed, out
    assert out.count(" ok") == 5 and "images on cpu, float32" in out


def test_make_venv_gpu_installs_the_pinned_torch_from_the_cuda_index_then_checks_cuda() -> None:
    pin = next(line for line in (ROOT / "pyproject.toml").read_text().splitlines() if '"torch==' in line)
    steps = subprocess.run(
        ["make", "--no-print-directory", "-n", "venv-gpu"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    torch_step = next(step for step in steps.splitlines() if "--index-url" in step)
    assert pin.strip().strip(",") in torch_step and "https://download.pytorch.org/whl/cu130" in torch_step
    assert steps.index("--index-url") < steps.index("-e '.[dev]'")  # the CUDA build first: the pin keeps it
    assert steps.rstrip().endswith("-m tools.gpu_check --skip families,servers,figures,tests")


@pytest.mark.e2e
def test_the_deterministic_check_makes_the_same_bits_twice_in_a_child() -> None:
    from tools.gpu_check import determinism

    assert "the same bits twice (tiny-sd on cpu, float32, batch of 2)" in determinism.run_child(
        "tiny-sd", "cpu"
    )
