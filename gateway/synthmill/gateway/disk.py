"""Free space for a job's outputs, checked at submit: a job whose estimated size is more than the
free space under the output root is refused (RESOURCE_EXHAUSTED naming both), instead of failing
half-way. The estimate is an upper bound: an image counts as its raw RGB pixels (a PNG of a real
picture is smaller), times its kept candidates, plus its metadata; a row counts 1 KiB.

A job that still runs out of space (other jobs or programs filled the disk meanwhile) fails with
"no space left on device", keeping every item written before.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from synthmill.common.errors import ResourceExhausted
from synthmill.v1 import common_pb2
from synthmill.v1 import gateway_pb2 as pb

ROW_BYTES = 1024
ITEM_BYTES = 2048  # an image's metadata line, PNG chunks, stored record
DEFAULT_SIDE = 512  # an image size left to the server's default is counted as this


def _params(spec: pb.JobSpec) -> common_pb2.ImageParams | None:
    kind = spec.WhichOneof("kind")
    return getattr(spec, kind).params if kind in ("images", "unified") else None


def estimate_bytes(spec: pb.JobSpec, counts: pb.JobCounts) -> int:
    """At most how many bytes the job's outputs take, annotate inputs (still in the spec) included."""
    params = _params(spec)
    inputs = sum(len(image.data) for image in spec.annotate.images) if spec.HasField("annotate") else 0
    image = ITEM_BYTES
    if params is not None:
        pixels = (params.width or DEFAULT_SIDE) * (params.height or DEFAULT_SIDE)
        kept = max(1, params.best_of) if params.keep_candidates else 1
        image += 3 * pixels * kept
    return inputs + counts.rows_total * ROW_BYTES + counts.images_total * image


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


class DiskCheck:
    """Refuses jobs that do not fit the free space under `root`; `free` is the probe (a test may
    give its own)."""

    def __init__(self, root: Path, free: Callable[[Path], int] = free_bytes):
        self.root = root
        self.free = free

    def check(self, spec: pb.JobSpec, counts: pb.JobCounts) -> None:
        needed = estimate_bytes(spec, counts)
        free = self.free(self.root)
        if needed > free:
            raise ResourceExhausted(
                f"disk: the job needs up to {needed:,} bytes under {self.root}, and {free:,} bytes are free"
            )
