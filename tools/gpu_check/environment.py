"""Is this torch a CUDA build, and does CUDA answer? The verdict is a pure function of what the host
says (`Host`), so it is tested without a GPU; `Host.probe` asks torch and the driver."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from dataclasses import dataclass

import torch

from synthmill.runtime.devices import CudaState

# The oldest Linux driver that runs a CUDA major version (NVIDIA's CUDA toolkit release notes, "CUDA
# Toolkit and minimum required driver version for CUDA minor version compatibility").
MIN_DRIVER = {13: "580.65.06", 12: "525.60.13"}
INSTALL = "see docs/gpu.md: make venv-gpu"


@dataclass(frozen=True)
class Host:
    torch: str  # torch.__version__
    cuda: CudaState
    driver_cuda: int | None  # cuDriverGetVersion (12040 is CUDA 12.4); None: no driver library
    driver: str = ""  # nvidia-smi's driver version, when it is there
    card: str = ""  # nvidia-smi's name of the first card

    @classmethod
    def probe(cls) -> Host:
        driver, card = _nvidia_smi()
        return cls(torch.__version__, CudaState.probe(), _driver_cuda(), driver, card)


def cuda_number(version: str) -> int:
    """ "13.0" → 13000, as cuDriverGetVersion counts."""
    major, _, minor = version.partition(".")
    return int(major) * 1000 + int(minor or 0) * 10


def cuda_name(number: int) -> str:
    return f"{number // 1000}.{number % 1000 // 10}"


def problem(host: Host) -> str | None:
    """What stops CUDA work on this host, in plain words; None when CUDA answers."""
    built = host.cuda.built
    if not built:
        return f"CPU-only torch ({host.torch}): this torch has no CUDA; install the CUDA build ({INSTALL})"
    if host.cuda.available and host.cuda.count:
        return None
    needs = f"torch {host.torch} is built for CUDA {built}"
    minimum = MIN_DRIVER.get(cuda_number(built) // 1000)
    if host.driver_cuda is None:
        return (
            f"no NVIDIA driver: libcuda.so.1 does not load ({needs}); install the driver"
            f"{f' ≥ {minimum}' if minimum else ''}, or start the container with the GPU (--gpus / the "
            "NVIDIA container runtime)"
        )
    if host.driver_cuda < cuda_number(built):
        return (
            f"driver too old: the NVIDIA driver {host.driver or ''} supports CUDA {cuda_name(host.driver_cuda)}, "
            f"{needs}; install driver ≥ {minimum or 'the one for that CUDA'} or a torch built for CUDA "
            f"{cuda_name(host.driver_cuda)} or older ({INSTALL})"
        )
    return (
        f"CUDA unusable: {needs} and the driver supports CUDA {cuda_name(host.driver_cuda)}, but no device "
        "answers (CUDA_VISIBLE_DEVICES hides them, the card is in use in exclusive mode, or it has failed: "
        "see nvidia-smi)"
    )


def describe(host: Host) -> list[tuple[str, str]]:
    """The lines gpu-check prints about the host."""
    lines = [("torch", f"{host.torch} (CUDA build: {host.cuda.built or 'none, CPU-only'})")]
    if host.driver_cuda is not None:
        lines.append(("driver", f"{host.driver or '?'} (supports CUDA {cuda_name(host.driver_cuda)})"))
    if host.card:
        lines.append(("card", host.card))
    return lines


def _driver_cuda() -> int | None:
    try:
        libcuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return None
    version = ctypes.c_int(0)
    return version.value if libcuda.cuDriverGetVersion(ctypes.byref(version)) == 0 else None


def _nvidia_smi() -> tuple[str, str]:
    if not shutil.which("nvidia-smi"):
        return "", ""
    query = ["nvidia-smi", "--query-gpu=driver_version,name", "--format=csv,noheader"]
    done = subprocess.run(query, capture_output=True, text=True, timeout=30, check=False)
    first = done.stdout.strip().splitlines()[:1]
    driver, _, card = first[0].partition(", ") if first else ("", "", "")
    return driver.strip(), card.strip()
