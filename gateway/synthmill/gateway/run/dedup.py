"""Near-duplicates removed while a job makes its images (`ImageJobSpec.dedup`).

Once every image is made, the images are walked in index order: an image whose CLIP image cosine to
an earlier image (one that is not itself a near-duplicate) is at least the threshold is rendered again
with its next dedup seed, up to `retries` times. Those re-renders run together, then the walk starts
again, until no near-duplicate has a retry left. Each decision depends only on the images of lower
indexes, so the job ends the same whatever order its images arrived in, and after a restart it goes
on from the retries it stored (each embedding is stored with its retry count).

Re-render r of an item whose seed is s uses seed (s + r * 1,000,033) mod 2^63: a stride that is not a
multiple of the best-of stride (1,000,003) nor near any item's `seed + index`, so no candidate of
another round or item repeats, and it changes the low 32 bits that torch's CPU generator reads.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from synthmill.common.errors import InvalidArgument
from synthmill.gateway.outputs.diversity import near_duplicates
from synthmill.gateway.outputs.records import EMBEDDING
from synthmill.gateway.run.job_run import JobRun
from synthmill.gateway.run.plan import ImagePlan
from synthmill.gateway.run.render import Renderer
from synthmill.v1 import common_pb2, image_pb2

DEDUP_STRIDE = 1_000_033
_SEED_MODULUS = 1 << 63


def check_dedup(threshold: float, path: str, info: image_pb2.ImageServerInfo | None) -> None:
    """A dedup threshold is 0 (off) or in (0, 1], and needs a scorer to embed the images (`info`: the
    image server's GetInfo, None when it cannot answer)."""
    if not math.isfinite(threshold) or not 0 <= threshold <= 1:
        raise InvalidArgument(path, f"{threshold:g} is outside (0, 1] (0 turns it off)")
    if threshold and info is not None and not info.scorer:
        raise InvalidArgument(path, "needs a scorer to embed the images, and the image server has none")


def dedup_seed(item_seed: int, retry: int) -> int:
    """The seed of re-render `retry` (0: the item's own) of an item whose seed is `item_seed`."""
    return (item_seed + retry * DEDUP_STRIDE) % _SEED_MODULUS


async def rerender_duplicates(
    run: JobRun,
    params: common_pb2.ImageParams,
    template: image_pb2.ImageItem,
    plans: Sequence[ImagePlan],
    threshold: float,
    retries: int,
) -> None:
    """Renders the job's near-duplicates again (see the module) until none has a retry left; every
    item starts from `template`, as the job's first renders did."""
    by_index = {plan.index: plan for plan in plans}
    while True:
        stored = await run.store.items(run.job.id, EMBEDDING)
        copies = near_duplicates({i: e["vector"] for i, e in stored.items()}, threshold)
        again = [
            dataclasses.replace(
                by_index[i],
                seed=dedup_seed(by_index[i].seed, stored[i]["retry"] + 1),
                retry=stored[i]["retry"] + 1,
            )
            for i in copies
            if stored[i]["retry"] < retries and i in by_index
        ]
        if not again:
            return
        renderer = Renderer(run, params, template, done=set())
        renderer.add(again)
        await renderer.render()
