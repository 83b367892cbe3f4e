"""Builds an embedded model into the model cache once, safely under concurrent first use.

The build writes into a temporary sibling folder that is renamed into place, so a crashed or racing
build never leaves a half-written model behind; whoever renames first wins and the other copy goes.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


def build_once(target: Path, marker: str, build: Callable[[Path], None]) -> Path:
    """Returns `target`, first calling `build(staging)` unless `target/marker` already exists."""
    target = Path(target)
    if (target / marker).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("building embedded model %s", target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        build(staging)
        os.rename(staging, target)
    except OSError:
        if not (target / marker).exists():
            raise
        log.info("another process built %s first; using its copy", target.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def download_package(requirement: str, workdir: Path, *, sdist: bool = False) -> Path:
    """Fetches one package file (a wheel, or the source archive with `sdist`) with `pip download
    --no-deps` into `workdir`, without installing it; returns the file."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", requirement, "-d", str(workdir)]
    if sdist:
        cmd[4:4] = ["--no-binary", ":all:"]
    log.info("downloading %s from the package index", requirement)
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    files = sorted(p for p in Path(workdir).iterdir() if p.suffix in (".whl", ".gz", ".zip"))
    if result.returncode != 0 or not files:
        raise RuntimeError(f"pip download {requirement} failed: {result.stderr.strip()[-2000:]}")
    return files[0]
