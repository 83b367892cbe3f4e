"""The ControlNets of SYNTHMILL_IMAGE_CONTROLNETS, loaded for the models they fit.

A ControlNet fits a model when their UNets agree on the text conditioning (cross-attention width and
SDXL's text-time embedding); SD3 takes none here. `tiny-controlnet` is built for each UNet model
from that model's own UNet config (`ControlNetModel.from_unet`) with seeded random weights, its
zero convolutions included (zeros would make every control image a no-op), so ControlNet runs and
is tested offline.
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers import ControlNetModel, DiffusionPipeline

from synthmill.image.serving.settings import PREFIX
from synthmill.runtime import hub

TINY = "tiny-controlnet"


def named(entries: tuple[str, ...]) -> dict[str, str]:
    """NAME=SOURCE entries (a bare source names itself) as {name: source}."""
    out = {}
    for entry in entries:
        name, _, source = entry.partition("=")
        out[name.strip()] = (source or name).strip()
    return out


def _fits(config: dict[str, Any], unet_config: dict[str, Any]) -> bool:
    keys = ("cross_attention_dim", "addition_embed_type")
    return all(config.get(key) == unet_config.get(key) for key in keys)


def _tiny(unet: torch.nn.Module) -> ControlNetModel:
    torch.manual_seed(0)
    controlnet = ControlNetModel.from_unet(unet, load_weights_from_unet=False)
    zeroed = [
        *controlnet.controlnet_down_blocks,
        controlnet.controlnet_mid_block,
        controlnet.controlnet_cond_embedding.conv_out,
    ]
    for block in zeroed:
        for parameter in block.parameters():
            torch.nn.init.normal_(parameter, std=0.02)
    return controlnet


def load(entries: tuple[str, ...], pipe: DiffusionPipeline, family: str, loaded: dict) -> dict[str, Any]:
    """{name: ControlNetModel} of the entries that fit `pipe`'s UNet, on its device and dtype.
    `loaded` caches weights by (source, dtype) across the models that share them."""
    if family == "sd3" or pipe.unet.config.in_channels != 4:
        return {}
    unet = pipe.unet
    out = {}
    for name, source in named(entries).items():
        if source == TINY:
            out[name] = _tiny(unet).to(unet.device, unet.dtype)
            continue
        with hub.missing_model(source, f"{PREFIX}CONTROLNETS"):
            if not _fits(ControlNetModel.load_config(source), dict(unet.config)):
                continue
            key = (source, unet.dtype)
            if key not in loaded:
                loaded[key] = ControlNetModel.from_pretrained(source, dtype=unet.dtype).to(unet.device)
        out[name] = loaded[key]
    return out
