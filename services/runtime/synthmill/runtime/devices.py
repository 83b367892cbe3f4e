"""Device, dtype and thread settings of the inference servers. Imports torch: only the servers' loaders,
engines and entries import this module, never the gateway, the client or a servicer.

The decisions are pure functions of what they are told about the machine (`choose_device`,
`choose_half`), so they are tested without a GPU; `resolve_device` and `best_half` ask torch.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

import torch

log = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
# Batch sizes left at 0 ("auto"): on the CPU this, where memory is not what limits a batch; on CUDA
# what the free memory holds (`batch_from_memory`), at most AUTO_BATCH_CAP.
CPU_BATCH = 8
AUTO_BATCH_CAP = 64
HEADROOM = 0.8  # of the free memory, for fragmentation and what the estimate misses
# cuBLAS needs a fixed workspace for reproducible results (CUDA docs, "Reproducibility").
CUBLAS_WORKSPACE = ":4096:8"


@dataclass(frozen=True)
class CudaState:
    """What torch says about CUDA on this machine."""

    built: str | None  # torch.version.cuda: the CUDA the wheel was built for, None for a CPU build
    available: bool  # torch.cuda.is_available(): a driver and a device answer
    count: int  # torch.cuda.device_count()

    @classmethod
    def probe(cls) -> CudaState:
        available = torch.cuda.is_available()
        return cls(torch.version.cuda, available, torch.cuda.device_count() if available else 0)


class DeviceUnavailable(RuntimeError):
    """The configured device cannot be used; the server does not start."""


def choose_device(setting: str, cuda: CudaState) -> tuple[str, str | None]:
    """(device, warning): "auto" is cuda:0 when CUDA works, else cpu, with a warning saying why when the
    wheel was built with CUDA; "cuda"/"cuda:N" that cannot run raises DeviceUnavailable. A CUDA device
    always comes back with its index ("cuda" is cuda:0): torch.cuda.set_device refuses a bare "cuda"."""
    if setting == "auto":
        if cuda.available and cuda.count:
            return "cuda:0", None
        if cuda.built:
            return "cpu", (
                f"device auto: torch is built for CUDA {cuda.built} but no CUDA device answers "
                "(driver missing or older than the CUDA build, or no GPU visible to this container); "
                "running on the CPU"
            )
        return "cpu", None
    if setting.startswith("cuda"):
        index = int(setting.partition(":")[2] or 0)
        if not cuda.built:
            raise DeviceUnavailable(f"device {setting}: this torch is a CPU-only build")
        if not cuda.available:
            raise DeviceUnavailable(
                f"device {setting}: torch is built for CUDA {cuda.built} but CUDA is not available "
                "(driver missing or older than the CUDA build, or no GPU visible)"
            )
        if index >= cuda.count:
            raise DeviceUnavailable(f"device {setting}: only {cuda.count} CUDA device(s) are visible")
        return f"cuda:{index}", None
    return setting, None


def resolve_device(setting: str) -> torch.device:
    """The torch device for a setting (see `choose_device`); logs the fallback warning."""
    device, warning = choose_device(setting, CudaState.probe())
    if warning:
        log.warning(warning)
    return torch.device(device)


def resolve_dtype(setting: str, device: torch.device, half: torch.dtype = torch.float16) -> torch.dtype:
    """ "auto" is float32 on the CPU and `half` (the model's choice of 16-bit type) elsewhere."""
    if setting != "auto":
        if setting not in DTYPES:
            raise ValueError(f"unknown dtype {setting!r}; use auto, {', '.join(DTYPES)}")
        return DTYPES[setting]
    return torch.float32 if device.type == "cpu" else half


def choose_half(capability: tuple[int, int] | None) -> torch.dtype:
    """bfloat16 on a CUDA device of compute capability 8.0 or later (Ampere: native bf16), else
    float16. `torch.cuda.is_bf16_supported()` is not used: it also counts emulated bf16 (true, and
    slow, on a T4 or V100) and asks the current device, not the configured one."""
    return torch.bfloat16 if capability is not None and capability >= (8, 0) else torch.float16


def best_half(device: torch.device) -> torch.dtype:
    """The 16-bit type for `device` (see `choose_half`)."""
    capability = torch.cuda.get_device_capability(device) if device.type == "cuda" else None
    return choose_half(capability)


def bind_thread(device: torch.device) -> None:
    """Makes `device` the current CUDA device of the calling (worker) thread, so kernels and libraries
    that launch on "the current device" use the configured one, not cuda:0. A device without an index
    means the current one: `torch.cuda.set_device` raises ValueError on a bare "cuda" (torch 2.13)."""
    if device.type == "cuda":
        torch.cuda.set_device(torch.cuda.current_device() if device.index is None else device.index)


def batch_from_memory(free: int, per_item: int, cap: int = AUTO_BATCH_CAP) -> int:
    """The most items of `per_item` bytes that fit in HEADROOM of `free` bytes, from 1 to `cap`."""
    return max(1, min(cap, int(free * HEADROOM) // max(1, per_item)))


def free_memory(device: torch.device) -> int | None:
    """Free bytes on a CUDA device once the caching allocator has returned its unused blocks; None on
    any other device."""
    if device.type != "cuda":
        return None
    torch.cuda.empty_cache()
    free, _total = torch.cuda.mem_get_info(device)
    return free


def peak_bytes(device: torch.device, run: Callable[[], object]) -> int | None:
    """Runs `run`; on a CUDA device returns the bytes it needed above what was allocated before it (the
    caching allocator's peak during it), None on any other device."""
    if device.type != "cuda":
        run()
        return None
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    run()
    torch.cuda.synchronize(device)
    return torch.cuda.max_memory_allocated(device) - base


def auto_batch(device: torch.device, per_item: int | None) -> int:
    """The batch size "auto" stands for: CPU_BATCH off CUDA (or with no measure per item), else what
    the free memory holds (`batch_from_memory`)."""
    free = free_memory(device)
    if free is None or not per_item:
        return CPU_BATCH
    batch = batch_from_memory(free, per_item)
    log.info(
        "auto batch on %s: %d (%.2f GiB free, %.3f GiB per item)",
        device,
        batch,
        free / 2**30,
        per_item / 2**30,
    )
    return batch


def set_deterministic(on: bool) -> None:
    """torch's deterministic algorithms (an op without a deterministic kernel raises) and the fixed
    cuBLAS workspace they need; must run before CUDA starts."""
    if on:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
        torch.use_deterministic_algorithms(True)
        log.info(
            "deterministic algorithms on (CUBLAS_WORKSPACE_CONFIG=%s)", os.environ["CUBLAS_WORKSPACE_CONFIG"]
        )


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def set_threads(threads: int) -> None:
    """Sets torch's CPU intra-op threads for the process; 0 keeps torch's default."""
    if threads:
        torch.set_num_threads(threads)
