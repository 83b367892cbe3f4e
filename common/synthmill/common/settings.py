"""Typed settings read from environment variables with a per-service prefix.

A service declares a frozen dataclass of plain-typed fields with defaults; `from_env`
fills it from `PREFIX_FIELD_NAME` variables, then from explicit overrides (CLI flags).
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


# A field whose metadata has `secret: True` holds a password or key: logged as `***` when set.
SECRET = "secret"
# A password inside a URL's user part (`postgresql://user:PASSWORD@host`) or its query (`?password=`).
_URL_PASSWORD = re.compile(r"(?<=://)([^/@:\s'\"]*):[^@/\s'\"]*@")
_QUERY_PASSWORD = re.compile(r"(?i)([?&](?:password|passwd|pwd|sslpassword|token)=)[^&\s'\"]*")


def masked(text: str) -> str:
    """`text` with any password inside a URL replaced by `***`."""
    return _QUERY_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1:***@", text))


def loggable(settings: Any) -> str:
    """The settings dataclass as one log line, with no secret in it: fields marked `SECRET` are `***`
    when set, and passwords inside URLs are masked in every text field."""
    parts = []
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        if field.metadata.get(SECRET) and value:
            shown = "'***'"
        else:
            shown = masked(repr(value))
        parts.append(f"{field.name}={shown}")
    return f"{type(settings).__name__}({', '.join(parts)})"


def default_cache_dir() -> Path:
    """`SYNTHMILL_CACHE_DIR`, else `$XDG_CACHE_HOME/synthmill`, else `~/.cache/synthmill`."""
    if os.environ.get("SYNTHMILL_CACHE_DIR"):
        return Path(os.environ["SYNTHMILL_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "synthmill"


def _parse(name: str, raw: str, kind: Any) -> Any:
    if typing.get_origin(kind) in (typing.Union, types.UnionType):  # Optional[X]
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        return None if raw == "" else _parse(name, raw, args[0])
    if kind is bool:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ValueError(f"{name}={raw!r} is not a boolean")
    if kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            raise ValueError(f"{name}={raw!r} is not {kind.__name__}") from None
    if kind is Path:
        return Path(raw).expanduser()
    if typing.get_origin(kind) is tuple:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


def from_env(
    cls: type[T], prefix: str, environ: typing.Mapping[str, str] | None = None, **overrides: Any
) -> T:
    """Builds `cls` from `{prefix}{FIELD}` variables; non-None `overrides` win."""
    environ = os.environ if environ is None else environ
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        var = f"{prefix}{field.name.upper()}"
        override = overrides.get(field.name)
        if override is not None:
            values[field.name] = (
                _parse(var, override, hints[field.name]) if isinstance(override, str) else override
            )
        elif var in environ:
            values[field.name] = _parse(var, environ[var], hints[field.name])
    return cls(**values)
