"""Embedded tiny vision models for judging and labelling: real transformers architectures with seeded
random weights, saved with `save_pretrained` on first use and loaded back like any checkpoint.

- "tiny-clip": a `CLIPModel` with its `CLIPProcessor`, the embedded scorer. Its two towers share the
  projection and a common bias before it, so, like a real CLIP's, its cosines are positive and spread
  over a few tenths rather than scattered around zero; the scores themselves mean nothing.
- "tiny-owlvit": an `OwlViTForObjectDetection` with its processor, to test the open-vocabulary path.
- "tiny-sam": a `SamModel` (64-pixel input, 32-wide) with its `SamProcessor`, the embedded segmenter.

No real CLIP, SigLIP, OWL or SAM weights reach these machines; point the settings at a hub id or a path
for real ones (docs/labels.md).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from transformers import (
    CLIPConfig,
    CLIPImageProcessor,
    CLIPModel,
    CLIPProcessor,
    CLIPVisionConfig,
    OwlViTConfig,
    OwlViTForObjectDetection,
    OwlViTImageProcessor,
    OwlViTProcessor,
    OwlViTVisionConfig,
    SamConfig,
    SamImageProcessorPil,
    SamMaskDecoderConfig,
    SamModel,
    SamProcessor,
    SamPromptEncoderConfig,
    SamVisionConfig,
)

from synthmill.image.embedded.pipelines import text_config
from synthmill.image.embedded.tokenizers import clip_tokenizer
from synthmill.runtime.model_cache import build_once

_IMAGE_SIZE = 32
_SHARED_BIAS = 0.6  # scale of the common component both towers add before the shared projection


def _vision(config_class: type, **extra: int) -> object:
    return config_class(
        hidden_size=32,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        image_size=_IMAGE_SIZE,
        patch_size=8,
        **extra,
    )


def _save_clip(target: Path) -> None:
    torch.manual_seed(0)
    tokenizer = clip_tokenizer()
    config = CLIPConfig(
        text_config=text_config(tokenizer).to_dict(),
        vision_config=_vision(CLIPVisionConfig, projection_dim=32).to_dict(),
        projection_dim=32,
    )
    model = CLIPModel(config).eval()
    with torch.no_grad():
        bias = _SHARED_BIAS * torch.randn(32)
        model.text_model.final_layer_norm.bias.copy_(bias)
        model.vision_model.post_layernorm.bias.copy_(bias)
        model.text_projection.weight.copy_(model.visual_projection.weight)
    size = {"shortest_edge": _IMAGE_SIZE}
    crop = {"height": _IMAGE_SIZE, "width": _IMAGE_SIZE}
    processor = CLIPProcessor(
        image_processor=CLIPImageProcessor(size=size, crop_size=crop), tokenizer=tokenizer
    )
    model.save_pretrained(target)
    processor.save_pretrained(target)


def _save_owlvit(target: Path) -> None:
    torch.manual_seed(0)
    tokenizer = clip_tokenizer(pad_token="!")
    tokenizer.model_max_length = 16  # OWL-ViT's text length
    config = OwlViTConfig(
        text_config=text_config(tokenizer, max_length=16).to_dict(),
        vision_config=_vision(OwlViTVisionConfig).to_dict(),
        projection_dim=32,
    )
    model = OwlViTForObjectDetection(config).eval()
    size = {"height": _IMAGE_SIZE, "width": _IMAGE_SIZE}
    image_processor = OwlViTImageProcessor(size=size, crop_size=size)
    model.save_pretrained(target)
    OwlViTProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(target)


def _save_sam(target: Path) -> None:
    torch.manual_seed(0)
    size, patch, width = 64, 8, 32  # SAM's own: 1024, 16, 256
    vision = SamVisionConfig(
        hidden_size=width,
        output_channels=width,
        num_hidden_layers=2,
        num_attention_heads=4,
        image_size=size,
        patch_size=patch,
        window_size=4,
        global_attn_indexes=[1],
        num_pos_feats=width // 2,
        mlp_dim=37,
    )
    prompts = SamPromptEncoderConfig(
        hidden_size=width, image_size=size, patch_size=patch, mask_input_channels=4
    )
    decoder = SamMaskDecoderConfig(
        hidden_size=width, mlp_dim=64, num_hidden_layers=2, num_attention_heads=4, iou_head_hidden_dim=width
    )
    config = SamConfig(
        vision_config=vision.to_dict(),
        prompt_encoder_config=prompts.to_dict(),
        mask_decoder_config=decoder.to_dict(),
    )
    SamModel(config).eval().save_pretrained(target)
    pixels = SamImageProcessorPil(size={"longest_edge": size}, pad_size={"height": size, "width": size})
    SamProcessor(image_processor=pixels).save_pretrained(target)


BUILDERS: dict[str, Callable[[Path], None]] = {
    "tiny-clip": _save_clip,
    "tiny-owlvit": _save_owlvit,
    "tiny-sam": _save_sam,
}


def source_of(name: str, cache_dir: Path) -> str:
    """What `from_pretrained` reads for a configured `name`: an embedded model's saved folder (built on
    first use), else the name itself (a hub id or a path)."""
    return str(ensure(name, cache_dir)) if name in BUILDERS else name


def ensure(name: str, cache_dir: Path) -> Path:
    """Returns the saved directory of embedded vision model `name`, building it on first use."""
    return build_once(Path(cache_dir) / "models" / name, "config.json", BUILDERS[name])
