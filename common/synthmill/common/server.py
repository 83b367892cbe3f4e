"""Runs a grpc.aio server with the standard health and reflection services.

Every synthmill server goes through `serve`: health starts NOT_SERVING, the service's
`startup` loads and warms its model, health flips to SERVING, and SIGTERM/SIGINT stop the
server gracefully (in-flight calls get `grace` seconds) before `shutdown` runs. It listens
with TLS when the service's settings name a certificate (see `synthmill.common.tls`), and
refuses a non-loopback address when nothing would check who calls (`synthmill.common.security`).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from synthmill.common import logs, metrics
from synthmill.common.decoding import DecodeGuard
from synthmill.common.errors import ErrorInterceptor
from synthmill.common.security import ExposedWithoutAuth, ServerSecurity, check_cleartext, check_exposure
from synthmill.common.settings import from_env, loggable
from synthmill.common.tls import TlsConfigError

log = logging.getLogger(__name__)

# Headers of one call (an API key fits many times over); larger ones are refused by gRPC.
MAX_METADATA_BYTES = 16 * 1024


@dataclass
class Service:
    """What a process serves: servicers to register, and its model lifecycle."""

    name: str
    # Full proto service names ("synthmill.v1.ImageService") for health and reflection.
    service_names: Sequence[str]
    register: Callable[[grpc.aio.Server], None]
    startup: Callable[[], Awaitable[None]] = field(default=lambda: asyncio.sleep(0))
    shutdown: Callable[[], Awaitable[None]] = field(default=lambda: asyncio.sleep(0))
    # Runs while the service is up after startup, calling `set_serving(False)` when it cannot serve
    # (e.g. its database is unreachable) and `set_serving(True)` when it can again.
    monitor: Callable[[Callable[[bool], Awaitable[None]]], Awaitable[None]] | None = None
    # Run before the error interceptor, outermost first (the gateway's API key check).
    interceptors: Sequence[grpc.aio.ServerInterceptor] = ()
    # Whether callers are checked, asked after `register`, and what would check them; None means
    # mutual TLS: the service's `TLS_CA` is set.
    protected: Callable[[], bool] | None = None
    protected_by: str = "mutual TLS (TLS_CA)"


def run(
    name: str, settings_class: type, prefix: str, build: Callable[[Any], Service], **overrides: Any
) -> None:
    """A server process: logging, settings from `prefix`'s variables (non-None `overrides` win),
    Prometheus metrics on the settings' `metrics_port`, and `serve` until SIGTERM/SIGINT."""
    logs.configure(name)
    settings = from_env(settings_class, prefix, **overrides)
    log.info("%s settings: %s", name, loggable(settings))
    metrics.serve(name, settings.host, settings.metrics_port)
    asyncio.run(
        serve(
            build(settings),
            settings.host,
            settings.port,
            max_message_bytes=settings.max_message_bytes,
            security=settings,
            prefix=prefix,
        )
    )


def server_options(max_message_bytes: int) -> list[tuple[str, int]]:
    return [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_metadata_size", MAX_METADATA_BYTES),
    ]


async def serve(
    service: Service,
    host: str,
    port: int,
    *,
    max_message_bytes: int = 64 * 1024 * 1024,
    security: ServerSecurity | None = None,
    prefix: str = "",
    grace: float = 5.0,
    stop: asyncio.Event | None = None,
) -> None:
    """Serves until SIGTERM/SIGINT (or `stop` is set), then shuts down gracefully. `security` holds
    the TLS files and `ALLOW_UNAUTHENTICATED` of the service's settings, whose variables start with `prefix`."""
    security = security or ServerSecurity()
    # Innermost: a request that does not decode is refused before the handler (and after the key check).
    interceptors = [*service.interceptors, ErrorInterceptor(), DecodeGuard()]
    server = grpc.aio.server(interceptors=interceptors, options=server_options(max_message_bytes))
    try:
        service.register(server)
        credentials = security.credentials(prefix)
        protected = service.protected() if service.protected else security.tls_ca is not None
        check_exposure(service.name, host, protected, security, service.protected_by)
        check_cleartext(service.name, host, protected, credentials is not None, security)
    except (TlsConfigError, ExposedWithoutAuth) as exc:
        await service.shutdown()
        raise SystemExit(f"error: {exc}") from None  # the message, not a traceback
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = ["", *service.service_names]
    for name in names:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    reflection.enable_server_reflection(
        [*service.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    address = f"{host}:{port}"
    if credentials is None:
        bound = server.add_insecure_port(address)
    else:
        bound = server.add_secure_port(address, credentials)
    if bound == 0:
        raise OSError(f"{service.name}: cannot bind {address}")
    await server.start()
    tls = "clear text" if credentials is None else "mutual TLS" if security.tls_ca else "TLS"
    log.info("%s listening on %s:%d (%s)", service.name, host, bound, tls)

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def set_serving(serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in names:
            await health_servicer.set(name, status)

    startup = asyncio.create_task(service.startup())
    stopping = asyncio.create_task(stop.wait())
    monitor: asyncio.Task | None = None
    try:
        await asyncio.wait({startup, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if startup.done():
            startup.result()  # a failed model load ends the process with its error
            await set_serving(True)
            log.info("%s serving", service.name)
            if service.monitor is not None:
                monitor = asyncio.create_task(service.monitor(set_serving))
            await stopping
    finally:
        startup.cancel()
        if monitor is not None:
            monitor.cancel()
        stopping.cancel()
        log.info("%s stopping (grace %.0fs)", service.name, grace)
        await health_servicer.enter_graceful_shutdown()
        await server.stop(grace)
        await service.shutdown()
        log.info("%s stopped", service.name)
