"""PNG encoding with an A1111-style "parameters" text chunk, as the WebUI and its readers expect."""

from __future__ import annotations

import io

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from synthmill.common.cards import ModelCard
from synthmill.image.domain import Control, GenerationParams, Item


def parameters_text(
    params: GenerationParams,
    item: Item,
    card: ModelCard | None = None,
    score: float | None = None,
    candidate: int = 0,
) -> str:
    """`prompt`, an optional `Negative prompt: ...` line, then `Steps: N, Sampler: X, ...`, with the
    device and dtype of the model's `card` when given (the same seed gives other bits elsewhere), the
    CLIPScore and, for best-of, the candidate number. From an init image: A1111's `Denoising
    strength` (and `Mask blur` when inpainting) and the init image's SHA-256; ControlNet units as
    sd-webui-controlnet writes them (`ControlNet 0: "Module: canny, Model: ..."`)."""
    lines = [item.prompt]
    if params.negative_prompt:
        lines.append(f"Negative prompt: {params.negative_prompt}")
    lines.append(
        f"Steps: {params.steps}, Sampler: {params.scheduler}, CFG scale: {params.guidance:g}, "
        f"Seed: {item.seed}, Size: {params.width}x{params.height}, Model: {params.model}"
        + (f", Device: {card.device}, Dtype: {card.dtype}" if card else "")
        + (f", CLIPScore: {score:.2f}" if score is not None else "")
        + (f", Best of: {params.best_of}, Candidate: {candidate}" if params.best_of > 1 or candidate else "")
        + (f", Denoising strength: {params.strength:g}" if params.strength is not None else "")
        + (f", Mask blur: {params.mask_blur}" if params.task == "inpaint" else "")
        + (", Inpaint area: Only masked" if params.task == "inpaint" and params.inpaint_full_res else "")
        + (f", Init image SHA256: {item.init_sha256}" if item.init_sha256 else "")
        + "".join(_control_text(n, unit) for n, unit in enumerate(params.controls))
    )
    return "\n".join(lines)


def _control_text(number: int, unit: Control) -> str:
    thresholds = "".join(
        f", Threshold {letter}: {value}"
        for letter, value in (("A", unit.low), ("B", unit.high))
        if value is not None
    )
    return (
        f', ControlNet {number}: "Module: {unit.kind}, Model: {unit.model}, Weight: {unit.scale:g}'
        f'{thresholds}, Guidance Start: {unit.start:g}, Guidance End: {unit.end:g}"'
    )


def encode(image: Image.Image, parameters: str = "") -> bytes:
    """PNG bytes of `image`, with `parameters` in a tEXt chunk when given."""
    info = PngInfo()
    if parameters:
        info.add_text("parameters", parameters)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()
