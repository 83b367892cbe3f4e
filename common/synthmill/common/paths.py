"""The rules for names and paths that callers send: the one home of both, for the gateway (downloads,
uploads) and the HTTP service (file routes). A bad one is refused at the door, naming why, before any
file system call sees it (a NUL would otherwise be a `ValueError: embedded null byte` deep inside)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

# The longest file name most file systems take, in bytes of UTF-8.
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BadPath(ValueError):
    """A name or path that is not a plain one inside a folder; the message says why."""


def _check_text(text: str, limit: int, what: str) -> None:
    if not text:
        raise BadPath(f"an empty {what}")
    if _CONTROL.search(text):
        raise BadPath(f"{text!r} holds a control character")
    if len(text.encode("utf-8", "surrogatepass")) > limit:
        raise BadPath(f"{text[:40]!r}... is longer than {limit} bytes")
    if "\\" in text:
        raise BadPath(f"{text!r} holds a backslash")


def plain_name(name: str) -> str:
    """`name` if it is one plain file name: no folder, no control character, at most 255 bytes."""
    _check_text(name, MAX_NAME_BYTES, "name")
    if "/" in name or name in (".", ".."):
        raise BadPath(f"{name!r} is not a plain file name")
    return name


def relative_path(path: str) -> PurePosixPath:
    """`path` as a relative path that stays inside its folder: no `..`, not absolute, every part a
    plain name."""
    _check_text(path, MAX_PATH_BYTES, "path")
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts:
        raise BadPath(f"{path!r} is not a path inside the folder")
    for part in pure.parts:
        plain_name(part)
    return pure
