"""Philox4x64-10, the counter-based generator of Salmon et al. (SC'11), vectorised over counters.

numpy's `Philox` bit generator runs one counter at a time; here a whole array of counters goes
through the ten rounds at once, so row i's draw is a pure function of (key, i) and a batch of rows
costs a few dozen array operations. The output equals numpy's `Philox(key=key, counter=c - 1)`
bit for bit (numpy advances its counter before each block); the tests check that.
"""

from __future__ import annotations

import numpy as np

_M0, _M1 = np.uint64(0xD2E7470EE14C6C93), np.uint64(0xCA5A826395121157)
_W0, _W1 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBB67AE8584CAA73B)
_LOW = np.uint64(0xFFFFFFFF)
_32 = np.uint64(32)
_ROUNDS = 10
MASK64 = 2**64 - 1


def _mulhilo(m: np.uint64, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The high and low 64 bits of the 128-bit products m * x (four 32-bit partial products)."""
    m_lo, m_hi = m & _LOW, m >> _32
    x_lo, x_hi = x & _LOW, x >> _32
    ll, lh, hl, hh = m_lo * x_lo, m_lo * x_hi, m_hi * x_lo, m_hi * x_hi
    carry = ((ll >> _32) + (lh & _LOW) + (hl & _LOW)) >> _32
    return hh + (lh >> _32) + (hl >> _32) + carry, m * x


def block(key: tuple[int, int], c0: np.ndarray, c1: int = 0) -> np.ndarray:
    """The four output words (shape (n, 4), uint64) of counters (c0[k], c1, 0, 0) under `key`."""
    with np.errstate(over="ignore"):
        x0 = np.asarray(c0, dtype=np.uint64)
        x1 = np.full_like(x0, c1 & MASK64)
        x2 = np.zeros_like(x0)
        x3 = np.zeros_like(x0)
        k0, k1 = np.uint64(key[0] & MASK64), np.uint64(key[1] & MASK64)
        for r in range(_ROUNDS):
            if r:
                k0, k1 = k0 + _W0, k1 + _W1
            hi0, lo0 = _mulhilo(_M0, x0)
            hi1, lo1 = _mulhilo(_M1, x2)
            x0, x1, x2, x3 = hi1 ^ x1 ^ k0, lo1, hi0 ^ x3 ^ k1, lo0
    return np.stack([x0, x1, x2, x3], axis=1)


def words(key: tuple[int, int], counters: np.ndarray, c1: int = 0) -> np.ndarray:
    """The first output word of each counter: one 64-bit draw per row."""
    return block(key, counters, c1)[:, 0]


def uniforms(key: tuple[int, int], counters: np.ndarray, c1: int = 0) -> np.ndarray:
    """Uniforms in the open interval (0, 1), 53 bits each, one per counter."""
    return ((words(key, counters, c1) >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
