"""Helpers of the HTTP tests: the HTTP service as a real process, tiny job options, waiting for a job."""

from __future__ import annotations

import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import httpx
from servers import ROOT, ServerProcess

# Tiny jobs: the embedded random-weight models at 64x64 in 2 steps.
TINY = {"resolution": [64, 64], "steps": 2}


class HttpProcess(ServerProcess):
    """The HTTP service as a real process. It has no grpc.health.v1: it is ready once uvicorn says it
    listens, a line read from its output as it is printed (nothing polled); the output goes to the log."""

    READY = "Uvicorn running on"

    def start(self, wait: bool = True) -> HttpProcess:
        cmd = [sys.executable, "-m", "synthmill.http"]
        self.proc = subprocess.Popen(
            cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT
        )
        ready = threading.Event()

        def copy() -> None:
            with open(self.log_path, "ab") as log:
                for line in self.proc.stdout:
                    log.write(line)
                    log.flush()
                    if self.READY.encode() in line:
                        ready.set()
            ready.set()  # EOF: the process is gone

        threading.Thread(target=copy, daemon=True).start()
        ready.wait()
        if self.proc.poll() is not None:
            raise RuntimeError(
                f"http service exited with {self.proc.returncode}: {self.log_path.read_text()[-3000:]}"
            )
        return self


@dataclass
class HttpStack:
    gateway: ServerProcess
    http: HttpProcess
    output_dir: Path

    @property
    def url(self) -> str:
        return f"http://{self.http.target}"


def start_http(gateway_target: str, log_path: Path) -> HttpProcess:
    return HttpProcess("http", {"SYNTHMILL_HTTP_GATEWAY": gateway_target}, log_path).start()


def wait_job(api: httpx.Client, job_id: str) -> dict:
    """Follows the job's SSE stream to its end, then returns its status."""
    with api.stream("GET", f"/jobs/{job_id}/events") as events:
        assert events.status_code == 200
        for _ in events.iter_lines():
            pass
    return api.get(f"/status/{job_id}").json()
