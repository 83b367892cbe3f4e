"""What every benchmark shares: flags, torch threads, the stack, RSS sampling, JSON results, the table."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from synthmill.client.stack import Stack, free_port
from synthmill.common.metrics import Scrape
from synthmill.runtime.metrics import BATCH_BUCKETS

RESULTS_DIR = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------------------- flags


# The model a benchmark measures by default, by kind, and its --model help.
MODELS = {
    "image": ("tiny-sd", "image model (tiny-sd, a hub id or a directory)"),
    "text": ("smollm2-135m", "text model (smollm2-135m, tiny-llama, a hub id or a directory)"),
}


def parser(name: str, doc: str, kind: str, model_help: str | None = None) -> argparse.ArgumentParser:
    """The flags every benchmark has: --device, --model (of `kind`), --threads, --results-dir,
    --keep-logs; described by the first line of the module's `doc`."""
    p = argparse.ArgumentParser(prog=f"python -m benchmarks.{name}", description=doc.split("\n")[0])
    p.add_argument(
        "--device", default="auto", help="torch device for the servers and the baseline (auto, cpu, cuda)"
    )
    default, help_ = MODELS[kind]
    p.add_argument("--model", default=default, help=model_help or help_)
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads in the servers and in the baseline alike (0 = torch default; "
        "1 avoids 20x slowdowns from oversubscribed intra-op threads on shared cores)",
    )
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where the JSON result goes")
    p.add_argument("--keep-logs", action="store_true", help="keep the servers' logs and outputs")
    p.add_argument(
        "--smoke",
        action="store_true",
        help="one round at the smallest sizes: checks that the benchmark runs, measures nothing",
    )
    return p


def parse(
    p: argparse.ArgumentParser, argv: Sequence[str] | None, smoke: Mapping[str, Any]
) -> argparse.Namespace:
    """The benchmark's flags; with --smoke, `smoke` (the benchmark's one-round, smallest-size values)
    replaces the defaults, and flags given on the command line still win."""
    args = p.parse_args(argv)
    if args.smoke:
        p.set_defaults(**smoke)
        args = p.parse_args(argv)
    return args


def set_threads(threads: int) -> None:
    """Torch intra-op threads of this process (the baseline side); 0 keeps torch's default."""
    import torch

    if threads:
        torch.set_num_threads(threads)


def thread_env(threads: int) -> dict[str, str]:
    """The servers' side of --threads: each inference server's own threads setting."""
    if not threads:
        return {}
    return {"SYNTHMILL_IMAGE_THREADS": str(threads), "SYNTHMILL_TEXT_THREADS": str(threads)}


# ---------------------------------------------------------------------------------------------- stack


def metrics_env() -> dict[str, str]:
    """A free metrics port for each server; each reads only its own variable."""
    return {f"SYNTHMILL_{kind}_METRICS_PORT": str(free_port()) for kind in ("GATEWAY", "TEXT", "IMAGE")}


@contextlib.contextmanager
def stack(
    name: str,
    *,
    image_model: str,
    text_model: str = "tiny-llama",
    device: str,
    threads: int,
    env: Mapping[str, str] | None = None,
    keep: bool = False,
    http: bool = False,
) -> Iterator[Stack]:
    """A real three-process stack on free ports (four with `http`: the HTTP service too), its logs and
    outputs in a temporary folder."""
    work = Path(tempfile.mkdtemp(prefix=f"synthmill-bench-{name}-"))
    s = Stack(
        text_model=text_model,
        image_models=(image_model,),
        device=None if device == "auto" else device,
        output_dir=work / "out",
        gateway_port=free_port(),
        text_port=free_port(),
        image_port=free_port(),
        http_port=free_port() if http else None,
        log_dir=work / "logs",
        env={**thread_env(threads), **metrics_env(), "SYNTHMILL_LOG_LEVEL": "INFO", **(env or {})},
        on_status=lambda line: log(f"[{name}] {line}"),
    )
    started = time.monotonic()
    try:
        with s:
            log(f"[{name}] stack up in {time.monotonic() - started:.1f}s (logs in {work / 'logs'})")
            yield s
    finally:
        if not keep:
            subprocess.run(["rm", "-rf", str(work)], check=False)


def server_pids(s: Stack) -> dict[str, int]:
    return {kind: child.proc.pid for kind, child in s.children.items() if child.proc is not None}


def scrape(s: Stack, kind: str) -> Scrape:
    """The `kind` server's metrics now (every benchmark stack serves them)."""
    return Scrape.of(f"{s.dial_host}:{s.env[f'SYNTHMILL_{kind.upper()}_METRICS_PORT']}")


def image_batches(before: Scrape, after: Scrape) -> dict[str, Any]:
    """What the image server's batcher ran between two scrapes of its metrics: batches, items, batches by
    size (the histogram's buckets), and the seconds its steps took."""

    def moved(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    sizes: dict[str, int] = {}
    below, low = 0.0, 1
    for bound in BATCH_BUCKETS:
        cumulative = moved("synthmill_image_batch_size_bucket", le=str(float(bound)))
        if cumulative > below:
            sizes[str(bound) if low == bound else f"{low}-{bound}"] = int(cumulative - below)
        below, low = cumulative, bound + 1
    return {
        "batches": int(moved("synthmill_image_batch_size_count")),
        "items": int(moved("synthmill_image_batch_size_sum")),
        "by_size": sizes,
        # Each batch observes its seconds per step; times its steps, that is its pipeline time.
        "seconds_per_step_summed": moved("synthmill_image_step_seconds_sum"),
    }


# ---------------------------------------------------------------------------------------------- memory


def rss(pid: int) -> int:
    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.Error:
        return 0


def proc_status(pid: int) -> dict[str, float]:
    """MiB figures from /proc/<pid>/status (Linux): VmRSS, VmHWM (peak RSS), RssAnon, RssFile."""
    out: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[key] = round(int(line.split()[1]) / 1024, 1)
    return out


def peak_rss(pid: int) -> int:
    """VmHWM: the process's peak resident set since it started (Linux), else its current RSS."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss(pid)


class RssSampler:
    """Samples the RSS of some processes on a thread; `peaks` is the largest seen per name."""

    def __init__(self, pids: Mapping[str, int], interval: float = 0.05):
        self.pids = dict(pids)
        self.interval = interval
        self.peaks = dict.fromkeys(self.pids, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                self.peaks[name] = max(self.peaks[name], rss(pid))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class CpuMeter:
    """CPU seconds (user + system) each process used between `__enter__` and `__exit__`."""

    def __init__(self, pids: Mapping[str, int]):
        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.seconds: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        return {name: sum(p.cpu_times()[:2]) for name, p in self.procs.items()}

    def __enter__(self) -> CpuMeter:
        self._start = self._now()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = {name: t - self._start[name] for name, t in self._now().items()}

    def per(self, n: int) -> dict[str, float]:
        return {name: round(t / n, 4) for name, t in self.seconds.items()}


def mib(n: int) -> float:
    return round(n / 2**20, 1)


# ---------------------------------------------------------------------------------------------- timing


@dataclass
class Rounds:
    """Wall times of interleaved arms, one entry per round and arm."""

    times: dict[str, list[float]] = field(default_factory=dict)

    def add(self, arm: str, seconds: float) -> None:
        self.times.setdefault(arm, []).append(seconds)

    def median(self, arm: str) -> float:
        return statistics.median(self.times[arm])

    def ratio(self, num: str, den: str) -> dict[str, Any]:
        """The ratio of medians, and the median and spread of the per-round ratios (same round = same
        machine load, which is what makes a ratio robust on a shared machine)."""
        per_round = [a / b for a, b in zip(self.times[num], self.times[den], strict=True)]
        return {
            "ratio_of_medians": round(self.median(num) / self.median(den), 4),
            "median_of_round_ratios": round(statistics.median(per_round), 4),
            "round_ratios": [round(r, 4) for r in per_round],
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            arm: {"median_s": round(statistics.median(ts), 4), "runs_s": [round(t, 4) for t in ts]}
            for arm, ts in self.times.items()
        }


def interleaved(rounds: int, arms: Mapping[str, Callable[[], float]], results: Rounds) -> None:
    """Runs every arm once per round, rotating the order each round so no arm always goes first."""
    names = list(arms)
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            seconds = arms[name]()
            results.add(name, seconds)
        done = ", ".join(f"{n} {results.times[n][-1]:.3f}s" for n in names)
        log(f"  round {r + 1}: {done}")


# ---------------------------------------------------------------------------------------------- output


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info: dict[str, Any] = {
        "host": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    with contextlib.suppress(Exception):
        import torch

        info["torch"] = torch.__version__
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    for package in ("diffusers", "transformers", "xgrammar", "grpcio"):
        with contextlib.suppress(Exception):
            from importlib import metadata

            info[package] = metadata.version(package)
    with contextlib.suppress(Exception):
        info["git_commit"] = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        info["git_dirty"] = bool(dirty)
    return info


def write(results_dir: Path, name: str, result: dict[str, Any]) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": name, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **result}
    path = results_dir / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    log(f"wrote {path}")
    return path


SUMMARY_HEADER = ["benchmark", "metric", "value", "target", "met"]


def row(name: str, metric: str, value: str, target: str = "", met: bool | None = None) -> list[str]:
    """One summary row; `met` is left blank where the metric has no target."""
    return [name, metric, value, target, "" if met is None else "yes" if met else "NO"]


def finish(
    results_dir: Path, name: str, result: dict[str, Any], rows: Sequence[Sequence[str]]
) -> dict[str, Any]:
    """Writes the result's JSON and prints its summary rows; returns the result."""
    write(results_dir, name, result)
    print(table(rows, SUMMARY_HEADER))
    return result


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])
