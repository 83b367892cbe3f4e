"""Gateway settings, read from `SYNTHMILL_GATEWAY_*` environment variables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import grpc

from synthmill.common.security import ServerSecurity
from synthmill.common.settings import SECRET
from synthmill.common.tls import channel_credentials

PREFIX = "SYNTHMILL_GATEWAY_"


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True)
class GatewaySettings(ServerSecurity):
    host: str = field(default="127.0.0.1", metadata=_doc("Address to bind; 0.0.0.0 in containers."))
    port: int = field(default=50051, metadata=_doc("Port to bind."))
    metrics_port: int = field(
        default=0,
        metadata=_doc("Port of the Prometheus /metrics endpoint, on the same host; 0 turns metrics off."),
    )
    text_target: str = field(
        default="localhost:50052",
        metadata=_doc("Text server target: host:port, a comma-separated list, or dns:///name:port."),
    )
    image_target: str = field(
        default="localhost:50053",
        metadata=_doc("Image server target: host:port, a comma-separated list, or dns:///name:port."),
    )
    output_dir: Path = field(default=Path("generated_data"), metadata=_doc("Output root, a folder per job."))
    db_url: str = field(
        default="",
        repr=False,  # logged with its password masked (`loggable`)
        metadata=_doc(
            "Job store: sqlite:///path/jobs.sqlite3 (one gateway) or postgresql://user@host/db "
            "(several gateways share it); empty is SQLite at <output_dir>/jobs.sqlite3."
        ),
    )
    lease_s: float = field(
        default=15.0,
        metadata=_doc("A job's lease without a heartbeat; after it another gateway takes the job over."),
    )
    db_retry_s: float = field(
        default=30.0,
        metadata=_doc("How long a store call retries a lost database connection (with backoff)."),
    )
    max_rows: int = field(default=10000, metadata=_doc("Most rows one job may ask for."))
    max_sampled_rows: int = field(
        default=10_000_000,
        metadata=_doc(
            "Most rows a tables job may draw without the LLM (its LLM-written rows count to max_rows)."
        ),
    )
    max_images: int = field(default=10000, metadata=_doc("Most images one job may ask for."))
    max_images_per_row: int = field(default=16, metadata=_doc("Most images per row in unified jobs."))
    max_concurrent_jobs: int = field(default=16, metadata=_doc("Jobs running at once; the rest queue."))
    max_queued_jobs: int = field(default=1000, metadata=_doc("Jobs waiting; more are RESOURCE_EXHAUSTED."))
    retention_days: float = field(
        default=0.0,
        metadata=_doc("Jobs that ended this many days ago are deleted, outputs and records; 0 keeps them."),
    )
    compact_events_after_s: float = field(
        default=3600.0,
        metadata=_doc(
            "A job that ended this long ago keeps only its final stored event; 0 keeps every event."
        ),
    )
    watch_steps_per_s: float = field(
        default=0.0,
        metadata=_doc(
            "Most step events a watcher is sent a second (newer steps replace waiting ones); 0: no cap. "
            "Bounds the deliveries of a gateway with many watchers."
        ),
    )
    sweep_every_s: float = field(
        default=600.0, metadata=_doc("How often the retention sweeper runs (one gateway at a time).")
    )
    rows_per_request: int = field(default=8, metadata=_doc("Rows asked of the text server per request."))
    row_requests_in_flight: int = field(
        default=4, metadata=_doc("Row requests one job keeps in flight (spread over text replicas).")
    )
    max_row_samples: int = field(
        default=16,
        metadata=_doc("Samples drawn for one row before the job fails; repeats of earlier rows use them up."),
    )
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
    max_sample_bytes: int = field(
        default=32 * 1024 * 1024, metadata=_doc("Largest sample a text job may be fitted to (`like`).")
    )
    upstream_tls_cert: Path | None = field(
        default=None, metadata=_doc("PEM client certificate the gateway presents to the inference servers.")
    )
    upstream_tls_key: Path | None = field(default=None, metadata=_doc("PEM private key of that certificate."))
    upstream_tls_ca: Path | None = field(
        default=None,
        metadata=_doc("PEM CA the inference servers' certificates chain to; turns on TLS to them."),
    )
    admin_key: str | None = field(
        default=None,
        repr=False,
        metadata={
            **_doc("Admin API key: manages keys, sees every job. Set it (or create keys) to require keys."),
            SECRET: True,
        },
    )

    admin_key_file: Path | None = field(
        default=None,
        metadata=_doc("File holding the admin key (a mounted secret), read at start; instead of ADMIN_KEY."),
    )
    styles: Path | None = field(
        default=None,
        metadata=_doc("An A1111 styles.csv (name, prompt, negative_prompt) that jobs may apply."),
    )

    def admin_secret(self) -> str | None:
        """The admin key, from `ADMIN_KEY` or the file `ADMIN_KEY_FILE` names."""
        if self.admin_key_file is not None:
            return self.admin_key_file.read_text().strip() or None
        return self.admin_key or None

    def upstream_credentials(self) -> grpc.ChannelCredentials | None:
        return channel_credentials(
            self.upstream_tls_ca, self.upstream_tls_cert, self.upstream_tls_key, f"{PREFIX}UPSTREAM_"
        )
