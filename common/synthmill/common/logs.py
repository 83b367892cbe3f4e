"""Logging set-up shared by every process: one line per record, key=value friendly."""

from __future__ import annotations

import logging
import os


def configure(service: str) -> None:
    """Configures the root logger once; the level comes from SYNTHMILL_LOG_LEVEL (default INFO)."""
    level = os.environ.get("SYNTHMILL_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level,
        format=f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s",
    )
