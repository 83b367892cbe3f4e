"""Free space for a job's outputs, checked at submit: a job whose estimated size is more than the
free space under the output root is refused (RESOURCE_EXHAUSTED naming both), instead of failing
half-way. The estimate is an upper bound: an image counts as its raw RGB pixels (a PNG of a real
picture is smaller), times its kept candidates, plus its metadata; a row counts 1 KiB; the inputs a
job was given count as its whole spec.

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


def estimate_bytes(
    counts: pb.JobCounts, params: common_pb2.ImageParams | None = None, inputs: int = 0
) -> int:
    """At most how many bytes a job's outputs take: its rows, its images (of `params`), and the
    `inputs` it was given (stored at submit). Each `JobKind.disk_bytes` says which apply."""
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

    def check(self, needed: int) -> None:
        """Refuses a job whose outputs take up to `needed` bytes when fewer are free."""
        free = self.free(self.root)
        if needed > free:
            raise ResourceExhausted(
                f"disk: the job needs up to {needed:,} bytes under {self.root}, and {free:,} bytes are free"
            )
