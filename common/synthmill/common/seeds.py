"""How a row's samples are seeded, the one rule the text server and the gateway both apply.

Sample `attempt` (0-based) of row `index` of a request with seed `seed` is drawn with
`sample_seed(seed, index, attempt)` = seed + index + attempt * 2**32, wrapped to a signed int64. The
stride is larger than any request, so no sample reuses another row's seed. A request with seed
`sample_seed(seed, 0, a)` therefore draws, as its attempt k of row i, the same sample as attempt a + k
of row i under `seed`: that is how the gateway asks for a row's next samples.
"""

from __future__ import annotations

ATTEMPT_STRIDE = 2**32


def sample_seed(seed: int, index: int, attempt: int) -> int:
    """The seed of sample `attempt` of row `index`, as a signed int64."""
    value = (seed + index + attempt * ATTEMPT_STRIDE) % 2**64
    return value - 2**64 if value >= 2**63 else value
