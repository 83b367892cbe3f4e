"""Settings of the image server, read from `SYNTHMILL_IMAGE_*` environment variables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from synthmill.common.settings import default_cache_dir

PREFIX = "SYNTHMILL_IMAGE_"


@dataclass(frozen=True)
class ImageSettings:
    """Everything the image server can be told; CLI flags override the environment."""

    host: str = field(default="127.0.0.1", metadata={"doc": "Address to listen on."})
    port: int = field(default=50053, metadata={"doc": "Port to listen on."})
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
    max_size: int = field(default=2048, metadata={"doc": "Largest width or height accepted."})
    max_steps: int = field(default=150, metadata={"doc": "Largest step count accepted."})
    max_items: int = field(default=64, metadata={"doc": "Largest number of items in one request."})
    max_batch: int = field(default=8, metadata={"doc": "Largest pipeline batch the dynamic batcher forms."})
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
    detect_threshold: float = field(default=0.25, metadata={"doc": "Least confidence of a kept box."})
    open_detect_threshold: float = field(
        default=0.1, metadata={"doc": "Least confidence of a kept box from the open-vocabulary detector."}
    )
    max_message_bytes: int = field(
        default=64 * 1024 * 1024, metadata={"doc": "Largest gRPC message sent or received."}
    )

    def __post_init__(self) -> None:
        # CLI callers pass lists and strings; keep the declared types.
        object.__setattr__(self, "models", tuple(self.models))
        object.__setattr__(self, "cache_dir", Path(self.cache_dir).expanduser())
        if not self.models:
            raise ValueError(f"{PREFIX}MODELS: at least one model is required")
