"""Seeded sampling shared by the generators: the :class:`Stream` of reproducible numbers and the
cut-instance builder (items and their known optimal packing from boxes cut out of containers).

Kept apart from :mod:`packzoo.envs.generators` so that both the named sets there and the
literature generators (:mod:`packzoo.envs.literature`) build on it without importing each other.
numpy documents SeedSequence and PCG64's raw stream as stable, but not the algorithms of
``Generator.integers`` and friends, so every draw here is our own arithmetic on the raw stream.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from packzoo.envs.instance import ORIENTATIONS, Instance
from packzoo.envs.packing import Packing, Placement

SeedLike = int | Sequence[int] | None


class Stream:
    """Reproducible integers and floats from PCG64's raw output.

    Args:
        seed: an int, a sequence of ints (hashed by SeedSequence), or None for fresh entropy.
    """

    def __init__(self, seed: SeedLike = None) -> None:
        if seed is not None:
            seq = [seed] if isinstance(seed, (int, np.integer)) else list(seed)
            if any(not isinstance(s, (int, np.integer)) or s < 0 for s in seq):
                raise ValueError(f"seed must be a non-negative int or a sequence of them, got {seed!r}")
            seed = [int(s) for s in seq]
        self._bg = np.random.PCG64(np.random.SeedSequence(seed))

    def raw(self, size: int) -> np.ndarray:
        return self._bg.random_raw(size).astype(np.uint64)

    def integers(self, low: int, high: int, size: int) -> np.ndarray:
        """Integers in [low, high] inclusive (modulo bias below 2^-40 for our ranges)."""
        span = np.uint64(high - low + 1)
        return (self.raw(size) % span).astype(np.int64) + low

    def uniform(self, size: int) -> np.ndarray:
        """Floats in [0, 1) with 53 random bits."""
        return (self.raw(size) >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53)

    def permutation(self, n: int) -> np.ndarray:
        """A uniform permutation of range(n) (Fisher-Yates)."""
        p = np.arange(n, dtype=np.int64)
        r = self.raw(max(n - 1, 0))
        for i in range(n - 1, 0, -1):
            j = int(r[n - 1 - i] % np.uint64(i + 1))
            p[i], p[j] = p[j], p[i]
        return p


def cut_instance(s: Stream, boxes: list[tuple[int, ...]], orientations, **mode) -> tuple[Instance, Packing]:
    """Items from cut boxes ((x, y, z, dx, dy, dz, bin) rows) and the packing that restores them.

    The boxes are shuffled into items, each listed in an allowed orientation drawn at random (so
    the optimal packing uses various orientations); ``mode`` goes to :class:`Instance` (mode,
    container, support).

    Returns:
        (instance, the packing of every item at its box).
    """
    n = len(boxes)
    order = s.permutation(n)
    if orientations is None:
        orient = s.integers(0, 5, n)
    else:
        # The listed dims must come back to the cut box through an allowed orientation.
        allowed = Instance([[1, 1, 1]] * n, orientations=orientations).allowed
        choice = s.integers(0, 5, n)
        orient = np.array([np.flatnonzero(allowed[i])[choice[i] % allowed[i].sum()] for i in range(n)])
    dims = np.empty((n, 3), dtype=np.int64)
    placements = []
    for item, k in enumerate(order):
        x, y, z, dx, dy, dz, b = boxes[int(k)]
        o = int(orient[item])
        # Listed dims d satisfy d[ORIENTATIONS[o]] == spatial, so orientation o restores the box.
        d = np.empty(3, dtype=np.int64)
        d[ORIENTATIONS[o]] = (dx, dy, dz)
        dims[item] = d
        placements.append(Placement(item, o, x, y, z, b))
    inst = Instance(dims, orientations=orientations, **mode)
    return inst, Packing(inst, tuple(placements))
