"""A batch whose requesters have all gone stops at the next step and never decodes: on SDXL and SD3 the
VAE decode of a whole batch costs as much as several steps."""

from __future__ import annotations

import pytest

from synthmill.image.domain import GenerationParams, Item
from synthmill.image.generation import engine, loader
from synthmill.image.serving.settings import ImageSettings

pytestmark = pytest.mark.e2e  # loads models


@pytest.mark.parametrize("name", ["tiny-sdxl", "tiny-sd3"])
def test_a_stopped_batch_skips_the_vae_decode(name, tmp_path_factory):
    settings = ImageSettings(models=(name,), device="cpu", threads=1, cache_dir=tmp_path_factory.mktemp("c"))
    model = loader.load(name, settings)
    calls = {"denoiser": 0, "decoder": 0}
    denoiser = model.pipe.transformer if model.family == "sd3" else model.pipe.unet
    denoiser.register_forward_hook(lambda *_: calls.__setitem__("denoiser", calls["denoiser"] + 1))
    model.pipe.vae.decoder.register_forward_hook(
        lambda *_: calls.__setitem__("decoder", calls["decoder"] + 1)
    )
    params = GenerationParams(name, 64, 64, steps=4, guidance=7.5, scheduler="Euler", negative_prompt="")
    items = [Item(0, "a cat", 1), Item(1, "a dog", 2)]

    assert engine.generate(model, params, items, on_step=lambda step: step < 1) is None
    assert calls == {"denoiser": 1, "decoder": 0}  # one step (CFG batched in one call), no decode

    images = engine.generate(model, params, items, on_step=lambda step: True)
    # The VAE still works after a stop, and decodes one image per call (VAE slicing is on by default).
    assert len(images) == 2 and calls == {"denoiser": 5, "decoder": 2}
