"""The one place API keys are checked: a server interceptor in front of the gateway's services.

It reads `authorization: Bearer <key>` metadata, identifies the caller (see `keyring`), and either
refuses the call at once (UNAUTHENTICATED without a key, PERMISSION_DENIED with a wrong or revoked
one, or a non-admin key on the Keys service) or lets it through with the caller in `caller()` for
the handlers. grpc.aio runs the interceptor and the handler in the same task, so the context
variable set here is the one the handler reads. Health and reflection stay open for probes, and so
does the gateway's own GetHealth: a caller without a key gets it as `ANONYMOUS`, which sees no
server targets or errors.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Awaitable, Callable

import grpc

from synthmill.common.errors import FailedPrecondition, PermissionDenied, SynthmillError
from synthmill.gateway.access.keyring import ADMIN, ANONYMOUS, Keyring, Principal

log = logging.getLogger(__name__)

GUARDED = ("/synthmill.v1.Gateway/", "/synthmill.v1.Keys/")
_KEYS = "/synthmill.v1.Keys/"
# Answered without a key (and as the key's principal when one is sent).
_OPEN = frozenset({"/synthmill.v1.Gateway/GetHealth"})
_CALLER: contextvars.ContextVar[Principal] = contextvars.ContextVar("synthmill_caller")


def caller() -> Principal:
    """The principal of the call being handled."""
    return _CALLER.get()


def bearer(metadata: tuple[tuple[str, str | bytes], ...] | None) -> str | None:
    for name, value in metadata or ():
        if name == "authorization":
            text = value.decode() if isinstance(value, bytes) else value
            scheme, _, secret = text.strip().partition(" ")
            return secret.strip() if scheme.lower() == "bearer" else None
    return None


class ApiKeyInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, keyring: Keyring):
        self.keyring = keyring

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or not details.method.startswith(GUARDED):
            return handler
        try:
            secret = bearer(details.invocation_metadata)
            if details.method in _OPEN and not secret and not await self.keyring.is_open():
                _CALLER.set(ANONYMOUS)
                return handler
            who = await self.keyring.identify(secret)
            if details.method.startswith(_KEYS):
                if not self.keyring.admin_key:
                    raise FailedPrecondition(
                        "set SYNTHMILL_GATEWAY_ADMIN_KEY (or _ADMIN_KEY_FILE) to manage keys"
                    )
                if who is not ADMIN:
                    raise PermissionDenied("managing keys needs the admin key")
        except SynthmillError as exc:
            log.info("%s refused: %s %s", details.method, exc.code.name, exc)
            return _refusal(handler, exc)
        _CALLER.set(who)
        return handler


def _refusal(handler: grpc.RpcMethodHandler, exc: SynthmillError) -> grpc.RpcMethodHandler:
    """A handler of the same shape as `handler` that ends the call with `exc`'s status."""

    async def refuse(request, context: grpc.aio.ServicerContext):
        await context.abort(exc.code, str(exc))

    codecs = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(refuse, **codecs)
    return grpc.unary_unary_rpc_method_handler(refuse, **codecs)
