"""The judges on real photographs that ship in packages (the embedded diffusion model draws noise).

YOLOv3-tiny's real Darknet weights, measured here with OpenCV 4.14: a tie on Grace Hopper at 0.87,
the cameraman as a person (0.44), the stereo motorcycle as a "motorbike" (0.30, darknet's name).
It finds nothing on scikit-image's close-up cat (chelsea), so that is not a test image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from photos import camera, grace_hopper, motorcycle
from PIL import Image
from skimage import data

from synthmill.common.settings import default_cache_dir
from synthmill.image.judging import owl, scorer, yolo

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def detector() -> yolo.YoloDetector:
    return yolo.load(default_cache_dir(), threshold=0.25)


def test_yolo_finds_grace_hoppers_tie_under_her_chin(detector: yolo.YoloDetector) -> None:
    [boxes] = detector.detect([grace_hopper()])  # 512 x 600
    best = boxes[0]
    assert (best.label, best.category_id) == ("tie", 28)
    assert best.score == pytest.approx(0.87, abs=0.01)
    # The tie hangs below her chin, in the middle of the picture's lower third.
    assert 180 < best.x < best.x + best.width < 320
    assert 380 < best.y < best.y + best.height <= 600


@pytest.mark.parametrize(
    ("image", "label", "region"),
    [
        (camera(), "person", (0, 0, 330, 512)),  # the cameraman, left half
        (motorcycle(), "motorbike", (0, 0, 741, 500)),
    ],
)
def test_yolo_finds_the_subject_of_scikit_image_photographs(detector, image, label, region) -> None:
    [boxes] = detector.detect([image])
    found = [box for box in boxes if box.label == label]
    assert found, boxes
    largest = max(found, key=lambda box: box.width * box.height)
    x0, y0, x1, y1 = region
    assert x0 <= largest.x and largest.x + largest.width <= x1 and y0 <= largest.y
    assert largest.y + largest.height <= y1
    assert largest.width * largest.height > 0.1 * (x1 - x0) * (y1 - y0)  # the subject, not a speck


def test_boxes_stay_inside_the_image(detector: yolo.YoloDetector) -> None:
    image = camera()
    for box in detector.detect([image])[0]:
        assert box.x >= 0 and box.y >= 0
        assert box.x + box.width <= image.width and box.y + box.height <= image.height


def test_clipscore_is_torchmetrics_definition_and_deterministic(tmp_path: Path) -> None:
    judge = scorer.load("tiny-clip", tmp_path, "cpu", torch.float32)
    images = [grace_hopper(), Image.fromarray(np.asarray(data.astronaut()))]
    scores = judge.score(images, ["a woman in uniform", "an astronaut"])
    assert all(0 <= s <= 100 for s in scores)
    assert judge.score(images, ["a woman in uniform", "an astronaut"]) == scores
    # Reloaded from its saved folder through AutoModel/AutoProcessor, it scores the same.
    again = scorer.load(str(tmp_path / "models" / "tiny-clip"), tmp_path, "cpu", torch.float32)
    assert again.score(images, ["a woman in uniform", "an astronaut"]) == pytest.approx(scores, abs=1e-4)
    inputs = judge.processor(text=["an astronaut"], images=images[1:], return_tensors="pt", padding=True)
    with torch.no_grad():
        out = judge.model(**inputs)
    cosine = torch.nn.functional.cosine_similarity(out.image_embeds, out.text_embeds).item()
    assert scores[1] == pytest.approx(100 * max(cosine, 0), abs=1e-3)


@pytest.mark.parametrize("name", ["tiny-owlvit", "tiny-grounding-dino"])
def test_open_vocabulary_detector_loads_and_answers_in_the_given_labels(tmp_path: Path, name: str) -> None:
    """OWL-ViT and Grounding DINO give the same kind of answer: boxes named by the request's labels,
    category ids counting from 1 in their order, inside the image."""
    detector = owl.load(name, tmp_path, "cpu", torch.float32, threshold=0.0, text_threshold=0.0)
    labels = ["tie", "person", "flag"]
    image = grace_hopper()
    [boxes] = detector.detect([image], labels)
    assert boxes  # random weights: boxes, but meaningless ones
    assert {box.label for box in boxes} <= set(labels)
    assert all(box.category_id == labels.index(box.label) + 1 for box in boxes)
    assert all(0 <= box.x and box.x + box.width <= image.width for box in boxes)
    assert all(0 <= box.y and box.y + box.height <= image.height for box in boxes)
    assert [box.score for box in boxes] == sorted((box.score for box in boxes), reverse=True)


def test_grounding_dino_thresholds_drop_boxes(tmp_path: Path) -> None:
    """The box threshold applies to a box's best token, the text threshold to its label's tokens."""
    labels = ["tie", "person"]
    counts = {}
    for box_threshold, text_threshold in ((0.0, 0.0), (0.0, 1.01), (1.01, 0.0)):
        detector = owl.load(
            "tiny-grounding-dino", tmp_path, "cpu", torch.float32, box_threshold, text_threshold
        )
        [boxes] = detector.detect([grace_hopper()], labels)
        counts[box_threshold, text_threshold] = len(boxes)
    assert counts == {(0.0, 0.0): 20, (0.0, 1.01): 0, (1.01, 0.0): 0}  # 20: the tiny model's queries


def test_grounding_dino_spans_find_each_labels_tokens(tmp_path: Path) -> None:
    from synthmill.image.judging import grounding

    detector = owl.load("tiny-grounding-dino", tmp_path, "cpu", torch.float32, 0.0, 0.0)
    tokenizer = detector.processor.tokenizer
    labels = ["Tie", "red car", "zebra"]
    ids = tokenizer(grounding.prompt(labels))["input_ids"]
    tokens = tokenizer.convert_ids_to_tokens(ids)
    assert grounding.prompt(labels) == "tie. red car. zebra."
    spans = grounding.spans(tokenizer, labels)
    assert [tokens[i] for i in spans[0]] == ["tie"] or "".join(tokens[i] for i in spans[0]) == "t##i##e"
    assert [tokens[i] for i in spans[1]] == ["red", "car"]
    assert "".join(tokens[i] for i in spans[2]).replace("##", "") == "zebra"
    assert all(tokens[span.stop] == "." for span in spans)
