"""Helpers of the HTTP tests: the HTTP service as a real process, tiny job options, waiting for a job."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
from servers import HttpProcess, ServerProcess, start_http

__all__ = ["TINY", "HttpStack", "start_http", "wait_job"]

# Tiny jobs: the embedded random-weight models at 64x64 in 2 steps.
TINY = {"resolution": [64, 64], "steps": 2}


@dataclass
class HttpStack:
    gateway: ServerProcess
    http: HttpProcess
    output_dir: Path

    @property
    def url(self) -> str:
        return f"http://{self.http.target}"


def wait_job(api: httpx.Client, job_id: str) -> dict:
    """Follows the job's SSE stream to its end, then returns its status."""
    with api.stream("GET", f"/jobs/{job_id}/events") as events:
        assert events.status_code == 200
        for _ in events.iter_lines():
            pass
    return api.get(f"/status/{job_id}").json()
