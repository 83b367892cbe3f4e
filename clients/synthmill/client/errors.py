"""The one exception type client users catch, converted from `grpc.RpcError`; and SpecError, for a flag
or file of the user's that cannot be read before anything is sent."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import grpc

from synthmill.common import errors

F = TypeVar("F", bound=Callable[..., Any])


class SynthmillError(errors.SynthmillError):
    """A gateway call failed: `code` is the gRPC status code, `details` the server's message. One
    hierarchy with the servers' errors: a server that lets one escape answers with its status code."""

    def __init__(self, code: grpc.StatusCode, details: str):
        self.code = code
        self.details = details
        super().__init__(f"{code.name}: {details}" if details else code.name)


def from_rpc_error(exc: grpc.RpcError) -> SynthmillError:
    """Converts a `grpc.RpcError` (sync or aio) into a `SynthmillError`."""
    code = exc.code() if callable(getattr(exc, "code", None)) else grpc.StatusCode.UNKNOWN
    details = exc.details() if callable(getattr(exc, "details", None)) else str(exc)
    return SynthmillError(code or grpc.StatusCode.UNKNOWN, details or "")


def raise_error_grpc(exc: grpc.RpcError) -> None:
    """Raises `exc` as a `SynthmillError`, keeping the original as the cause."""
    raise from_rpc_error(exc) from exc


def converts_errors(func: F) -> F:
    """Decorates a sync call so any `grpc.RpcError` leaves it as a `SynthmillError`."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except grpc.RpcError as exc:
            raise_error_grpc(exc)

    return wrapper  # type: ignore[return-value]


def converts_errors_async(func: F) -> F:
    """Decorates a coroutine so any `grpc.RpcError` leaves it as a `SynthmillError`."""

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await func(*args, **kwargs)
        except grpc.RpcError as exc:
            raise_error_grpc(exc)

    return wrapper  # type: ignore[return-value]


class SpecError(ValueError):
    """A flag or a file the user named cannot be read; the message says which."""
