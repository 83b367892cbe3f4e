"""Entry point: `python -m synthmill.gateway` or `synthmill serve gateway`."""

from __future__ import annotations

import asyncio
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
from synthmill.gateway.store import open_store
from synthmill.gateway.upstream import image_upstream, text_upstream
from synthmill.v1 import gateway_pb2_grpc

log = logging.getLogger(__name__)
_HEALTH_CHECK_S = 1.0


def build(settings: GatewaySettings) -> Service:
    """The gateway's service: at startup the store opens (health stays NOT_SERVING until the
    database answers) and the runner starts claiming jobs, unfinished ones included."""
    state: dict[str, Any] = {}

    def register(server) -> None:
        settings.output_dir.mkdir(parents=True, exist_ok=True)
        store = open_store(settings.db_url, settings.output_dir / "jobs.sqlite3", settings.db_retry_s)
        events = EventLog(store)
        ctx = Context(
            settings=settings,
            store=store,
            events=events,
            text=text_upstream(settings.text_target, settings.max_message_bytes),
            image=image_upstream(settings.image_target, settings.max_message_bytes),
        )
        runner = JobRunner(ctx)
        state.update(ctx=ctx, runner=runner)
        gateway_pb2_grpc.add_GatewayServicer_to_server(GatewayServicer(Jobs(ctx, runner, events)), server)

    async def startup() -> None:
        await state["ctx"].store.open()
        state["runner"].start()

    async def monitor(set_serving) -> None:
        """NOT_SERVING while the job store does not answer."""
        serving = True
        while True:
            await asyncio.sleep(_HEALTH_CHECK_S)
            answered = await state["ctx"].store.ping()
            if answered != serving:
                log.warning("job store %s", "answers again" if answered else "does not answer")
                serving = answered
                await set_serving(serving)

    async def shutdown() -> None:
        await state["runner"].shutdown()
        await state["ctx"].text.close()
        await state["ctx"].image.close()
        await state["ctx"].store.close()

    return Service("gateway", ["synthmill.v1.Gateway"], register, startup, shutdown, monitor=monitor)


def run(**overrides: Any) -> None:
    """Runs the gateway server until SIGTERM/SIGINT; non-None `overrides` win over the environment."""
    server.run("gateway", GatewaySettings, PREFIX, build, **overrides)
