"""The one gRPC channel to the gateway, and the caller's `Authorization` header carried on every call.

A request's header is put in a context variable by `ForwardAuthorization` (a middleware); the channel's
interceptor copies it into the `authorization` metadata of each call made while serving that request,
so the gateway's own auth check sees the HTTP caller, and no route handles credentials itself. The
client carries no key of its own: a caller who sends none is anonymous to the gateway, whatever
`$SYNTHMILL_API_KEY` this process was started with. A header that is not `Bearer <token>` in
visible ASCII is 401 at the door.
"""

from __future__ import annotations

import contextvars
import re
from pathlib import Path
from typing import Any

import grpc
from fastapi.responses import JSONResponse

from synthmill.client import AsyncClient
from synthmill.client._common import CHANNEL_OPTIONS, Access
from synthmill.common.tls import aio_channel, channel_credentials, sync_channel
from synthmill.v1 import gateway_pb2, gateway_pb2_grpc

AUTHORIZATION: contextvars.ContextVar[str | None] = contextvars.ContextVar("authorization", default=None)
# `Bearer <token>`: visible ASCII, no spaces in the token, at most 1 KiB in all.
_BEARER = re.compile(rb"[Bb][Ee][Aa][Rr][Ee][Rr] +([\x21-\x7e]{1,1000}) *")


def _with_authorization(details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
    value = AUTHORIZATION.get()
    if not value:
        return details
    metadata = grpc.aio.Metadata(*(details.metadata or ()))
    metadata["authorization"] = value
    return details._replace(metadata=metadata)


class _Unary(grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation, client_call_details, request) -> Any:
        return await continuation(_with_authorization(client_call_details), request)


class _Stream(grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation, client_call_details, request) -> Any:
        return await continuation(_with_authorization(client_call_details), request)


def connect(target: str, tls_ca: Path | None = None) -> AsyncClient:
    """An AsyncClient whose every call carries the current request's Authorization header; over TLS
    when `tls_ca` (the CA of the gateway's certificate) is given."""
    credentials = channel_credentials(tls_ca, prefix="SYNTHMILL_HTTP_")
    channel = aio_channel(target, credentials, CHANNEL_OPTIONS, interceptors=[_Unary(), _Stream()])
    return AsyncClient(target, channel=channel, access=Access())


def needs_keys(target: str, tls_ca: Path | None, timeout: float) -> bool:
    """Whether the gateway at `target` takes API keys, asked without one (waiting up to `timeout`
    seconds for it to answer); SystemExit when it does not answer."""
    credentials = channel_credentials(tls_ca, prefix="SYNTHMILL_HTTP_")
    with sync_channel(target, credentials, CHANNEL_OPTIONS) as channel:
        stub = gateway_pb2_grpc.GatewayStub(channel)
        try:
            stub.GetCaller(gateway_pb2.GetCallerRequest(), timeout=timeout, wait_for_ready=True)
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
                return True
            raise SystemExit(
                f"error: http: cannot tell whether the gateway at {target} needs API keys: "
                f"{exc.code().name} {exc.details()}"
            ) from None
    return False


class ForwardAuthorization:
    """ASGI middleware: the request's Authorization header becomes the gateway calls' metadata."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        value = dict(scope["headers"]).get(b"authorization")
        if value is not None and not _BEARER.fullmatch(value):
            detail = "Authorization: expected `Bearer <key>` in visible ASCII"
            refusal = JSONResponse(
                {"detail": detail}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
            await refusal(scope, receive, send)
            return
        token = AUTHORIZATION.set(value.decode("ascii") if value else None)
        try:
            await self.app(scope, receive, send)
        finally:
            AUTHORIZATION.reset(token)
