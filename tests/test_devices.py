"""The device and dtype decisions, with the machine's CUDA state injected: no GPU needed."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import torch

from synthmill.runtime.devices import (
    CudaState,
    DeviceUnavailable,
    bind_thread,
    choose_device,
    choose_half,
    resolve_device,
)

CPU_BUILD = CudaState(built=None, available=False, count=0)
NO_DRIVER = CudaState(built="13.0", available=False, count=0)
TWO_GPUS = CudaState(built="13.0", available=True, count=2)


def test_auto_is_cuda_when_cuda_works_and_cpu_quietly_on_a_cpu_build():
    assert choose_device("auto", TWO_GPUS) == ("cuda:0", None)
    assert choose_device("auto", CPU_BUILD) == ("cpu", None)


def test_auto_falling_back_to_cpu_on_a_cuda_build_warns_with_the_reason():
    device, warning = choose_device("auto", NO_DRIVER)
    assert device == "cpu"
    assert "built for CUDA 13.0 but no CUDA device answers" in warning and "driver" in warning


@pytest.mark.parametrize(
    ("setting", "cuda", "reason"),
    [
        ("cuda", CPU_BUILD, "CPU-only build"),
        ("cuda", NO_DRIVER, "CUDA is not available"),
        ("cuda:2", TWO_GPUS, "only 2 CUDA device(s) are visible"),
    ],
)
def test_cuda_that_cannot_run_fails_loudly(setting, cuda, reason):
    with pytest.raises(DeviceUnavailable, match=rf"^device {setting}: .*{re.escape(reason)}"):
        choose_device(setting, cuda)


def test_a_working_cuda_device_or_any_other_device_is_taken_as_set():
    assert choose_device("cuda:1", TWO_GPUS) == ("cuda:1", None)
    assert choose_device("cpu", NO_DRIVER) == ("cpu", None)


@pytest.mark.parametrize(
    ("capability", "half"),
    [
        (None, torch.float16),  # not a CUDA device
        ((7, 0), torch.float16),  # V100: bf16 only emulated
        ((7, 5), torch.float16),  # T4
        ((8, 0), torch.bfloat16),  # A100
        ((8, 9), torch.bfloat16),  # L4, RTX 4090
        ((9, 0), torch.bfloat16),  # H100
    ],
)
def test_bfloat16_only_from_compute_capability_8(capability, half):
    assert choose_half(capability) is half


def test_deterministic_setting_turns_on_torchs_deterministic_algorithms():
    # In a child process: the switch is process-wide.
    code = (
        "import os, torch; from synthmill.runtime import devices; devices.set_deterministic(True); "
        "print(torch.are_deterministic_algorithms_enabled(), os.environ['CUBLAS_WORKSPACE_CONFIG'])"
    )
    env = {k: v for k, v in os.environ.items() if k != "CUBLAS_WORKSPACE_CONFIG"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["True", ":4096:8"]


@pytest.fixture
def fake_cuda(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Two visible CUDA devices as torch's C layer sees them: `torch.cuda.set_device` itself runs (with
    its own argument check, `_get_device_index`), and the index it hands the driver is recorded."""
    calls: list[int] = []
    monkeypatch.setattr(CudaState, "probe", classmethod(lambda cls: TWO_GPUS))
    monkeypatch.setattr(torch._C, "_cuda_setDevice", calls.append, raising=False)
    return calls


@pytest.mark.parametrize(("setting", "index"), [("auto", 0), ("cuda", 0), ("cuda:0", 0), ("cuda:1", 1)])
def test_the_worker_thread_binds_an_indexed_cuda_device_for_auto_and_bare_cuda(fake_cuda, setting, index):
    device = resolve_device(setting)
    assert device == torch.device("cuda", index)
    bind_thread(device)  # a bare "cuda" raised ValueError here: torch needs an index
    assert fake_cuda == [index]


def test_binding_a_device_without_an_index_means_the_current_one(fake_cuda, monkeypatch):
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    bind_thread(torch.device("cuda"))
    assert fake_cuda == [1]


def test_binding_the_cpu_touches_no_cuda(fake_cuda):
    bind_thread(torch.device("cpu"))
    assert fake_cuda == []
