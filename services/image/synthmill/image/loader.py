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

from synthmill.image import tiny
from synthmill.image.prompt_embeds import PromptEncoder, encoder_for

log = logging.getLogger(__name__)

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


@dataclass
class LoadedModel:
    """A pipeline ready to run, with what GetInfo and validation need to know about it."""

    name: str
    source: str
    family: str
    device: str
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


def resolve_device(setting: str) -> str:
    """ "auto" is cuda when available, else cpu; anything else is taken as a torch device."""
    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return setting


def resolve_dtype(setting: str, device: str, family: str) -> torch.dtype:
    """ "auto" is fp32 on CPU, bf16 for SD3 on an accelerator, fp16 otherwise."""
    if setting != "auto":
        if setting not in _DTYPES:
            raise ValueError(f"unknown dtype {setting!r}; use auto, {', '.join(_DTYPES)}")
        return _DTYPES[setting]
    if torch.device(device).type == "cpu":
        return torch.float32
    return torch.bfloat16 if family == "sd3" else torch.float16


def set_threads(threads: int) -> None:
    """Sets torch's CPU intra-op threads for the process; 0 keeps torch's default."""
    if threads:
        torch.set_num_threads(threads)


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
    device = resolve_device(device_setting)
    index = DiffusionPipeline.load_config(source)  # model_index.json: pipeline class and components
    # The dtype is needed before the weights are read, so SD3 is told apart by its class name here.
    is_sd3 = index.get("_class_name", "").startswith("StableDiffusion3")
    dtype = resolve_dtype(dtype_setting, device, "sd3" if is_sd3 else "")
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
