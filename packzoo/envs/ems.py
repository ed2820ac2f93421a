"""Empty maximal spaces (EMS) and the least-surface-area (LSA) placement rule, compiled with numba.

The paper's Appendix A, as DESIGN.md states it:

- The free space is a list of empty maximal spaces, boxes (x1, y1, z1, x2, y2, z2). It starts as one
  huge space (larger than any packing can reach, as the bin is free).
- After a box is placed, every EMS it intersects (with positive volume) is replaced by its up to six
  slabs around the box, and EMSs contained in another are dropped. We also drop EMSs too thin for
  any remaining item: those can never be chosen, nor can anything cut from them, so the result is
  unchanged and the lists stay short.
- LSA places an item by trying every EMS x every distinct orientation at the EMS's corner nearest the
  origin, keeping the smallest resulting bin surface; ties go to the tighter fit (the smaller least
  slack between space and item), then to the earlier EMS and orientation.

The jitted primitives work on plain arrays so that the env (one step at a time), the batched order
evaluator (REINFORCE's reward) and the heuristics all run the same code. Compiled functions are
cached on disk (``cache=True``), so only the first import on a machine pays the compile time.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from packzoo.envs.instance import MAX_EDGE_SUM, ORIENTATIONS

_ORIENT = ORIENTATIONS  # (6, 3) int64: a module global, frozen into the compiled code


@njit(cache=True, inline="always")
def _oriented(d, o):
    return d[_ORIENT[o, 0]], d[_ORIENT[o, 1]], d[_ORIENT[o, 2]]


@njit(cache=True)
def orientation_is_first(d, o):
    """True if orientation ``o`` of dims ``d`` gives a shape no earlier orientation gives."""
    a, b, c = _oriented(d, o)
    for p in range(o):
        a2, b2, c2 = _oriented(d, p)
        if a == a2 and b == b2 and c == c2:
            return False
    return True


@njit(cache=True)
def best_placement(ems, n_ems, d, bin_dims):
    """LSA placement of one item with dims ``d`` (int64[3]).

    Returns (surface, ems_index, orientation); ems_index is -1 if the item fits nowhere (never the
    case while the huge initial space's descendants exist).
    """
    best_s = np.int64(-1)
    best_slack = np.int64(0)
    best_e = -1
    best_o = -1
    L0, W0, H0 = bin_dims[0], bin_dims[1], bin_dims[2]
    for o in range(6):
        if not orientation_is_first(d, o):
            continue
        a, b, c = _oriented(d, o)
        for e in range(n_ems):
            sx = ems[e, 3] - ems[e, 0] - a
            sy = ems[e, 4] - ems[e, 1] - b
            sz = ems[e, 5] - ems[e, 2] - c
            if sx < 0 or sy < 0 or sz < 0:
                continue
            L = max(L0, ems[e, 0] + a)
            W = max(W0, ems[e, 1] + b)
            H = max(H0, ems[e, 2] + c)
            s = 2 * (L * W + L * H + W * H)
            slack = min(sx, min(sy, sz))
            # Ties: tighter fit first, then the earlier EMS, then the earlier orientation.
            if (
                best_e < 0
                or s < best_s
                or (s == best_s and (slack < best_slack or (slack == best_slack and e < best_e)))
            ):
                best_s, best_slack, best_e, best_o = s, slack, e, o
    return best_s, best_e, best_o


@njit(cache=True)
def place_box(ems, n_ems, x, y, z, a, b, c, min_dim):
    """Update the EMS list after placing box [x, x+a) x [y, y+b) x [z, z+c).

    Returns (new_ems, new_count). ``min_dim``: EMSs with an extent below it are dropped (pass the
    smallest dimension of any remaining item, or 0 to keep all).
    """
    bx = (x, y, z)
    bs = (x + a, y + b, z + c)
    cand = np.empty((n_ems * 6 + 1, 6), dtype=np.int64)
    m = 0
    for e in range(n_ems):
        lo0, lo1, lo2 = ems[e, 0], ems[e, 1], ems[e, 2]
        hi0, hi1, hi2 = ems[e, 3], ems[e, 4], ems[e, 5]
        if not (lo0 < bs[0] and bx[0] < hi0 and lo1 < bs[1] and bx[1] < hi1 and lo2 < bs[2] and bx[2] < hi2):
            if min(hi0 - lo0, min(hi1 - lo1, hi2 - lo2)) >= min_dim:
                cand[m, 0], cand[m, 1], cand[m, 2] = lo0, lo1, lo2
                cand[m, 3], cand[m, 4], cand[m, 5] = hi0, hi1, hi2
                m += 1
            continue
        for axis in range(3):
            # Slab below the box on this axis, then above it.
            for side in range(2):
                for k in range(6):
                    cand[m, k] = ems[e, k]
                if side == 0:
                    if bx[axis] <= cand[m, axis]:
                        continue
                    cand[m, 3 + axis] = bx[axis]
                else:
                    if bs[axis] >= cand[m, 3 + axis]:
                        continue
                    cand[m, axis] = bs[axis]
                if min(cand[m, 3] - cand[m, 0], min(cand[m, 4] - cand[m, 1], cand[m, 5] - cand[m, 2])) >= min_dim:
                    m += 1
    keep = np.ones(m, dtype=np.bool_)
    for i in range(m):
        if not keep[i]:
            continue
        for j in range(m):
            if i == j or not keep[j]:
                continue
            # Drop j if i contains it; of two equal spaces keep the first.
            if (
                cand[i, 0] <= cand[j, 0]
                and cand[i, 1] <= cand[j, 1]
                and cand[i, 2] <= cand[j, 2]
                and cand[i, 3] >= cand[j, 3]
                and cand[i, 4] >= cand[j, 4]
                and cand[i, 5] >= cand[j, 5]
            ):
                equal = (
                    cand[i, 0] == cand[j, 0]
                    and cand[i, 1] == cand[j, 1]
                    and cand[i, 2] == cand[j, 2]
                    and cand[i, 3] == cand[j, 3]
                    and cand[i, 4] == cand[j, 4]
                    and cand[i, 5] == cand[j, 5]
                )
                if not equal or j > i:
                    keep[j] = False
    out = np.empty((max(m, 1), 6), dtype=np.int64)
    k = 0
    for i in range(m):
        if keep[i]:
            out[k] = cand[i]
            k += 1
    return out, k


@njit(cache=True)
def initial_ems(dims):
    """The huge initial space: larger on every axis than any packing of ``dims`` can reach."""
    big = np.int64(1)
    for i in range(dims.shape[0]):
        big += max(dims[i, 0], max(dims[i, 1], dims[i, 2]))
    ems = np.zeros((1, 6), dtype=np.int64)
    ems[0, 3] = big
    ems[0, 4] = big
    ems[0, 5] = big
    return ems


@njit(cache=True)
def min_remaining_dim(dims, placed):
    """Smallest dimension of any unplaced item (a huge number when none remain)."""
    m = np.int64(1) << 62
    for i in range(dims.shape[0]):
        if not placed[i]:
            m = min(m, min(dims[i, 0], min(dims[i, 1], dims[i, 2])))
    return m


@njit(cache=True)
def pack_order(dims, order, out):
    """Pack ``dims`` in ``order`` with LSA; write (item, orientation, x, y, z) rows to ``out``.

    Returns the final surface area. :func:`packzoo.envs.ep.ep_pack_order` is the same loop for the
    extreme-point rule (one loop per rule: no first-class function call in numba's hot loop).
    """
    n = order.shape[0]
    ems = initial_ems(dims)
    n_ems = 1
    bin_dims = np.zeros(3, dtype=np.int64)
    placed = np.zeros(dims.shape[0], dtype=np.bool_)
    # Padding rows (items not in the order) must not constrain the EMS pruning.
    for i in range(dims.shape[0]):
        placed[i] = True
    for t in range(n):
        placed[order[t]] = False
    s = np.int64(0)
    for t in range(n):
        i = order[t]
        d = dims[i]
        s, e, o = best_placement(ems, n_ems, d, bin_dims)
        a, b, c = _oriented(d, o)
        x, y, z = ems[e, 0], ems[e, 1], ems[e, 2]
        placed[i] = True
        ems, n_ems = place_box(ems, n_ems, x, y, z, a, b, c, min_remaining_dim(dims, placed))
        bin_dims[0] = max(bin_dims[0], x + a)
        bin_dims[1] = max(bin_dims[1], y + b)
        bin_dims[2] = max(bin_dims[2], z + c)
        out[t, 0], out[t, 1], out[t, 2], out[t, 3], out[t, 4] = i, o, x, y, z
    return s


# The serial and parallel loops are the same loop twice: numba compiles prange only under
# parallel=True, and the parallel build is slower for small batches (see evaluate_orders).
@njit(cache=True)
def _evaluate_serial(dims, orders, out):
    B = orders.shape[0]
    res = np.empty(B, dtype=np.int64)
    for bi in range(B):
        res[bi] = pack_order(dims[bi], orders[bi], out[bi])
    return res


@njit(cache=True, parallel=True)
def _evaluate_parallel(dims, orders, out):
    B = orders.shape[0]
    res = np.empty(B, dtype=np.int64)
    for bi in prange(B):
        res[bi] = pack_order(dims[bi], orders[bi], out[bi])
    return res


def _as_batch(dims, orders):
    dims = np.asarray(dims)
    orders = np.asarray(orders)
    if dims.ndim == 2:
        dims = np.broadcast_to(dims, (orders.shape[0] if orders.ndim == 2 else 1, *dims.shape))
    if orders.ndim == 1:
        orders = orders[None, :]
    if dims.ndim != 3 or dims.shape[2] != 3:
        raise ValueError(f"dims must have shape (B, N, 3) or (N, 3), got {dims.shape}")
    if orders.ndim != 2:
        raise ValueError(f"orders must have shape (B, K) or (K,), got {orders.shape}")
    if dims.shape[0] == 1 and orders.shape[0] > 1:
        dims = np.broadcast_to(dims, (orders.shape[0], *dims.shape[1:]))
    if dims.shape[0] != orders.shape[0]:
        raise ValueError(f"batch sizes differ: dims {dims.shape[0]}, orders {orders.shape[0]}")
    if not np.issubdtype(dims.dtype, np.integer) and not np.all(dims == np.round(dims)):
        raise ValueError("dims must be integers")
    if np.any(dims <= 0):
        raise ValueError("dims must be positive")
    # Instance's limit (see instance.py), checked here too since raw arrays bypass Instance. The
    # sum runs in float64, which cannot overflow, and is exact in the range that matters.
    edge_sum = float(dims.max(axis=2).astype(np.float64).sum(axis=1).max())
    if edge_sum > MAX_EDGE_SUM:
        raise ValueError(f"the items' longest edges sum to {edge_sum:.0f}, more than the supported {MAX_EDGE_SUM}")
    if not np.issubdtype(orders.dtype, np.integer):
        raise ValueError(f"orders must be integers, got dtype {orders.dtype}")
    n = dims.shape[1]
    if orders.shape[1] > n or np.any(orders < 0) or np.any(orders >= n):
        raise ValueError(f"orders must hold item indices in 0..{n - 1}")
    srt = np.sort(orders, axis=1)
    if orders.shape[1] > 1 and np.any(srt[:, 1:] == srt[:, :-1]):
        raise ValueError("an order repeats an item")
    return np.ascontiguousarray(dims, dtype=np.int64), np.ascontiguousarray(orders, dtype=np.int64)


def evaluate_orders(dims, orders, *, return_placements: bool = False, parallel: bool = False):
    """Surface areas of LSA packings of a batch of item orders.

    Args:
        dims: int array (B, N, 3), or (N, 3) shared by every order.
        orders: int array (B, K) of item indices, K <= N; an order may cover only some items (the
            others are padding and are not packed), which is how padded batches of mixed N work.
        return_placements: also return an int array (B, K, 5) of (item, orientation, x, y, z).
        parallel: spread the batch over numba's threads.

    Returns:
        int64 array (B,) of surface areas, and the placements if asked.

    Example:
        >>> evaluate_orders([[1, 1, 1], [1, 1, 1]], [[0, 1]]).tolist()
        [10]
    """
    dims, orders = _as_batch(dims, orders)
    out = np.zeros((orders.shape[0], orders.shape[1], 5), dtype=np.int64)
    fn = _evaluate_parallel if parallel else _evaluate_serial
    res = fn(dims, orders, out)
    return (res, out) if return_placements else res


class EMSState:
    """A packing in progress: the EMS list, the bin, and the placements made.

    The environments step this one placement at a time. ``dims`` is the (N, 3) int64 item array.
    """

    def __init__(self, dims: np.ndarray) -> None:
        self.dims = np.ascontiguousarray(dims, dtype=np.int64)
        self.ems = initial_ems(self.dims)
        self.n_ems = 1
        self.bin = np.zeros(3, dtype=np.int64)
        self.placed = np.zeros(len(self.dims), dtype=bool)
        self.placements: list[tuple[int, int, int, int, int]] = []

    @property
    def spaces(self) -> np.ndarray:
        """The current EMSs, shape (n_ems, 6)."""
        return self.ems[: self.n_ems]

    @property
    def surface_area(self) -> int:
        L, W, H = (int(v) for v in self.bin)
        return 2 * (L * W + L * H + W * H)

    def lsa(self, item: int) -> tuple[int, int, int]:
        """LSA choice for ``item``: (surface after placing it, ems_index, orientation)."""
        s, e, o = best_placement(self.ems, self.n_ems, self.dims[item], self.bin)
        return int(s), int(e), int(o)

    def fits(self, item: int, orientation: int, ems_index: int) -> bool:
        a, b, c = (int(v) for v in self.dims[item][ORIENTATIONS[orientation]])
        e = self.ems[ems_index]
        return e[3] - e[0] >= a and e[4] - e[1] >= b and e[5] - e[2] >= c

    def place(self, item: int, orientation: int, ems_index: int) -> tuple[int, int, int, int, int]:
        """Place ``item`` in ``orientation`` at the corner of EMS ``ems_index``; returns the row."""
        if self.placed[item]:
            raise ValueError(f"item {item} is already placed")
        if not 0 <= ems_index < self.n_ems:
            raise ValueError(f"EMS index {ems_index} out of range 0..{self.n_ems - 1}")
        if not self.fits(item, orientation, ems_index):
            raise ValueError(f"item {item} in orientation {orientation} does not fit EMS {ems_index}")
        a, b, c = (int(v) for v in self.dims[item][ORIENTATIONS[orientation]])
        x, y, z = (int(v) for v in self.ems[ems_index, :3])
        self.placed[item] = True
        self.ems, self.n_ems = place_box(
            self.ems, self.n_ems, x, y, z, a, b, c, min_remaining_dim(self.dims, self.placed)
        )
        self.bin = np.maximum(self.bin, (x + a, y + b, z + c))
        row = (int(item), int(orientation), x, y, z)
        self.placements.append(row)
        return row

    def place_lsa(self, item: int) -> tuple[int, int, int, int, int]:
        """Place ``item`` by the LSA rule."""
        _, e, o = self.lsa(item)
        return self.place(item, o, e)
