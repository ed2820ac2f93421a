"""Stable 64-bit hashes of int64 ids: the same id and key give the same hash in every process.

SplitMix64's finaliser (Steele et al. 2014) in numpy uint64 arithmetic (wrap-around is defined
there), used by the random coding, the hashed tables and the synthetic log's id-derived attributes.
"""

from __future__ import annotations

import numpy as np

_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on a uint64 array (wrap-around arithmetic, a bijection of 2^64)."""
    z = np.array(z, dtype=np.uint64, copy=True)
    with np.errstate(over="ignore"):
        # in place: this runs on every id of every batch, temporaries cost more than the maths
        z ^= z >> np.uint64(30)
        z *= _C1
        z ^= z >> np.uint64(27)
        z *= _C2
        z ^= z >> np.uint64(31)
    return z


def salt(*parts: int) -> np.uint64:
    """A 64-bit key from integers (seed, field, hash index): mixes them in order."""
    h = np.uint64(0x243F6A8885A308D3)
    with np.errstate(over="ignore"):
        for p in parts:
            h = mix64(np.asarray(h ^ (np.uint64(int(p) & 0xFFFFFFFFFFFFFFFF) * _GOLDEN + _GOLDEN), dtype=np.uint64))[()]
    return np.uint64(h)


def hash_ids(ids: np.ndarray, key: np.uint64) -> np.ndarray:
    """A uint64 hash of int64 ``ids`` under ``key`` (different keys give independent-looking hashes)."""
    z = np.ascontiguousarray(ids, dtype=np.int64).view(np.uint64)
    with np.errstate(over="ignore"):
        return mix64(mix64(z ^ key) + key)


__all__ = ["hash_ids", "mix64", "salt"]
