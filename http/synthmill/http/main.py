"""Entry point: `python -m synthmill.http` or `synthmill serve http`."""

from __future__ import annotations

import logging
import signal
import sys
from typing import Any

import uvicorn

from synthmill.common.logs import configure
from synthmill.common.security import ExposedWithoutAuth, check_cleartext, check_exposure, is_loopback
from synthmill.common.settings import from_env, loggable
from synthmill.http.app import create_app
from synthmill.http.gateway import needs_keys
from synthmill.http.settings import PREFIX, HttpSettings

log = logging.getLogger(__name__)


def check_bind(settings: HttpSettings) -> None:
    """The gRPC servers' bind rules: off loopback, the gateway behind must take keys, and keys need HTTPS."""
    if is_loopback(settings.host) or (settings.allow_unauthenticated and settings.allow_cleartext):
        return
    keyed = needs_keys(settings.gateway, settings.tls_ca, settings.gateway_wait_s)
    try:
        check_exposure(
            "http", settings.host, keyed, settings, f"API keys on the gateway at {settings.gateway}"
        )
        check_cleartext("http", settings.host, keyed, settings.tls_cert is not None, settings)
    except ExposedWithoutAuth as exc:
        raise SystemExit(f"error: {exc}") from None


def run(**overrides: Any) -> None:
    """Serves until SIGTERM or SIGINT, then exits 0 like the gRPC servers (uvicorn shuts down
    gracefully, then raises the signal again: these handlers turn that into a clean exit)."""
    configure("http")
    settings = from_env(HttpSettings, PREFIX, **overrides)
    log.info("http settings: %s", loggable(settings))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(0))
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise SystemExit(f"{PREFIX}TLS_CERT and {PREFIX}TLS_KEY go together")
    check_bind(settings)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        ssl_certfile=settings.tls_cert,
        ssl_keyfile=settings.tls_key,
    )
