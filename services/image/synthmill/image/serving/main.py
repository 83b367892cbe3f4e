"""Process entry: settings, logging, the models loaded and warmed on the device worker, the batcher,
and `serve`."""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import replace
from typing import Any

from synthmill.common import server
from synthmill.common.server import Service
from synthmill.image.generation import engine, loader
from synthmill.image.judging import models as judging
from synthmill.image.judging import verdicts
from synthmill.image.serving import metrics
from synthmill.image.serving.batcher import Batcher
from synthmill.image.serving.servicer import SERVICE_NAME, ImageServicer, Serving, server_info
from synthmill.image.serving.settings import PREFIX, ImageSettings
from synthmill.runtime import devices
from synthmill.runtime.lifecycle import model_service
from synthmill.runtime.worker import DeviceWorker
from synthmill.v1 import image_pb2_grpc


def _load_and_warm(
    settings: ImageSettings,
) -> tuple[dict[str, loader.LoadedModel], judging.JudgingModels, int]:
    """Loads every configured model and runs a warm-up image through each, then the scorer and
    detectors (on the worker thread, which keeps the configured CUDA device as its current one from
    here on); then the largest batch: MAX_BATCH, or when it is 0, what the free device memory holds of
    the most memory-hungry model's warm-up image."""
    devices.set_threads(settings.threads)
    devices.set_deterministic(settings.deterministic)
    device = devices.resolve_device(settings.device)
    devices.bind_thread(device)
    models, per_image = {}, []
    controlnets: dict = {}  # ControlNet weights shared by the models they fit
    for name in settings.models:
        with metrics.SERVER.loading(name):
            model = loader.load(name, settings, controlnets)
            per_image.append(engine.warm_up(model))
        models[name] = model
    judged_by = judging.load(settings)
    measured = [peak for peak in per_image if peak]
    batch = settings.max_batch or devices.auto_batch(device, max(measured, default=None))
    return models, judged_by, batch


def build_service(settings: ImageSettings) -> Service:
    """The image Service: health turns SERVING once the models are loaded and warm."""
    worker = DeviceWorker(settings.device)
    servicer = ImageServicer(settings)
    batching: list[asyncio.Task[None]] = []

    def start(loaded: tuple[dict[str, loader.LoadedModel], judging.JudgingModels, int]) -> Serving:
        models, judged_by, max_batch = loaded

        async def run_batch(params, items, on_step):
            model = models[params.model]
            started = time.monotonic()
            images = await worker.run(
                engine.generate, model, params, items, on_step, settings.vae_tiling_pixels
            )
            if images is not None:  # a stopped batch did not run all its steps
                metrics.SERVER.model_call(
                    params.model, len(items), params.denoising_steps, time.monotonic() - started
                )
            return images

        def annotate(images, labels, kinds):
            return worker.run(judged_by.annotate, images, labels, kinds)

        described = {name: model.describe() for name, model in models.items()}
        batcher = Batcher(
            run_batch,
            max_batch,
            settings.batch_delay_ms / 1000,
            settings.progress_interval_ms / 1000,
            max_pixels=settings.max_batch_pixels,
            cards={name: model.card for name, model in described.items()},
            judge=functools.partial(verdicts.judge, worker, judged_by),
        )
        batching.append(asyncio.create_task(batcher.run()))
        info = server_info(described, replace(settings, max_batch=max_batch), judged_by.describe())
        return Serving(described, batcher, info, annotate)

    def stop() -> None:
        for task in batching:
            task.cancel()

    return model_service(
        name="image",
        service_name=SERVICE_NAME,
        register=lambda server: image_pb2_grpc.add_ImageServiceServicer_to_server(servicer, server),
        worker=worker,
        load=lambda: _load_and_warm(settings),
        start=start,
        ready=servicer.ready,
        stop=stop,
    )


def run(**overrides: Any) -> None:
    """Runs the image server until SIGTERM/SIGINT; non-None `overrides` win over the environment."""
    server.run("image", ImageSettings, PREFIX, build_service, **overrides)
