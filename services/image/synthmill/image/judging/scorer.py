"""CLIPScore of images against their prompts, on the image server's device. Torch only: called on the
device worker thread.

The score is torchmetrics' definition, `100 * max(cos(image embedding, text embedding), 0)`, so it can
be compared with published figures when the model is the same (e.g. openai/clip-vit-large-patch14).
Any `CLIPModel` or `SiglipModel` loads, from a hub id or a path, through `AutoModel`/`AutoProcessor`;
"tiny-clip" is the embedded random-weight default (see `embedded.vision`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from transformers import AutoModel, AutoProcessor

from synthmill.image.embedded import vision
from synthmill.image.judging.pretrained import Pretrained

log = logging.getLogger(__name__)


class Scorer(Pretrained):
    """A loaded CLIP-family model and its processor."""

    @torch.inference_mode()
    def score(self, images: Sequence[Image.Image], prompts: Sequence[str]) -> list[float]:
        """CLIPScore of each image against the prompt at the same position."""
        text_config = self.model.config.text_config
        siglip = self.model.config.model_type.startswith("siglip")
        inputs = self.processor(
            text=list(prompts),
            images=[image.convert("RGB") for image in images],
            return_tensors="pt",
            padding="max_length" if siglip else True,  # SigLIP was trained on max-length padding
            truncation=True,
            max_length=text_config.max_position_embeddings,
        ).to(self.device)
        dtype = next(self.model.parameters()).dtype
        image = _embedding(self.model.get_image_features(pixel_values=inputs["pixel_values"].to(dtype)))
        text_inputs = {k: v for k, v in inputs.items() if k in ("input_ids", "attention_mask")}
        text = _embedding(self.model.get_text_features(**text_inputs))
        cosine = torch.nn.functional.cosine_similarity(image.float(), text.float(), dim=-1)
        return (100 * cosine.clamp(min=0)).tolist()

    @torch.inference_mode()
    def embed(self, images: Sequence[Image.Image]) -> list[list[float]]:
        """Each image's embedding, L2-normalised: the cosine of two is their dot product."""
        pixels = self.processor(images=[image.convert("RGB") for image in images], return_tensors="pt")
        dtype = next(self.model.parameters()).dtype
        features = _embedding(
            self.model.get_image_features(pixel_values=pixels["pixel_values"].to(self.device, dtype))
        )
        return torch.nn.functional.normalize(features.float(), dim=-1).cpu().tolist()


def _embedding(output: Any) -> torch.Tensor:
    # transformers 5 returns a model output whose pooler_output is the projected embedding.
    return output if isinstance(output, torch.Tensor) else output.pooler_output


def load(name: str, cache_dir: Path, device: str, dtype: torch.dtype) -> Scorer:
    """Loads scorer `name` ("tiny-clip", a hub id or a path) onto `device`."""
    source = vision.source_of(name, cache_dir)
    model = AutoModel.from_pretrained(source, dtype=dtype).to(device).eval()
    if not hasattr(model, "get_image_features") or not hasattr(model, "get_text_features"):
        raise ValueError(f"{name}: {type(model).__name__} is not a CLIP or SigLIP model")
    log.info("loaded scorer %s (%s) from %s on %s", name, type(model).__name__, source, device)
    return Scorer(name, source, model, AutoProcessor.from_pretrained(source), device)
