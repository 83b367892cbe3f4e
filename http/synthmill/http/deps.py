"""What routes share through FastAPI's dependencies: the gateway client of this process, and the
key check every route but the health and the pages' own needs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from synthmill.client import AsyncClient
from synthmill.v1 import gateway_pb2 as pb


def gateway(request: Request) -> AsyncClient:
    return request.app.state.gateway


Gateway = Annotated[AsyncClient, Depends(gateway)]


async def authorized(client: Gateway) -> pb.Caller:
    """The caller as the gateway sees their key: 401 without one on a keyed gateway, 403 for a
    wrong one, before the route runs (routes that never call the gateway are guarded too)."""
    return await client.caller()
