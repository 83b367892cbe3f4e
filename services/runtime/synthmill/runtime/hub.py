"""What a loader says when a model cannot be had from the Hugging Face hub (torch-free).

With `HF_HUB_OFFLINE=1` nothing is downloaded: a hub id that is not in the hub cache fails the server's
start with a message naming the model, the setting that asked for it, and what to do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from huggingface_hub import constants


class ModelUnavailable(RuntimeError):
    """A configured model cannot be loaded: not a directory, not in the cache, not downloadable."""


def offline() -> bool:
    return bool(constants.HF_HUB_OFFLINE)


def cached(repo_id: str) -> bool:
    """Whether a snapshot of hub model `repo_id` is in the cache (nothing is downloaded)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        snapshot_download(repo_id, local_files_only=True)
    except LocalEntryNotFoundError:
        return False
    return True


def pull(repo_id: str) -> None:
    """Downloads hub model `repo_id` into the cache (`synthmill models pull`)."""
    from huggingface_hub import snapshot_download

    snapshot_download(repo_id)


def cache_dir() -> str:
    return str(constants.HF_HUB_CACHE)


@contextlib.contextmanager
def missing_model(name: str, setting: str) -> Iterator[None]:
    """Turns the hub's OSError for model `name` (configured by `setting`) into ModelUnavailable."""
    try:
        yield
    except OSError as exc:
        if Path(name).exists():
            raise
        if offline():
            raise ModelUnavailable(
                f"{setting}: model {name!r} is not in the Hugging Face cache ({constants.HF_HUB_CACHE}) "
                f"and HF_HUB_OFFLINE=1 forbids downloading it. Download it first (hf download {name}), "
                "point HF_HOME at a cache that has it, or unset HF_HUB_OFFLINE."
            ) from exc
        raise ModelUnavailable(
            f"{setting}: model {name!r} cannot be loaded: it is not a local directory, and the hub "
            f"refused it ({type(exc).__name__}: {str(exc).strip().splitlines()[0]}). Check the id; a "
            "gated model (SD3) also needs HF_TOKEN and its licence accepted on the hub."
        ) from exc
