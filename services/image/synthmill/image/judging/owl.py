"""The open-vocabulary detector: OWL-ViT, OWLv2 or Grounding DINO through transformers, from a hub id
or a path (`AutoModelForZeroShotObjectDetection`), with the class names given per request. Torch only:
runs on the device worker thread. "tiny-owlvit" and "tiny-grounding-dino" are random-weight test models
(see `embedded.vision`): they run the real code paths and find nothing meaningful.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image
from transformers import AutoModelForZeroShotObjectDetection, AutoProcessor

from synthmill.image.embedded import vision
from synthmill.image.judging import grounding
from synthmill.image.judging.boxes import Box, clipped
from synthmill.image.judging.pretrained import Pretrained
from synthmill.image.serving.settings import PREFIX
from synthmill.runtime import hub

log = logging.getLogger(__name__)


@dataclass
class OpenVocabDetector(Pretrained):
    threshold: float
    text_threshold: float = 0.0  # Grounding DINO's (see `grounding`)

    @torch.inference_mode()
    def detect(self, images: Sequence[Image.Image], labels: Sequence[str]) -> list[list[Box]]:
        images = [image.convert("RGB") for image in images]
        if self.model.config.model_type == grounding.GROUNDING_DINO:
            return grounding.detect(
                self.model, self.processor, self.device, images, labels, self.threshold, self.text_threshold
            )
        queries = [list(labels)] * len(images)
        inputs = self.processor(
            text=queries, images=images, return_tensors="pt", padding=True, truncation=True
        )
        dtype = next(self.model.parameters()).dtype
        inputs = {k: (v.to(dtype) if v.is_floating_point() else v).to(self.device) for k, v in inputs.items()}
        outputs = self.model(**inputs)
        results = self.processor.post_process_grounded_object_detection(
            outputs=outputs,
            threshold=self.threshold,
            target_sizes=[(image.height, image.width) for image in images],
            text_labels=queries,
        )
        found = []
        for image, result in zip(images, results, strict=True):
            order = result["scores"].argsort(descending=True).tolist()
            found.append(
                [
                    clipped(
                        labels[int(result["labels"][i])],
                        int(result["labels"][i]) + 1,
                        float(result["scores"][i]),
                        tuple(result["boxes"][i].tolist()),
                        image.size,
                    )
                    for i in order
                ]
            )
        return found


def load(
    name: str, cache_dir: Path, device: str, dtype: torch.dtype, threshold: float, text_threshold: float
) -> OpenVocabDetector:
    source = vision.source_of(name, cache_dir)
    with hub.missing_model(name, f"{PREFIX}OPEN_DETECTOR"):
        model = AutoModelForZeroShotObjectDetection.from_pretrained(source, dtype=dtype).to(device).eval()
        processor = AutoProcessor.from_pretrained(source)
    log.info("loaded open-vocabulary detector %s (%s) from %s", name, type(model).__name__, source)
    return OpenVocabDetector(name, source, model, processor, device, threshold, text_threshold)
