"""Device, dtype and thread settings of the inference servers' loaders. Imports torch: only the
servers' loaders import this module, never the gateway, the client or a servicer."""

from __future__ import annotations

import torch

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def resolve_device(setting: str) -> torch.device:
    """ "auto" is cuda when available, else cpu; anything else is taken as a torch device."""
    if setting == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(setting)


def resolve_dtype(setting: str, device: torch.device, half: torch.dtype = torch.float16) -> torch.dtype:
    """ "auto" is float32 on the CPU and `half` (the model's choice of 16-bit type) elsewhere."""
    if setting != "auto":
        if setting not in DTYPES:
            raise ValueError(f"unknown dtype {setting!r}; use auto, {', '.join(DTYPES)}")
        return DTYPES[setting]
    return torch.float32 if device.type == "cpu" else half


def best_half(device: torch.device) -> torch.dtype:
    """bfloat16 where the device supports it, else float16."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def set_threads(threads: int) -> None:
    """Sets torch's CPU intra-op threads for the process; 0 keeps torch's default."""
    if threads:
        torch.set_num_threads(threads)
