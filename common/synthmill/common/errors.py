"""Domain errors and the interceptor that turns them into gRPC statuses.

Handlers raise these (or plain exceptions); the interceptor is the one place that
maps them onto status codes, so no traceback ever reaches a client.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

log = logging.getLogger(__name__)


class SynthmillError(Exception):
    """Base of the errors a handler may raise on purpose."""

    code = grpc.StatusCode.INTERNAL


class InvalidArgument(SynthmillError):
    """A request field is wrong. The message starts with the field's path."""

    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class NotFound(SynthmillError):
    code = grpc.StatusCode.NOT_FOUND


class ResourceExhausted(SynthmillError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class OutOfMemory(ResourceExhausted):
    """The device ran out of memory for one batch; the server freed it and serves the next. Raised by
    `synthmill.runtime.oom.isolated`. The image batcher retries a batch that raised it at half the size;
    the gateway never retries RESOURCE_EXHAUSTED as is."""


class FailedPrecondition(SynthmillError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Unavailable(SynthmillError):
    code = grpc.StatusCode.UNAVAILABLE


class AlreadyExists(SynthmillError):
    code = grpc.StatusCode.ALREADY_EXISTS


class Unauthenticated(SynthmillError):
    """No credentials came with the call."""

    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(SynthmillError):
    """The credentials are wrong, revoked, or not enough for the call."""

    code = grpc.StatusCode.PERMISSION_DENIED


class Cancelled(SynthmillError):
    """The caller cancelled or left; the work stopped."""

    code = grpc.StatusCode.CANCELLED


def _status_of(exc: Exception) -> tuple[grpc.StatusCode, str]:
    if isinstance(exc, SynthmillError):
        return exc.code, str(exc)
    return grpc.StatusCode.INTERNAL, f"internal error: {type(exc).__name__}: {exc}"


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    """Maps exceptions raised by unary and server-streaming handlers onto gRPC statuses."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None:
            return handler
        method = details.method
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _wrap_unary(handler.unary_unary, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            inner = handler.unary_stream
            # Streaming handlers are async generators, or coroutines that call context.write().
            wrap = _wrap_stream if inspect.isasyncgenfunction(inner) else _wrap_unary
            return grpc.unary_stream_rpc_method_handler(
                wrap(inner, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler


async def _abort(context: grpc.aio.ServicerContext, method: str, exc: Exception) -> None:
    code, message = _status_of(exc)
    if code == grpc.StatusCode.INTERNAL:
        log.exception("%s failed", method, exc_info=exc)
    else:
        log.info("%s: %s %s", method, code.name, message)
    await context.abort(code, message)


def _wrap_unary(inner: Callable[..., Awaitable[Any]], method: str) -> Callable[..., Awaitable[Any]]:
    async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await inner(request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await _abort(context, method, exc)

    return unary


def _wrap_stream(inner: Callable[..., AsyncIterator[Any]], method: str) -> Callable[..., AsyncIterator[Any]]:
    async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        try:
            async for response in inner(request, context):
                yield response
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await _abort(context, method, exc)

    return stream
