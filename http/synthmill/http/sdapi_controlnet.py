"""sd-webui-controlnet's API on the A1111 face: `alwayson_scripts.controlnet.args` units on txt2img and
img2img, and `GET /controlnet/model_list` and `GET /controlnet/module_list`.

A unit is the extension's ControlNetUnit (`image`, `module`, `model`, `weight`, `guidance_start`,
`guidance_end`, `threshold_a`, `threshold_b`, `enabled`, ...). Its preprocessor family maps onto the
image server's: canny; scribble_* → scribble; lineart_* and "invert (from white bg & black line)" →
lineart; none. A unit without an image takes the img2img init image, as the extension does.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict

from synthmill.http.deps import Gateway
from synthmill.v1 import common_pb2

router = APIRouter(tags=["a1111"])

_HASH = re.compile(r"\s*\[[0-9a-fA-F]+\]\s*$")
MODULES = ("none", "canny", "scribble_pidinet", "scribble_xdog", "lineart_standard", "invert")


def kind_of(module: str) -> str | None:
    name = module.strip().lower()
    if name in ("", "none"):
        return "none"
    if name == "canny":
        return "canny"
    if name.startswith("scribble"):
        return "scribble"
    if name.startswith(("lineart", "invert")):
        return "lineart"
    return None


def decode_image(data: str, field: str) -> bytes:
    """Base64 image bytes, with or without a `data:image/...;base64,` prefix (as A1111 accepts)."""
    if data.startswith("data:"):
        data = data.partition(",")[2]
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(422, f"{field}: not base64") from None


class ControlNetUnit(BaseModel):
    """The fields of sd-webui-controlnet's ControlNetUnit that synthmill honours; the rest are ignored."""

    model_config = ConfigDict(extra="ignore")

    enabled: bool = True
    module: str = "none"
    model: str = "None"
    weight: float = 1.0
    image: str | dict[str, Any] | None = None
    input_image: str | None = None  # the extension's older name for `image`
    threshold_a: float = -1
    threshold_b: float = -1
    guidance_start: float = 0.0
    guidance_end: float = 1.0

    def unit(self, field: str) -> common_pb2.ControlUnit:
        kind = kind_of(self.module)
        if kind is None:
            raise HTTPException(
                422,
                f"{field}.module: {self.module!r} is not one of canny, scribble_*, lineart_*, invert, none",
            )
        unit = common_pb2.ControlUnit(
            kind=kind, scale=self.weight, start=self.guidance_start, end=self.guidance_end
        )
        model = _HASH.sub("", self.model)
        if model.lower() not in ("", "none"):
            unit.model = model
        if self.threshold_a >= 0 and kind in ("canny", "scribble"):
            unit.low_threshold = int(self.threshold_a)
        if self.threshold_b >= 0 and kind == "canny":
            unit.high_threshold = int(self.threshold_b)
        return unit

    def image_bytes(self, field: str) -> bytes | None:
        image = self.image if self.image is not None else self.input_image
        if isinstance(image, dict):  # {"image": ..., "mask": ...}
            image = image.get("image")
        return decode_image(image, f"{field}.image") if image else None


def units(alwayson_scripts: dict[str, Any], init_image: bytes | None) -> tuple[list, list[bytes]]:
    """The enabled ControlNet units of `alwayson_scripts` and their images."""
    script = next((v for k, v in alwayson_scripts.items() if k.lower() == "controlnet"), None)
    if not script:
        return [], []
    args = script.get("args", []) if isinstance(script, dict) else []
    out, images = [], []
    for n, raw in enumerate(args):
        field = f"alwayson_scripts.controlnet.args[{n}]"
        if not isinstance(raw, dict):
            raise HTTPException(422, f"{field}: expected a ControlNet unit object")
        unit = ControlNetUnit.model_validate(raw)
        if not unit.enabled:
            continue
        image = unit.image_bytes(field) or init_image
        if image is None:
            raise HTTPException(422, f"{field}.image: required on txt2img")
        out.append(unit.unit(field))
        images.append(image)
    return out, images


@router.get("/controlnet/model_list")
async def model_list(client: Gateway) -> dict[str, list[str]]:
    """The ControlNets the image servers have loaded."""
    report = await client.health()
    names = [n for s in report.services if s.name == "image" for m in s.models for n in m.controlnets]
    return {"model_list": list(dict.fromkeys(names))}


@router.get("/controlnet/module_list")
async def module_list(alias_names: bool = False) -> dict[str, Any]:
    """The preprocessors synthmill runs, by the extension's names."""
    return {"module_list": list(MODULES)}
