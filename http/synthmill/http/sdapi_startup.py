"""The A1111 routes that clients and scripts call at start-up, in A1111's shapes: `options` (GET and
POST: `sd_model_checkpoint` chosen here picks the model of the caller's later txt2img/img2img calls),
`cmd-flags`, `prompt-styles` (the gateway's saved styles), `schedulers`, `memory`, `loras` and
`embeddings` (synthmill loads neither: empty answers), and `png-info`, which reads the `parameters`
chunk back into A1111's fields.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from PIL import Image
from pydantic import BaseModel

from synthmill.http.deps import Gateway
from synthmill.http.gateway import AUTHORIZATION
from synthmill.http.sdapi import _TITLE_HASH, _image_models
from synthmill.http.sdapi_controlnet import decode_image

router = APIRouter(prefix="/sdapi/v1", tags=["a1111"])

# A1111's noise schedules (modules/sd_schedulers.py) that synthmill's sampler names can carry.
SCHEDULERS = [
    ("automatic", "Automatic"),
    ("uniform", "Uniform"),
    ("karras", "Karras"),
]


def checkpoint_hash(model: Any) -> str:
    """A stable 10-hex id of a loaded model (its name and source), where A1111 hashes its file."""
    return hashlib.sha256(f"{model.name}\n{model.source}".encode()).hexdigest()[:10]


@router.get("/options")
async def get_options(request: Request, client: Gateway) -> dict[str, Any]:
    models = await _image_models(client)
    chosen = request.app.state.checkpoints.get(AUTHORIZATION.get(), "")
    model = next((m for m in models if m.name == chosen), None) or next(
        (m for m in models if m.is_default), None
    )
    return {
        "sd_model_checkpoint": model.name if model else None,
        "sd_checkpoint_hash": checkpoint_hash(model) if model else None,
        "sd_vae": "Automatic",
        "samples_format": "png",
        "CLIP_stop_at_last_layers": 1,
        "eta_noise_seed_delta": 0,
        "img2img_fix_steps": False,
    }


@router.post("/options")
async def set_options(body: dict[str, Any], request: Request, client: Gateway) -> None:
    """Only `sd_model_checkpoint` changes anything: the caller's model from now on. Other options are
    accepted and kept by nobody, as they would change nothing here."""
    checkpoint = body.get("sd_model_checkpoint")
    if checkpoint is None:
        return
    if not isinstance(checkpoint, str):
        raise HTTPException(422, "sd_model_checkpoint: expected a string")
    name = _TITLE_HASH.sub("", checkpoint)
    loaded = [m.name for m in await _image_models(client)]
    if name not in loaded:
        raise HTTPException(400, f"sd_model_checkpoint: {name!r} is not loaded; loaded: {', '.join(loaded)}")
    request.app.state.checkpoints[AUTHORIZATION.get()] = name


@router.get("/cmd-flags")
async def cmd_flags(request: Request) -> dict[str, Any]:
    """The A1111 flags that describe this face: an API without the Gradio UI, on its own host and port."""
    settings = request.app.state.settings
    return {"api": True, "nowebui": True, "listen": settings.host not in ("127.0.0.1", "localhost"),
            "port": settings.port, "api_auth": None, "ckpt_dir": None, "lora_dir": None}  # fmt: skip


@router.get("/prompt-styles")
async def prompt_styles(client: Gateway) -> list[dict[str, Any]]:
    return [
        {"name": s.name, "prompt": s.prompt, "negative_prompt": s.negative_prompt}
        for s in await client.styles()
    ]


@router.get("/schedulers")
async def schedulers() -> list[dict[str, Any]]:
    """A1111's SchedulerItem for each schedule a sampler name here can take ("DPM++ 2M" + "Karras")."""
    return [
        {"name": name, "label": label, "aliases": None, "default_rho": None, "need_inner_model": None}
        for name, label in SCHEDULERS
    ]


@router.get("/memory")
async def memory() -> dict[str, Any]:
    """This process's host memory; CUDA lives in the image servers (see their /metrics)."""
    pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    free = os.sysconf("SC_AVPHYS_PAGES") * size
    total = pages * size
    return {
        "ram": {"free": free, "used": total - free, "total": total},
        "cuda": {"error": "the HTTP face runs no CUDA: see the image servers' metrics"},
    }


@router.get("/loras")
async def loras() -> list[dict[str, Any]]:
    return []


@router.get("/embeddings")
async def embeddings() -> dict[str, Any]:
    return {"loaded": {}, "skipped": {}}


class PngInfoRequest(BaseModel):
    image: str


# "Key: value" pairs of the last line, where a value may be a quoted string holding commas.
_PAIR = re.compile(r'\s*([\w ,\-./+]+?):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')


def parse_parameters(text: str) -> dict[str, Any]:
    """A1111's infotext as fields: Prompt, Negative prompt, then each `Key: value` of the last line."""
    lines = text.strip().split("\n")
    *head, last = lines if len(lines) > 1 and _PAIR.match(lines[-1]) else [*lines, ""]
    prompt, negative, in_negative = [], [], False
    for line in head:
        if line.startswith("Negative prompt:"):
            in_negative, line = True, line[len("Negative prompt:") :].strip()
        (negative if in_negative else prompt).append(line)
    fields: dict[str, Any] = {"Prompt": "\n".join(prompt), "Negative prompt": "\n".join(negative)}
    for key, value in _PAIR.findall(last):
        fields[key.strip()] = value.strip()
    return fields


@router.post("/png-info")
async def png_info(body: PngInfoRequest) -> dict[str, Any]:
    data = decode_image(body.image, "image")
    try:
        with Image.open(io.BytesIO(data)) as image:
            text = dict(getattr(image, "text", {}) or {})
    except (OSError, Image.DecompressionBombError) as exc:
        raise HTTPException(422, f"image: not an image: {exc}") from None
    info = text.pop("parameters", "")
    return {"info": info, "items": text, "parameters": parse_parameters(info) if info else {}}
