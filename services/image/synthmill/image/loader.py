"""One loader for every model family: embedded tiny names, hub ids and local directories alike.

An embedded name ("tiny-sd", "tiny-sdxl", "tiny-sd3") resolves to its saved directory; everything then goes
through `DiffusionPipeline.from_pretrained`, which picks the pipeline class from `model_index.json`.
The family (sd15, sd2, sdxl, sd3) is read from the pipeline that comes back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import diffusers
import torch
import transformers
from diffusers import (
    DiffusionPipeline,
    StableDiffusion3Pipeline,
    StableDiffusionPipeline,
    StableDiffusionXLPipeline,
)
from diffusers.schedulers.scheduling_utils import SchedulerMixin

from synthmill.common import devices
from synthmill.common.cards import ModelCard
from synthmill.image import schedulers, tiny
from synthmill.image.domain import ImageModel
from synthmill.image.prompt_embeds import PromptEncoder, encoder_for

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    """A pipeline ready to run, with what GetInfo and validation need to know about it."""

    name: str
    source: str
    family: str
    device: torch.device
    dtype: torch.dtype
    pipe: DiffusionPipeline
    # The scheduler the model came with; per-request schedulers are built from its config.
    own_scheduler: SchedulerMixin
    default_width: int
    default_height: int
    # Width and height must be multiples of this: the VAE scale, times the patch size for SD3.
    size_multiple: int
    # Weighted, chunked prompt embeddings; None where the pipeline takes plain strings (SD3).
    prompts: PromptEncoder | None

    def describe(self) -> ImageModel:
        """What requests and GetInfo need to know of this model, without torch."""
        card = ModelCard(
            name=self.name,
            source=self.source,
            family=self.family,
            device=str(self.device),
            dtype=devices.dtype_name(self.dtype),
            schedulers=schedulers.names(self.family),
            size_multiple=self.size_multiple,
        )
        scheduler = schedulers.name_of(self.own_scheduler, self.family)
        chunks = self.prompts.chunks if self.prompts else None
        return ImageModel(card, self.default_width, self.default_height, scheduler, chunks)


def family_of(pipe: DiffusionPipeline) -> str:
    """sd3, sdxl, sd2 (1024-wide text conditioning) or sd15, from the pipeline class."""
    if isinstance(pipe, StableDiffusion3Pipeline):
        return "sd3"
    if isinstance(pipe, StableDiffusionXLPipeline):
        return "sdxl"
    if isinstance(pipe, StableDiffusionPipeline):
        return "sd2" if pipe.unet.config.cross_attention_dim == 1024 else "sd15"
    raise ValueError(f"{type(pipe).__name__} is not a Stable Diffusion 1.5/2.x, SDXL or SD3 pipeline")


def _source_of(name: str, cache_dir: Path) -> str:
    if name in tiny.BUILDERS:
        return str(tiny.ensure(name, cache_dir))
    return name


def load(name: str, cache_dir: Path, device_setting: str, dtype_setting: str) -> LoadedModel:
    """Loads model `name` onto the device, with the safety checker off and progress bars quiet."""
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()
    source = _source_of(name, cache_dir)
    device = devices.resolve_device(device_setting)
    index = DiffusionPipeline.load_config(source)  # model_index.json: pipeline class and components
    # The dtype is needed before the weights are read, so SD3 is told apart by its class name here.
    is_sd3 = index.get("_class_name", "").startswith("StableDiffusion3")
    # fp16 overflows in SD3's transformer, so it runs in bfloat16 on an accelerator.
    dtype = devices.resolve_dtype(dtype_setting, device, torch.bfloat16 if is_sd3 else torch.float16)
    extra = {"safety_checker": None, "requires_safety_checker": False} if "safety_checker" in index else {}
    pipe = DiffusionPipeline.from_pretrained(source, dtype=dtype, **extra)
    family = family_of(pipe)
    pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    denoiser = pipe.transformer if family == "sd3" else pipe.unet
    native = denoiser.config.sample_size * pipe.vae_scale_factor
    patch = denoiser.config.patch_size if family == "sd3" else 1
    log.info("loaded %s (%s) from %s on %s as %s", name, family, source, device, dtype)
    return LoadedModel(
        name=name,
        source=source,
        family=family,
        device=device,
        dtype=dtype,
        pipe=pipe,
        own_scheduler=pipe.scheduler,
        default_width=native,
        default_height=native,
        size_multiple=pipe.vae_scale_factor * patch,
        prompts=encoder_for(pipe, family),
    )
