"""Seed 001's Stability form: `POST /v2beta/stable-image/generate/sd3`, multipart, as Stability's API
takes it (`prompt`, `mode` text-to-image or image-to-image, `image`, `strength`, `negative_prompt`,
`seed`, `aspect_ratio`, `output_format`, `model`). It answers with the image's bytes and the `seed`
and `finish-reason` headers, or JSON (`image` base64, `seed`, `finish_reason`) when the caller
accepts application/json; so seed 001's snippet runs unchanged but for the host.

Each call is one gateway job, as A1111's txt2img. text-to-image takes its size from `aspect_ratio`
around the model's native side (512 for SD 1.5/2.x, 1024 for SDXL and SD3, sides multiples of 64);
image-to-image takes the image's size (rounded down to the model's multiple) and ignores
`aspect_ratio`, as Stability does. `seed` 0 draws one at random. `model` names a loaded model, or
else the caller's checkpoint (`/sdapi/v1/options`) or the server's default is used.
"""

from __future__ import annotations

import base64
import io
import json
import math
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from PIL import Image

from synthmill.http.deps import Gateway
from synthmill.http.sdapi import Txt2ImgRequest, _image_models, caller_checkpoint, run_job

router = APIRouter(prefix="/v2beta/stable-image/generate", tags=["stability"])

ASPECT_RATIOS = ("16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")
FORMATS = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
NATIVE = {"sdxl": 1024, "sd3": 1024}  # other families: 512


def _size(aspect_ratio: str, native: int) -> tuple[int, int]:
    w, h = (int(part) for part in aspect_ratio.split(":"))
    ratio = math.sqrt(w / h)
    return max(64, round(native * ratio / 64) * 64), max(64, round(native / ratio / 64) * 64)


@router.post("/sd3")
async def sd3(
    request: Request,
    client: Gateway,
    prompt: Annotated[str, Form()],
    mode: Annotated[str, Form()] = "text-to-image",
    image: Annotated[UploadFile | None, File()] = None,
    strength: Annotated[float | None, Form()] = None,
    negative_prompt: Annotated[str, Form()] = "",
    seed: Annotated[int, Form(ge=0, le=4294967294)] = 0,
    aspect_ratio: Annotated[str, Form()] = "1:1",
    output_format: Annotated[str, Form()] = "png",
    model: Annotated[str, Form()] = "",
) -> Response:
    if mode not in ("text-to-image", "image-to-image"):
        raise HTTPException(400, f"mode: {mode!r} is not text-to-image or image-to-image")
    if output_format not in FORMATS:
        raise HTTPException(400, f"output_format: {output_format!r} is not one of {', '.join(FORMATS)}")
    if aspect_ratio not in ASPECT_RATIOS:
        raise HTTPException(400, f"aspect_ratio: {aspect_ratio!r} is not one of {', '.join(ASPECT_RATIOS)}")
    models = {m.name: m for m in await _image_models(client)}
    chosen = model if model in models else caller_checkpoint(request)
    body = Txt2ImgRequest(prompt=prompt, negative_prompt=negative_prompt, seed=seed or -1, steps=0)
    if mode == "image-to-image":
        if image is None:
            raise HTTPException(400, "image: required for image-to-image")
        if strength is None:
            raise HTTPException(400, "strength: required for image-to-image, in (0, 1]")
        body.width = body.height = 0  # the image's own size
        spec = body.spec(chosen, await image.read(), strength=strength)
    else:
        family = (models.get(chosen) or next((m for m in models.values() if m.is_default), None)).family
        body.width, body.height = _size(aspect_ratio, NATIVE.get(family, 512))
        spec = body.spec(chosen)
    pngs, info = await run_job(body, spec, request, client)
    data = pngs[0]
    if output_format != "png":
        with Image.open(io.BytesIO(data)) as decoded:
            buffer = io.BytesIO()
            decoded.convert("RGB").save(buffer, format=output_format.upper())
            data = buffer.getvalue()
    used = str(json.loads(info)["seed"])
    headers = {"seed": used, "finish-reason": "SUCCESS"}
    if "application/json" in request.headers.get("accept", ""):
        payload = {"image": base64.b64encode(data).decode(), "finish_reason": "SUCCESS", "seed": int(used)}
        return JSONResponse(payload, headers=headers)
    return Response(data, media_type=FORMATS[output_format], headers=headers)
