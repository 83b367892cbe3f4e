"""How varied a job's images are, on the image server's CLIP image embeddings (numpy, no torch).

- Vendi score (Friedman & Dieng, 2023) with the cosine kernel: exp of the Shannon entropy of the
  eigenvalues of K / n, where K[i, j] is the cosine of images i and j. It is the effective number of
  distinct images: 1 when all are the same, n when all are orthogonal.
- Mean pairwise distance: the mean of 1 - cosine over every pair.
- Near-duplicates: walking the images in index order, an image is one when its cosine to an earlier
  image that is not itself one is at least the threshold; so the result does not depend on the order
  the images were made in.
- Coverage: images per value of each variation axis.

Embeddings arrive L2-normalised, so a cosine is a dot product.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from synthmill.gateway.outputs.records import ImageRecord


def matrix(embeddings: Mapping[int, Sequence[float]]) -> tuple[list[int], np.ndarray]:
    """The indexes in order and their embeddings as rows (re-normalised against rounding)."""
    order = sorted(embeddings)
    vectors = np.asarray([embeddings[i] for i in order], dtype=np.float64).reshape(len(order), -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return order, vectors / np.where(norms > 0, norms, 1.0)


def vendi_score(vectors: np.ndarray) -> float:
    n = len(vectors)
    if n == 0:
        return 0.0
    eigenvalues = np.linalg.eigvalsh(vectors @ vectors.T / n)
    eigenvalues = eigenvalues[eigenvalues > 1e-12]
    return float(np.exp(-np.sum(eigenvalues * np.log(eigenvalues))))


def mean_pairwise_distance(vectors: np.ndarray) -> float:
    n = len(vectors)
    if n < 2:
        return 0.0
    cosine = vectors @ vectors.T
    return float((n * n - cosine.sum()) / (n * (n - 1)))  # the diagonal's 1 - 1 adds nothing


def near_duplicates(embeddings: Mapping[int, Sequence[float]], threshold: float) -> dict[int, int]:
    """{index: the earlier index it nearly copies}, walking the indexes in order."""
    order, vectors = matrix(embeddings)
    kept: list[int] = []  # positions in `order`
    found: dict[int, int] = {}
    for position, index in enumerate(order):
        if kept:
            cosines = vectors[kept] @ vectors[position]
            best = int(np.argmax(cosines))
            if cosines[best] >= threshold:
                found[index] = order[kept[best]]
                continue
        kept.append(position)
    return found


def coverage(records: Sequence[ImageRecord], axes: Sequence[Any]) -> dict[str, dict[str, int]]:
    """{axis: {value: images}} for each variation axis, every value listed (0 when none has it)."""
    return {
        axis.name: {
            value: sum(1 for record in records if record.extra.get(axis.name) == value)
            for value in axis.values
        }
        for axis in axes
    }


def summary(
    embeddings: Mapping[int, Sequence[float]], threshold: float, rerendered: int
) -> dict[str, Any] | None:
    """The diversity figures of a job's images (as `ImageDiversity`); None without embeddings."""
    if not embeddings:
        return None
    _, vectors = matrix(embeddings)
    return {
        "images": len(vectors),
        "vendi_score": round(vendi_score(vectors), 4),
        "mean_pairwise_distance": round(mean_pairwise_distance(vectors), 4),
        "near_duplicates": len(near_duplicates(embeddings, threshold)) if threshold else 0,
        "rerendered": rerendered,
    }
