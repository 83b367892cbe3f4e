"""The CLI as a real process against real servers: a gateway from `gateway_factory` over the session's
text and image servers (`tiny_upstreams`, on the fast random-weight models "tiny-llama" and "tiny-sd"),
`synthmill up` starting its own stack, and the demo on the default models."""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from servers import free_port, pinned

from synthmill.client.local import READY

SERVERS = ("synthmill.gateway.__main__", "synthmill.text.__main__", "synthmill.image.__main__")


def _missing() -> list[str]:
    missing = []
    for name in SERVERS:
        try:
            if importlib.util.find_spec(name) is None:
                missing.append(name)
        except ModuleNotFoundError:
            missing.append(name)
    return missing


pytestmark = [
    pytest.mark.skipif(bool(_missing()), reason=f"servers not importable yet: {_missing()}"),
    pytest.mark.e2e,
]


@dataclass
class RealStack:
    target: str
    output_dir: Path


@pytest.fixture
def stack(gateway_factory, tmp_path) -> RealStack:
    """A fresh gateway (its own job store and output folder) in front of the shared tiny servers."""
    out = tmp_path / "generated_data"
    return RealStack(gateway_factory(output_dir=out).target, out)


def test_images_then_jobs_status_download_health(cli, stack, tmp_path):
    g = ("--gateway", stack.target)
    r = cli("images", *g, "--prompt", "a floorplan, {light}", "-n", "2", "--size", "64x64", "--steps", "2",
            "--model", "tiny-sd", "--seed", "7", "--vary", "light=day,night", "--json")  # fmt: skip
    assert r.code == 0, r.stderr
    job = r.json()
    assert (job["state"], job["images_done"], job["images_total"], job["error"]) == ("COMPLETED", 2, 2, None)
    folder = Path(job["output_dir"])
    assert (folder / "images" / "00000.png").exists() and (folder / "images" / "00001.png").exists()

    r = cli("jobs", *g, "--json")
    assert r.code == 0, r.stderr
    assert job["job_id"] in [j["job_id"] for j in r.json()["jobs"]]
    r = cli("status", *g, job["job_id"], "--json")
    assert r.code == 0 and r.json()["state"] == "COMPLETED"

    dest = tmp_path / "download"
    r = cli("download", *g, job["job_id"], str(dest), "--json")
    assert r.code == 0, r.stderr
    names = {Path(p).relative_to(dest).as_posix() for p in r.json()["files"]}
    assert {"images/00000.png", "images/00001.png", "metadata.jsonl", "job.json"} <= names
    assert (dest / "images" / "00000.png").read_bytes() == (folder / "images" / "00000.png").read_bytes()
    assert not list(dest.rglob("*.part"))

    r = cli("health", *g)
    assert r.code == 0, r.stdout + r.stderr
    health = cli("health", *g, "--json").json()
    assert health["serving"] is True and {s["name"] for s in health["services"]} == {"text", "image"}


def test_text_json(cli, stack):
    schema = json.dumps({"customer_name": "string", "age": "int", "order_value": "float"})
    r = cli("text", "--gateway", stack.target, "--schema", schema, "-n", "5", "--seed", "3", "--json")
    assert r.code == 0, r.stderr
    job = r.json()
    assert (job["state"], job["rows_done"], job["rows_total"]) == ("COMPLETED", 5, 5)
    rows = [json.loads(line) for line in (Path(job["output_dir"]) / "data.jsonl").read_text().splitlines()]
    assert len(rows) == 5 and set(rows[0]) == {"customer_name", "age", "order_value"}


def test_bad_request_exits_nonzero_with_the_server_message(cli, stack):
    r = cli("images", "--gateway", stack.target, "--prompt", "x", "--size", "100x64", "--model", "tiny-sd")
    assert r.code != 0
    assert "INVALID_ARGUMENT" in r.stderr and "width" in r.stderr and "multiple of 8" in r.stderr, r.stderr
    r = cli("text", "--gateway", stack.target, "--schema", "{}", "-n", "5", "--json")
    assert r.code != 0 and r.json()["code"] == "INVALID_ARGUMENT"


def test_cancel(cli, stack):
    g = ("--gateway", stack.target)
    r = cli("images", *g, "--prompt", "slow", "-n", "64", "--size", "64x64", "--steps", "150",
            "--model", "tiny-sd", "--no-wait")  # fmt: skip
    assert r.code == 0, r.stderr
    job_id = r.stdout.strip()
    r = cli("cancel", *g, job_id, "--json")
    assert r.code == 0, r.stderr
    r = cli("watch", *g, job_id, "--json", timeout=120)
    assert r.code == 1, r.stdout + r.stderr
    job = r.json()
    assert job["state"] == "CANCELLED" and job["images_done"] < 64


def _nothing_listens(port: int) -> bool:
    """True when a connection to the port is refused (a bind test would trip on TIME_WAIT)."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


class Up:
    """`synthmill up` as a real process; its stdout and stderr (the children's too) read line by line."""

    def __init__(self, tmp_path: Path):
        self.ports = {
            "--port": free_port(), "--text-port": free_port(), "--image-port": free_port(), "--http-port": free_port(),
        }  # fmt: skip
        argv = [sys.executable, "-m", "synthmill.client.cli", "up", "--text-model", "tiny-llama", "--image-model",
                "tiny-sd", "--device", "cpu", "--output-dir", str(tmp_path / "out")]  # fmt: skip
        for flag, port in self.ports.items():
            argv += [flag, str(port)]
        self.target = f"127.0.0.1:{self.ports['--port']}"
        env = {**os.environ, **pinned("text"), **pinned("image")}
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        self.lines: list[str] = []
        self._new: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            self._new.put(line)
        self._new.put(None)  # EOF: `up` and every child have closed the pipe

    def wait_for(self, text: str) -> None:
        """Blocks until a line containing `text` is printed; fails if the output ends first."""
        while (line := self._new.get()) is not None:
            if text in line:
                return
        raise AssertionError(f"output ended without {text!r}:\n{self.output()[-3000:]}")

    def interrupt(self) -> int:
        """SIGINT to `up` alone (as Ctrl-C would, minus the children); its exit code once the pipe closes."""
        self.proc.send_signal(signal.SIGINT)
        while self._new.get() is not None:  # EOF only once every child is gone too
            pass
        return self.proc.wait()

    def output(self) -> str:
        return "".join(self.lines)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def up(tmp_path):
    process = Up(tmp_path)
    yield process
    process.close()


def test_up_starts_and_stops_cleanly(cli, up):
    up.wait_for(READY)  # the stack's own readiness line: every server SERVING, the HTTP service answering
    r = cli("text", "--gateway", up.target, "--schema", '{"age": "int"}', "-n", "2", "--json")
    assert r.code == 0 and r.json()["rows_done"] == 2, r.stderr
    page = f"http://127.0.0.1:{up.ports['--http-port']}/ui"
    assert f"the web page at {page}" in up.output()
    with urllib.request.urlopen(page, timeout=30) as reply:
        assert b"synthmill" in reply.read()
    assert up.interrupt() == 0, up.output()[-3000:]
    assert "SERVING" in up.output() and "stack stopped" in up.output()
    assert all(_nothing_listens(port) for port in up.ports.values())


def test_up_interrupted_while_starting_stops_every_server(up):
    up.wait_for("gateway: starting")  # every child spawned, none serving yet: the models are loading
    assert up.interrupt() == 0, up.output()[-3000:]
    assert "stopped while starting" in up.output() and READY not in up.output()
    assert all(_nothing_listens(port) for port in up.ports.values())


def test_demo_on_the_default_models(tmp_path):
    """`make demo`: smollm2-135m and tiny-sd through the whole stack."""
    proc = subprocess.run(
        [sys.executable, "-m", "tools.demo", "--output-dir", str(tmp_path / "generated_data")],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, **pinned("text"), **pinned("image")},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    folders = [p for p in (tmp_path / "generated_data").iterdir() if p.is_dir()]
    assert len(folders) == 2
    files = {p.relative_to(f).as_posix() for f in folders for p in f.rglob("*") if p.is_file()}
    assert {"images/00000.png", "images/00002.png", "metadata.jsonl", "data.jsonl", "job.json"} <= files
    unified = next(f for f in folders if (f / "images").is_dir())
    assert {"images/00000.png", "metadata.jsonl", "data.jsonl", "schema.json"} <= {
        p.relative_to(unified).as_posix() for p in unified.rglob("*") if p.is_file()
    }
    assert "demo done" in proc.stdout
