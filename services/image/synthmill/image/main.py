"""Entry point of the image server: settings, model loading on the worker thread, then `serve`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from synthmill.common import logs
from synthmill.common.server import Service, serve
from synthmill.common.settings import from_env
from synthmill.common.worker import DeviceWorker
from synthmill.image import engine, judges, loader
from synthmill.image.batcher import Batcher
from synthmill.image.servicer import ImageServicer
from synthmill.image.settings import PREFIX, ImageSettings
from synthmill.v1 import image_pb2_grpc

log = logging.getLogger(__name__)


def _load_and_warm(settings: ImageSettings) -> tuple[dict[str, loader.LoadedModel], judges.Judges]:
    """Loads every configured model and runs a warm-up image through each, then the scorer and
    detectors (on the worker thread)."""
    loader.set_threads(settings.threads)
    models = {}
    for name in settings.models:
        model = loader.load(name, settings.cache_dir, settings.device, settings.dtype)
        engine.warm_up(model)
        models[name] = model
    return models, judges.load(settings)


def build_service(settings: ImageSettings) -> Service:
    """The image Service: health turns SERVING once the models are loaded and warm."""
    worker = DeviceWorker(loader.resolve_device(settings.device))
    servicer = ImageServicer(settings)
    batching: list[asyncio.Task[None]] = []

    async def startup() -> None:
        models, loaded_judges = await worker.run(_load_and_warm, settings)
        batcher = Batcher(
            worker,
            models,
            loaded_judges,
            settings.max_batch,
            settings.batch_delay_ms / 1000,
            settings.progress_interval_ms / 1000,
        )
        batching.append(asyncio.create_task(batcher.run()))
        servicer.attach(models, batcher)

    async def shutdown() -> None:
        for task in batching:
            task.cancel()
        await asyncio.to_thread(worker.shutdown)

    return Service(
        name="image",
        service_names=["synthmill.v1.ImageService"],
        register=lambda server: image_pb2_grpc.add_ImageServiceServicer_to_server(servicer, server),
        startup=startup,
        shutdown=shutdown,
    )


def run(**overrides: Any) -> None:
    """Runs the image server until SIGTERM/SIGINT; non-None `overrides` win over the environment."""
    logs.configure("image")
    settings = from_env(ImageSettings, PREFIX, **overrides)
    log.info("settings: %s", settings)
    asyncio.run(
        serve(
            build_service(settings),
            settings.host,
            settings.port,
            max_message_bytes=settings.max_message_bytes,
        )
    )
