"""A batch that fails for any reason puts the pipeline back as loaded, in process on the tiny SDXL in
float16 (on the CPU), whose VAE diffusers really upcasts to fp32 for the decode (`force_upcast`)."""

from __future__ import annotations

import pytest
import torch

from synthmill.image import engine, loader
from synthmill.image.domain import GenerationParams, Item
from synthmill.image.settings import ImageSettings


@pytest.fixture(scope="module")
def sdxl(tmp_path_factory: pytest.TempPathFactory) -> loader.LoadedModel:
    torch.set_num_threads(1)  # the CPU is shared with other test processes
    cache = tmp_path_factory.mktemp("cache")
    return loader.load(
        "tiny-sdxl", ImageSettings(models=("tiny-sdxl",), device="cpu", dtype="float16", cache_dir=cache)
    )


def _params(model: loader.LoadedModel) -> GenerationParams:
    return GenerationParams(model.name, 64, 64, 2, 7.5, "Euler", "")


def test_a_non_oom_error_in_the_sdxl_decode_leaves_the_vae_in_fp16(sdxl: loader.LoadedModel) -> None:
    assert sdxl.pipe.vae.config.force_upcast and sdxl.pipe.vae.dtype == torch.float16

    def fail(_module, _args):  # what a cuDNN or cuBLAS allocation failure raises: not an OOM
        assert sdxl.pipe.vae.dtype == torch.float32  # diffusers upcast it for the decode
        raise RuntimeError("cuDNN error: CUDNN_STATUS_ALLOC_FAILED")

    handle = sdxl.pipe.vae.decoder.register_forward_pre_hook(fail)
    try:
        with pytest.raises(RuntimeError, match="CUDNN_STATUS_ALLOC_FAILED"):
            engine.generate(sdxl, _params(sdxl), [Item(0, "a red cube", 1)], lambda _: True)
    finally:
        handle.remove()
    assert sdxl.pipe.vae.dtype == torch.float16
    assert len(engine.generate(sdxl, _params(sdxl), [Item(0, "the next one", 2)], lambda _: True)) == 1
