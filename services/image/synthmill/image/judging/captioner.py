"""The captioner: an image-to-text model through transformers' `AutoModelForImageTextToText` and
`AutoProcessor` (BLIP, BLIP-2, GIT: any that loads without `trust_remote_code`), from a hub id or a
path. Torch only: runs on the device worker thread. "tiny-blip" is the embedded random-weight BLIP
(see `embedded.vision`): it runs the real code path, and its captions mean nothing.

A batch of images is captioned in one `generate` call, greedily (the same image gives the same
caption), with at most `max_tokens` new tokens.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image
from transformers import AutoModelForImageTextToText, AutoProcessor

from synthmill.image.embedded import vision
from synthmill.image.judging.pretrained import Pretrained
from synthmill.image.serving.settings import PREFIX
from synthmill.runtime import hub

log = logging.getLogger(__name__)


@dataclass
class Captioner(Pretrained):
    max_tokens: int

    @torch.inference_mode()
    def caption(self, images: Sequence[Image.Image]) -> list[str]:
        """One caption per image, in order (stripped; empty when the model says nothing)."""
        inputs = self.processor(images=[image.convert("RGB") for image in images], return_tensors="pt")
        dtype = next(self.model.parameters()).dtype
        inputs = {k: (v.to(dtype) if v.is_floating_point() else v).to(self.device) for k, v in inputs.items()}
        tokens = self.model.generate(**inputs, max_new_tokens=self.max_tokens, do_sample=False)
        return [text.strip() for text in self.processor.batch_decode(tokens, skip_special_tokens=True)]


def load(name: str, cache_dir: Path, device: str, dtype: torch.dtype, max_tokens: int) -> Captioner:
    """Loads captioner `name` ("tiny-blip", a hub id or a path) onto `device`."""
    source = vision.source_of(name, cache_dir)
    with hub.missing_model(name, f"{PREFIX}CAPTIONER"):
        model = AutoModelForImageTextToText.from_pretrained(source, dtype=dtype).to(device).eval()
        processor = AutoProcessor.from_pretrained(source)
    log.info("loaded captioner %s (%s) from %s on %s", name, type(model).__name__, source, device)
    return Captioner(name, source, model, processor, device, max_tokens)
