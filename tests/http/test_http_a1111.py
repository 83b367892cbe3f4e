"""The A1111 / SD.Next API subset against a running stack, with seed 000's script unchanged but for its URL."""

from __future__ import annotations

import base64
import io
import json
import threading

import pytest
from PIL import Image

pytestmark = pytest.mark.e2e

# Seed 000 (floorplans through SD.Next's API), verbatim but for <APP_URL>.
SEED_000_SCRIPT = """
import requests
import base64
from PIL import Image
from io import BytesIO

# Define the URL for the API
url = "<APP_URL>/sdapi/v1/txt2img"

# Define the headers
headers = {
    'Accept': 'application/json',
    'Content-Type': 'application/json'
}

# Define the base data template
base_req_body = {
    "prompt": "Simple 2D architectural floorplan with clean, black lines on a white background. The layout should include walls, rooms, and basic features like doors and windows, all drawn with clear black lines. The floorplan should be minimalistic and easy to understand, resembling the style of technical drawings or blueprints. ",
    "negative_prompt": "colors, textures, shading, and any 3D elements. furniture, patterns, or decorative designs. Exclude any details like landscapes, people, or non-architectural elements. Keep the drawing simple, with just black lines and a white background. Round shapes",
    "batch_size": 1,
    "steps": 20
}


# Function to send request and parse base64 image response
def generate_and_parse_image(loop_number):
    # Send the POST request to the API
    response = requests.post(url, json=base_req_body, headers=headers)

    # Check if the request was successful
    if response.status_code == 200:
        # Assuming the response contains a base64-encoded image string
        response_json = response.json()
        images = response_json.get('images')  # 'image' is the key for base64 string

        if images:
            for img_batch_num, image in enumerate(images):
                # Decode the base64 string to bytes
                image_data = base64.b64decode(image)

                # Convert the byte data to an image
                image = Image.open(BytesIO(image_data))

                # Construct the file name
                filename = f"loop_{loop_number}_img_batch_{img_batch_num}.png"

                # Save the image to a file
                image.save(filename)
                print(f"Image saved as '{filename}'")
    else:
        print(
            f"Request failed for loop {loop_number}, with status code {response.status_code}: {response.text}")


if __name__ == '__main__':

    # Loop for 10 iterations
    for i in range(1, 11):
        # Generate the image and save it
        generate_and_parse_image(i)
"""

TINY = {"width": 64, "height": 64, "steps": 2}


def test_seed_000_script_saves_a_floorplan(http_stack, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "seed_000"}
    exec(SEED_000_SCRIPT.replace("<APP_URL>", http_stack.url), namespace)
    namespace["generate_and_parse_image"](1)
    assert "Image saved as 'loop_1_img_batch_0.png'" in capsys.readouterr().out
    with Image.open(tmp_path / "loop_1_img_batch_0.png") as image:
        assert image.size == (512, 512)  # A1111's default size


def test_txt2img_returns_every_image_with_its_seed(api) -> None:
    body = {"prompt": "a red cube", "negative_prompt": "blur", "seed": 11, "batch_size": 2, "n_iter": 2}
    body |= {"cfg_scale": 5.5, "sampler_name": "Euler a", "enable_hr": False, "alwayson_scripts": {}, **TINY}
    reply = api.post("/sdapi/v1/txt2img", json=body)
    assert reply.status_code == 200, reply.text
    result = reply.json()
    assert len(result["images"]) == 4
    for encoded in result["images"]:
        with Image.open(io.BytesIO(base64.b64decode(encoded))) as image:
            assert image.size == (64, 64)
    info = json.loads(result["info"])
    assert info["seed"] == 11 and info["all_seeds"] == [11, 12, 13, 14]
    assert info["sampler_name"] == "Euler a" and info["cfg_scale"] == 5.5 and info["steps"] == 2
    assert info["infotexts"][3].startswith("a red cube\nNegative prompt: blur\n")
    assert "Seed: 14" in info["infotexts"][3]
    assert result["parameters"]["prompt"] == "a red cube" and result["parameters"]["n_iter"] == 2


def test_txt2img_random_seed_model_override_and_no_images(api) -> None:
    models = api.get("/sdapi/v1/sd-models").json()
    assert [m["model_name"] for m in models] == ["tiny-sd"]
    body = {"prompt": "a hut", "seed": -1, "send_images": False, **TINY}
    body["override_settings"] = {"sd_model_checkpoint": models[0]["title"] + " [0123abcd]"}
    result = api.post("/sdapi/v1/txt2img", json=body).json()
    info = json.loads(result["info"])
    assert result["images"] == [] and info["seed"] >= 0 and info["sd_model_name"] == "tiny-sd"
    unknown = api.post(
        "/sdapi/v1/txt2img", json=body | {"override_settings": {"sd_model_checkpoint": "nope"}}
    )
    assert unknown.status_code == 400 and "nope" in unknown.json()["detail"]


def test_samplers_are_the_models_schedulers(api) -> None:
    names = [item["name"] for item in api.get("/sdapi/v1/samplers").json()]
    assert {"Euler", "Euler a", "DPM++ 2M"} <= set(names)
    bad = api.post("/sdapi/v1/txt2img", json={"prompt": "x", "sampler_name": "Warp drive", **TINY})
    assert bad.status_code == 400 and "scheduler" in bad.json()["detail"]


def test_progress_and_interrupt(api) -> None:
    idle = api.get("/sdapi/v1/progress").json()
    assert idle["progress"] == 0 and idle["state"]["job_count"] == 0
    result: dict = {}
    # Long enough that the interrupt lands while it runs; a cancel stops it within a step.
    body = {"prompt": "slow", "seed": 1, "batch_size": 16, "width": 64, "height": 64, "steps": 100}
    call = threading.Thread(target=lambda: result.update(reply=api.post("/sdapi/v1/txt2img", json=body)))
    call.start()
    busy = _progress_once_sampling(api)
    assert busy["state"]["job"] and 0 < busy["progress"] < 1 and busy["state"]["sampling_steps"] == 100
    assert busy["state"]["job_count"] == 16 and busy["eta_relative"] >= 0
    assert api.post("/sdapi/v1/interrupt").json() == {}
    call.join()
    reply = result["reply"]
    assert reply.status_code == 200, reply.text
    assert len(reply.json()["images"]) < 16  # interrupted: what was made so far
    assert api.get(f"/status/{busy['state']['job']}").json()["status"] == "cancelled"


def _progress_once_sampling(api) -> dict:
    """Polls /sdapi/v1/progress as A1111 clients do, until the call has done a denoising step."""
    while True:
        progress = api.get("/sdapi/v1/progress").json()
        if progress["state"]["sampling_step"] > 0:
            return progress
