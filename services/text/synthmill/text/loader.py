"""Model loading: an embedded name, a hub id or a local path → model + tokenizer on a device."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

from synthmill.common.cards import ModelCard
from synthmill.runtime import devices, hub
from synthmill.runtime.oom import Faults
from synthmill.text import embedded
from synthmill.text.settings import PREFIX, TextSettings

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    name: str
    source: str
    model: Any
    tokenizer: Any
    device: torch.device
    dtype: torch.dtype
    faults: Faults = field(default_factory=Faults)  # the test hook; empty unless FAULTS is set

    @property
    def card(self) -> ModelCard:
        return ModelCard(
            self.name, self.source, "causal-lm", str(self.device), devices.dtype_name(self.dtype)
        )


def load(name: str, settings: TextSettings) -> LoadedModel:
    """Loads `name`: an embedded model (built on first use in the settings' cache folder), else a hub id
    or a local directory, on the settings' device and dtype. The settings' `threads` sets torch's CPU
    intra-op threads for the process (0 keeps torch's default); `faults` is the FAULTS test hook."""
    started = time.monotonic()
    transformers.utils.logging.disable_progress_bar()  # server logs are lines, not bars
    devices.set_threads(settings.threads)
    if name in embedded.NAMES:
        path, source = str(embedded.ensure(name, settings.cache_dir)), embedded.source_of(name)
    else:
        path, source = name, str(Path(name).resolve()) if Path(name).exists() else name
    dev = devices.resolve_device(settings.device)
    dt = devices.resolve_dtype(settings.dtype, dev, devices.best_half(dev))
    with hub.missing_model(name, f"{PREFIX}MODEL"):
        tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"model {name!r}: its tokenizer has no chat template (an instruct model is needed)")
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dt).to(dev).eval()
    model.generation_config = _stop_tokens_only(name, model.generation_config)
    injected = Faults.parse(settings.faults, ("generate",), f"{PREFIX}FAULTS")
    injected.arm("generate", model)
    log.info("loaded %s from %s on %s (%s) in %.1fs", name, source, dev, dt, time.monotonic() - started)
    return LoadedModel(
        name=name, source=source, model=model, tokenizer=tokenizer, device=dev, dtype=dt, faults=injected
    )


def _stop_tokens_only(name: str, own: GenerationConfig) -> GenerationConfig:
    """The model's generation config reduced to its special tokens. transformers 5.23 fills every field
    a `generate` call leaves unset from the model's `generation_config.json`
    (`GenerationMixin._prepare_generation_config`, generation/utils.py line 2108:
    `generation_config.update(**self.generation_config.to_dict(), defaults_only=True)`), so Qwen2.5's
    `repetition_penalty=1.1` or a `top_k` would act on synthmill's rows. Sampling uses only the
    parameters synthmill sets; the model's own are logged once and ignored."""
    kept = {key: getattr(own, key) for key in ("bos_token_id", "eos_token_id", "pad_token_id")}
    clean = GenerationConfig(**kept)
    ignored = {k: v for k, v in own.to_diff_dict().items() if k not in kept and k != "transformers_version"}
    if ignored:
        log.info("%s: ignoring the model's own generation defaults %s", name, ignored)
    return clean
