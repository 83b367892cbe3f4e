"""Row validation: one check per field type, each raising InvalidRow naming the field."""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from typing import Any, Protocol

# Strict e-mail check: dot-atom local part, dotted host names, an alphabetic top-level domain.
EMAIL_RE = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
INT64_MAX = 2**63 - 1


class Checked(Protocol):
    """What a check reads of the field it checks (`model.Field` has it; this module comes first)."""

    name: str
    choices: tuple[str, ...]


class InvalidRow(ValueError):
    """A row does not satisfy the schema; the message starts with the field name."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


def _check_string(field: Checked, value: Any) -> None:
    if not isinstance(value, str):
        raise InvalidRow(field.name, f"must be a string, not {type(value).__name__}")


def _check_int(field: Checked, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRow(field.name, f"must be an integer, not {type(value).__name__}")
    if abs(value) > INT64_MAX:
        raise InvalidRow(field.name, "does not fit in 64 bits")


def _check_float(field: Checked, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRow(field.name, f"must be a number, not {type(value).__name__}")
    if not math.isfinite(value):
        raise InvalidRow(field.name, "must be finite")


def _check_bool(field: Checked, value: Any) -> None:
    if not isinstance(value, bool):
        raise InvalidRow(field.name, f"must be true or false, not {type(value).__name__}")


def _check_iso(field: Checked, value: Any, pattern: str, parse: Any, what: str) -> None:
    """`value` is a string in the shape `pattern` that `parse` accepts: a valid `what`."""
    _check_string(field, value)
    if not re.fullmatch(pattern, value):
        raise InvalidRow(field.name, f"{value!r} is not {what}")
    try:
        parse(value)
    except ValueError as exc:
        raise InvalidRow(field.name, f"{value!r} is not {what}: {exc}") from None


def _check_date(field: Checked, value: Any) -> None:
    _check_iso(field, value, r"\d{4}-\d{2}-\d{2}", dt.date.fromisoformat, "a YYYY-MM-DD date")


def _check_datetime(field: Checked, value: Any) -> None:
    pattern = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?"
    what = "an ISO 8601 date-time (YYYY-MM-DDTHH:MM:SS)"
    _check_iso(field, value, pattern, dt.datetime.fromisoformat, what)


def _check_email(field: Checked, value: Any) -> None:
    _check_string(field, value)
    if len(value) > 254 or EMAIL_RE.fullmatch(value) is None or len(value.split("@")[0]) > 64:
        raise InvalidRow(field.name, f"{value!r} is not an e-mail address")


def _check_uuid(field: Checked, value: Any) -> None:
    _check_string(field, value)
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise InvalidRow(field.name, f"{value!r} is not a UUID") from None
    if str(parsed) != value.lower():  # only the canonical 8-4-4-4-12 spelling
        raise InvalidRow(field.name, f"{value!r} is not a canonical UUID")


def _check_enum(field: Checked, value: Any) -> None:
    if value not in field.choices:
        raise InvalidRow(field.name, f"{value!r} is not one of {list(field.choices)}")


CHECKS = {
    "string": _check_string,
    "int": _check_int,
    "float": _check_float,
    "bool": _check_bool,
    "date": _check_date,
    "datetime": _check_datetime,
    "enum": _check_enum,
    "email": _check_email,
    "uuid": _check_uuid,
}
