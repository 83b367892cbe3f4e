"""Grounding DINO's boxes and labels from one forward pass (torch only, on the device worker).

Grounding DINO scores each query box against every token of one text, "wall. door. window.", not
against the labels: its box threshold applies to a box's best token (as in its own post-processing),
and the label of a box is the label whose own tokens score best, kept when that score reaches the
text threshold. The box's score is its label's. So `--labels` give the same category ids and names as
with OWL-ViT, whichever detector is loaded.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from PIL import Image
from transformers.image_transforms import center_to_corners_format

from synthmill.image.judging.boxes import Box, clipped

GROUNDING_DINO = "grounding-dino"  # the model_type in its config


def prompt(labels: Sequence[str]) -> str:
    """The text Grounding DINO reads: lower-case labels, each ended by a full stop."""
    return " ".join(f"{label.strip().lower()}." for label in labels)


def spans(tokenizer, labels: Sequence[str]) -> list[range]:
    """The token positions of each label in `prompt(labels)`, after the leading [CLS]."""
    found, at = [], 1
    for label in labels:
        size = len(tokenizer(label.strip().lower(), add_special_tokens=False)["input_ids"])
        found.append(range(at, at + size))
        at += size + 1  # the full stop
    return found


@torch.inference_mode()
def detect(
    model,
    processor,
    device,
    images: Sequence[Image.Image],
    labels: Sequence[str],
    box_threshold: float,
    text_threshold: float,
) -> list[list[Box]]:
    text = [prompt(labels)] * len(images)
    inputs = processor(images=list(images), text=text, return_tensors="pt", padding=True)
    dtype = next(model.parameters()).dtype
    inputs = {k: (v.to(dtype) if v.is_floating_point() else v).to(device) for k, v in inputs.items()}
    outputs = model(**inputs)
    tokens = outputs.logits.float().sigmoid()  # (images, queries, text length)
    per_label = torch.stack(
        [tokens[..., list(span)].amax(-1) for span in spans(processor.tokenizer, labels)], -1
    )
    label_score, label = per_label.max(-1)
    corners = center_to_corners_format(outputs.pred_boxes.float())
    found = []
    for i, image in enumerate(images):
        keep = (tokens[i].amax(-1) >= box_threshold) & (label_score[i] >= text_threshold)
        order = [q for q in label_score[i].argsort(descending=True).tolist() if keep[q]]
        scale = torch.tensor([image.width, image.height, image.width, image.height], device=corners.device)
        found.append(
            [
                clipped(
                    labels[int(label[i, q])],
                    int(label[i, q]) + 1,
                    float(label_score[i, q]),
                    tuple((corners[i, q] * scale).tolist()),
                    image.size,
                )
                for q in order
            ]
        )
    return found
