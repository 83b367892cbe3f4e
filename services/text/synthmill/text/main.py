"""Process entry: settings, logging, the servicer on its device worker, and `serve`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from synthmill.common import logs
from synthmill.common.server import Service, serve
from synthmill.common.settings import from_env
from synthmill.common.worker import DeviceWorker
from synthmill.text.servicer import SERVICE_NAME, TextServicer
from synthmill.text.settings import PREFIX, TextSettings
from synthmill.v1 import text_pb2_grpc

log = logging.getLogger(__name__)


def build_service(settings: TextSettings) -> tuple[Service, DeviceWorker]:
    worker = DeviceWorker(settings.device)
    servicer = TextServicer(settings, worker)

    async def shutdown() -> None:
        worker.shutdown()

    service = Service(
        name="text",
        service_names=[SERVICE_NAME],
        register=lambda server: text_pb2_grpc.add_TextServiceServicer_to_server(servicer, server),
        startup=servicer.startup,
        shutdown=shutdown,
    )
    return service, worker


def run(**overrides: Any) -> None:
    """Runs the text server until SIGTERM/SIGINT. Overrides that are None fall back to the environment."""
    logs.configure("text")
    settings = from_env(TextSettings, PREFIX, **overrides)
    log.info("text server: model=%s device=%s cache=%s", settings.model, settings.device, settings.cache_dir)
    service, _ = build_service(settings)
    asyncio.run(
        serve(
            service,
            settings.host,
            settings.port,
            max_message_bytes=settings.max_message_bytes,
            security=settings,
            prefix=PREFIX,
        )
    )
