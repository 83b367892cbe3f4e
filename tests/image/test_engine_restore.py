"""A batch that fails for any reason puts the pipeline back as loaded, in process on the tiny SDXL in
float16 (on the CPU), whose VAE diffusers really upcasts to fp32 for the decode (`force_upcast`)."""

from __future__ import annotations

import pytest
import torch

from synthmill.image.domain import GenerationParams, Item
from synthmill.image.embedded import pipelines
from synthmill.image.generation import engine, loader
from synthmill.image.serving.settings import ImageSettings


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


def test_an_fp16_safe_sdxl_vae_is_loaded_from_its_setting_and_decodes_in_fp16(sdxl, tmp_path) -> None:
    """SYNTHMILL_IMAGE_SDXL_VAE: a VAE whose config says it needs no upcast (as
    madebyollin/sdxl-vae-fp16-fix's does) replaces the pipeline's, so the decode stays in fp16."""
    torch.manual_seed(0)
    fixed = tmp_path / "sdxl-vae-fp16-fix"
    pipelines._vae(force_upcast=False).save_pretrained(
        fixed
    )  # a tiny VAE built from config, saved as on the hub
    settings = ImageSettings(
        models=("tiny-sdxl",), device="cpu", dtype="float16", cache_dir=sdxl.source.rsplit("/models/", 1)[0],
        sdxl_vae=str(fixed),
    )  # fmt: skip
    model = loader.load("tiny-sdxl", settings)
    assert model.pipe.vae.config.force_upcast is False and model.pipe.vae.dtype == torch.float16
    seen = []
    handle = model.pipe.vae.decoder.register_forward_pre_hook(lambda m, _a: seen.append(model.pipe.vae.dtype))
    try:
        [image] = engine.generate(model, _params(model), [Item(0, "a red cube", 1)], lambda _: True)
    finally:
        handle.remove()
    assert seen == [torch.float16]  # not upcast for the decode, as the pipeline's own VAE is
    assert image.size == (64, 64)
