"""Process entry: settings, logging, the model loaded and warmed on the device worker, and `serve`."""

from __future__ import annotations

from typing import Any

from synthmill.common import server
from synthmill.common.server import Service
from synthmill.runtime import devices
from synthmill.runtime.lifecycle import model_service
from synthmill.runtime.worker import DeviceWorker
from synthmill.text import loader, metrics
from synthmill.text.engine import TextEngine
from synthmill.text.servicer import SERVICE_NAME, Serving, TextServicer, server_info
from synthmill.text.settings import PREFIX, TextSettings
from synthmill.v1 import text_pb2_grpc


def _load_and_warm(settings: TextSettings) -> TextEngine:
    """Loads the model and runs a warm-up row through it (on the worker thread, which keeps the
    configured CUDA device as its current one from here on)."""
    devices.bind_thread(devices.resolve_device(settings.device))
    with metrics.SERVER.loading(settings.model):
        engine = TextEngine(loader.load(settings.model, settings), settings)
        engine.warm_up()
    return engine


def _start(engine: TextEngine, settings: TextSettings) -> Serving:
    """Serves the warm engine; its generate calls count from here on, the warm-up's do not."""
    model = engine.loaded.name

    def observe(rows: int, tokens: int, steps: int, seconds: float) -> None:
        metrics.SERVER.model_call(model, rows, steps, seconds)
        metrics.TOKENS.labels(model).inc(tokens)

    engine.observe = observe
    return Serving(engine, server_info(engine, settings))


def build_service(settings: TextSettings) -> Service:
    """The text Service: health turns SERVING once the model is loaded and warm."""
    worker = DeviceWorker(settings.device)
    servicer = TextServicer(settings, worker)
    return model_service(
        name="text",
        service_name=SERVICE_NAME,
        register=lambda server: text_pb2_grpc.add_TextServiceServicer_to_server(servicer, server),
        worker=worker,
        load=lambda: _load_and_warm(settings),
        start=lambda engine: _start(engine, settings),
        ready=servicer.ready,
    )


def run(**overrides: Any) -> None:
    """Runs the text server until SIGTERM/SIGINT; non-None `overrides` win over the environment."""
    server.run("text", TextSettings, PREFIX, build_service, **overrides)
