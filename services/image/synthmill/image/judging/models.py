"""The image server's judges: the scorer, the detectors, the segmenter and the captioner it has loaded,
and what they allow.

Loaded on the device worker at start-up (after the diffusion models) and warmed with one tiny image;
their calls run on that worker too. "none" in a setting leaves that judge out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image

from synthmill.common.judging import BBOX, CAPTION, DETECTIONS, MASK, Capabilities
from synthmill.image.judging import captioner, owl, sam, scorer, yolo
from synthmill.image.judging.boxes import Box, masked
from synthmill.image.serving.settings import ImageSettings
from synthmill.runtime import devices

log = logging.getLogger(__name__)
OFF = "none"


@dataclass
class JudgingModels:
    scorer: scorer.Scorer | None
    detector: yolo.YoloDetector | None
    open_detector: owl.OpenVocabDetector | None
    segmenter: sam.Segmenter | None
    max_best_of: int
    max_rounds: int
    captioner: captioner.Captioner | None = None

    def capabilities(self) -> Capabilities:
        has_detector = self.detector is not None or self.open_detector is not None
        detections = (BBOX, MASK) if self.segmenter else (BBOX,)
        return Capabilities(
            scorer=self.scorer is not None,
            max_best_of=self.max_best_of if self.scorer else 1,
            annotation_kinds=(*(detections if has_detector else ()), *((CAPTION,) if self.captioner else ())),
            closed_detector=self.detector is not None,
            open_detector=self.open_detector is not None,
            segmenter=self.segmenter is not None,
            captioner=self.captioner is not None,
        )

    def describe(self) -> dict[str, Any]:
        """The ImageServerInfo fields of the judges (the server adds max_rounds from its settings)."""
        caps = self.capabilities()
        return {
            "scorer": self.scorer.name if self.scorer else "",
            "max_best_of": caps.max_best_of,
            "annotation_kinds": caps.annotation_kinds,
            "detector": self.detector.name if self.detector else "",
            "detector_labels": self.detector.labels if self.detector else (),
            "open_detector": self.open_detector.name if self.open_detector else "",
            "segmenter": self.segmenter.name if self.segmenter else "",
            "captioner": self.captioner.name if self.captioner else "",
        }

    def score(self, images: Sequence[Image.Image], prompts: Sequence[str]) -> list[float]:
        """CLIPScores (worker thread); the caller checked that a scorer is loaded."""
        assert self.scorer is not None
        return self.scorer.score(images, prompts)

    def embed(self, images: Sequence[Image.Image]) -> list[list[float]]:
        """The scorer's L2-normalised image embeddings (worker thread); the caller checked for a scorer."""
        assert self.scorer is not None
        return self.scorer.embed(images)

    def label(
        self, images: Sequence[Image.Image], labels: Sequence[str], kinds: Sequence[str]
    ) -> list[tuple[list[Box], str]]:
        """Every annotation `kinds` asks for, per image (worker thread): its boxes (see `annotate`; none
        unless a detection kind is asked for) and its caption ("" unless "caption" is)."""
        boxes = self.annotate(images, labels, kinds) if any(k in DETECTIONS for k in kinds) else None
        captions = self.caption(images) if CAPTION in kinds else None
        return [(boxes[i] if boxes else [], captions[i] if captions else "") for i in range(len(images))]

    def caption(self, images: Sequence[Image.Image]) -> list[str]:
        """One caption per image (worker thread); the caller checked that a captioner is loaded."""
        assert self.captioner is not None
        return self.captioner.caption(images)

    def annotate(
        self, images: Sequence[Image.Image], labels: Sequence[str], kinds: Sequence[str]
    ) -> list[list[Box]]:
        """Boxes of each image (worker thread), each with its mask when `kinds` holds "mask": the
        open-vocabulary detector when `labels` are given; the caller checked what is loaded."""
        if labels:
            assert self.open_detector is not None
            found = self.open_detector.detect(images, labels)
        else:
            assert self.detector is not None
            found = self.detector.detect(images)
        if MASK not in kinds:
            return found
        assert self.segmenter is not None
        return [
            [masked(box, mask) for box, mask in zip(boxes, self.segmenter.segment(image, boxes), strict=True)]
            for image, boxes in zip(images, found, strict=True)
        ]


def load(settings: ImageSettings) -> JudgingModels:
    """Loads and warms the configured judges (on the worker thread)."""
    device = devices.resolve_device(settings.device)
    dtype = devices.resolve_dtype(settings.dtype, device)
    judges = JudgingModels(
        scorer=None
        if settings.scorer == OFF
        else scorer.load(settings.scorer, settings.cache_dir, device, dtype),
        detector=None if settings.detector == OFF else _closed(settings),
        open_detector=None
        if settings.open_detector == OFF
        else owl.load(
            settings.open_detector,
            settings.cache_dir,
            device,
            dtype,
            settings.open_detect_threshold,
            settings.open_detect_text_threshold,
        ),
        segmenter=None
        if settings.segmenter == OFF
        else sam.load(settings.segmenter, settings.cache_dir, device, dtype),
        max_best_of=settings.max_best_of,
        max_rounds=settings.max_rounds,
        captioner=None
        if settings.captioner == OFF
        else captioner.load(
            settings.captioner, settings.cache_dir, device, dtype, settings.caption_max_tokens
        ),
    )
    blank = [Image.new("RGB", (64, 64))]
    if judges.scorer:
        judges.scorer.score(blank, ["warm-up"])
    if judges.detector:
        judges.detector.detect(blank)
    if judges.open_detector:
        judges.open_detector.detect(blank, ["warm-up"])
    if judges.segmenter:
        judges.segmenter.segment(blank[0], [Box("warm-up", 1, 1.0, 8, 8, 32, 32)])
    if judges.captioner:
        judges.captioner.caption(blank)
    return judges


def _closed(settings: ImageSettings) -> yolo.YoloDetector:
    if settings.detector != yolo.NAME:
        raise ValueError(
            f"SYNTHMILL_IMAGE_DETECTOR: unknown detector {settings.detector!r}; use {yolo.NAME} or {OFF}"
        )
    return yolo.load(settings.cache_dir, settings.detect_threshold)
