"""Entry point: `python -m synthmill.gateway` or `synthmill serve gateway`."""

from __future__ import annotations

import logging
from typing import Any

from synthmill.common import server
from synthmill.common.server import Service
from synthmill.gateway.events import EventLog
from synthmill.gateway.execute import Context
from synthmill.gateway.jobs import Jobs
from synthmill.gateway.runner import JobRunner
from synthmill.gateway.servicer import GatewayServicer
from synthmill.gateway.settings import PREFIX, GatewaySettings
from synthmill.gateway.store import JobStore
from synthmill.gateway.styles import Styles
from synthmill.gateway.upstream import image_upstream, text_upstream
from synthmill.v1 import gateway_pb2_grpc

log = logging.getLogger(__name__)


def build(settings: GatewaySettings) -> Service:
    """The gateway's service: the store opens and unfinished jobs resume at startup."""
    state: dict[str, Any] = {}

    def register(server) -> None:
        settings.output_dir.mkdir(parents=True, exist_ok=True)
        store = JobStore(settings.db_file)
        events = EventLog(store)
        ctx = Context(
            settings=settings,
            store=store,
            events=events,
            text=text_upstream(settings.text_target, settings.max_message_bytes),
            image=image_upstream(settings.image_target, settings.max_message_bytes),
            styles=Styles.load(settings.styles),
        )
        runner = JobRunner(ctx)
        state.update(ctx=ctx, runner=runner)
        gateway_pb2_grpc.add_GatewayServicer_to_server(GatewayServicer(Jobs(ctx, runner, events)), server)

    async def startup() -> None:
        resumed = state["runner"].resume()
        if resumed:
            log.info("resumed %d unfinished jobs", resumed)

    async def shutdown() -> None:
        await state["runner"].shutdown()
        await state["ctx"].text.close()
        await state["ctx"].image.close()
        state["ctx"].store.close()

    return Service("gateway", ["synthmill.v1.Gateway"], register, startup, shutdown)


def run(**overrides: Any) -> None:
    """Runs the gateway server until SIGTERM/SIGINT; non-None `overrides` win over the environment."""
    server.run("gateway", GatewaySettings, PREFIX, build, **overrides)
