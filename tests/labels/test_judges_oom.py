"""The judges (CLIP scorer, OWL detector, SAM segmenter) out of device memory, in process on their tiny
random-weight models: a torch.OutOfMemoryError raised inside a model's forward, as a real one is, fails
only its call, which is redone as two halves down to single images."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from photos import camera, grace_hopper, motorcycle
from PIL import Image

from synthmill.common.errors import OutOfMemory
from synthmill.image.judging import owl, sam, scorer
from synthmill.image.judging.models import JudgingModels as Judges
from synthmill.image.serving.settings import FAULT_STAGES
from synthmill.runtime.oom import Faults

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PROMPTS = ["a woman in uniform", "a man with a camera", "a motorcycle"]


@pytest.fixture(scope="module")
def judges(tmp_path_factory: pytest.TempPathFactory) -> Judges:
    torch.set_num_threads(1)  # the CPU is shared with other test processes
    cache = tmp_path_factory.mktemp("cache")
    return Judges(
        scorer.load("tiny-clip", cache, "cpu", torch.float32),
        None,
        owl.load("tiny-owlvit", cache, "cpu", torch.float32, threshold=0.0),
        sam.load("tiny-sam", cache, "cpu", torch.float32),
        max_best_of=4,
        max_rounds=1,
    )


@pytest.fixture(scope="module")
def images() -> list[Image.Image]:
    return [grace_hopper(), camera().convert("RGB"), motorcycle()]


def _oom_over(module: torch.nn.Module, images: int):
    """Makes `module` raise torch.OutOfMemoryError on more than `images` images (pixel_values)."""

    def hook(_module, args, kwargs):
        pixels = kwargs.get("pixel_values", args[0] if args else None)
        if pixels.shape[0] > images:
            raise torch.OutOfMemoryError(f"CUDA out of memory (test: over {images} image(s))")

    return module.register_forward_pre_hook(hook, with_kwargs=True)


def test_a_scorer_oom_splits_the_call_and_gives_the_same_scores(judges, images, caplog) -> None:
    whole = judges.score(images, PROMPTS)
    handle = _oom_over(judges.scorer.model.vision_model, 1)
    try:
        with caplog.at_level(logging.WARNING):
            split = judges.score(images, PROMPTS)
    finally:
        handle.remove()
    handle = _oom_over(judges.scorer.model.vision_model, 0)
    try:
        with pytest.raises(OutOfMemory, match="while scoring a batch of 1 image"):
            judges.score(images[:1], PROMPTS[:1])
    finally:
        handle.remove()
    assert split == pytest.approx(whole, abs=1e-4)
    assert "while scoring a batch of 3 image(s)" in caplog.text and "retrying as two halves" in caplog.text


def test_detector_and_segmenter_ooms_split_the_call_and_give_the_same_boxes(judges, images) -> None:
    labels, kinds = ["person", "camera"], ("bbox", "mask")
    whole = judges.annotate(images, labels, kinds)
    handles = [
        _oom_over(judges.open_detector.model, 1),
        _oom_over(judges.segmenter.model, 0),  # SAM sees one image per call: fails at any size
    ]
    try:
        with pytest.raises(OutOfMemory, match="while annotating a batch of 1 image"):
            judges.annotate(images, labels, kinds)
        handles.pop().remove()
        split = judges.annotate(images, labels, kinds)
    finally:
        for handle in handles:
            handle.remove()
    assert [[(b.label, b.score) for b in boxes] for boxes in split] == [
        [(b.label, pytest.approx(b.score, abs=1e-4)) for b in boxes] for boxes in whole
    ]
    assert all(
        np.array_equal(a.mask.counts, b.mask.counts)
        for x, y in zip(split, whole, strict=True)
        for a, b in zip(x, y, strict=True)
    )


def test_the_faults_hook_fails_the_judges_stages_by_images_in_the_call(judges, images) -> None:
    judges.faults = Faults.parse("oom@scorer:2,oom@segmenter:0", FAULT_STAGES, "FAULTS")
    try:
        assert len(judges.score(images, PROMPTS)) == 3  # 3 → 2 + 1
        with pytest.raises(OutOfMemory, match=r"annotating a batch of 1 image.*oom@segmenter:0"):
            judges.annotate(images[:1], ["person"], ("bbox", "mask"))
    finally:
        judges.faults = Faults()
