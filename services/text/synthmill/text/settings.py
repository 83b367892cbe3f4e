"""TextSettings: every knob of the text server, read from SYNTHMILL_TEXT_* variables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from synthmill.common.security import ServerSecurity
from synthmill.common.settings import default_cache_dir

PREFIX = "SYNTHMILL_TEXT_"


@dataclass(frozen=True)
class TextSettings(ServerSecurity):
    host: str = field(default="127.0.0.1", metadata={"doc": "Address to listen on."})
    port: int = field(default=50052, metadata={"doc": "gRPC port."})
    metrics_port: int = field(
        default=0,
        metadata={"doc": "Port of the Prometheus /metrics endpoint, on the same host; 0 turns metrics off."},
    )
    model: str = field(
        default="smollm2-135m",
        metadata={
            "doc": "Model to load: an embedded name (smollm2-135m, tiny-llama), a hub id or a local path."
        },
    )
    device: str = field(default="auto", metadata={"doc": "Torch device: auto, cpu, cuda, cuda:1, mps."})
    dtype: str = field(
        default="auto", metadata={"doc": "auto (bfloat16/float16 on CUDA, float32 elsewhere), float32, ..."}
    )
    threads: int = field(
        default=0,
        metadata={
            "doc": "Torch CPU threads; 0 keeps torch's default. Use 1 when cores are shared with busy processes."
        },
    )
    cache_dir: Path = field(
        default_factory=default_cache_dir, metadata={"doc": "Where embedded models are converted and kept."}
    )
    max_rows: int = field(default=10000, metadata={"doc": "Largest row or prompt count in one request."})
    batch_size: int = field(
        default=0,
        metadata={
            "doc": "Rows sampled together in one generate call; 0: from the device: on CUDA what 80% of "
            "the free memory after loading holds of one row's KV cache and logits at 512 prompt tokens + "
            "max_new_tokens, at most 64; 8 on the CPU. GetInfo reports the value in force."
        },
    )
    max_new_tokens: int = field(default=256, metadata={"doc": "Default token budget per row."})
    temperature: float = field(default=0.9, metadata={"doc": "Default sampling temperature (0 = greedy)."})
    top_p: float = field(default=0.95, metadata={"doc": "Default nucleus sampling mass."})
    mask_on_device: bool = field(
        default=False,
        metadata={
            "doc": "Apply the grammar mask and sample on the model's device (torch ops; only the token "
            "bitmask and each row's host-drawn uniform cross to it, so rows stay reproducible); false: "
            "the logits come to the host and xgrammar's CPU kernel masks them. Saves the batch × "
            "vocabulary copy per step on a GPU."
        },
    )
    max_attempts: int = field(
        default=8, metadata={"doc": "Samples drawn per row (or prompt round) before a request gives up."}
    )
    max_string_length: int = field(
        default=120,
        metadata={"doc": "Decoding cap on strings whose schema sets no maxLength (keeps rows bounded)."},
    )
    max_message_bytes: int = field(default=64 * 1024 * 1024, metadata={"doc": "Largest gRPC message."})
    faults: str = field(
        default="",
        metadata={
            "doc": "Test hook, off when empty: oom@generate:N raises torch.OutOfMemoryError in the model's "
            "forward when a generate call's rows × max_new_tokens is over N."
        },
    )
