"""Embedded tiny pipelines: real diffusers architectures with seeded random weights, no downloads.

`ensure(name, cache_dir)` builds "tiny-sd" (SD 1.5 layout), "tiny-sdxl", "tiny-sd3" or "tiny-sd-inpaint"
(a 9-channel inpainting checkpoint) from config with
`torch.manual_seed(0)`, saves it with `save_pretrained` under `<cache_dir>/models/<name>` (once, see
`synthmill.runtime.model_cache`) and returns that directory. The VAE has four blocks
(scale factor 8, as in real SD) and the denoiser's sample size makes the default image 64x64.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from diffusers import (
    AutoencoderKL,
    DiffusionPipeline,
    EulerDiscreteScheduler,
    FlowMatchEulerDiscreteScheduler,
    SD3Transformer2DModel,
    StableDiffusion3Pipeline,
    StableDiffusionInpaintPipeline,
    StableDiffusionPipeline,
    StableDiffusionXLPipeline,
    UNet2DConditionModel,
)
from transformers import (
    CLIPTextConfig,
    CLIPTextModel,
    CLIPTextModelWithProjection,
    CLIPTokenizer,
    T5Config,
    T5EncoderModel,
)

from synthmill.image.embedded.tokenizers import clip_tokenizer, t5_tokenizer
from synthmill.runtime.model_cache import build_once

_LATENT_SIZE = 8  # x8 VAE scale: 64x64 images by default


def text_config(tokenizer: CLIPTokenizer, projection_dim: int = 32, max_length: int = 77) -> CLIPTextConfig:
    # The ids must match the tokenizer, or the pooled output (used by SDXL and SD3) reads the wrong token.
    return CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        projection_dim=projection_dim,
        max_position_embeddings=max_length,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def _vae(latent_channels: int = 4, **latent_settings: Any) -> AutoencoderKL:
    return AutoencoderKL(
        block_out_channels=(32, 32, 64, 64),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=latent_channels,
        norm_num_groups=32,
        sample_size=_LATENT_SIZE * 8,
        **latent_settings,
    )


def _scheduler() -> EulerDiscreteScheduler:
    return EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1
    )


def _unet(**config: Any) -> UNet2DConditionModel:
    """The tiny two-block UNet of the SD 1.5 and SDXL test pipelines, with `config` on top."""
    return UNet2DConditionModel(
        sample_size=_LATENT_SIZE,
        block_out_channels=(32, 64),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        norm_num_groups=32,
        **config,
    )


def build_sd() -> StableDiffusionPipeline:
    """A tiny SD 1.5-architecture pipeline."""
    torch.manual_seed(0)
    tokenizer = clip_tokenizer()
    unet = _unet(cross_attention_dim=32, attention_head_dim=4)
    return StableDiffusionPipeline(
        vae=_vae(),
        text_encoder=CLIPTextModel(text_config(tokenizer)),
        tokenizer=tokenizer,
        unet=unet,
        scheduler=_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def build_sd_inpaint() -> StableDiffusionInpaintPipeline:
    """A tiny SD 1.5 inpainting checkpoint: its UNet takes the latents, the mask and the masked image's
    latents (4 + 1 + 4 channels), as runwayml's stable-diffusion-inpainting."""
    torch.manual_seed(0)
    tokenizer = clip_tokenizer()
    return StableDiffusionInpaintPipeline(
        vae=_vae(),
        text_encoder=CLIPTextModel(text_config(tokenizer)),
        tokenizer=tokenizer,
        unet=_unet(cross_attention_dim=32, attention_head_dim=4, in_channels=9),
        scheduler=_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def build_sdxl() -> StableDiffusionXLPipeline:
    """A tiny SDXL-architecture pipeline: two text encoders and text-time conditioning."""
    torch.manual_seed(0)
    tokenizer = clip_tokenizer()
    tokenizer_2 = clip_tokenizer(pad_token="!")
    time_dim, projection_dim = 8, 32
    unet = _unet(
        cross_attention_dim=64,  # the two encoders' hidden states, concatenated
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=time_dim,
        projection_class_embeddings_input_dim=6 * time_dim + projection_dim,
    )
    return StableDiffusionXLPipeline(
        vae=_vae(),
        text_encoder=CLIPTextModel(text_config(tokenizer)),
        text_encoder_2=CLIPTextModelWithProjection(text_config(tokenizer_2, projection_dim)),
        tokenizer=tokenizer,
        tokenizer_2=tokenizer_2,
        unet=unet,
        scheduler=_scheduler(),
        add_watermarker=False,
    )


def build_sd3() -> StableDiffusion3Pipeline:
    """A tiny SD3-architecture pipeline: an MMDiT over 2x2 patches, three text encoders, 16-channel VAE."""
    torch.manual_seed(0)
    tokenizer = clip_tokenizer()
    tokenizer_2 = clip_tokenizer(pad_token="!")
    tokenizer_3 = t5_tokenizer()
    clip_hidden, projection_dim = 32, 32
    # SD3 pads the two CLIPs' hidden states, concatenated, to T5's width: the joint attention width.
    t5_width = 2 * clip_hidden
    t5 = T5Config(
        vocab_size=len(tokenizer_3),
        d_model=t5_width,
        d_kv=8,
        d_ff=37,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        pad_token_id=tokenizer_3.pad_token_id,
        eos_token_id=tokenizer_3.eos_token_id,
        decoder_start_token_id=tokenizer_3.pad_token_id,
    )
    transformer = SD3Transformer2DModel(
        sample_size=_LATENT_SIZE,
        patch_size=2,  # as real SD3: sizes must be multiples of 16
        in_channels=16,
        out_channels=16,
        num_layers=2,
        attention_head_dim=8,
        num_attention_heads=4,
        caption_projection_dim=32,  # = num_attention_heads * attention_head_dim
        joint_attention_dim=t5_width,
        pooled_projection_dim=2 * projection_dim,  # the two CLIPs' pooled outputs, concatenated
        pos_embed_max_size=128,  # latents up to 256x256: 2048-pixel images
    )
    return StableDiffusion3Pipeline(
        transformer=transformer,
        # SD3's VAE: 16 latent channels, no quant convs, its own shift and scale.
        vae=_vae(
            latent_channels=16,
            use_quant_conv=False,
            use_post_quant_conv=False,
            shift_factor=0.0609,
            scaling_factor=1.5305,
        ),
        text_encoder=CLIPTextModelWithProjection(text_config(tokenizer, projection_dim)),
        text_encoder_2=CLIPTextModelWithProjection(text_config(tokenizer_2, projection_dim)),
        text_encoder_3=T5EncoderModel(t5),
        tokenizer=tokenizer,
        tokenizer_2=tokenizer_2,
        tokenizer_3=tokenizer_3,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
    )


BUILDERS: dict[str, Callable[[], DiffusionPipeline]] = {
    "tiny-sd": build_sd,
    "tiny-sdxl": build_sdxl,
    "tiny-sd3": build_sd3,
    "tiny-sd-inpaint": build_sd_inpaint,
}


def ensure(name: str, cache_dir: Path) -> Path:
    """Returns the saved directory of embedded model `name`, building it on first use."""
    target = Path(cache_dir) / "models" / name
    return build_once(target, "model_index.json", lambda staging: BUILDERS[name]().save_pretrained(staging))
