"""Tests that need CUDA (marked `gpu`; skipped cleanly without it): a real fp16 SD 1.5 when
SYNTHMILL_TEST_SD15_PATH names a checkpoint directory, the tiny models on CUDA in fp16 otherwise, and the
OOM path with the VAE really upcast on the GPU. Run them with `pytest -m gpu`."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from synthmill.common.errors import OutOfMemory
from synthmill.image.domain import GenerationParams, Item
from synthmill.image.generation import engine, loader
from synthmill.image.serving.settings import ImageSettings

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.e2e,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]
SD15 = os.environ.get("SYNTHMILL_TEST_SD15_PATH", "")


def load(name: str, tmp_path, **settings) -> loader.LoadedModel:
    return loader.load(name, ImageSettings(models=(name,), device="cuda", cache_dir=tmp_path, **settings))


def params(model: loader.LoadedModel, steps: int = 4) -> GenerationParams:
    size = model.default_width
    return GenerationParams(model.name, size, size, steps, 7.5, "Euler", "")


@pytest.mark.parametrize("name", [SD15 or "tiny-sd", "tiny-sdxl", "tiny-sd3"])
def test_a_model_runs_on_cuda_in_16_bit_and_makes_a_finite_image(name, tmp_path):
    model = load(name, tmp_path)
    assert model.device.type == "cuda" and model.dtype in (torch.float16, torch.bfloat16)
    images = engine.generate(
        model, params(model, steps=20 if name == SD15 else 4), [Item(0, "a red apple", 1)], lambda _: True
    )
    pixels = np.asarray(images[0])
    assert pixels.std() > 0  # not the black image an fp16 overflow gives


def test_an_oom_in_the_sdxl_vae_decode_leaves_the_vae_in_fp16_on_cuda(tmp_path):
    model = load("tiny-sdxl", tmp_path, faults="oom@vae:4096")
    p = params(model)
    with pytest.raises(OutOfMemory, match="a batch of 2"):
        engine.generate(model, p, [Item(0, "a", 1), Item(1, "b", 2)], lambda _: True)
    assert model.pipe.vae.dtype == torch.float16
    assert len(engine.generate(model, p, [Item(0, "a", 1)], lambda _: True)) == 1
