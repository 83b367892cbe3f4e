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

from synthmill.common import devices
from synthmill.common.cards import ModelCard
from synthmill.text import embedded

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    name: str
    source: str
    model: Any
    tokenizer: Any
    device: torch.device
    dtype: torch.dtype

    @property
    def card(self) -> ModelCard:
        return ModelCard(
            self.name, self.source, "causal-lm", str(self.device), devices.dtype_name(self.dtype)
        )


def load(name: str, device: str, dtype: str, cache_dir: Path, threads: int = 0) -> LoadedModel:
    """Loads `name`: an embedded model (built on first use), else a hub id or a local directory.
    `threads` sets torch's CPU intra-op threads for the process (0 keeps torch's default)."""
    started = time.monotonic()
    transformers.utils.logging.disable_progress_bar()  # server logs are lines, not bars
    devices.set_threads(threads)
    if name in embedded.NAMES:
        path, source = str(embedded.ensure(name, cache_dir)), embedded.source_of(name)
    else:
        path, source = name, str(Path(name).resolve()) if Path(name).exists() else name
    dev = devices.resolve_device(device)
    dt = devices.resolve_dtype(dtype, dev, devices.best_half(dev))
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"model {name!r}: its tokenizer has no chat template (an instruct model is needed)")
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dt).to(dev).eval()
    log.info("loaded %s from %s on %s (%s) in %.1fs", name, source, dev, dt, time.monotonic() - started)
    return LoadedModel(name=name, source=source, model=model, tokenizer=tokenizer, device=dev, dtype=dt)
