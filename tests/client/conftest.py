"""Fixtures of the client tests: a real gateway over the shared tiny servers, and the CLI as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gateway(gateway_factory):
    """A fresh real gateway (its own job store and output folder) over the session's tiny servers."""
    return gateway_factory()


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
