"""Fixtures of the HTTP tests: one real gateway over the session's tiny servers and one real HTTP
service in front of it, shared by the session; `api` is an httpx client of that service. (`browser`,
Debian's headless Chromium driven by Playwright, is the suite's, in tests/conftest.py.)"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from http_helpers import HttpStack, start_http
from servers import ServerProcess, wait_serving


@pytest.fixture(scope="session")
def http_stack(tiny_upstreams, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpStack]:
    root = tmp_path_factory.mktemp("http-stack")
    gateway = ServerProcess("gateway", tiny_upstreams.gateway_env(root / "out"), root / "gateway.log")
    gateway.start(wait=False)
    try:
        wait_serving(gateway.target, gateway.proc)
        http = start_http(gateway.target, root / "http.log")
        try:
            yield HttpStack(gateway, http, root / "out")
        finally:
            http.stop()
    finally:
        gateway.stop()


@pytest.fixture(scope="session")
def api(http_stack: HttpStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=http_stack.url, timeout=300) as client:
        yield client
