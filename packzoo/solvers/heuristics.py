"""Order heuristics: an item order, then the env's LSA rule places each item (Hu et al. 2017)."""

from __future__ import annotations

import numpy as np

from packzoo.envs.instance import Instance
from packzoo.solvers.base import BaseSolver, Solution, pack_in_order, register_solver


class OrderSolver(BaseSolver):
    """A solver that decides an item order; the env (BinPack3D-v0, LSA) packs it."""

    def order(self, instance: Instance, rng: np.random.Generator, deadline: float | None) -> list[int]:
        """The item order; subclasses override."""
        return list(range(instance.n))

    def _solve(self, instance, rng, deadline):
        order = self.order(instance, rng, deadline)
        return Solution(pack_in_order(instance, order), "feasible", info={"order": [int(i) for i in order]})


class RandomOrder(OrderSolver):
    """A uniformly random order + LSA: the paper's "Random"."""

    def __init__(self) -> None:
        pass

    def order(self, instance, rng, deadline):
        return rng.permutation(instance.n).tolist()


_SORT_KEYS = {
    "volume": lambda d: d.prod(axis=1),
    "longest": lambda d: d.max(axis=1),
    "surface": lambda d: d[:, 0] * d[:, 1] + d[:, 0] * d[:, 2] + d[:, 1] * d[:, 2],
}


class SortOrder(OrderSolver):
    """Items by a key, descending (ties by index) + LSA.

    Args:
        key: "volume", "longest" (longest edge) or "surface".
    """

    def __init__(self, key: str = "volume") -> None:
        if key not in _SORT_KEYS:
            raise ValueError(f"key must be one of {sorted(_SORT_KEYS)}, got {key!r}")
        self.key = key

    def order(self, instance, rng, deadline):
        k = _SORT_KEYS[self.key](instance.dims.astype(np.int64))
        return np.lexsort((np.arange(instance.n), -k)).tolist()


register_solver("random", RandomOrder, summary="random item order + LSA placement", source="Hu et al. 2017 (Random)")
for _key in _SORT_KEYS:
    register_solver(
        f"sort-{_key}",
        lambda _k=_key, **kw: SortOrder(key=_k, **kw),
        summary=f"items by {_key}, descending + LSA placement",
        source="classical sort rule",
    )
