"""What routes share through FastAPI's dependencies: the gateway client of this process."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from synthmill.client import AsyncClient


def gateway(request: Request) -> AsyncClient:
    return request.app.state.gateway


Gateway = Annotated[AsyncClient, Depends(gateway)]
