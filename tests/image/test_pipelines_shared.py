"""The img2img, inpainting and ControlNet pipelines are built from the loaded one with `from_pipe`: every
component is the same object, and every parameter tensor the same memory, as the loaded pipeline's."""

from __future__ import annotations

import pytest
import torch

from synthmill.common import rules
from synthmill.image.domain import Control, GenerationParams
from synthmill.image.generation import loader, pipelines
from synthmill.image.serving.settings import ImageSettings


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> loader.LoadedModel:
    torch.set_num_threads(1)
    settings = ImageSettings(cache_dir=tmp_path_factory.mktemp("cache"), device="cpu")
    return loader.load("tiny-sd", settings)


def _params(task: str, controls: tuple[Control, ...] = ()) -> GenerationParams:
    strength = None if task == "txt2img" else 0.5
    return GenerationParams(
        "any", 64, 64, 4, 7.5, "Euler", "", task=task, strength=strength, controls=controls
    )


CANNY = (Control("canny", "tiny-controlnet"),)


@pytest.mark.parametrize(
    ("task", "controls", "cls"),
    [
        ("img2img", (), "StableDiffusionImg2ImgPipeline"),
        ("inpaint", (), "StableDiffusionInpaintPipeline"),
        ("txt2img", CANNY, "StableDiffusionControlNetPipeline"),
        ("img2img", CANNY, "StableDiffusionControlNetImg2ImgPipeline"),
        ("inpaint", CANNY, "StableDiffusionControlNetInpaintPipeline"),
    ],
)
def test_derived_pipelines_share_every_weight(model, task, controls, cls):
    derived = pipelines.for_params(model, _params(task, controls))

    assert type(derived).__name__ == cls
    for name in ("unet", "vae", "text_encoder"):
        ours, theirs = getattr(derived, name), getattr(model.pipe, name)
        assert ours is theirs
        pairs = zip(ours.parameters(), theirs.parameters(), strict=True)
        assert all(a.data_ptr() == b.data_ptr() for a, b in pairs)
    if controls:
        assert derived.controlnet is model.controlnets["tiny-controlnet"]


def test_each_derived_pipeline_is_built_once_and_txt2img_is_the_loaded_one(model):
    assert pipelines.for_params(model, _params("txt2img")) is model.pipe
    assert pipelines.for_params(model, _params("img2img")) is pipelines.for_params(model, _params("img2img"))


@pytest.mark.parametrize("name", ["tiny-sd", "tiny-sdxl", "tiny-sd3"])
def test_the_strength_handed_to_diffusers_runs_exactly_ceil_steps_times_strength(tmp_path, name):
    """Checked with each family's own img2img `get_timesteps` (SD/SDXL run int(n x s) steps, SD3
    n - int(n - n x s)) over every strength in hundredths."""
    loaded = loader.load(name, ImageSettings(cache_dir=tmp_path, device="cpu"))
    pipe = pipelines.for_params(loaded, _params("img2img"))
    for steps in (1, 7, 10, 49, 50):
        pipe.scheduler.set_timesteps(steps)
        for hundredths in range(1, 101):
            run = rules.denoising_steps(steps, hundredths / 100)
            strength = pipelines.strength_for(run, steps, loaded.family)
            assert pipe.get_timesteps(steps, strength, "cpu")[1] == run, (steps, hundredths)
