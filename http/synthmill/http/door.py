"""Checks at the door that keep other web pages out: the Host allow-list and the Origin check.

A page on another site can make a browser send requests here. DNS rebinding points that site's name
at 127.0.0.1, so its requests arrive with `Host: evil.example`: only the configured host names are
served (`ALLOWED_HOSTS`, Starlette's TrustedHostMiddleware), except `/` and `/health`, which hold
nothing and answer probes that name the pod's address. A cross-site form or `fetch` that changes
state (POST, PUT, PATCH, DELETE) carries its page's `Origin`: when one is sent it must be this
service's own origin, or the call is 403 before any route runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from fastapi.responses import JSONResponse
from starlette.middleware.trustedhost import TrustedHostMiddleware

ANY_HOST_PATHS = frozenset({"/", "/health"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class HostCheck:
    """ASGI middleware: 400 for a Host header not in `allowed`, except on `ANY_HOST_PATHS`."""

    def __init__(self, app: Any, allowed: Sequence[str]):
        self.app = app
        self.checked = TrustedHostMiddleware(app, allowed_hosts=list(allowed), www_redirect=False)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and scope["path"] not in ANY_HOST_PATHS:
            await self.checked(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class OriginCheck:
    """ASGI middleware: 403 for a state-changing call whose `Origin` is not this service's host."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            headers = dict(scope["headers"])
            origin = headers.get(b"origin")
            if origin is not None and not _same_host(origin, headers.get(b"host", b"")):
                detail = (
                    f"Origin: {origin.decode('latin-1')!r} is not this service; cross-site calls are refused"
                )
                await JSONResponse({"detail": detail}, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _same_host(origin: bytes, host: bytes) -> bool:
    """Whether the Origin's host[:port] is the request's Host (the scheme may differ behind a proxy)."""
    try:
        parts = urlsplit(origin.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.netloc == host.decode("latin-1")
