"""gRPC statuses as HTTP statuses, and the door: bodies over the size limit are refused before parsing.

Every error leaves as `{"detail": ...}`, FastAPI's shape; a gateway refusal keeps the gateway's message,
which names the field (`images.params.width: 100 is not a multiple of 8`).
"""

from __future__ import annotations

from typing import Any

import grpc
from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse

from synthmill.client.errors import SynthmillError

STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


def http_status(code: grpc.StatusCode) -> int:
    """The HTTP status of a gateway error; anything unexpected upstream is 502 Bad Gateway."""
    return STATUS.get(code, 502)


async def gateway_error(request: Request, exc: Exception) -> JSONResponse:
    """The exception handler for `SynthmillError`: the gateway's message under the mapped status."""
    assert isinstance(exc, SynthmillError)
    status = http_status(exc.code)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": exc.details or exc.code.name}, status_code=status, headers=headers)


class LimitBody:
    """ASGI middleware: 413 for a body over `max_bytes`, by its Content-Length or as it streams in."""

    def __init__(self, app: Any, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes
        self.detail = f"request body is over the limit of {max_bytes} bytes"

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            await JSONResponse({"detail": self.detail}, status_code=413)(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:  # raised inside the route's body parsing: FastAPI answers it
                raise HTTPException(413, self.detail)
            return message

        await self.app(scope, counting_receive, send)
