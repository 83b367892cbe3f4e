"""The segmenter: Segment Anything (SAM) through transformers (`SamModel`, `SamProcessor`), prompted
with a detector's boxes, from a hub id (`facebook/sam-vit-base`) or a path. Torch only: runs on the
device worker thread. "tiny-sam" is the embedded random-weight model (see `embedded.vision`): it runs the
real code path, and its masks are meaningless.

Each image goes through the vision encoder once, with all of its boxes as prompts; each box gets SAM's
single best mask (`multimask_output=False`), scaled back to the image's size and binarised at SAM's
logit threshold of 0.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from transformers import SamModel, SamProcessor

from synthmill.image.embedded import vision
from synthmill.image.judging.boxes import Box
from synthmill.image.judging.pretrained import Pretrained
from synthmill.image.serving.settings import PREFIX
from synthmill.runtime import hub

log = logging.getLogger(__name__)


class Segmenter(Pretrained):
    """A loaded SAM and its processor."""

    @torch.inference_mode()
    def segment(self, image: Image.Image, boxes: Sequence[Box]) -> list[np.ndarray]:
        """A boolean height × width mask over `image` for each box, in order."""
        if not boxes:
            return []
        corners = [[box.x, box.y, box.x + box.width, box.y + box.height] for box in boxes]
        inputs = self.processor(images=[image.convert("RGB")], input_boxes=[corners], return_tensors="pt")
        dtype = next(self.model.parameters()).dtype
        outputs = self.model(
            pixel_values=inputs["pixel_values"].to(self.device, dtype),
            # float32: SAM normalises the coordinates first and casts them to its own dtype after.
            input_boxes=inputs["input_boxes"].to(self.device, torch.float32),
            multimask_output=False,
        )
        [masks] = self.processor.post_process_masks(
            outputs.pred_masks.float().cpu(), inputs["original_sizes"], inputs["reshaped_input_sizes"]
        )
        return [mask[0].numpy() for mask in masks]  # (boxes, 1, height, width) → one per box


def load(name: str, cache_dir: Path, device: str, dtype: torch.dtype) -> Segmenter:
    """Loads segmenter `name` ("tiny-sam", a hub id or a path) onto `device`."""
    source = vision.source_of(name, cache_dir)
    with hub.missing_model(name, f"{PREFIX}SEGMENTER"):
        model = SamModel.from_pretrained(source, dtype=dtype).to(device).eval()
        processor = SamProcessor.from_pretrained(source)
    log.info("loaded segmenter %s from %s on %s", name, source, device)
    return Segmenter(name, source, model, processor, device)
