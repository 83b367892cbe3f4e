"""Ids that cannot collide: job ids and the lease-owner id of each gateway.

A job id reads as its UTC submit time to the second, then the millisecond and 80 random bits in
lowercase Crockford base32: `20261205-105959-0fk3x9q2m7c4vd8h1n`. Ids sort by time to the
millisecond, are safe in paths and URLs, and at 900 submits a second two of them collide with odds
of about 1 in 2^61 a second (the store retries an insert conflict with a fresh id all the same).
Ids of older gateways (`20261205-105959-a1b2c3`) have the same shape and stay valid.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable

RANDOM_BITS = 80
_BASE32 = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford: no i, l, o, u
JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")  # every id a job may have, old and new


def _base32(value: int, digits: int) -> str:
    return "".join(_BASE32[(value >> (5 * shift)) & 31] for shift in reversed(range(digits)))


def new_id(clock: Callable[[], float] = time.time) -> str:
    """A fresh, time-sortable id: `YYYYMMDD-HHMMSS-` + 2 digits of milliseconds + 16 random digits."""
    now = clock()
    millis = int(now * 1000) % 1000
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
    return f"{stamp}-{_base32(millis, 2)}{_base32(secrets.randbits(RANDOM_BITS), RANDOM_BITS // 5)}"
