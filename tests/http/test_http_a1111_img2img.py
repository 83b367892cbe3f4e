"""A1111's img2img, ControlNet units and start-up routes against a running stack. Replies are checked with
A1111's own response models, written here field for field from `modules/api/models.py`
(AUTOMATIC1111/stable-diffusion-webui); requests carry A1111's own field names and defaults."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import matplotlib.cbook
import numpy as np
import pytest
from PIL import Image
from pydantic import BaseModel, Field

pytestmark = pytest.mark.e2e


# A1111's response models (modules/api/models.py), as they are declared there.
class ImageToImageResponse(BaseModel):
    images: list[str] | None = Field(default=None, title="Image")
    parameters: dict
    info: str


class PNGInfoResponse(BaseModel):
    info: str
    items: dict
    parameters: dict


class SchedulerItem(BaseModel):
    name: str
    label: str
    aliases: list[str] | None
    default_rho: float | None
    need_inner_model: bool | None


class PromptStyleItem(BaseModel):
    name: str
    prompt: str | None
    negative_prompt: str | None


class EmbeddingsResponse(BaseModel):
    loaded: dict
    skipped: dict


class MemoryResponse(BaseModel):
    ram: dict
    cuda: dict


# What A1111's StableDiffusionImg2ImgProcessingAPI sends by default for the fields a client leaves out.
A1111_IMG2IMG_DEFAULTS: dict[str, Any] = {
    "sampler_index": "Euler", "script_name": None, "script_args": [], "send_images": True,
    "save_images": False, "alwayson_scripts": {}, "force_task_id": None, "infotext": None,
    "denoising_strength": 0.75, "mask": None, "include_init_images": False, "resize_mode": 0,
    "mask_blur_x": 4, "mask_blur_y": 4, "mask_blur": None, "inpainting_fill": 0, "inpaint_full_res": True,
    "inpaint_full_res_padding": 0, "inpainting_mask_invert": 0, "initial_noise_multiplier": None,
    "latent_mask": None, "image_cfg_scale": None, "styles": None, "subseed": -1, "restore_faces": None,
}  # fmt: skip
TINY = {"width": 64, "height": 64, "steps": 4}


def _b64(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _photo(size=(64, 64)) -> Image.Image:
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as file:
        return Image.open(file).convert("RGB").resize(size)


def _decoded(encoded: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(encoded))).convert("RGB"))


def test_img2img_answers_base64_pngs_with_the_strength_recorded(api) -> None:
    body = A1111_IMG2IMG_DEFAULTS | TINY | {"prompt": "a portrait", "seed": 5, "batch_size": 2}
    body |= {"init_images": [_b64(_photo())], "denoising_strength": 0.5}
    reply = api.post("/sdapi/v1/img2img", json=body)
    assert reply.status_code == 200, reply.text
    result = ImageToImageResponse.model_validate(reply.json())
    assert len(result.images) == 2 and all(_decoded(i).shape == (64, 64, 3) for i in result.images)
    info = json.loads(result.info)
    assert info["all_seeds"] == [5, 6]
    assert "Denoising strength: 0.5, Init image SHA256: " in info["infotexts"][0]
    assert result.parameters["init_images"] is None  # include_init_images false, as A1111


def test_img2img_inpaints_with_a_mask_and_keeps_the_rest(api) -> None:
    photo, mask = _photo(), Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    body = A1111_IMG2IMG_DEFAULTS | TINY | {"prompt": "a hat", "seed": 1, "include_init_images": True}
    body |= {"init_images": [_b64(photo)], "mask": _b64(mask), "mask_blur": 0, "inpaint_full_res": False}
    result = ImageToImageResponse.model_validate(api.post("/sdapi/v1/img2img", json=body).json())
    outside = np.asarray(mask) == 0
    assert np.array_equal(_decoded(result.images[0])[outside], np.asarray(photo)[outside])
    assert result.parameters["mask"] == body["mask"]


def test_controlnet_units_on_txt2img_and_img2img(api) -> None:
    assert api.get("/controlnet/model_list").json() == {"model_list": ["tiny-controlnet"]}
    assert "canny" in api.get("/controlnet/module_list").json()["module_list"]
    unit = {"enabled": True, "module": "canny", "model": "tiny-controlnet [abcd1234]", "weight": 0.8,
            "image": _b64(_photo()), "threshold_a": 50, "threshold_b": 150, "guidance_start": 0.0,
            "guidance_end": 1.0, "resize_mode": "Crop and Resize", "pixel_perfect": False}  # fmt: skip
    scripts = {"controlnet": {"args": [unit, {"enabled": False, "module": "depth"}]}}
    body = {"prompt": "a portrait", "alwayson_scripts": scripts, **TINY}
    reply = api.post("/sdapi/v1/txt2img", json=body)
    assert reply.status_code == 200, reply.text
    assert (
        'ControlNet 0: "Module: canny, Model: tiny-controlnet, Weight: 0.8, Threshold A: 50'
        in (json.loads(reply.json()["info"])["infotexts"][0])
    )
    # On img2img a unit without an image takes the init image.
    unit.pop("image")
    body = (
        A1111_IMG2IMG_DEFAULTS
        | TINY
        | {"prompt": "x", "init_images": [_b64(_photo())], "alwayson_scripts": scripts}
    )
    reply = api.post("/sdapi/v1/img2img", json=body)
    assert reply.status_code == 200, reply.text
    bad = {"controlnet": {"args": [{"module": "openpose", "image": _b64(_photo())}]}}
    refused = api.post("/sdapi/v1/txt2img", json={"prompt": "x", "alwayson_scripts": bad, **TINY})
    assert refused.status_code == 422 and "args[0].module" in refused.text


def test_bad_img2img_input_is_refused_naming_the_field(api) -> None:
    base = A1111_IMG2IMG_DEFAULTS | TINY | {"prompt": "x", "init_images": [_b64(_photo())]}
    cases = [
        (base | {"denoising_strength": 1.5}, 400, "strength: 1.5 is not in (0, 1]"),
        (base | {"init_images": ["not base64!"]}, 422, "init_images[0]: not base64"),
        (
            base | {"init_images": [base64.b64encode(b"junk").decode()]},
            400,
            "init_image.data: not a PNG or JPEG",
        ),
        (base | {"mask": _b64(Image.new("L", (32, 32)))}, 400, "mask.data: 32x32 differs"),
        (base | {"resize_mode": 1}, 422, "resize_mode: 1 is not supported"),
        (base | {"init_images": []}, 422, "init_images: at least one"),
    ]
    for body, status, message in cases:
        reply = api.post("/sdapi/v1/img2img", json=body)
        assert reply.status_code == status and message in reply.text, (message, reply.status_code, reply.text)


def test_start_up_routes_answer_in_a1111_shapes(api) -> None:
    options = api.get("/sdapi/v1/options").json()
    assert options["sd_model_checkpoint"] == "tiny-sd" and len(options["sd_checkpoint_hash"]) == 10
    assert isinstance(api.get("/sdapi/v1/cmd-flags").json()["api"], bool)
    [PromptStyleItem.model_validate(s) for s in api.get("/sdapi/v1/prompt-styles").json()]
    schedulers = [SchedulerItem.model_validate(s) for s in api.get("/sdapi/v1/schedulers").json()]
    assert {"automatic", "karras"} <= {s.name for s in schedulers}
    memory = MemoryResponse.model_validate(api.get("/sdapi/v1/memory").json())
    assert memory.ram["total"] > memory.ram["free"] > 0
    assert api.get("/sdapi/v1/loras").json() == []
    assert EmbeddingsResponse.model_validate(api.get("/sdapi/v1/embeddings").json()).loaded == {}


def test_options_pick_the_callers_checkpoint(api) -> None:
    refused = api.post("/sdapi/v1/options", json={"sd_model_checkpoint": "nope"})
    assert refused.status_code == 400 and "nope" in refused.text
    assert (
        api.post("/sdapi/v1/options", json={"sd_model_checkpoint": "tiny-sd [0123456789]"}).status_code == 200
    )
    assert api.get("/sdapi/v1/options").json()["sd_model_checkpoint"] == "tiny-sd"


def test_png_info_reads_the_parameters_chunk_back(api) -> None:
    body = {"prompt": "a red (cube:1.2)", "negative_prompt": "blur", "seed": 9, "cfg_scale": 5, **TINY}
    image = api.post("/sdapi/v1/txt2img", json=body).json()["images"][0]
    result = PNGInfoResponse.model_validate(api.post("/sdapi/v1/png-info", json={"image": image}).json())
    assert result.info.startswith("a red (cube:1.2)\nNegative prompt: blur\nSteps: 4")
    fields = result.parameters
    assert (fields["Prompt"], fields["Negative prompt"], fields["Seed"], fields["CFG scale"]) == (
        "a red (cube:1.2)", "blur", "9", "5",
    )  # fmt: skip
    assert fields["Size"] == "64x64" and fields["Model"] == "tiny-sd"
