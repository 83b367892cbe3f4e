"""The bind rules, played against real processes: off loopback, `synthmill serve http` refuses to front
an open gateway (like the gRPC servers without keys or mutual TLS), and any server that would take API
keys in clear text refuses to start unless told `--allow-cleartext`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from servers import ROOT, free_port, start_http

pytestmark = pytest.mark.e2e

SYNTHMILL = str(Path(sys.executable).parent / "synthmill")


def serve_http(gateway: str, *flags: str) -> subprocess.CompletedProcess:
    """`synthmill serve http --host 0.0.0.0` in front of `gateway`, expected to refuse and exit."""
    cmd = [SYNTHMILL, "serve", "http", "--host", "0.0.0.0", "--port", str(free_port()), "--gateway", gateway]
    return subprocess.run([*cmd, *flags], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_serve_http_off_loopback_in_front_of_an_open_gateway_refuses(gateway_factory) -> None:
    gateway = gateway_factory()
    refused = serve_http(gateway.target)
    assert refused.returncode != 0
    assert "--allow-unauthenticated" in refused.stderr and "refusing to listen on 0.0.0.0" in refused.stderr


def test_keys_in_clear_text_off_loopback_are_refused(keyed_stack, server_factory, tmp_path: Path) -> None:
    refused = serve_http(keyed_stack.gateway.target)
    assert refused.returncode != 0 and "--allow-cleartext" in refused.stderr, refused.stderr
    env = {"SYNTHMILL_HTTP_HOST": "0.0.0.0", "SYNTHMILL_HTTP_ALLOW_CLEARTEXT": "1"}
    start_http(keyed_stack.gateway.target, tmp_path / "http.log", env).stop()  # told so, it starts

    gateway_env = {
        "SYNTHMILL_GATEWAY_HOST": "0.0.0.0",
        "SYNTHMILL_GATEWAY_ADMIN_KEY": "an-admin-key",
        "SYNTHMILL_GATEWAY_OUTPUT_DIR": str(tmp_path / "out"),
    }
    gateway = server_factory("gateway", gateway_env, wait=False)
    assert gateway.proc.wait(timeout=120) != 0
    assert "--allow-cleartext" in gateway.log_path.read_text()
    server_factory("gateway", {**gateway_env, "SYNTHMILL_GATEWAY_ALLOW_CLEARTEXT": "1"})  # starts and serves
