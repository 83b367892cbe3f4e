"""The deterministic mode on the GPU: a child process turns on torch's deterministic algorithms and the
fixed cuBLAS workspace (`SYNTHMILL_IMAGE_DETERMINISTIC`, process-wide, so not in the checking process),
makes one image twice with the same seed and batch, and exits 0 only when the bits are the same.

    python -m tools.gpu_check.determinism MODEL DEVICE
"""

from __future__ import annotations

import os
import subprocess
import sys

from tools.gpu_check.report import Report


def check(report: Report, name: str, device: str) -> None:
    report.check(f"{name} deterministic mode", run_child, name, device)


def run_child(name: str, device: str) -> str:
    """Runs this module in a child; raises AssertionError with the child's words when the bits differ."""
    env = {k: v for k, v in os.environ.items() if k != "CUBLAS_WORKSPACE_CONFIG"}
    command = [sys.executable, "-m", "tools.gpu_check.determinism", name, device]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode:
        raise AssertionError((done.stdout + done.stderr)[-2000:])
    return done.stdout.strip()


def main(name: str, device: str) -> int:
    from synthmill.runtime import devices

    devices.set_deterministic(True)  # before CUDA starts
    import numpy as np

    from synthmill.image.domain import GenerationParams, Item
    from synthmill.image.generation import engine, loader
    from synthmill.image.serving.settings import ImageSettings

    model = loader.load(name, ImageSettings(models=(name,), device=device, deterministic=True))
    params = GenerationParams(name, model.default_width, model.default_height, 4, 7.5, "Euler", "")
    items = [Item(0, "a red apple on a table", 5), Item(1, "a blue cup", 6)]
    first, second = (
        [np.asarray(image) for image in engine.generate(model, params, items, lambda _: True)]
        for _ in range(2)
    )
    if not all((a == b).all() for a, b in zip(first, second, strict=True)):
        print(f"{name} on {model.device}: two runs of the same batch differ")
        return 3
    print(f"the same bits twice ({name} on {model.device}, {devices.dtype_name(model.dtype)}, batch of 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
