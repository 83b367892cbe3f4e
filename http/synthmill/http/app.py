"""The FastAPI application: routes, the gateway client's lifetime, the error mapping and the /ui page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from synthmill.client import SynthmillError
from synthmill.http import (
    events,
    files,
    fit,
    generate,
    info,
    jobs,
    schema_check,
    sdapi,
    sdapi_controlnet,
    sdapi_img2img,
    sdapi_startup,
    stability,
)
from synthmill.http.deps import authorized
from synthmill.http.door import HostCheck, OriginCheck
from synthmill.http.errors import LimitBody, gateway_error
from synthmill.http.gateway import ForwardAuthorization, connect
from synthmill.http.runs import Runs
from synthmill.http.settings import HttpSettings

STATIC = Path(__file__).parent / "static"


def create_app(settings: HttpSettings | None = None) -> FastAPI:
    settings = settings or HttpSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = connect(settings.gateway, settings.tls_ca)
        app.state.gateway = client
        try:
            yield
        finally:
            await client.channel.close()

    # /docs and /redoc load Swagger UI and ReDoc from the fastapi-offline package, so they work offline.
    app = FastAPIOffline(
        title="synthmill",
        version=info.version(),
        description="Synthetic rows and images over HTTP: seed 003's API, the A1111 `/sdapi/v1` subset, "
        "live job events (SSE), job files, and the web page at `/ui`. A client of the synthmill gateway.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.runs = Runs()
    app.state.checkpoints = {}  # caller's authorization → the checkpoint chosen in /sdapi/v1/options
    app.add_exception_handler(SynthmillError, gateway_error)
    app.include_router(info.router)  # `/` and `/health` answer without a key, like the page itself
    routes = (
        generate,
        schema_check,
        fit,
        jobs,
        events,
        files,
        sdapi,
        sdapi_img2img,
        sdapi_startup,
        sdapi_controlnet,
        stability,
    )
    for module in routes:
        app.include_router(module.router, dependencies=[Depends(authorized)])
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")

    @app.get("/ui", include_in_schema=False)
    async def ui_page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    # The last added runs first: the Host and Origin checks, then the header, then the body's size.
    app.add_middleware(LimitBody, max_bytes=settings.max_body_bytes)
    app.add_middleware(ForwardAuthorization)
    app.add_middleware(OriginCheck)
    app.add_middleware(HostCheck, allowed=settings.allowed_hosts)
    return app
