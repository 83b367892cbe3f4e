"""HTTP service settings, read from `SYNTHMILL_HTTP_*` environment variables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from synthmill.client._common import DEFAULT_HTTP_PORT

PREFIX = "SYNTHMILL_HTTP_"


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True)
class HttpSettings:
    host: str = field(default="127.0.0.1", metadata=_doc("Address to bind; 0.0.0.0 in containers."))
    port: int = field(
        default=DEFAULT_HTTP_PORT, metadata=_doc("Port of the HTTP API, the A1111 API and the /ui page.")
    )
    gateway: str = field(
        default="localhost:50051", metadata=_doc("The gateway's gRPC target this service is a client of.")
    )
    tls_ca: Path | None = field(
        default=None,
        metadata=_doc("CA of the gateway's TLS certificate; unset dials the gateway in clear text."),
    )
    tls_cert: Path | None = field(
        default=None, metadata=_doc("HTTPS certificate (PEM), with TLS_KEY; unset serves plain HTTP.")
    )
    tls_key: Path | None = field(default=None, metadata=_doc("The HTTPS certificate's private key (PEM)."))
    max_body_bytes: int = field(
        default=1024 * 1024, metadata=_doc("Largest request body; bigger ones get 413.")
    )
    allow_unauthenticated: bool = field(
        default=False,
        metadata=_doc("Start on a non-loopback address in front of a gateway without API keys."),
    )
    allow_cleartext: bool = field(
        default=False,
        metadata=_doc("Start on a non-loopback address without HTTPS while the gateway takes API keys."),
    )
    allowed_hosts: tuple[str, ...] = field(
        default=("localhost", "127.0.0.1"),
        metadata=_doc(
            "Host header values served (comma-separated; `*.example.com` matches subdomains); others "
            "get 400, so a DNS-rebinding page cannot drive the service. `/` and `/health` answer any."
        ),
    )
    gateway_wait_s: float = field(
        default=60.0,
        metadata=_doc("How long a non-loopback start waits for the gateway to say whether it needs keys."),
    )
    txt2img_timeout_s: float = field(
        default=3600.0,
        metadata=_doc("How long /sdapi/v1/txt2img waits for its job; the job is cancelled after that."),
    )
