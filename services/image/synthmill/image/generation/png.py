"""PNG encoding with an A1111-style "parameters" text chunk, as the WebUI and its readers expect."""

from __future__ import annotations

import io

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from synthmill.common.cards import ModelCard
from synthmill.image.domain import GenerationParams, Item


def parameters_text(
    params: GenerationParams,
    item: Item,
    card: ModelCard | None = None,
    score: float | None = None,
    candidate: int = 0,
) -> str:
    """`prompt`, an optional `Negative prompt: ...` line, then `Steps: N, Sampler: X, ...`, with the
    device and dtype of the model's `card` when given (the same seed gives other bits elsewhere), the
    CLIPScore and, for best-of, the candidate number."""
    lines = [item.prompt]
    if params.negative_prompt:
        lines.append(f"Negative prompt: {params.negative_prompt}")
    lines.append(
        f"Steps: {params.steps}, Sampler: {params.scheduler}, CFG scale: {params.guidance:g}, "
        f"Seed: {item.seed}, Size: {params.width}x{params.height}, Model: {params.model}"
        + (f", Device: {card.device}, Dtype: {card.dtype}" if card else "")
        + (f", CLIPScore: {score:.2f}" if score is not None else "")
        + (f", Best of: {params.best_of}, Candidate: {candidate}" if params.best_of > 1 or candidate else "")
    )
    return "\n".join(lines)


def encode(image: Image.Image, parameters: str) -> bytes:
    """PNG bytes of `image` with `parameters` in a tEXt chunk."""
    info = PngInfo()
    info.add_text("parameters", parameters)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()
