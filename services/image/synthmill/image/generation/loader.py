"""One loader for every model family: embedded tiny names, hub ids and local directories alike.

An embedded name ("tiny-sd", "tiny-sdxl", "tiny-sd3") resolves to its saved directory; everything then goes
through `DiffusionPipeline.from_pretrained`, which picks the pipeline class from `model_index.json`.
The family (sd15, sd2, sdxl, sd3) is read from the pipeline that comes back.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import diffusers
import torch
import transformers
from diffusers import (
    AutoencoderKL,
    DiffusionPipeline,
    StableDiffusion3InpaintPipeline,
    StableDiffusion3Pipeline,
    StableDiffusionInpaintPipeline,
    StableDiffusionPipeline,
    StableDiffusionXLInpaintPipeline,
    StableDiffusionXLPipeline,
)
from diffusers.schedulers.scheduling_utils import SchedulerMixin

from synthmill.common.cards import ModelCard
from synthmill.image.domain import ImageModel
from synthmill.image.embedded import pipelines
from synthmill.image.generation import controlnets, schedulers
from synthmill.image.generation.prompt_embeds import PromptEncoder, encoder_for
from synthmill.image.serving.settings import FAULT_STAGES, PREFIX, ImageSettings
from synthmill.runtime import devices, hub
from synthmill.runtime.oom import Faults

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
    max_size: int  # the largest width or height, from the family's limit
    # Weighted, chunked prompt embeddings; None where the pipeline takes plain strings (SD3).
    prompts: PromptEncoder | None
    faults: Faults = field(default_factory=Faults)  # the test hook; empty unless FAULTS is set
    # Each component's dtype as loaded, so `restore` can undo a cast that an OOM interrupted.
    dtypes: dict[str, torch.dtype] = field(default_factory=dict)
    # What it makes (rules.TASKS); the first is what `pipe` itself runs.
    tasks: tuple[str, ...] = ("txt2img", "img2img", "inpaint")
    controlnets: dict[str, Any] = field(default_factory=dict)  # name → ControlNetModel that fits it
    # (task, ControlNet names) → a pipeline built from `pipe` (see `pipelines`).
    derived: dict[tuple[str, tuple[str, ...]], DiffusionPipeline] = field(default_factory=dict)

    def restore(self) -> None:
        """Puts the pipeline back as loaded after a failed or stopped batch: components cast during the
        batch get their dtype back (SDXL's `force_upcast` VAE is cast to fp32 for the decode and back
        to fp16 only after it, pipeline_stable_diffusion_xl.py lines 1262-1294 in diffusers 0.42.1), and
        the offload hooks park every component on the CPU again (`maybe_free_model_hooks`)."""
        for name, dtype in self.dtypes.items():
            component = getattr(self.pipe, name)
            if component.dtype != dtype:
                log.warning("%s: %s was left in %s; back to %s", self.name, name, component.dtype, dtype)
                component.to(dtype=dtype)
        self.pipe.maybe_free_model_hooks()

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
            max_size=self.max_size,
            tasks=self.tasks,
            controlnets=tuple(self.controlnets),
        )
        scheduler = schedulers.name_of(self.own_scheduler, self.family)
        chunks = self.prompts.chunks if self.prompts else None
        return ImageModel(card, self.default_width, self.default_height, scheduler, chunks)


def family_of(pipe: DiffusionPipeline) -> str:
    """sd3, sdxl, sd2 (1024-wide text conditioning) or sd15, from the pipeline class (an inpainting
    checkpoint's included)."""
    if isinstance(pipe, StableDiffusion3Pipeline | StableDiffusion3InpaintPipeline):
        return "sd3"
    if isinstance(pipe, StableDiffusionXLPipeline | StableDiffusionXLInpaintPipeline):
        return "sdxl"
    if isinstance(pipe, StableDiffusionPipeline | StableDiffusionInpaintPipeline):
        return "sd2" if pipe.unet.config.cross_attention_dim == 1024 else "sd15"
    raise ValueError(f"{type(pipe).__name__} is not a Stable Diffusion 1.5/2.x, SDXL or SD3 pipeline")


def _source_of(name: str, cache_dir: Path) -> str:
    if name in pipelines.BUILDERS:
        return str(pipelines.ensure(name, cache_dir))
    return name


def _from_pretrained(source: str, dtype: torch.dtype, variant: str, **kwargs: Any) -> DiffusionPipeline:
    """`variant` auto asks for the fp16 files of a 16-bit model (SDXL's default files are ~14 GB of fp32)
    and falls back to the default files when there are none: diffusers 0.42.1 raises ValueError "no such
    modeling files are available" for a missing variant (pipeline_utils.py line 917)."""
    wanted = {"auto": "fp16" if dtype in (torch.float16, torch.bfloat16) else None, "none": None}
    chosen = wanted.get(variant, variant)
    if chosen is not None:
        try:
            return DiffusionPipeline.from_pretrained(source, dtype=dtype, variant=chosen, **kwargs)
        except ValueError as exc:
            if variant != "auto" or "variant=" not in str(exc):
                raise
            log.info("%s has no %s variant; loading its default files", source, chosen)
    return DiffusionPipeline.from_pretrained(source, dtype=dtype, **kwargs)


def load(name: str, settings: ImageSettings, controlnet_cache: dict | None = None) -> LoadedModel:
    """Loads model `name` onto the device with the memory settings, the safety checker off and progress
    bars quiet, and the ControlNets that fit it (sharing `controlnet_cache` with other models)."""
    started = time.monotonic()
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()
    source = _source_of(name, settings.cache_dir)
    device = devices.resolve_device(settings.device)
    with hub.missing_model(name, f"{PREFIX}MODELS"):
        index = DiffusionPipeline.load_config(source)  # model_index.json: pipeline class and components
    # The dtype is needed before the weights are read, so the family is told apart by the class name.
    pipeline_class = index.get("_class_name", "")
    is_sd3 = pipeline_class.startswith("StableDiffusion3")
    # fp16 overflows in SD3's transformer: bf16 where the card has it natively, else fp16 as diffusers'
    # own SD3 examples use.
    half = devices.best_half(device) if is_sd3 else torch.float16
    dtype = devices.resolve_dtype(settings.dtype, device, half)
    extra: dict[str, Any] = {}
    if "safety_checker" in index:
        extra.update(safety_checker=None, requires_safety_checker=False)
    if is_sd3 and not settings.sd3_t5:
        extra.update(text_encoder_3=None, tokenizer_3=None)
    if settings.sdxl_vae and pipeline_class.startswith("StableDiffusionXL"):
        with hub.missing_model(settings.sdxl_vae, f"{PREFIX}SDXL_VAE"):
            extra["vae"] = AutoencoderKL.from_pretrained(settings.sdxl_vae, dtype=dtype)
    with hub.missing_model(name, f"{PREFIX}MODELS"):
        pipe = _from_pretrained(source, dtype, settings.variant, **extra)
    family = family_of(pipe)
    _place(pipe, device, settings.offload)
    pipe.set_progress_bar_config(disable=True)
    if settings.vae_slicing:
        pipe.vae.enable_slicing()
    denoiser = pipe.transformer if family == "sd3" else pipe.unet
    native = denoiser.config.sample_size * pipe.vae_scale_factor
    patch = denoiser.config.patch_size if family == "sd3" else 1
    faults = Faults.parse(settings.faults, FAULT_STAGES, f"{PREFIX}FAULTS")
    faults.arm("unet", denoiser)
    faults.arm("vae", pipe.vae.decoder)
    # An inpainting checkpoint's denoiser takes the mask and the masked image too (9 channels, not 4).
    inpaint_only = family != "sd3" and denoiser.config.in_channels != 4
    dtypes = {
        key: module.dtype for key, module in pipe.components.items() if isinstance(module, torch.nn.Module)
    }
    log.info(
        "loaded %s (%s) from %s on %s as %s in %.1fs",
        name,
        family,
        source,
        device,
        dtype,
        time.monotonic() - started,
    )
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
        prompts=encoder_for(pipe, family, device),
        max_size=settings.max_size_of(family),
        faults=faults,
        dtypes=dtypes,
        tasks=("inpaint",) if inpaint_only else ("txt2img", "img2img", "inpaint"),
        controlnets=controlnets.load(
            settings.controlnets, pipe, family, {} if controlnet_cache is None else controlnet_cache
        ),
    )


def _place(pipe: DiffusionPipeline, device: torch.device, offload: str) -> None:
    """Moves the pipeline to `device`, or lets diffusers' offload hooks move its parts there in turn."""
    if offload == "none":
        pipe.to(device)
    elif device.type == "cpu":
        raise ValueError(f"{PREFIX}OFFLOAD={offload} needs an accelerator; the device is cpu")
    elif offload == "model":
        pipe.enable_model_cpu_offload(device=device)
    else:
        pipe.enable_sequential_cpu_offload(device=device)
