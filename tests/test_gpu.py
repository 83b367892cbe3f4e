"""Tests that need CUDA (marked `gpu`; they skip without it, and fail instead under
SYNTHMILL_REQUIRE_GPU=1, as `make gpu-check` runs them). Each covers a CUDA-only branch listed in
docs/gpu.md: the worker thread's device, every image family in 16-bit under each OFFLOAD with weighted
prompts, the SDXL VAE put back after an OOM or any other error, the judges' OOM split, a text model's
rows, and the deterministic mode. A real fp16 SD 1.5 runs too when SYNTHMILL_TEST_SD15_PATH names a
checkpoint directory."""

from __future__ import annotations

import concurrent.futures
import os

import numpy as np
import pytest
import torch
from PIL import Image

from synthmill.common.errors import OutOfMemory
from synthmill.image.domain import GenerationParams, Item
from synthmill.image.generation import engine, loader
from synthmill.image.judging import scorer
from synthmill.image.judging.models import JudgingModels
from synthmill.image.serving.settings import FAULT_STAGES, ImageSettings
from synthmill.runtime import devices
from synthmill.runtime.oom import Faults

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.e2e,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]
SD15 = os.environ.get("SYNTHMILL_TEST_SD15_PATH", "")
WEIGHTED = "a (red:1.4) apple on a (wooden:0.6) table"


def load(name: str, tmp_path, **settings) -> loader.LoadedModel:
    return loader.load(name, ImageSettings(models=(name,), device="cuda", cache_dir=tmp_path, **settings))


def params(model: loader.LoadedModel, steps: int = 4) -> GenerationParams:
    size = model.default_width
    return GenerationParams(model.name, size, size, steps, 7.5, "Euler", "")


def test_auto_and_bare_cuda_bind_the_worker_thread_to_device_0() -> None:
    def bound(setting: str) -> tuple[torch.device, int]:
        device = devices.resolve_device(setting)
        devices.bind_thread(device)  # raised ValueError for a bare "cuda" before
        return device, torch.cuda.current_device()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        for setting in ("auto", "cuda", "cuda:0"):
            assert pool.submit(bound, setting).result() == (torch.device("cuda", 0), 0)


@pytest.mark.parametrize("offload", ["none", "model", "sequential"])
@pytest.mark.parametrize("name", [SD15 or "tiny-sd", "tiny-sdxl", "tiny-sd3"])
def test_every_family_runs_in_16_bit_under_each_offload_with_weighted_prompts(name, offload, tmp_path):
    model = load(name, tmp_path, offload=offload)
    assert model.device == torch.device("cuda", 0) and model.dtype in (torch.float16, torch.bfloat16)
    prompt = WEIGHTED if model.prompts else "a red apple on a wooden table"  # SD3 takes no weights
    steps = 20 if name == SD15 else 4
    images = engine.generate(
        model, params(model, steps), [Item(0, prompt, 1), Item(1, prompt, 2)], lambda _: True
    )
    pixels = np.asarray(images[0])
    assert pixels.std() > 0  # not the black image an fp16 overflow gives
    assert all(getattr(model.pipe, k).dtype == v for k, v in model.dtypes.items())


def test_an_oom_in_the_sdxl_vae_decode_leaves_the_vae_in_fp16_on_cuda(tmp_path):
    model = load("tiny-sdxl", tmp_path, faults="oom@vae:4096")
    p = params(model)
    with pytest.raises(OutOfMemory, match="a batch of 2"):
        engine.generate(model, p, [Item(0, "a", 1), Item(1, "b", 2)], lambda _: True)
    assert model.pipe.vae.dtype == torch.float16
    assert len(engine.generate(model, p, [Item(0, "a", 1)], lambda _: True)) == 1


def test_any_error_in_the_sdxl_vae_decode_leaves_the_vae_in_fp16_on_cuda(tmp_path):
    model = load("tiny-sdxl", tmp_path)

    def fail(_module, _args):
        raise RuntimeError("cuDNN error: CUDNN_STATUS_ALLOC_FAILED")

    handle = model.pipe.vae.decoder.register_forward_pre_hook(fail)
    try:
        with pytest.raises(RuntimeError, match="CUDNN"):
            engine.generate(model, params(model), [Item(0, "a", 1)], lambda _: True)
    finally:
        handle.remove()
    assert model.pipe.vae.dtype == torch.float16


def test_the_scorer_splits_an_oom_on_cuda(tmp_path):
    device = devices.resolve_device("cuda")
    clip = scorer.load("tiny-clip", tmp_path, device, torch.float16)
    judges = JudgingModels(clip, None, None, None, 4, 1, Faults.parse("oom@scorer:1", FAULT_STAGES, "FAULTS"))
    images = [Image.new("RGB", (64, 64), color) for color in ("red", "green", "blue")]
    assert len(judges.score(images, ["red", "green", "blue"])) == 3


@pytest.mark.parametrize("mask_on_device", [False, True])
def test_a_text_model_makes_valid_rows_on_cuda(tmp_path, mask_on_device):
    from synthmill.common.schema import parse_schema
    from synthmill.text import loader as text_loader
    from synthmill.text.domain import AcceptedRow, RowsJob, Sampling
    from synthmill.text.engine import TextEngine
    from synthmill.text.interrupt import Interrupt
    from synthmill.text.settings import TextSettings

    settings = TextSettings(device="auto", cache_dir=tmp_path, max_attempts=8, mask_on_device=mask_on_device)
    loaded = text_loader.load("tiny-llama", settings)
    assert loaded.device == torch.device("cuda", 0) and loaded.dtype in (torch.float16, torch.bfloat16)
    text = TextEngine(loaded, settings)
    assert 1 <= text.batch_size <= 64  # "auto": from the card's free memory
    schema = parse_schema({"n": {"type": "int", "minimum": 1, "maximum": 9}, "tag": ["a", "b"]})
    out = list(text.generate_rows(RowsJob(schema, 0, 4, 7, "", Sampling(0.9, 0.95, 24)), Interrupt()))
    assert len([row for row in out if isinstance(row, AcceptedRow)]) == 4


def test_the_deterministic_mode_gives_the_same_bits_twice_on_cuda():
    from tools.gpu_check import determinism

    assert "the same bits twice (tiny-sd on cuda:0" in determinism.run_child("tiny-sd", "cuda")
