"""`synthmill evaluate DIR --reference REF`: how close a folder of images is to a reference folder, on
the image server's CLIP image embeddings (numpy and scipy, no torch here).

Both folders are embedded by annotate jobs (`embed`), then:
- `fd_clip`: the Fréchet distance between Gaussians fitted to the two sets of embeddings (FID's
  formula on CLIP features, so it works with any CLIP, the embedded one included). The covariances
  are singular when a set has no more images than the feature dimension: then both sets are first
  projected on the leading n - 1 principal axes of the two together (n the smaller set), and
  `fd_dims` says how many were kept.
- `kid`: the kernel inception distance on the same features: the unbiased MMD² with the cubic
  polynomial kernel (x·y / d + 1)³, averaged over 100 random subsets of up to 1,000 images
  (seeded, so the same folders give the same figure), with its standard deviation.
- `precision` and `recall` in the sense of Kynkäänniemi et al. (2019): the share of images inside the
  reference's k-nearest-neighbour balls, and the share of the reference inside the images' (k = 3,
  fewer for tiny sets).
Inception-v3 FID is not computed: its weights are a download and the client runs no torch.
"""

from __future__ import annotations

import io
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import linalg

from synthmill.client.client import Client
from synthmill.client.specs import SpecError, annotate_job
from synthmill.v1 import gateway_pb2

KID_SUBSETS, KID_SUBSET_SIZE, NEIGHBOURS = 100, 1000, 3


def frechet_distance(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    """FD between the Gaussians of `a` and `b` (rows are images), and the dimensions it was taken in."""
    n, dims = min(len(a), len(b)), a.shape[1]
    if n <= dims:  # singular covariances: keep the leading n - 1 principal axes of both sets
        pooled = np.vstack([a, b])
        _, _, axes = np.linalg.svd(pooled - pooled.mean(0), full_matrices=False)
        a, b, dims = a @ axes[: n - 1].T, b @ axes[: n - 1].T, n - 1
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    root = linalg.sqrtm(cov_a @ cov_b)
    root = root.real if np.iscomplexobj(root) else root
    diff = a.mean(0) - b.mean(0)
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root)), dims


def kernel_distance(a: np.ndarray, b: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """KID: mean and standard deviation of the unbiased MMD² over random subsets."""
    rng = np.random.default_rng(seed)
    size = min(len(a), len(b), KID_SUBSET_SIZE)
    dims = a.shape[1]
    values = []
    for _ in range(KID_SUBSETS):
        x = a[rng.choice(len(a), size, replace=False)]
        y = b[rng.choice(len(b), size, replace=False)]
        kxx, kyy, kxy = ((p @ q.T / dims + 1) ** 3 for p, q in ((x, x), (y, y), (x, y)))
        off = size * (size - 1)
        values.append((kxx.sum() - np.trace(kxx)) / off + (kyy.sum() - np.trace(kyy)) / off - 2 * kxy.mean())
    return float(np.mean(values)), float(np.std(values))


def precision_recall(images: np.ndarray, reference: np.ndarray) -> tuple[float, float, int]:
    """Kynkäänniemi et al.'s improved precision and recall, and the k used."""
    k = min(NEIGHBOURS, len(images) - 1, len(reference) - 1)

    def radii(x: np.ndarray) -> np.ndarray:
        distances = np.linalg.norm(x[:, None] - x[None], axis=-1)
        return np.sort(distances, axis=1)[:, k]  # column 0 is the point itself

    def inside(points: np.ndarray, centres: np.ndarray) -> float:
        distances = np.linalg.norm(points[:, None] - centres[None], axis=-1)
        return float(np.mean((distances <= radii(centres)[None]).any(axis=1)))

    return inside(images, reference), inside(reference, images), k


def metrics(images: np.ndarray, reference: np.ndarray) -> dict[str, Any]:
    for name, found in (("DIR", images), ("--reference", reference)):
        if len(found) < 2:
            raise SpecError(f"evaluate: {name} has {len(found)} image; the statistics need at least 2")
    fd, fd_dims = frechet_distance(images, reference)
    kid, kid_std = kernel_distance(images, reference)
    precision, recall, k = precision_recall(images, reference)
    return {
        "fd_clip": round(fd, 6),
        "kid": round(kid, 6),
        "kid_std": round(kid_std, 6),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "images": len(images),
        "reference_images": len(reference),
        "feature_dims": images.shape[1],
        "fd_dims": fd_dims,
        "neighbours": k,
        "fid_inception": None,
    }


def embeddings_of(args: Any, client: Client, folder: str) -> np.ndarray:
    """The CLIP image embeddings of the images in `folder`, from an annotate job that embeds them."""
    job = client.wait(client.submit(annotate_job(folder, annotations=[], embed=True)).id)
    if job.state != gateway_pb2.JOB_STATE_COMPLETED:
        raise SpecError(f"evaluate: the job embedding {folder} ended {job.state}: {job.error}")
    with tempfile.TemporaryDirectory() as tmp:
        client.download(job.id, tmp)
        return np.load(io.BytesIO((Path(tmp) / "embeddings.npy").read_bytes()), allow_pickle=False)


def cmd_evaluate(args: Any, client: Client, emit: Callable[[Any], None]) -> int:
    """Prints the figures: with --json through `emit` (the CLI's one JSON line)."""
    images, reference = embeddings_of(args, client, args.dir), embeddings_of(args, client, args.reference)
    result = metrics(images.astype(np.float64), reference.astype(np.float64))
    if args.json:
        emit(result)
        return 0
    print(
        f"FD-CLIP {result['fd_clip']:.4f} (in {result['fd_dims']} of {result['feature_dims']} dims) · "
        f"KID {result['kid']:.5f} ± {result['kid_std']:.5f} · precision {result['precision']:.3f} · "
        f"recall {result['recall']:.3f} ({result['images']} images, {result['reference_images']} reference)"
    )
    if result["fd_dims"] < result["feature_dims"]:
        print(
            "note: fewer images than feature dimensions; FD taken on the leading principal axes",
            file=sys.stderr,
        )
    return 0
