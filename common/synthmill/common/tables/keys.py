"""Primary keys, unique by construction: key i of a table is a bijection of i.

- `sequence` (int): start + i.
- `uuid`: a version-4 UUID whose low 62 bits are an invertible mix of i (so no two rows share one)
  and whose other random bits are a hash of i; both are keyed by the table's seed.
- `pattern` (string): the regular pattern's strings are numbered in mixed radix; key i is string
  number (a·i + b) mod M, M their count, with a prime to M (a bijection), a and b from the seed.
  Patterns are literals, escapes, `\\d`, `\\w`-free classes like `[A-Z0-9]`, each optionally `{n}`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from synthmill.common.errors import InvalidArgument
from synthmill.common.tables.model import Key

_M62 = np.uint64(2**62 - 1)
_TOKEN = re.compile(r"\\d|\\.|\[[^\]]+\]|[^\\\[\]{}()*+?|.^$]")
_REPEAT = re.compile(r"\{(\d+)\}")


def _alphabet(token: str) -> str:
    if token == r"\d":
        return "0123456789"
    if token.startswith("\\"):
        return token[1]
    if not token.startswith("["):
        return token
    body, chars = token[1:-1], []
    if body.startswith("^"):
        raise ValueError("negated classes")
    for start, _, end in re.findall(r"(\\?.)(-(\\?.))?", body):
        start = start[-1]
        if end:
            chars += [chr(c) for c in range(ord(start), ord(end[-1]) + 1)]
        else:
            chars.append(start)
    return "".join(dict.fromkeys(chars))


def _positions(pattern: str) -> list[str]:
    """The alphabet of each character position of a fixed-length pattern."""
    body = pattern.removeprefix("^").removesuffix("$")
    out, at = [], 0
    while at < len(body):
        token = _TOKEN.match(body, at)
        if token is None:
            raise ValueError(f"{body[at]!r} at position {at}")
        at = token.end()
        count = 1
        repeat = _REPEAT.match(body, at)
        if repeat:
            count, at = int(repeat.group(1)), repeat.end()
        out += [_alphabet(token.group())] * count
    return out


def check_pattern(pattern: str, where: str) -> None:
    try:
        positions = _positions(pattern)
    except ValueError as exc:
        raise InvalidArgument(
            where,
            f"a key pattern is fixed-length: literals, \\d and classes like [A-Z0-9], each optionally {{n}} "
            f"(not {exc})",
        ) from None
    if not positions:
        raise InvalidArgument(where, "a key pattern needs at least one character")


def capacity(key: Key) -> int | None:
    """How many distinct keys there are (None: more than any table holds)."""
    if key.kind == "sequence":
        return None if key.stop is None else max(0, key.stop - key.start + 1)
    if key.kind == "pattern":
        return math.prod(len(chars) for chars in _positions(key.pattern))
    return None


def _mix62(x: np.ndarray) -> np.ndarray:
    """An invertible mix of 62-bit numbers (odd multiplications and xor-shifts modulo 2**62)."""
    x = (x * np.uint64(0x9E3779B97F4A7C15)) & _M62
    x ^= x >> np.uint64(29)
    x = (x * np.uint64(0xBF58476D1CE4E5B9)) & _M62
    return x ^ (x >> np.uint64(31))


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def values(key: Key, key_seed: int, indices: Sequence[int] | np.ndarray) -> list:
    """The keys of rows `indices` of a table whose key draws are seeded by `key_seed`."""
    i = np.asarray(indices, dtype=np.uint64)
    if key.kind == "sequence":
        return [key.start + int(k) for k in i]
    if key.kind == "uuid":
        salt = np.uint64(key_seed % 2**64)
        with np.errstate(over="ignore"):
            low = _mix62((i + salt) & _M62)
            high = _mix64(i ^ _mix64(salt + np.uint64(1)))
        out = []
        for hi, lo in zip(high.tolist(), low.tolist(), strict=True):
            hi = (hi & ~(0xF << 12)) | (4 << 12)  # version 4
            h = f"{hi:016x}{lo | (1 << 63):016x}"  # variant 10xx: bit 63 set, bit 62 clear
            out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
        return out
    positions = _positions(key.pattern)
    total = math.prod(len(chars) for chars in positions)
    a, b = _affine(key_seed, total)
    out = []
    for k in i.tolist():
        n = (a * k + b) % total
        chars = []
        for alphabet in reversed(positions):
            n, digit = divmod(n, len(alphabet))
            chars.append(alphabet[digit])
        out.append("".join(reversed(chars)))
    return out


def _affine(seed: int, total: int) -> tuple[int, int]:
    a = int(_mix64(np.array([seed % 2**64], dtype=np.uint64))[0]) % total or 1
    while math.gcd(a, total) != 1:
        a = a % total + 1
    return a, (seed * 2654435761) % total
