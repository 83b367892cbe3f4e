"""Fixtures of the client tests: an in-process fake gateway, and the CLI as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from client_fakes import FakeGateway, start_fake

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Fake:
    gateway: FakeGateway
    target: str


@pytest.fixture
def fake_gateway() -> Iterator[Fake]:
    server, fake, port = start_fake()
    yield Fake(fake, f"127.0.0.1:{port}")
    server.stop(0)


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        assert len(lines) == 1, (
            f"expected one JSON line on stdout, got: {self.stdout!r} (stderr {self.stderr!r})"
        )
        return json.loads(lines[0])


def run_cli(
    *args: str, timeout: float = 300, env: dict[str, str] | None = None, cwd: Path | None = None
) -> CliResult:
    """`python -m synthmill.client.cli ARGS` as a real process."""
    proc = subprocess.run(
        [sys.executable, "-m", "synthmill.client.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=cwd or ROOT,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli():
    return run_cli
