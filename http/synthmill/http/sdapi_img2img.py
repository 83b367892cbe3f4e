"""A1111's `POST /sdapi/v1/img2img`: init_images (base64), denoising_strength, and inpainting with
`mask`, `mask_blur`, `inpaint_full_res` (with its padding) and `inpainting_mask_invert`, plus
sd-webui-controlnet units; one gateway job per call, as txt2img.

`resize_mode` 0 ("Just resize") is what synthmill does; the other modes are refused. `inpainting_fill`
is accepted and has no effect: diffusers starts the masked area from the init image noised by the
strength (A1111's "original"). `include_init_images` puts the init images and mask back into the
echoed `parameters`, as A1111 does.
"""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from synthmill.http.deps import Gateway
from synthmill.http.sdapi import Txt2ImgRequest, caller_checkpoint, run_job
from synthmill.http.sdapi_controlnet import decode_image

router = APIRouter(prefix="/sdapi/v1", tags=["a1111"])


class Img2ImgRequest(Txt2ImgRequest):
    """A1111's StableDiffusionProcessingImg2Img fields that synthmill honours, with A1111's defaults."""

    init_images: list[str] | None = None
    denoising_strength: float = 0.75
    mask: str | None = None
    mask_blur: int | None = Field(None, ge=0, description="None is A1111's mask_blur_x/y default of 4")
    inpainting_fill: int = 0
    inpaint_full_res: bool = True
    inpaint_full_res_padding: int = Field(0, ge=0)
    inpainting_mask_invert: int = 0
    resize_mode: int = 0
    include_init_images: bool = False

    def edit_spec(self, chosen: str):
        if not self.init_images:
            raise HTTPException(422, "init_images: at least one base64 image is required")
        if len(self.init_images) > 1:
            raise HTTPException(422, "init_images: synthmill starts every image from one init image")
        if self.resize_mode != 0:
            raise HTTPException(422, f"resize_mode: {self.resize_mode} is not supported; 0 (just resize) is")
        init = decode_image(self.init_images[0], "init_images[0]")
        edit: dict[str, Any] = {"strength": self.denoising_strength}
        if self.mask:
            edit |= {
                "mask": decode_image(self.mask, "mask"),
                "mask_blur": 4 if self.mask_blur is None else self.mask_blur,
                "inpaint_full_res": self.inpaint_full_res,
                "inpaint_full_res_padding": self.inpaint_full_res_padding,
                "mask_invert": bool(self.inpainting_mask_invert),
            }
        return self.spec(chosen, init, **edit)


class ImageToImageResponse(BaseModel):
    images: list[str] = Field(description="The generated images, base64-encoded PNGs.")
    parameters: dict[str, Any]
    info: str = Field(description="JSON text: seed, all_seeds, prompts, size, sampler, infotexts, ...")


@router.post("/img2img", response_model=ImageToImageResponse)
async def img2img(body: Img2ImgRequest, request: Request, client: Gateway) -> ImageToImageResponse:
    """batch_size x n_iter images from the init image (inpainted where `mask` is white)."""
    pngs, info = await run_job(body, body.edit_spec(caller_checkpoint(request)), request, client)
    parameters = body.model_dump()
    if not body.include_init_images:
        parameters |= {"init_images": None, "mask": None}
    return ImageToImageResponse(
        images=[base64.b64encode(png).decode() for png in pngs] if body.send_images else [],
        parameters=parameters,
        info=info,
    )
