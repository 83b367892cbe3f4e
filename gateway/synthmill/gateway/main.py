"""Entry point: `python -m synthmill.gateway` or `synthmill serve gateway`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from synthmill.common import server
from synthmill.common.server import Service
from synthmill.gateway import metrics
from synthmill.gateway.access.auth import ApiKeyInterceptor
from synthmill.gateway.access.keyring import Keyring
from synthmill.gateway.access.keys_servicer import KeysServicer
from synthmill.gateway.access.quotas import Quotas
from synthmill.gateway.disk import DiskCheck
from synthmill.gateway.jobs import Jobs
from synthmill.gateway.retention import Sweeper
from synthmill.gateway.run.job_run import Context
from synthmill.gateway.runner import JobRunner
from synthmill.gateway.servicer import GatewayServicer
from synthmill.gateway.settings import PREFIX, GatewaySettings
from synthmill.gateway.store.events import EventLog
from synthmill.gateway.store.job_store import open_store
from synthmill.gateway.styles import Styles
from synthmill.gateway.upstream import image_upstream, text_upstream
from synthmill.v1 import gateway_pb2_grpc, keys_pb2_grpc

log = logging.getLogger(__name__)
_HEALTH_CHECK_S = 1.0


def build(settings: GatewaySettings) -> Service:
    """The gateway's service: at startup the store opens (health stays NOT_SERVING until the
    database answers) and the runner starts claiming jobs, unfinished ones included."""
    state: dict[str, Any] = {}
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.db_url, settings.output_dir / "jobs.sqlite3", settings.db_retry_s)
    admin_secret = settings.admin_secret()
    keyring = Keyring(store, admin_secret)

    def register(server) -> None:
        events = EventLog(store, settings.watch_steps_per_s)
        credentials = settings.upstream_credentials()
        ctx = Context(
            settings=settings,
            store=store,
            events=events,
            text=text_upstream(settings.text_target, settings.max_message_bytes, credentials),
            image=image_upstream(settings.image_target, settings.max_message_bytes, credentials),
            styles=Styles.load(settings.styles),
        )
        runner = JobRunner(ctx)
        sweeper = Sweeper(
            store, settings.output_dir, runner.owner, settings.retention_days, settings.compact_events_after_s
        )
        state.update(ctx=ctx, runner=runner, sweeper=sweeper)
        jobs = Jobs(
            ctx, runner, events, Quotas(store, settings.max_queued_jobs), DiskCheck(settings.output_dir)
        )
        gateway_pb2_grpc.add_GatewayServicer_to_server(GatewayServicer(jobs, keyring), server)
        keys_pb2_grpc.add_KeysServicer_to_server(KeysServicer(store), server)

    async def startup() -> None:
        await store.open()
        metrics.watch_jobs(store.count_jobs)
        state["runner"].start()
        state["sweeping"] = asyncio.create_task(state["sweeper"].run(settings.sweep_every_s), name="sweeper")

    async def monitor(set_serving) -> None:
        """NOT_SERVING while the job store does not answer."""
        serving = True
        while True:
            await asyncio.sleep(_HEALTH_CHECK_S)
            answered = await store.ping()
            if answered != serving:
                log.warning("job store %s", "answers again" if answered else "does not answer")
                serving = answered
                await set_serving(serving)

    async def shutdown() -> None:
        if "sweeping" in state:
            state["sweeping"].cancel()
            await asyncio.gather(state["sweeping"], return_exceptions=True)
        if "runner" in state:
            await state["runner"].shutdown()
            await state["ctx"].text.close()
            await state["ctx"].image.close()
        await store.close()

    return Service(
        "gateway",
        ["synthmill.v1.Gateway", "synthmill.v1.Keys"],
        register,
        startup,
        shutdown,
        monitor=monitor,
        interceptors=[ApiKeyInterceptor(keyring)],
        # Asked when binding, before the store opens: the admin key is what protects the gateway
        # (keys in the store are made with it).
        protected=lambda: bool(admin_secret),
        protected_by=f"API keys ({PREFIX}ADMIN_KEY)",
    )


def run(**overrides: Any) -> None:
    """Runs the gateway server until SIGTERM/SIGINT; non-None `overrides` win over the environment."""
    server.run("gateway", GatewaySettings, PREFIX, build, **overrides)
