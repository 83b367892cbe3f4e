"""`make gpu-check`: the first command to run on a GPU host. Prints what works: the device and its dtype,
each model's load time, one image per family, the OOM path, and images/s.

    python -m tools.gpu_check [--models tiny-sd,tiny-sdxl,tiny-sd3] [--device auto] [--batch 4] [--steps 20]

Every model is loaded with the image server's own loader and settings, one at a time. The OOM path
injects an OOM in the VAE decode (the FAULTS test hook) and checks that the next batch still runs.
"""

from __future__ import annotations

import argparse
import logging
import time

import torch

from synthmill.common.errors import OutOfMemory
from synthmill.image.domain import GenerationParams, Item
from synthmill.image.generation import engine, loader
from synthmill.image.serving.settings import ImageSettings
from synthmill.runtime import devices
from synthmill.runtime.oom import free_cache


def _line(what: str, value: object) -> None:
    print(f"{what:<28} {value}", flush=True)


def check_model(name: str, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    settings = ImageSettings(models=(name,), device=args.device, faults="")
    model = loader.load(name, settings)
    _line(
        f"{name}: load",
        f"{time.perf_counter() - started:.1f}s ({model.family}, {model.device}, {model.dtype})",
    )
    size = model.default_width
    params = GenerationParams(name, size, size, args.steps, 7.5, "Euler", "")
    started = time.perf_counter()
    image = engine.generate(model, params, [Item(0, "a red apple on a table", 1)], lambda _: True)[0]
    path = f"gpu-check-{model.family}.png"
    image.save(path)
    _line(
        f"{name}: one image",
        f"{time.perf_counter() - started:.2f}s at {size}x{size}, {args.steps} steps -> {path}",
    )
    items = [Item(i, f"a photo of object {i}", i) for i in range(args.batch)]
    engine.generate(model, params, items, lambda _: True)  # warm the batch shape
    if model.device.type == "cuda":
        torch.cuda.synchronize(model.device)
        torch.cuda.reset_peak_memory_stats(model.device)
    started = time.perf_counter()
    engine.generate(model, params, items, lambda _: True)
    seconds = time.perf_counter() - started
    peak = torch.cuda.max_memory_allocated(model.device) / 2**30 if model.device.type == "cuda" else 0.0
    _line(f"{name}: images/s", f"{args.batch / seconds:.2f} (batch {args.batch}, peak {peak:.1f} GiB)")
    # The OOM path: the same model with an OOM injected in the VAE decode of any batch over one image.
    model.faults.limits["vae"] = size * size
    model.faults.arm("vae", model.pipe.vae.decoder)
    try:
        engine.generate(model, params, items[:2], lambda _: True)
        _line(f"{name}: OOM path", "FAILED: the injected OOM did not fire")
    except OutOfMemory as exc:
        model.faults.limits.clear()
        again = engine.generate(model, params, items[:1], lambda _: True)
        restored = all(getattr(model.pipe, k).dtype == v for k, v in model.dtypes.items())
        _line(
            f"{name}: OOM path",
            f"ok: {'dtypes restored' if restored else 'DTYPES NOT RESTORED'}, "
            f"next batch made {len(again)} image; message: {exc}",
        )
    del model
    free_cache()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="tiny-sd,tiny-sdxl,tiny-sd3")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--steps", type=int, default=20)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    device = devices.resolve_device(args.device)
    _line("torch", f"{torch.__version__} (CUDA build {torch.version.cuda})")
    _line("device", device)
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        _line(
            "card",
            f"{props.name}, {props.total_memory / 2**30:.0f} GiB, capability {props.major}.{props.minor}",
        )
    _line("16-bit dtype", devices.best_half(device) if device.type == "cuda" else "float32 on the CPU")
    for name in args.models.split(","):
        try:
            check_model(name.strip(), args)
        except Exception as exc:  # report every model; one failure does not hide the others
            _line(f"{name}: FAILED", f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()
