"""Requests that do not decode are INVALID_ARGUMENT, on every server and every method.

grpc-python decodes a request before any handler or interceptor sees it, and answers a message that is
not valid protobuf with UNKNOWN ("Unexpected DecodeError"). `DecodeGuard` swaps each handler's
request deserializer for one that returns an `Undecodable` marker instead of raising, and wraps the
handler so a marked request (or any marked message of a request stream) is refused with
INVALID_ARGUMENT naming the message type, before the handler runs.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc


class Undecodable:
    """What a request deserializer returns for bytes that are not the message it expects."""

    def __init__(self, error: Exception):
        self.error = error


def _lenient(deserializer: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception as exc:  # DecodeError, or whatever a custom deserializer raises
            return Undecodable(exc)

    return decode


async def _refuse(context: grpc.aio.ServicerContext, method: str, marker: Undecodable) -> None:
    await context.abort(
        grpc.StatusCode.INVALID_ARGUMENT, f"request: not a valid {method} request message ({marker.error})"
    )


async def _result(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _checked_stream(requests: AsyncIterator[Any], context: Any, method: str) -> AsyncIterator[Any]:
    async def checked() -> AsyncIterator[Any]:
        async for request in requests:
            if isinstance(request, Undecodable):
                await _refuse(context, method, request)
            yield request

    return checked()


def _guard(behavior: Callable[..., Any], method: str, streamed_in: bool, streamed_out: bool) -> Callable:
    """`behavior` behind the check of its request (or of each message of its request stream)."""
    if streamed_in:

        def take(requests: Any, context: Any) -> Any:
            return behavior(_checked_stream(requests, context, method), context)

    else:

        def take(request: Any, context: Any) -> Any:
            return behavior(request, context)

    if streamed_out and inspect.isasyncgenfunction(behavior):

        async def stream(request: Any, context: Any) -> AsyncIterator[Any]:
            if isinstance(request, Undecodable):
                await _refuse(context, method, request)
            async for response in take(request, context):
                yield response

        return stream

    async def call(request: Any, context: Any) -> Any:
        if isinstance(request, Undecodable):
            await _refuse(context, method, request)
        return await _result(take(request, context))

    return call


_KINDS = {
    "unary_unary": (grpc.unary_unary_rpc_method_handler, False, False),
    "unary_stream": (grpc.unary_stream_rpc_method_handler, False, True),
    "stream_unary": (grpc.stream_unary_rpc_method_handler, True, False),
    "stream_stream": (grpc.stream_stream_rpc_method_handler, True, True),
}


class DecodeGuard(grpc.aio.ServerInterceptor):
    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or handler.request_deserializer is None:
            return handler
        for kind, (make, streamed_in, streamed_out) in _KINDS.items():
            behavior = getattr(handler, kind)
            if behavior is not None:
                return make(
                    _guard(behavior, details.method, streamed_in, streamed_out),
                    request_deserializer=_lenient(handler.request_deserializer),
                    response_serializer=handler.response_serializer,
                )
        return handler
