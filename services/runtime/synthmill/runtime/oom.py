"""Out-of-memory isolation for the inference engines, and the test hook that injects one. Imports
torch: only the servers' engines and loaders import this module.

`isolated(run, restore, describe)` runs one batch. Any error fails only that batch: `restore` puts the
model back as it was loaded (e.g. the SDXL VAE that diffusers upcast to fp32 for the decode, which a
cuDNN or cuBLAS allocation failure leaves in fp32 as surely as an OOM does). A `torch.OutOfMemoryError`
is then turned into `OutOfMemory` (RESOURCE_EXHAUSTED) with `describe`'s words, after its traceback
(whose frames hold the batch's tensors) is dropped and the allocator's cache freed; any other error is
raised as it is. `halving(run, items, describe)` runs a batch of items that way and, on an OOM, its two
halves in turn, down to single items.

`Faults` is a test hook, off by default: `SYNTHMILL_<SERVICE>_FAULTS=oom@STAGE:N[,oom@STAGE:N]` makes
the named stage raise `torch.OutOfMemoryError` whenever the running batch's load is over N. The load
is what memory grows with: batch × width × height for the image stages (`unet`: the denoiser, UNet or
SD3 transformer; `vae`: the VAE decoder), and rows × max_new_tokens for the text stage (`generate`).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import torch

from synthmill.common.errors import OutOfMemory

T = TypeVar("T")
R = TypeVar("R")
log = logging.getLogger(__name__)


def isolated(run: Callable[[], T], restore: Callable[[], None], describe: Callable[[str], str]) -> T:
    """`run()`; on any error, `restore()`; on a device OOM, also cleans up (see the module docstring)
    and raises OutOfMemory."""
    try:
        return run()
    except torch.OutOfMemoryError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "out of memory"
    except BaseException:
        restore()
        raise
    # Out of the except block: the OOM, its traceback and the frames holding the batch's tensors are
    # unreferenced now (raising inside the block would keep them alive as the new error's __context__).
    gc.collect()
    restore()
    free_cache()
    raise OutOfMemory(describe(reason))


def halving(
    run: Callable[[Sequence[T]], list[R]], items: Sequence[T], describe: Callable[[int, str], str]
) -> list[R]:
    """`run(items)`, one result per item, isolated; on a device OOM, its two halves in turn, down to
    single items. A single item that still does not fit raises OutOfMemory, `describe(batch size,
    reason)` naming it."""
    try:
        return isolated(lambda: run(items), lambda: None, lambda reason: describe(len(items), reason))
    except OutOfMemory as exc:
        if len(items) == 1:
            raise
        log.warning("%s; retrying as two halves", exc)
    half = (len(items) + 1) // 2
    return halving(run, items[:half], describe) + halving(run, items[half:], describe)


def free_cache() -> None:
    """Returns the CUDA caching allocator's unused blocks to the driver (a no-op without CUDA)."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()


@dataclass
class Faults:
    """The injected OOMs (stage → the load over which it fails) and the load of the running batch."""

    limits: dict[str, int] = field(default_factory=dict)
    load: int = 0  # set by the engine before each batch

    @classmethod
    def parse(cls, setting: str, stages: Iterable[str], variable: str) -> Faults:
        """`oom@STAGE:N,...` → Faults; a ValueError names `variable` and what is wrong."""
        stages = tuple(stages)
        limits = {}
        for part in (p.strip() for p in setting.split(",")):
            if not part:
                continue
            kind, _, rest = part.partition("@")
            stage, _, over = rest.partition(":")
            if kind != "oom" or stage not in stages or not over.isdigit():
                raise ValueError(
                    f"{variable}: {part!r} is not oom@STAGE:N with STAGE one of {', '.join(stages)}"
                )
            limits[stage] = int(over)
        return cls(limits)

    def check(self, stage: str) -> None:
        """Raises the injected OOM when `stage` is armed and the running batch's load is over its limit."""
        limit = self.limits.get(stage)
        if limit is not None and self.load > limit:
            raise torch.OutOfMemoryError(
                f"injected by the FAULTS test hook: oom@{stage}:{limit}, the batch's load is {self.load}"
            )

    def arm(self, stage: str, module: torch.nn.Module) -> None:
        """Checks `stage` before every forward call of `module` (when the stage is armed)."""
        if stage in self.limits:
            module.register_forward_pre_hook(lambda _module, _args: self.check(stage))
