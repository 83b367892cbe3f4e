"""Fixtures shared by every test: real server processes on free loopback ports."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pg import PostgresCluster
from playwright.sync_api import Browser, sync_playwright
from servers import ServerProcess, free_port, start_http, wait_serving

from synthmill.client import Client
from synthmill.v1 import keys_pb2

CHROMIUM = os.environ.get("SYNTHMILL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"

# Fixtures that start real servers or load models: every test using one (directly or through another
# fixture) is marked `e2e`, so `make test-fast` (-m "not e2e") runs without them.
SERVER_FIXTURES = frozenset(
    {"server_factory", "tiny_upstreams", "image_server", "tiny_sdxl_dir", "tiny_text_server", "keyed_stack"}
)


# The longest file runs first: `make test` runs two workers (pytest-xdist, a file each at a time), and
# one starts on it while the other takes the rest, instead of it trailing at the end.
FIRST = "test_benchmarks_smoke.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)
    items.sort(key=lambda item: item.path.name != FIRST)  # stable: the rest keep their order


# `make gpu-check` sets it: there a `gpu` test that skips (no CUDA, a CPU-only torch) is a failure.
REQUIRE_GPU = "SYNTHMILL_REQUIRE_GPU"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator:
    report = yield
    if report.skipped and item.get_closest_marker("gpu") and os.environ.get(REQUIRE_GPU) == "1":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"{REQUIRE_GPU}=1 and this gpu test skipped: {reason}"
    return report


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator:
    """Starts real servers; every one is stopped at the end of the test."""
    started: list[ServerProcess] = []

    def start(kind: str, env: dict[str, str] | None = None, args: list[str] | None = None, wait: bool = True):
        server = ServerProcess(kind, env or {}, tmp_path / f"{kind}-{len(started)}.log", args)
        started.append(server)
        return server.start(wait=wait)

    yield start
    for server in started:
        server.stop()


@dataclass
class Upstreams:
    """Text and image servers on the fast random-weight models, shared by a test session."""

    text: ServerProcess
    image: ServerProcess

    def gateway_env(self, output_dir: Path) -> dict[str, str]:
        """The variables of a gateway over these servers that writes to `output_dir`."""
        return {
            "SYNTHMILL_GATEWAY_TEXT_TARGET": self.text.target,
            "SYNTHMILL_GATEWAY_IMAGE_TARGET": self.image.target,
            "SYNTHMILL_GATEWAY_OUTPUT_DIR": str(output_dir),
        }


@pytest.fixture(scope="session")
def tiny_upstreams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstreams]:
    logs = tmp_path_factory.mktemp("upstream-logs")
    text_env = {
        "SYNTHMILL_TEXT_MODEL": "tiny-llama",
        "SYNTHMILL_TEXT_METRICS_PORT": str(free_port()),
    }
    text = ServerProcess("text", text_env, logs / "text.log")
    image_env = {
        "SYNTHMILL_IMAGE_MODELS": "tiny-sd",
        "SYNTHMILL_IMAGE_METRICS_PORT": str(free_port()),
    }
    image = ServerProcess("image", image_env, logs / "image.log")
    text.start(wait=False)
    image.start(wait=False)
    try:
        for server in (text, image):
            wait_serving(server.target, server.proc)
        yield Upstreams(text, image)
    finally:
        text.stop()
        image.stop()


@pytest.fixture
def gateway_factory(server_factory, tiny_upstreams: Upstreams, tmp_path: Path):
    """Starts a real gateway over the shared tiny servers; returns (server, output_dir)."""

    def start(env: dict[str, str] | None = None, output_dir: Path | None = None, wait: bool = True):
        env = {**tiny_upstreams.gateway_env(output_dir or tmp_path / "out"), **(env or {})}
        return server_factory("gateway", env, wait=wait)

    return start


@dataclass
class KeyedStack:
    """A gateway with API keys over the shared tiny servers, and the HTTP service in front of it,
    started with the admin key in its own environment (`SYNTHMILL_API_KEY`), as a careless
    `export` would leave it. Keys: `alice` and `bob` (no limits), `spent` (1 row a day)."""

    gateway: ServerProcess
    url: str
    output_dir: Path
    admin: str
    keys: dict[str, str]

    def http(self, key: str | None = None) -> httpx.Client:
        """An HTTP client of the service, sending `key` (a name in `keys`, or a secret) as its bearer."""
        headers = {"Authorization": f"Bearer {self.keys.get(key, key)}"} if key else {}
        return httpx.Client(base_url=self.url, timeout=120, headers=headers)


@pytest.fixture(scope="session")
def keyed_stack(tiny_upstreams: Upstreams, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeyedStack]:
    root = tmp_path_factory.mktemp("keyed-stack")
    admin = "admin-secret-" + secrets.token_hex(8)
    env = {**tiny_upstreams.gateway_env(root / "out"), "SYNTHMILL_GATEWAY_ADMIN_KEY": admin}
    gateway = ServerProcess("gateway", env, root / "gateway.log").start()
    try:
        with Client(gateway.target, timeout=60, api_key=admin) as client:
            keys = {name: client.create_key(name).secret for name in ("alice", "bob")}
            keys["spent"] = client.create_key("spent", keys_pb2.KeyLimits(rows_per_day=1)).secret
        http = start_http(gateway.target, root / "http.log", {"SYNTHMILL_API_KEY": admin})
        try:
            yield KeyedStack(gateway, f"http://{http.target}", root / "out", admin, keys)
        finally:
            http.stop()
    finally:
        gateway.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, driven by Playwright (Playwright's own download cannot run here).
    One per module: the sync API runs an event loop in the main thread while it lives, and a later
    test's asyncio.run() would find it running."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A real PostgreSQL server for the test session, in a temporary folder."""
    cluster = PostgresCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(postgres: PostgresCluster, request: pytest.FixtureRequest) -> str:
    """A fresh database on the session's PostgreSQL server, for one test."""
    return postgres.create_database(f"t{len(request.node.nodeid)}_{secrets.token_hex(4)}")
