"""The image server's judges: the scorer, the detectors, the segmenter and the captioner it has loaded,
and what they allow.

Each judge loads on the device worker on first use (`lazy`), or at start-up (after the diffusion
models) with SYNTHMILL_IMAGE_JUDGES_AT_START, and is warmed with one tiny image when it loads; their
calls run on that worker. "none" in a setting leaves that judge out. A call that runs out of device
memory is redone as two halves, down to single images (`oom.halving`); a single image that still does
not fit fails with OutOfMemory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from synthmill.common.judging import BBOX, CAPTION, DETECTIONS, MASK, Capabilities
from synthmill.image.embedded import vision
from synthmill.image.judging import captioner, owl, sam, scorer, yolo
from synthmill.image.judging.boxes import Box, masked
from synthmill.image.judging.lazy import Lazy, ready
from synthmill.image.serving.settings import FAULT_STAGES, PREFIX, ImageSettings
from synthmill.runtime import devices, hub, oom
from synthmill.runtime.oom import Faults

log = logging.getLogger(__name__)
OFF = "none"


@dataclass
class JudgingModels:
    scorer: scorer.Scorer | Lazy[scorer.Scorer] | None
    detector: yolo.YoloDetector | Lazy[yolo.YoloDetector] | None
    open_detector: owl.OpenVocabDetector | Lazy[owl.OpenVocabDetector] | None
    segmenter: sam.Segmenter | Lazy[sam.Segmenter] | None
    max_best_of: int
    max_rounds: int
    faults: Faults = field(default_factory=Faults)  # the test hook; empty unless FAULTS is set
    captioner: captioner.Captioner | Lazy[captioner.Captioner] | None = None

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
        return oom.halving(self._scores, list(zip(images, prompts, strict=True)), _describe("scoring"))

    def embed(self, images: Sequence[Image.Image]) -> list[list[float]]:
        """The scorer's L2-normalised image embeddings (worker thread); the caller checked for a scorer."""
        assert self.scorer is not None
        return oom.halving(ready(self.scorer).embed, list(images), _describe("embedding"))

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
        return oom.halving(ready(self.captioner).caption, list(images), _describe("captioning"))

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
        return ready(self.scorer).score([image for image, _ in pairs], [prompt for _, prompt in pairs])

    def _boxes(
        self, images: Sequence[Image.Image], labels: Sequence[str], kinds: Sequence[str]
    ) -> list[list[Box]]:
        self.faults.load = len(images)
        if labels:
            assert self.open_detector is not None
            self.faults.check("detector")
            found = ready(self.open_detector).detect(images, labels)
        else:
            assert self.detector is not None  # YOLO runs on the CPU: no device memory to run out of
            found = ready(self.detector).detect(images)
        if MASK not in kinds:
            return found
        assert self.segmenter is not None
        self.faults.check("segmenter")
        segmenter = ready(self.segmenter)
        return [
            [masked(box, mask) for box, mask in zip(boxes, segmenter.segment(image, boxes), strict=True)]
            for image, boxes in zip(images, found, strict=True)
        ]


def load(settings: ImageSettings) -> JudgingModels:
    """The configured judges (on the worker thread): each checked and lazy, or loaded and warmed with
    `judges_at_start`."""
    device = devices.resolve_device(settings.device)
    dtype = devices.resolve_dtype(settings.dtype, device)
    blank = [Image.new("RGB", (64, 64))]
    cache = settings.cache_dir

    def judge(
        setting: str, name: str, load: Callable[[], Any], warm: Callable[[Any], Any], labels: tuple = ()
    ) -> Any:
        if name == OFF:
            return None
        lazy = Lazy(name, load, warm, labels)
        if settings.judges_at_start:
            lazy.get()
        elif setting != "DETECTOR":  # the detector's check is its labels: fetched files, read
            check(name, cache, f"{PREFIX}{setting}")
        return lazy

    return JudgingModels(
        scorer=judge(
            "SCORER",
            settings.scorer,
            lambda: scorer.load(settings.scorer, cache, device, dtype),
            lambda model: model.score(blank, ["warm-up"]),
        ),
        detector=judge(
            "DETECTOR",
            settings.detector,
            lambda: _closed(settings),
            lambda model: model.detect(blank),
            _closed_labels(settings),
        ),
        open_detector=judge(
            "OPEN_DETECTOR",
            settings.open_detector,
            lambda: owl.load(
                settings.open_detector,
                cache,
                device,
                dtype,
                settings.open_detect_threshold,
                settings.open_detect_text_threshold,
            ),
            lambda model: model.detect(blank, ["warm-up"]),
        ),
        segmenter=judge(
            "SEGMENTER",
            settings.segmenter,
            lambda: sam.load(settings.segmenter, cache, device, dtype),
            lambda model: model.segment(blank[0], [Box("warm-up", 1, 1.0, 8, 8, 32, 32)]),
        ),
        max_best_of=settings.max_best_of,
        max_rounds=settings.max_rounds,
        captioner=judge(
            "CAPTIONER",
            settings.captioner,
            lambda: captioner.load(settings.captioner, cache, device, dtype, settings.caption_max_tokens),
            lambda model: model.caption(blank),
        ),
        faults=Faults.parse(settings.faults, FAULT_STAGES, f"{PREFIX}FAULTS"),
    )


def check(name: str, cache_dir: Path, setting: str) -> None:
    """A lazy judge's model exists: an embedded one is built (and saved, not kept), a hub id or folder
    has a config that transformers reads (a hub id's is fetched into the cache, or must be there
    offline); else the server stops at start, naming `setting`."""
    from transformers import AutoConfig

    source = vision.source_of(name, cache_dir)
    with hub.missing_model(name, setting):
        AutoConfig.from_pretrained(source)


def _describe(work: str):
    def describe(size: int, reason: str) -> str:
        return f"out of device memory while {work} a batch of {size} image(s): {reason}"

    return describe


def _closed_labels(settings: ImageSettings) -> tuple[str, ...]:
    """The closed-vocabulary detector's classes (checking its name first); () when it is off."""
    if settings.detector == OFF:
        return ()
    if settings.detector != yolo.NAME:
        raise ValueError(
            f"{PREFIX}DETECTOR: unknown detector {settings.detector!r}; use {yolo.NAME} or {OFF}"
        )
    return yolo.labels(settings.cache_dir)


def _closed(settings: ImageSettings) -> yolo.YoloDetector:
    return yolo.load(settings.cache_dir, settings.detect_threshold)
