"""Settings of the image server, read from `SYNTHMILL_IMAGE_*` environment variables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from synthmill.common.image_header import MAX_INPUT_PIXELS
from synthmill.common.security import ServerSecurity
from synthmill.common.settings import default_cache_dir

PREFIX = "SYNTHMILL_IMAGE_"
OFFLOADS = ("none", "model", "sequential")
# The stages the FAULTS test hook can fail: the pipeline's (load: batch × width × height) and the
# judges' (load: the images in the call).
FAULT_STAGES = ("unet", "vae", "scorer", "detector", "segmenter")


@dataclass(frozen=True)
class ImageSettings(ServerSecurity):
    """Everything the image server can be told; CLI flags override the environment."""

    host: str = field(default="127.0.0.1", metadata={"doc": "Address to listen on."})
    port: int = field(default=50053, metadata={"doc": "Port to listen on."})
    metrics_port: int = field(
        default=0,
        metadata={"doc": "Port of the Prometheus /metrics endpoint, on the same host; 0 turns metrics off."},
    )
    models: tuple[str, ...] = field(
        default=("tiny-sd",),
        metadata={
            "doc": "Comma-separated models to load: tiny-sd, tiny-sdxl, tiny-sd3, a hub id or a local directory. "
            "The first is the default."
        },
    )
    device: str = field(default="auto", metadata={"doc": "Torch device; auto picks cuda when available."})
    dtype: str = field(
        default="auto",
        metadata={"doc": "float32, float16 or bfloat16; auto is fp16 on CUDA (bf16 for SD3), fp32 on CPU."},
    )
    threads: int = field(
        default=0,
        metadata={
            "doc": "Torch CPU threads; 0 keeps torch's default. Use 1 when CPU cores are shared with other "
            "busy processes: oversubscribed intra-op threads can run 20x slower."
        },
    )
    cache_dir: Path = field(
        default_factory=default_cache_dir, metadata={"doc": "Where the embedded tiny models are saved."}
    )
    max_size: int = field(
        default=2048, metadata={"doc": "Largest width or height accepted, for every model."}
    )
    family_max_size: tuple[str, ...] = field(
        default=("sd15=1024", "sd2=1024", "sdxl=2048", "sd3=2048"),
        metadata={
            "doc": "Comma-separated FAMILY=PIXELS: the largest width or height of a family's models "
            "(never above max_size). GetInfo reports it per model, so the gateway refuses at submit."
        },
    )
    max_batch_pixels: int = field(
        default=8 * 1024 * 1024,
        metadata={
            "doc": "Pixel budget of one pipeline batch: batch × width × height stays within it (a batch "
            "holds at least one image; a single image over it is refused). 0: no budget."
        },
    )
    offload: str = field(
        default="none",
        metadata={
            "doc": "none; model (diffusers enable_model_cpu_offload: one component on the GPU at a time, "
            "~10-20% slower); sequential (enable_sequential_cpu_offload: layer by layer, lowest memory, "
            "several times slower). Needs an accelerator."
        },
    )
    vae_slicing: bool = field(
        default=True, metadata={"doc": "Decode a batch's latents one image at a time (lower peak memory)."}
    )
    vae_tiling_pixels: int = field(
        default=1536 * 1536,
        metadata={"doc": "Decode images with more pixels than this in overlapping VAE tiles; 0 never."},
    )
    sdxl_vae: str = field(
        default="",
        metadata={
            "doc": "An fp16-safe VAE (hub id or directory, e.g. madebyollin/sdxl-vae-fp16-fix) for SDXL "
            "models, so the decode stays in fp16 instead of being upcast to fp32."
        },
    )
    sd3_t5: bool = field(
        default=True,
        metadata={
            "doc": "Load SD3's T5-XXL text encoder; false drops it (text_encoder_3=None, ~9.5 GB less)."
        },
    )
    variant: str = field(
        default="auto",
        metadata={
            "doc": "Weights variant: auto loads the fp16 files when the dtype is 16-bit and the model has "
            "them (else the default files); none never asks for a variant; any other name is required."
        },
    )
    deterministic: bool = field(
        default=False,
        metadata={
            "doc": "torch.use_deterministic_algorithms(True) and CUBLAS_WORKSPACE_CONFIG=:4096:8: the same "
            "GPU, batch shape and software give the same bits (slower; ops without a deterministic "
            "kernel fail)."
        },
    )
    faults: str = field(
        default="",
        metadata={
            "doc": "Test hook, off when empty: oom@STAGE:N[,...] raises torch.OutOfMemoryError in STAGE "
            "when the batch's load is over N: unet, vae (batch × width × height); scorer, detector "
            "(the open-vocabulary one), segmenter (images in the call)."
        },
    )
    max_steps: int = field(default=150, metadata={"doc": "Largest step count accepted."})
    max_items: int = field(default=64, metadata={"doc": "Largest number of items in one request."})
    max_batch: int = field(
        default=0,
        metadata={
            "doc": "Largest pipeline batch the dynamic batcher forms; 0: from the device: on CUDA what 80% "
            "of the free memory holds (after every model and judge is loaded) of the largest warm-up "
            "image's peak, at most 64; 8 on the CPU. GetInfo reports the value in force."
        },
    )
    batch_delay_ms: int = field(
        default=20, metadata={"doc": "How long the oldest queued item waits for compatible company."}
    )
    progress_interval_ms: int = field(
        default=0,
        metadata={
            "doc": "Least time between step reports of a batch; 0 streams every step, the last step always "
            "goes. Raise it (e.g. 100) where fast GPUs make per-step events costly."
        },
    )
    default_steps: int = field(default=20, metadata={"doc": "Steps used when a request asks for 0."})
    default_guidance: float = field(default=7.5, metadata={"doc": "CFG scale used when a request sets none."})
    scorer: str = field(
        default="tiny-clip",
        metadata={
            "doc": "CLIP or SigLIP model for CLIPScore: tiny-clip (random weights), a hub id such as "
            "openai/clip-vit-large-patch14, a local directory, or none."
        },
    )
    max_best_of: int = field(default=8, metadata={"doc": "Largest best_of (candidates per item) accepted."})
    max_rounds: int = field(
        default=3, metadata={"doc": "Most render rounds of an item whose best score stays below min_score."}
    )
    detector: str = field(
        default="yolov3-tiny",
        metadata={
            "doc": "Closed-vocabulary detector for bbox annotations: yolov3-tiny (COCO classes) or none."
        },
    )
    open_detector: str = field(
        default="none",
        metadata={
            "doc": "Open-vocabulary detector for requests with labels: an OWL-ViT/OWLv2 hub id such as "
            "google/owlv2-base-patch16-ensemble, a local directory, tiny-owlvit (random weights), or none."
        },
    )
    segmenter: str = field(
        default="tiny-sam",
        metadata={
            "doc": "SAM model that draws instance masks from the detector's boxes (annotations mask): "
            "tiny-sam (random weights: masks of the right shape, meaningless), a hub id such as "
            "facebook/sam-vit-base, a local directory, or none."
        },
    )
    detect_threshold: float = field(default=0.25, metadata={"doc": "Least confidence of a kept box."})
    open_detect_threshold: float = field(
        default=0.1, metadata={"doc": "Least confidence of a kept box from the open-vocabulary detector."}
    )
    max_input_pixels: int = field(
        default=MAX_INPUT_PIXELS,
        metadata={
            "doc": "Largest width × height of an init image, mask or control image a request may send, "
            "checked from its PNG or JPEG header before it is decoded (a decompression bomb is refused)."
        },
    )
    controlnets: tuple[str, ...] = field(
        default=("tiny-controlnet",),
        metadata={
            "doc": "Comma-separated ControlNets: NAME=SOURCE (a hub id such as "
            "lllyasviel/control_v11p_sd15_canny, or a directory), a bare hub id or directory (named by "
            "itself), or tiny-controlnet (random weights, built from each SD 1.5/2.x/SDXL model's own "
            "UNet config). Each is offered with the models whose UNet it fits."
        },
    )
    max_message_bytes: int = field(
        default=64 * 1024 * 1024, metadata={"doc": "Largest gRPC message sent or received."}
    )

    def __post_init__(self) -> None:
        # CLI callers pass lists and strings; keep the declared types.
        object.__setattr__(self, "models", tuple(self.models))
        object.__setattr__(self, "controlnets", tuple(self.controlnets))
        object.__setattr__(self, "cache_dir", Path(self.cache_dir).expanduser())
        if not self.models:
            raise ValueError(f"{PREFIX}MODELS: at least one model is required")
        if self.offload not in OFFLOADS:
            raise ValueError(f"{PREFIX}OFFLOAD={self.offload!r}: use one of {', '.join(OFFLOADS)}")
        self.family_sizes()  # a malformed FAMILY_MAX_SIZE fails at start

    def family_sizes(self) -> dict[str, int]:
        """FAMILY_MAX_SIZE as {family: largest side}."""
        sizes = {}
        for entry in self.family_max_size:
            family, _, size = entry.partition("=")
            if not size.isdigit():
                raise ValueError(f"{PREFIX}FAMILY_MAX_SIZE: {entry!r} is not FAMILY=PIXELS")
            sizes[family.strip()] = int(size)
        return sizes

    def max_size_of(self, family: str) -> int:
        return min(self.max_size, self.family_sizes().get(family, self.max_size))
