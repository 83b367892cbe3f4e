"""Embedded tiny vision models for judging and labelling: real transformers architectures with seeded
random weights, saved with `save_pretrained` on first use and loaded back like any checkpoint.

- "tiny-clip": a `CLIPModel` with its `CLIPProcessor`, the embedded scorer. Its two towers share the
  projection and a common bias before it, so, like a real CLIP's, its cosines are positive and spread
  over a few tenths rather than scattered around zero; the scores themselves mean nothing.
- "tiny-owlvit": an `OwlViTForObjectDetection` with its processor, to test the open-vocabulary path.
- "tiny-sam": a `SamModel` (64-pixel input, 32-wide) with its `SamProcessor`, the embedded segmenter.
- "tiny-blip": a `BlipForConditionalGeneration` with its `BlipProcessor`, the embedded captioner: its
  captions are words of its small vocabulary, the same whatever the image shows.
- "tiny-grounding-dino": a `GroundingDinoForObjectDetection` (a two-stage Swin backbone, 32-wide) with
  its processor, to test the Grounding DINO path of the open-vocabulary detector.

No real CLIP, SigLIP, OWL, SAM, BLIP or Grounding DINO weights reach these machines; point the settings
at a hub id or a path for real ones (docs/labels.md, docs/describe.md).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from transformers import (
    BertConfig,
    BlipConfig,
    BlipForConditionalGeneration,
    BlipImageProcessorPil,
    BlipProcessor,
    BlipTextConfig,
    BlipVisionConfig,
    CLIPConfig,
    CLIPImageProcessor,
    CLIPModel,
    CLIPProcessor,
    CLIPVisionConfig,
    GroundingDinoConfig,
    GroundingDinoForObjectDetection,
    GroundingDinoImageProcessorPil,
    GroundingDinoProcessor,
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
    SwinConfig,
)

from synthmill.image.embedded.pipelines import text_config
from synthmill.image.embedded.tokenizers import bert_tokenizer, clip_tokenizer
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


def _save_blip(target: Path) -> None:
    torch.manual_seed(0)
    tokenizer = bert_tokenizer(bos_token="[DEC]")  # BLIP starts its text with [DEC] and ends it at [SEP]
    text = BlipTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        encoder_hidden_size=32,
        max_position_embeddings=tokenizer.model_max_length,
        bos_token_id=tokenizer.bos_token_id,
        sep_token_id=tokenizer.sep_token_id,
        eos_token_id=tokenizer.sep_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    config = BlipConfig(
        text_config=text.to_dict(), vision_config=_vision(BlipVisionConfig).to_dict(), projection_dim=32
    )
    BlipForConditionalGeneration(config).eval().save_pretrained(target)
    pixels = BlipImageProcessorPil(size={"height": _IMAGE_SIZE, "width": _IMAGE_SIZE})
    BlipProcessor(image_processor=pixels, tokenizer=tokenizer).save_pretrained(target)


def _save_grounding_dino(target: Path) -> None:
    torch.manual_seed(0)
    tokenizer = bert_tokenizer()
    text = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        max_position_embeddings=tokenizer.model_max_length,
    )
    swin = SwinConfig(
        image_size=_IMAGE_SIZE,
        patch_size=4,
        embed_dim=8,
        depths=[1, 1],
        num_heads=[1, 1],
        window_size=2,
        out_features=["stage1", "stage2"],
    )
    config = GroundingDinoConfig(
        backbone_config=swin.to_dict(),
        text_config=text.to_dict(),
        use_timm_backbone=False,
        d_model=32,
        encoder_layers=1,
        decoder_layers=2,  # the box heads of layers 1.. are tied to layer 0's: at least two
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_n_points=2,
        decoder_n_points=2,
        num_queries=20,
        num_feature_levels=2,
        max_text_len=tokenizer.model_max_length,
    )
    GroundingDinoForObjectDetection(config).eval().save_pretrained(target)
    pixels = GroundingDinoImageProcessorPil(
        size={"shortest_edge": _IMAGE_SIZE, "longest_edge": 2 * _IMAGE_SIZE}
    )
    GroundingDinoProcessor(image_processor=pixels, tokenizer=tokenizer).save_pretrained(target)


BUILDERS: dict[str, Callable[[Path], None]] = {
    "tiny-clip": _save_clip,
    "tiny-owlvit": _save_owlvit,
    "tiny-sam": _save_sam,
    "tiny-blip": _save_blip,
    "tiny-grounding-dino": _save_grounding_dino,
}


def source_of(name: str, cache_dir: Path) -> str:
    """What `from_pretrained` reads for a configured `name`: an embedded model's saved folder (built on
    first use), else the name itself (a hub id or a path)."""
    return str(ensure(name, cache_dir)) if name in BUILDERS else name


def ensure(name: str, cache_dir: Path) -> Path:
    """Returns the saved directory of embedded vision model `name`, building it on first use."""
    return build_once(Path(cache_dir) / "models" / name, "config.json", BUILDERS[name])
