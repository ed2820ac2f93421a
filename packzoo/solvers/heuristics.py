"""Order heuristics: an item order, then a placement rule packs it (Hu et al. 2017 and beyond).

Every solver here decides an *order*; a placement rule then places the items one by one:

- ``placement="lsa"`` (default): the paper's least-surface-area rule on empty maximal spaces. The
  order is packed by the environment (BinPack3D-v0, through :func:`pack_in_order`), so the env's
  engine referees every solution exactly as it does for learned policies.
- ``placement="ep"``: extreme points (Crainic, Perboli and Tadei 2008) with a bounding-box growth
  merit. The EMS engine cannot replay these packings, so they are returned as a Packing and
  refereed by the independent validator.

Solvers (registered names): ``random``, ``sort-volume``, ``sort-longest``, ``sort-surface``,
``lsa-lws`` (the paper's heuristic), ``best-order`` (the best of all orders under LSA, by a pruned
depth-first search), ``extreme-points`` and ``local-search``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from packzoo._checks import positive_int
from packzoo.envs.ems import evaluate_orders
from packzoo.envs.instance import Instance
from packzoo.envs import ep, rules
from packzoo.envs.packing import Packing, Placement
from packzoo.solvers import _kernels as K
from packzoo.solvers.base import BaseSolver, Solution, pack_in_order, register_solver

PLACEMENTS = ("lsa", "ep")


def _check_placement(placement: str) -> str:
    if placement not in PLACEMENTS:
        raise ValueError(f"placement must be one of {PLACEMENTS}, got {placement!r}")
    return placement


def _check_order(instance: Instance, order: Sequence[int]) -> np.ndarray:
    arr = np.asarray(order)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer) or sorted(arr.tolist()) != list(range(instance.n)):
        raise ValueError(f"order must be a permutation of 0..{instance.n - 1}, got {list(order)!r}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def pack_order_ep(instance: Instance, order: Sequence[int]) -> Packing:
    """Pack ``order`` with the extreme-point rule; returns the Packing (referee it with validate)."""
    o = _check_order(instance, order)
    out = np.zeros((instance.n, 5), dtype=np.int64)
    ep.ep_pack_order(np.ascontiguousarray(instance.dims, dtype=np.int64), o, out)
    return Packing(instance, tuple(Placement(*(int(v) for v in row)) for row in out))


def pack(instance: Instance, order: Sequence[int], placement: str = "lsa") -> Packing:
    """Pack a complete ``order`` with a placement rule: "lsa" through the env, "ep" directly."""
    if _check_placement(placement) == "lsa":
        _check_order(instance, order)
        return pack_in_order(instance, [int(i) for i in order])
    return pack_order_ep(instance, order)


def evaluate(instance: Instance, orders: np.ndarray, placement: str = "lsa") -> np.ndarray:
    """Surface areas of a batch (B, N) of complete orders of one instance under a placement rule."""
    dims = np.ascontiguousarray(instance.dims, dtype=np.int64)
    orders = np.ascontiguousarray(orders, dtype=np.int64)
    if orders.ndim != 2 or orders.shape[1] != instance.n:
        raise ValueError(f"orders must have shape (B, {instance.n}), got {orders.shape}")
    if _check_placement(placement) == "lsa":
        return evaluate_orders(dims, orders)
    out = np.zeros((orders.shape[0], orders.shape[1], 5), dtype=np.int64)
    return ep.ep_evaluate(dims, orders, out)


def sort_order(instance: Instance, key: str) -> list[int]:
    """Items by ``key`` ("volume", "longest", "surface"), descending; ties by index."""
    return rules.sort_order(instance.dims, key).tolist()


def lws_order(instance: Instance, placement: str = "lsa") -> tuple[list[int], int]:
    """The paper's LWS order rule under a placement rule; returns (order, surface of its packing).

    First the item with the largest surface; then, each step, the item whose placement leaves the
    least waste (bin volume minus packed volume), ties to the lowest index.
    """
    dims = np.ascontiguousarray(instance.dims, dtype=np.int64)
    fn = K.lws_lsa if _check_placement(placement) == "lsa" else K.lws_ep
    order, s = fn(dims)
    return [int(i) for i in order], int(s)


def _seed_orders(instance: Instance, placement: str, deadline: float | None = None) -> tuple[list[int], int, str, float, bool]:
    """The best of the LWS order and the three sort rules.

    Returns (order, surface, which, seconds of one packing, whether LWS was skipped). LWS tries
    every remaining item at every step, about n/2 packings' worth of work: under a deadline it
    is skipped when that estimate does not fit, so an anytime solver keeps its time limit.
    """
    t0 = time.perf_counter()
    names = [f"sort-{k}" for k in rules.SORT_KEYS]
    cands = [sort_order(instance, k) for k in rules.SORT_KEYS]
    surf = list(evaluate(instance, np.array(cands), placement))
    pack_s = (time.perf_counter() - t0) / len(cands)
    skipped = deadline is not None and time.perf_counter() + pack_s * (instance.n + 1) / 2 > deadline
    if not skipped:
        o, sf = lws_order(instance, placement)
        names.insert(0, "lws")
        cands.insert(0, o)
        surf.insert(0, sf)
    b = int(np.argmin(surf))  # first minimum: deterministic
    return cands[b], int(surf[b]), names[b], pack_s, skipped


class OrderSolver(BaseSolver):
    """A solver that decides an item order; ``placement`` packs it ("lsa" via the env, or "ep")."""

    placement: str = "lsa"

    def order(self, instance: Instance, rng: np.random.Generator, deadline: float | None) -> list[int]:
        """The item order; subclasses override this or :meth:`order_info`."""
        return list(range(instance.n))

    def order_info(
        self, instance: Instance, rng: np.random.Generator, deadline: float | None
    ) -> tuple[list[int], dict[str, Any]]:
        """The order and facts about how it was found (JSON-serialisable)."""
        return self.order(instance, rng, deadline), {}

    def _solve(self, instance, rng, deadline):
        order, info = self.order_info(instance, rng, deadline)
        order = [int(i) for i in order]
        packing = pack(instance, order, self.placement)
        return Solution(packing, "feasible", info={"order": order, "placement": self.placement, **info})


class RandomOrder(OrderSolver):
    """A uniformly random order: with LSA, the paper's "Random".

    Args:
        placement: "lsa" (EMS + least surface area, via the env) or "ep" (extreme points).
    """

    def __init__(self, *, placement: str = "lsa") -> None:
        self.placement = _check_placement(placement)

    def order(self, instance, rng, deadline):
        return rng.permutation(instance.n).tolist()


class SortOrder(OrderSolver):
    """Items by a key, descending (ties by index), then the placement rule.

    Args:
        key: "volume", "longest" (longest edge) or "surface".
        placement: "lsa" or "ep".
    """

    def __init__(self, key: str = "volume", *, placement: str = "lsa") -> None:
        if key not in rules.SORT_KEYS:
            raise ValueError(f"key must be one of {rules.SORT_KEYS}, got {key!r}")
        self.key = key
        self.placement = _check_placement(placement)

    def order(self, instance, rng, deadline):
        return sort_order(instance, self.key)


class LWSOrder(OrderSolver):
    """The paper's heuristic (Hu et al. 2017, Appendix A): the LWS order rule + a placement rule.

    The first item is the one with the largest surface; then the item whose placement leaves the
    least bin volume minus packed volume; ties go to the lowest index. The compiled kernel picks
    the order with the same EMS primitives as the env, and the env then packs that order.

    Args:
        placement: "lsa" (the paper) or "ep".
    """

    def __init__(self, *, placement: str = "lsa") -> None:
        self.placement = _check_placement(placement)

    def order_info(self, instance, rng, deadline):
        order, s = lws_order(instance, self.placement)
        return order, {"kernel_surface": s}


class BestOrder(OrderSolver):
    """The best of all item orders under LSA: the paper's "optimal sequence" oracle.

    A depth-first search over orders: a prefix's packing is computed once for every order that
    extends it; children are tried by increasing surface; a prefix whose bin bound (its bin grown
    to hold the total item volume) is no better than the best complete order is cut, since the bin
    never shrinks; among identical items only one is tried. The incumbent starts as the best of
    the LWS and sort-rule orders.

    The answer is the best order under LSA (``info["order_optimal"]``), not a proven optimum of the
    packing problem, so the status is "feasible". Stopped by ``time_limit``, it returns the best
    order found with ``info["stopped_by_time"] = True``.

    Args:
        node_budget: node expansions between two looks at the clock.
    """

    placement = "lsa"

    def __init__(self, *, node_budget: int = 2000) -> None:
        positive_int(node_budget, "node_budget")
        self.node_budget = int(node_budget)

    def order_info(self, instance, rng, deadline):
        dims = np.ascontiguousarray(instance.dims, dtype=np.int64)
        n = instance.n
        start, start_s, start_by, pack_s, skipped = _seed_orders(instance, "lsa", deadline)
        # dup_prev[i]: the previous item with identical dims (identical rows give identical
        # placements, so swapping them never changes a packing), -1 if none.
        dup_prev = np.full(n, -1, dtype=np.int64)
        seen: dict[tuple[int, ...], int] = {}
        for i in range(n):
            key = tuple(int(v) for v in dims[i])
            if key in seen:
                dup_prev[i] = seen[key]
            seen[key] = i
        maxima = np.sort(np.sort(dims, axis=1)[:, ::-1].max(axis=0).astype(np.float64))[::-1].copy()
        volume = float(np.prod(dims, axis=1).sum())
        cap = min(32 * n + 16, 512)  # grown on demand (code 2): 32n rows per level would be O(n^2) memory
        ems_buf = np.zeros((n + 1, cap, 6), dtype=np.int64)
        ems_buf[0, :1] = K.initial_ems(dims)
        n_ems = np.zeros(n + 1, dtype=np.int64)
        n_ems[0] = 1
        bins = np.zeros((n + 1, 3), dtype=np.int64)
        cand = np.zeros((n, n), dtype=np.int64)
        cand_s = np.zeros((n, n), dtype=np.int64)
        cand_eo = np.zeros((n, n, 2), dtype=np.int64)  # each child's LSA (EMS, orientation)
        n_cand = np.zeros(n, dtype=np.int64)
        ptr = np.zeros(n, dtype=np.int64)
        path = np.zeros(n, dtype=np.int64)
        placed = np.zeros(n, dtype=np.bool_)
        state = np.array([0, start_s, 0, 0], dtype=np.int64)
        best = np.array(start, dtype=np.int64)
        done = False
        # A node expansion places every remaining item once: about one packing's worth of work. Under
        # a deadline, each call gets only the nodes that fit in the time left.
        budget = self.node_budget
        while True:
            if deadline is not None:
                # At least one node per call (the clock is looked at after it), so the first call
                # also compiles the kernel, as a warm-up under a short limit must.
                left = deadline - time.perf_counter()
                budget = max(1, min(self.node_budget, int(left / max(pack_s, 1e-6))))
            code = K.best_order_search(
                dims, dup_prev, maxima, volume, ems_buf, n_ems, bins, cand, cand_s, cand_eo, n_cand,
                ptr, path, placed, state, best, budget,
            )
            if code == 1:
                done = True
                break
            if code == 2:
                grown = np.zeros((n + 1, 2 * ems_buf.shape[1], 6), dtype=np.int64)
                grown[:, : ems_buf.shape[1]] = ems_buf
                ems_buf = grown
                continue
            if deadline is not None and time.perf_counter() > deadline:
                break
        info = {
            "order_optimal": done,
            "stopped_by_time": not done or skipped,
            "nodes": int(state[2]),
            "lsa_surface": int(state[1]),
            "start_surface": start_s,
            "start": start_by,
        }
        return [int(i) for i in best], info


class LocalSearch(OrderSolver):
    """Local search on the item order, beyond the paper.

    Starts from the best of the LWS order and the sort rules' orders; each step draws ``batch``
    random neighbours (swap two items, or move one item to another position), evaluates them in
    one batched call, and moves to the best if it is no worse (sideways moves cross plateaus).
    Stops after ``iterations`` evaluated orders or at the time limit.

    Args:
        iterations: how many neighbour orders to evaluate.
        batch: neighbours per step.
        placement: "lsa" or "ep".
    """

    def __init__(self, *, iterations: int = 2000, batch: int = 32, placement: str = "lsa") -> None:
        for name, v in (("iterations", iterations), ("batch", batch)):
            positive_int(v, name)
        self.iterations = int(iterations)
        self.batch = int(batch)
        self.placement = _check_placement(placement)

    def order_info(self, instance, rng, deadline):
        n = instance.n
        start, start_s, start_by, pack_s, skipped = _seed_orders(instance, self.placement, deadline)
        cur = np.array(start, dtype=np.int64)
        cur_s = start_s
        best, best_s = cur.copy(), cur_s
        evaluated = 0
        stopped = False
        if n >= 2:
            while evaluated < self.iterations:
                b = min(self.batch, self.iterations - evaluated)
                if deadline is not None:
                    # A batch costs b packings: evaluate only as many neighbours as fit in the time left.
                    fit = int((deadline - time.perf_counter()) / max(pack_s, 1e-6))
                    if fit < 1:
                        stopped = True
                        break
                    b = min(b, fit)
                cands = np.repeat(cur[None, :], b, axis=0)
                kinds = rng.integers(0, 2, size=b)
                ii = rng.integers(0, n, size=b)
                jj = (ii + rng.integers(1, n, size=b)) % n  # j != i
                for r in range(b):
                    i, j = int(ii[r]), int(jj[r])
                    if kinds[r] == 0:
                        cands[r, i], cands[r, j] = cur[j], cur[i]
                    else:
                        row = np.delete(cur, i)
                        cands[r] = np.insert(row, j, cur[i])
                surf = evaluate(instance, cands, self.placement)
                evaluated += b
                k = int(np.argmin(surf))
                if surf[k] <= cur_s:
                    cur, cur_s = cands[k].copy(), int(surf[k])
                    if cur_s < best_s:
                        best, best_s = cur.copy(), cur_s
        info = {
            "evaluated": evaluated,
            "start_surface": start_s,
            "start": start_by,
            "search_surface": best_s,
            "stopped_by_time": stopped or skipped,
        }
        return [int(i) for i in best], info


register_solver(
    "random",
    RandomOrder,
    kind="heuristic",
    keeps_time_limit=False,
    summary="random item order + LSA placement (placement='ep' for extreme points)",
    source="Hu et al. 2017 (Random)",
)
for _key in rules.SORT_KEYS:
    register_solver(
        f"sort-{_key}",
        lambda _k=_key, **kw: SortOrder(key=_k, **kw),
        kind="heuristic",
        keeps_time_limit=False,
        summary=f"items by {_key}, descending + LSA placement",
        source="classical sort rule",
    )
register_solver(
    "lsa-lws",
    LWSOrder,
    kind="heuristic",
    keeps_time_limit=False,
    summary="the paper's heuristic: least-waste-space order + least-surface-area placement",
    source="Hu et al. 2017, Appendix A",
)
register_solver(
    "best-order",
    BestOrder,
    kind="heuristic",
    keeps_time_limit=True,
    summary="the best of all item orders under LSA (pruned depth-first search)",
    source="Hu et al. 2017 (the 'optimal sequence' oracle)",
)
register_solver(
    "extreme-points",
    lambda key="volume", **kw: SortOrder(key=key, **{"placement": "ep", **kw}),
    kind="heuristic",
    keeps_time_limit=False,
    summary="items by volume, descending + extreme-point placement with a bounding-box growth merit",
    source="Crainic, Perboli and Tadei 2008",
)
register_solver(
    "local-search",
    LocalSearch,
    kind="heuristic",
    keeps_time_limit=True,
    summary="swap/insertion local search on the item order from the best of LWS and sort rules",
    source="packzoo (beyond the paper)",
)
