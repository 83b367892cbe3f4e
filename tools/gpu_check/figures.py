"""The GPU's figures, measured by gpu-check and written beside the benchmarks
(`benchmarks/results/gpu-check.json`): images/s of SD 1.5 at 512², 20 steps, and rows/s and tokens/s of
a text model making grammar-constrained rows, with the card, driver, torch and CUDA versions."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.common import RESULTS_DIR, machine, write
from synthmill.common.schema import parse_schema
from synthmill.image.domain import GenerationParams, Item
from synthmill.image.generation import engine, loader
from synthmill.image.serving.settings import ImageSettings
from synthmill.runtime.oom import free_cache
from synthmill.text import loader as text_loader
from synthmill.text.domain import RowsJob, RowsTotals, Sampling
from synthmill.text.engine import TextEngine
from synthmill.text.interrupt import Interrupt
from synthmill.text.settings import TextSettings
from tools.gpu_check.environment import Host
from tools.gpu_check.report import Report

SIZE, STEPS = 512, 20
CUSTOMER = {"name": "string", "age": {"type": "int", "minimum": 18, "maximum": 90}, "city": "string"}


def check(report: Report, sd15: str, text_model: str, device: str, batch: int, rows: int) -> None:
    report.check(f"figures: {sd15} images/s", _images_per_second, report.figures, sd15, device, batch)
    report.check(f"figures: {text_model} rows/s", _rows_per_second, report.figures, text_model, device, rows)


def write_figures(report: Report, host: Host, results_dir: Path = RESULTS_DIR) -> Path:
    card = torch.cuda.get_device_properties(0)
    return write(
        results_dir,
        "gpu-check",
        {
            "card": card.name,
            "card_memory_gib": round(card.total_memory / 2**30, 1),
            "capability": f"{card.major}.{card.minor}",
            "driver": host.driver,
            "torch": host.torch,
            "cuda": host.cuda.built,
            "figures": report.figures,
            "failed": report.failed,
            "machine": machine(),
        },
    )


def _images_per_second(figures: dict[str, Any], name: str, device: str, batch: int) -> str:
    model = loader.load(name, ImageSettings(models=(name,), device=device))
    try:
        params = GenerationParams(name, SIZE, SIZE, STEPS, 7.5, "Euler", "")
        items = [Item(i, f"a photo of object {i}", i) for i in range(batch)]
        engine.generate(model, params, items, lambda _: True)  # warms the batch shape
        torch.cuda.synchronize(model.device)
        torch.cuda.reset_peak_memory_stats(model.device)
        started = time.perf_counter()
        engine.generate(model, params, items, lambda _: True)
        torch.cuda.synchronize(model.device)
        seconds = time.perf_counter() - started
        figures["images"] = {
            "model": name,
            "size": SIZE,
            "steps": STEPS,
            "batch": batch,
            "dtype": str(model.dtype).removeprefix("torch."),
            "seconds": round(seconds, 3),
            "images_per_second": round(batch / seconds, 3),
            "peak_gib": round(torch.cuda.max_memory_allocated(model.device) / 2**30, 2),
        }
        return f"{batch / seconds:.2f} images/s (batch {batch}, {SIZE}², {STEPS} steps)"
    finally:
        del model
        free_cache()


def _rows_per_second(figures: dict[str, Any], name: str, device: str, rows: int) -> str:
    settings = TextSettings(model=name, device=device)
    engine_ = TextEngine(text_loader.load(name, settings), settings)
    try:
        engine_.warm_up()
        job = RowsJob(parse_schema(CUSTOMER), 0, rows, 0, "", Sampling(0.9, 0.95, 96))
        *_, totals = engine_.generate_rows(job, Interrupt())  # the totals come last
        assert isinstance(totals, RowsTotals)
        figures["rows"] = {
            "model": name,
            "rows": rows,
            "batch_size": engine_.batch_size,
            "dtype": str(engine_.loaded.dtype).removeprefix("torch."),
            "seconds": round(totals.seconds, 3),
            "rows_per_second": round(rows / totals.seconds, 3),
            "tokens_per_second": round(totals.tokens / totals.seconds, 1),
        }
        return f"{rows / totals.seconds:.2f} rows/s, {totals.tokens / totals.seconds:.0f} tokens/s"
    finally:
        del engine_
        free_cache()
