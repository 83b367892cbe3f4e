"""The image server's judges: the scorer, the detectors and the segmenter it has loaded, and what they
allow.

Loaded on the device worker at start-up (after the diffusion models) and warmed with one tiny image;
their calls run on that worker too. "none" in a setting leaves that judge out. A call that runs out of
device memory is redone as two halves, down to single images (`oom.halving`); a single image that
still does not fit fails with OutOfMemory.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from synthmill.common.judging import BBOX, MASK, Capabilities
from synthmill.image.judging import owl, sam, scorer, yolo
from synthmill.image.judging.boxes import Box, masked
from synthmill.image.serving.settings import FAULT_STAGES, PREFIX, ImageSettings
from synthmill.runtime import devices, oom
from synthmill.runtime.oom import Faults

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
    faults: Faults = field(default_factory=Faults)  # the test hook; empty unless FAULTS is set

    def capabilities(self) -> Capabilities:
        has_detector = self.detector is not None or self.open_detector is not None
        kinds = (BBOX, MASK) if self.segmenter else (BBOX,)
        return Capabilities(
            scorer=self.scorer is not None,
            max_best_of=self.max_best_of if self.scorer else 1,
            annotation_kinds=kinds if has_detector else (),
            closed_detector=self.detector is not None,
            open_detector=self.open_detector is not None,
            segmenter=self.segmenter is not None,
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
        }

    def score(self, images: Sequence[Image.Image], prompts: Sequence[str]) -> list[float]:
        """CLIPScores (worker thread); the caller checked that a scorer is loaded."""
        return oom.halving(self._scores, list(zip(images, prompts, strict=True)), _describe("scoring"))

    def annotate(
        self, images: Sequence[Image.Image], labels: Sequence[str], kinds: Sequence[str]
    ) -> list[list[Box]]:
        """Boxes of each image (worker thread), each with its mask when `kinds` holds "mask": the
        open-vocabulary detector when `labels` are given; the caller checked what is loaded."""
        return oom.halving(
            lambda part: self._boxes(part, labels, kinds), list(images), _describe("annotating")
        )

    def _scores(self, pairs: Sequence[tuple[Image.Image, str]]) -> list[float]:
        assert self.scorer is not None
        self.faults.load = len(pairs)
        self.faults.check("scorer")
        return self.scorer.score([image for image, _ in pairs], [prompt for _, prompt in pairs])

    def _boxes(
        self, images: Sequence[Image.Image], labels: Sequence[str], kinds: Sequence[str]
    ) -> list[list[Box]]:
        self.faults.load = len(images)
        if labels:
            assert self.open_detector is not None
            self.faults.check("detector")
            found = self.open_detector.detect(images, labels)
        else:
            assert self.detector is not None  # YOLO runs on the CPU: no device memory to run out of
            found = self.detector.detect(images)
        if MASK not in kinds:
            return found
        assert self.segmenter is not None
        self.faults.check("segmenter")
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
            settings.open_detector, settings.cache_dir, device, dtype, settings.open_detect_threshold
        ),
        segmenter=None
        if settings.segmenter == OFF
        else sam.load(settings.segmenter, settings.cache_dir, device, dtype),
        max_best_of=settings.max_best_of,
        max_rounds=settings.max_rounds,
        faults=Faults.parse(settings.faults, FAULT_STAGES, f"{PREFIX}FAULTS"),
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
    return judges


def _describe(work: str):
    def describe(size: int, reason: str) -> str:
        return f"out of device memory while {work} a batch of {size} image(s): {reason}"

    return describe


def _closed(settings: ImageSettings) -> yolo.YoloDetector:
    if settings.detector != yolo.NAME:
        raise ValueError(
            f"{PREFIX}DETECTOR: unknown detector {settings.detector!r}; use {yolo.NAME} or {OFF}"
        )
    return yolo.load(settings.cache_dir, settings.detect_threshold)
