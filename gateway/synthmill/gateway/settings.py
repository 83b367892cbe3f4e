"""Gateway settings, read from `SYNTHMILL_GATEWAY_*` environment variables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "SYNTHMILL_GATEWAY_"


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True)
class GatewaySettings:
    host: str = field(default="127.0.0.1", metadata=_doc("Address to bind; 0.0.0.0 in containers."))
    port: int = field(default=50051, metadata=_doc("Port to bind."))
    text_target: str = field(
        default="localhost:50052",
        metadata=_doc("Text server target: host:port, a comma-separated list, or dns:///name:port."),
    )
    image_target: str = field(
        default="localhost:50053",
        metadata=_doc("Image server target: host:port, a comma-separated list, or dns:///name:port."),
    )
    output_dir: Path = field(default=Path("generated_data"), metadata=_doc("Output root, a folder per job."))
    db_path: Path | None = field(
        default=None, metadata=_doc("SQLite job store; default <output_dir>/jobs.sqlite3.")
    )
    max_rows: int = field(default=10000, metadata=_doc("Most rows one job may ask for."))
    max_images: int = field(default=10000, metadata=_doc("Most images one job may ask for."))
    max_images_per_row: int = field(default=16, metadata=_doc("Most images per row in unified jobs."))
    max_concurrent_jobs: int = field(default=16, metadata=_doc("Jobs running at once; the rest queue."))
    max_queued_jobs: int = field(default=1000, metadata=_doc("Jobs waiting; more are RESOURCE_EXHAUSTED."))
    rows_per_request: int = field(default=8, metadata=_doc("Rows asked of the text server per request."))
    images_per_request: int = field(default=4, metadata=_doc("Images sent to an image server per request."))
    image_requests_in_flight: int = field(
        default=4, metadata=_doc("Image requests one job keeps in flight (spread over replicas).")
    )
    max_attempts: int = field(default=4, metadata=_doc("Tries per request before the job fails."))
    retry_backoff_s: float = field(default=1.0, metadata=_doc("First retry delay; doubles each try."))
    upstream_wait_s: float = field(
        default=120.0, metadata=_doc("How long a request waits for an unreachable server to come back.")
    )
    max_message_bytes: int = field(default=64 * 1024 * 1024, metadata=_doc("Largest gRPC message."))
    styles: Path | None = field(
        default=None,
        metadata=_doc("An A1111 styles.csv (name, prompt, negative_prompt) that jobs may apply."),
    )

    @property
    def db_file(self) -> Path:
        return self.db_path or self.output_dir / "jobs.sqlite3"
