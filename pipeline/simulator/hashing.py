"""Counter-based hashing: attributes that are pure functions of (seed, index), with no storage."""

from __future__ import annotations

import numpy as np

MASK64 = (1 << 64) - 1
_C1 = 0xBF58476D1CE4E5B9
_C2 = 0x94D049BB133111EB
GOLDEN = 0x9E3779B97F4A7C15


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on a uint64 array: a bijection, so it can be inverted."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(_C1)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(_C2)
    return x ^ (x >> np.uint64(31))


def mix64_int(x: int) -> int:
    """`mix64` for one Python int."""
    return int(mix64(np.array([x & MASK64], dtype=np.uint64))[0])


def _unxorshift(y: int, shift: int) -> int:
    x = y
    for _ in range(64 // shift + 1):
        x = y ^ (x >> shift)
    return x & MASK64


def unmix64(y: int) -> int:
    """Inverse of `mix64` for one Python int."""
    x = _unxorshift(y & MASK64, 31)
    x = (x * pow(_C2, -1, 1 << 64)) & MASK64
    x = _unxorshift(x, 27)
    x = (x * pow(_C1, -1, 1 << 64)) & MASK64
    return _unxorshift(x, 30)


def salt(seed: int, tag: int) -> int:
    """A 64-bit salt for one seed and one purpose."""
    return mix64_int((seed * GOLDEN) ^ (tag * 0xD6E8FEB86659FD93))


def field_hash(base: np.ndarray, field: int) -> np.ndarray:
    """An independent 64-bit hash per element of `base` (uint64) for attribute number `field`."""
    return mix64(base ^ np.uint64(((field + 1) * GOLDEN) & MASK64))


def unit(h: np.ndarray) -> np.ndarray:
    """Map 64-bit hashes to floats uniform in [0, 1)."""
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
