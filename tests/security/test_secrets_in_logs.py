"""Secrets never reach a log: every service starts with planted secrets in its settings and its
environment, and its start-up output (the settings line included) must hold none of them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from servers import free_port, pinned

from synthmill.common.settings import loggable, masked
from synthmill.gateway.settings import GatewaySettings

pytestmark = pytest.mark.e2e

PASSWORD = "S3cretPW"
ADMIN = "planted-admin-key-0xC0FFEE"
API_KEY = "smk_planted-client-key"
HF_TOKEN = "hf_plantedtoken123"
PLANTED = (PASSWORD, ADMIN, API_KEY, HF_TOKEN)


def start_up_output(kind: str, env: dict[str, str], marker: str, tmp_path: Path) -> str:
    """The output of a `python -m synthmill.KIND` process up to the line holding `marker` (read as it
    is printed), then the rest until it stops on SIGTERM."""
    prefix = f"SYNTHMILL_{kind.upper()}_"
    env = {
        **os.environ,
        **pinned(kind),
        "SYNTHMILL_API_KEY": API_KEY,
        "HF_TOKEN": HF_TOKEN,
        f"{prefix}HOST": "127.0.0.1",
        f"{prefix}PORT": str(free_port()),
        **env,
    }
    cmd = [sys.executable, "-m", f"synthmill.{kind}"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line.decode(errors="replace"))
            if marker in lines[-1]:
                break
        proc.terminate()
        rest, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = "".join(lines) + rest.decode(errors="replace")
    assert marker in output, output[-3000:]
    return output


SERVICES = {
    # An unreachable PostgreSQL (nothing listens on port 1): the URL and its password show up in the
    # settings line and in each retry's warning.
    "gateway": (
        {
            "SYNTHMILL_GATEWAY_DB_URL": f"postgresql://u:{PASSWORD}@127.0.0.1:1/x?sslpassword={PASSWORD}",
            "SYNTHMILL_GATEWAY_ADMIN_KEY": ADMIN,
        },
        "job store unreachable",
        "db_url='postgresql://u:***@127.0.0.1:1/x?sslpassword=***'",
    ),
    "http": ({"SYNTHMILL_HTTP_GATEWAY": "127.0.0.1:1"}, "Uvicorn running on", "http settings: HttpSettings("),
    "text": ({"SYNTHMILL_TEXT_MODEL": "tiny-llama"}, "listening on", "text settings: TextSettings("),
    "image": ({"SYNTHMILL_IMAGE_MODELS": "tiny-sd"}, "listening on", "image settings: ImageSettings("),
}


@pytest.mark.parametrize("kind", SERVICES)
def test_no_planted_secret_in_a_service_start_up_log(kind: str, tmp_path: Path) -> None:
    env, marker, settings_line = SERVICES[kind]
    output = start_up_output(
        kind, {**env, f"SYNTHMILL_{kind.upper()}_OUTPUT_DIR": str(tmp_path)}, marker, tmp_path
    )
    assert settings_line in output  # the settings were logged, with the secrets masked
    for secret in PLANTED:
        assert secret not in output, f"{secret} in the {kind} log"


def test_secret_fields_and_url_passwords_are_masked() -> None:
    line = loggable(GatewaySettings(db_url=f"postgresql://u:{PASSWORD}@db/x", admin_key=ADMIN))
    assert PASSWORD not in line and ADMIN not in line
    assert "admin_key='***'" in line and "postgresql://u:***@db/x" in line
    assert masked("postgresql://u@db/x?password=pw&sslmode=require") == (
        "postgresql://u@db/x?password=***&sslmode=require"
    )
    assert masked("dns:///text:50052") == "dns:///text:50052"
