"""Order rules shared by the solvers and the zoo: the classical sort rules.

They live here, below both, so the ``sort-*`` solvers, the pointer network's training baselines and
its evaluation all sort the same way: by a key of the item's dims, descending, ties by index.
"""

from __future__ import annotations

import numpy as np

SORT_KEYS = ("volume", "longest", "surface")


def sort_key(dims: np.ndarray, key: str) -> np.ndarray:
    """The key of each item of ``dims`` (..., n, 3): its volume, longest edge or surface."""
    if key not in SORT_KEYS:
        raise ValueError(f"sort key must be one of {SORT_KEYS}, got {key!r}")
    d = np.asarray(dims, dtype=np.int64)
    if key == "volume":
        return d.prod(axis=-1)
    if key == "longest":
        return d.max(axis=-1)
    return d[..., 0] * d[..., 1] + d[..., 0] * d[..., 2] + d[..., 1] * d[..., 2]


def sort_order(dims: np.ndarray, key: str) -> np.ndarray:
    """Items by ``key`` descending, ties by index: (n,) for dims (n, 3), (B, n) for (B, n, 3)."""
    k = sort_key(dims, key)
    idx = np.broadcast_to(np.arange(k.shape[-1]), k.shape)
    return np.lexsort((idx, -k), axis=-1)


def sort_orders(dims: np.ndarray) -> dict[str, np.ndarray]:
    """``{key: sort_order(dims, key)}`` for every sort rule."""
    return {key: sort_order(dims, key) for key in SORT_KEYS}
