"""Model loading: an embedded name, a hub id or a local path → model + tokenizer on a device."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

from synthmill.text import embedded

log = logging.getLogger(__name__)

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


@dataclass
class LoadedModel:
    name: str
    source: str
    model: Any
    tokenizer: Any
    device: torch.device
    dtype: torch.dtype

    @property
    def dtype_name(self) -> str:
        return str(self.dtype).removeprefix("torch.")


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("cpu")
    return torch.device(device)


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    if dtype == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    if dtype not in _DTYPES:
        raise ValueError(f"dtype {dtype!r} is not one of auto, {', '.join(_DTYPES)}")
    return _DTYPES[dtype]


def load(name: str, device: str, dtype: str, cache_dir: Path, threads: int = 0) -> LoadedModel:
    """Loads `name`: an embedded model (built on first use), else a hub id or a local directory.
    `threads` sets torch's CPU intra-op threads for the process (0 keeps torch's default)."""
    started = time.monotonic()
    transformers.utils.logging.disable_progress_bar()  # server logs are lines, not bars
    if threads:
        torch.set_num_threads(threads)
    if name in embedded.NAMES:
        path, source = str(embedded.ensure(name, cache_dir)), embedded.source_of(name)
    else:
        path, source = name, str(Path(name).resolve()) if Path(name).exists() else name
    dev = resolve_device(device)
    dt = resolve_dtype(dtype, dev)
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"model {name!r}: its tokenizer has no chat template (an instruct model is needed)")
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dt).to(dev).eval()
    log.info("loaded %s from %s on %s (%s) in %.1fs", name, source, dev, dt, time.monotonic() - started)
    return LoadedModel(name=name, source=source, model=model, tokenizer=tokenizer, device=dev, dtype=dt)
