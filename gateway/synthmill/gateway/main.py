"""Entry point: `python -m synthmill.gateway` or `synthmill serve gateway`."""

from __future__ import annotations

import logging
from typing import Any

from synthmill.common import server
from synthmill.common.server import Service
from synthmill.gateway import metrics
from synthmill.gateway.auth import ApiKeyInterceptor
from synthmill.gateway.events import EventLog
from synthmill.gateway.execute import Context
from synthmill.gateway.jobs import Jobs
from synthmill.gateway.keyring import Keyring
from synthmill.gateway.keys_servicer import KeysServicer
from synthmill.gateway.quotas import Quotas
from synthmill.gateway.runner import JobRunner
from synthmill.gateway.servicer import GatewayServicer
from synthmill.gateway.settings import PREFIX, GatewaySettings
from synthmill.gateway.store import JobStore
from synthmill.gateway.upstream import image_upstream, text_upstream
from synthmill.v1 import gateway_pb2_grpc, keys_pb2_grpc

log = logging.getLogger(__name__)


def build(settings: GatewaySettings) -> Service:
    """The gateway's service: the store opens here, unfinished jobs resume at startup."""
    state: dict[str, Any] = {}
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    store = JobStore(settings.db_file)
    keyring = Keyring(store, settings.admin_secret())

    def register(server) -> None:
        events = EventLog(store)
        credentials = settings.upstream_credentials()
        ctx = Context(
            settings=settings,
            store=store,
            events=events,
            text=text_upstream(settings.text_target, settings.max_message_bytes, credentials),
            image=image_upstream(settings.image_target, settings.max_message_bytes, credentials),
        )
        runner = JobRunner(ctx)
        state.update(ctx=ctx, runner=runner)
        jobs = Jobs(ctx, runner, events, Quotas(store))
        gateway_pb2_grpc.add_GatewayServicer_to_server(GatewayServicer(jobs), server)
        keys_pb2_grpc.add_KeysServicer_to_server(KeysServicer(store), server)

    async def count_jobs(state: int) -> int:
        return store.count_jobs(state)

    async def startup() -> None:
        metrics.watch_jobs(count_jobs)
        resumed = state["runner"].resume()
        if resumed:
            log.info("resumed %d unfinished jobs", resumed)

    async def shutdown() -> None:
        if "runner" in state:
            await state["runner"].shutdown()
            await state["ctx"].text.close()
            await state["ctx"].image.close()
        store.close()

    return Service(
        "gateway",
        ["synthmill.v1.Gateway", "synthmill.v1.Keys"],
        register,
        startup,
        shutdown,
        interceptors=[ApiKeyInterceptor(keyring)],
        protected=lambda: not keyring.open,
        protected_by=f"API keys ({PREFIX}ADMIN_KEY or keys in the store)",
    )


def run(**overrides: Any) -> None:
    """Runs the gateway server until SIGTERM/SIGINT; non-None `overrides` win over the environment."""
    server.run("gateway", GatewaySettings, PREFIX, build, **overrides)
