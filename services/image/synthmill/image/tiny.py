"""Embedded tiny pipelines: real diffusers architectures with seeded random weights, no downloads.

`ensure(name, cache_dir)` builds "tiny-sd" (SD 1.5 layout) or "tiny-sdxl" from config with
`torch.manual_seed(0)`, saves it with `save_pretrained` under `<cache_dir>/models/<name>` and returns
that directory. The build happens in a temporary sibling directory that is renamed into place, so two
processes racing on first use never leave a half-written model behind. The VAE has four blocks
(scale factor 8, as in real SD) and the UNet's sample size makes the default image 64x64.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from diffusers import (
    AutoencoderKL,
    DiffusionPipeline,
    EulerDiscreteScheduler,
    StableDiffusionPipeline,
    StableDiffusionXLPipeline,
    UNet2DConditionModel,
)
from tokenizers.pre_tokenizers import ByteLevel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

log = logging.getLogger(__name__)

# Words whose merges the tokenizer learns, so common prompt words become single tokens.
_WORDS = (
    "a an the of on in with and at photo picture image white black red blue green background light "
    "night day fog rain street city room house car dog cat person man woman product studio portrait"
).split()
_LATENT_SIZE = 8  # x8 VAE scale: 64x64 images by default


def _tokenizer(pad_token: str = "<|endoftext|>") -> CLIPTokenizer:
    """A CLIP byte-level BPE tokenizer: byte symbols, the same with `</w>`, word merges, specials."""
    symbols = sorted(ByteLevel.alphabet())  # the 256 byte-level characters
    vocab = {s: i for i, s in enumerate(symbols + [s + "</w>" for s in symbols])}
    merges: list[tuple[str, str]] = []
    for word in _WORDS:
        parts = [*word[:-1], word[-1] + "</w>"]
        while len(parts) > 1:
            merged = parts[0] + parts[1]
            if merged not in vocab:
                merges.append((parts[0], parts[1]))
                vocab[merged] = len(vocab)
            parts = [merged, *parts[2:]]
    for special in ("<|startoftext|>", "<|endoftext|>"):
        vocab[special] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=merges, pad_token=pad_token, model_max_length=77)


def _text_config(tokenizer: CLIPTokenizer, projection_dim: int = 32) -> CLIPTextConfig:
    # The ids must match the tokenizer, or the pooled output (used by SDXL) reads the wrong token.
    return CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        projection_dim=projection_dim,
        max_position_embeddings=77,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def _vae() -> AutoencoderKL:
    return AutoencoderKL(
        block_out_channels=(32, 32, 64, 64),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        norm_num_groups=32,
        sample_size=_LATENT_SIZE * 8,
    )


def _scheduler() -> EulerDiscreteScheduler:
    return EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1
    )


def build_sd() -> StableDiffusionPipeline:
    """A tiny SD 1.5-architecture pipeline."""
    torch.manual_seed(0)
    tokenizer = _tokenizer()
    unet = UNet2DConditionModel(
        sample_size=_LATENT_SIZE,
        block_out_channels=(32, 64),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=4,
        norm_num_groups=32,
    )
    return StableDiffusionPipeline(
        vae=_vae(),
        text_encoder=CLIPTextModel(_text_config(tokenizer)),
        tokenizer=tokenizer,
        unet=unet,
        scheduler=_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def build_sdxl() -> StableDiffusionXLPipeline:
    """A tiny SDXL-architecture pipeline: two text encoders and text-time conditioning."""
    torch.manual_seed(0)
    tokenizer = _tokenizer()
    tokenizer_2 = _tokenizer(pad_token="!")
    time_dim, projection_dim = 8, 32
    unet = UNet2DConditionModel(
        sample_size=_LATENT_SIZE,
        block_out_channels=(32, 64),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=64,  # the two encoders' hidden states, concatenated
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=time_dim,
        projection_class_embeddings_input_dim=6 * time_dim + projection_dim,
        norm_num_groups=32,
    )
    return StableDiffusionXLPipeline(
        vae=_vae(),
        text_encoder=CLIPTextModel(_text_config(tokenizer)),
        text_encoder_2=CLIPTextModelWithProjection(_text_config(tokenizer_2, projection_dim)),
        tokenizer=tokenizer,
        tokenizer_2=tokenizer_2,
        unet=unet,
        scheduler=_scheduler(),
        add_watermarker=False,
    )


BUILDERS: dict[str, Callable[[], DiffusionPipeline]] = {"tiny-sd": build_sd, "tiny-sdxl": build_sdxl}


def ensure(name: str, cache_dir: Path) -> Path:
    """Returns the saved directory of embedded model `name`, building it on first use."""
    target = Path(cache_dir) / "models" / name
    if (target / "model_index.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("building embedded model %s in %s", name, target)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        BUILDERS[name]().save_pretrained(staging)
        os.rename(staging, target)
    except OSError:
        if not (target / "model_index.json").exists():
            raise
        log.info("another process saved %s first; using its copy", name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
