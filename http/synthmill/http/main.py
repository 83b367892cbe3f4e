"""Entry point: `python -m synthmill.http` or `synthmill serve http`."""

from __future__ import annotations

from typing import Any

import uvicorn

from synthmill.common.logs import configure
from synthmill.common.settings import from_env
from synthmill.http.app import create_app
from synthmill.http.settings import PREFIX, HttpSettings


def run(**overrides: Any) -> None:
    configure("http")
    settings = from_env(HttpSettings, PREFIX, **overrides)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
