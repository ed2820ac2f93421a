"""Compiled kernels of the order heuristics: LWS orders and the best-order search.

They reuse the engine's jitted placement rules (:mod:`packzoo.envs.ems` for LSA,
:mod:`packzoo.envs.ep` for extreme points), so an order computed here and replayed by the
environment gives the very same placements: the env stays the referee.

:func:`lws_lsa` and :func:`lws_ep` are the same LWS loop written once per placement rule: passing
the rule as a function would cost numba's first-class-function overhead in the hottest loop.

Kernels work on plain int64 arrays and are cached on disk (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from packzoo.envs.ep import ep_best, ep_place
from packzoo.envs.ems import (
    _oriented,
    best_placement,
    initial_ems,
    min_remaining_dim,
    orientation_is_first,
    place_box,
)

# ----------------------------------------------------------------------------------------------
# LWS order rule with the LSA placement (the paper's heuristic)
# ----------------------------------------------------------------------------------------------


@njit(cache=True)
def _largest_surface_item(dims):
    best = -1
    best_s = np.int64(-1)
    for i in range(dims.shape[0]):
        a, b, c = dims[i, 0], dims[i, 1], dims[i, 2]
        s = a * b + a * c + b * c
        if s > best_s:  # strict: ties go to the lowest index
            best_s = s
            best = i
    return best


@njit(cache=True)
def lws_lsa(dims):
    """The paper's heuristic: LWS picks the items, LSA places them.

    The first item is the one with the largest surface; then, each step, the unplaced item whose
    LSA placement leaves the least waste (bin volume minus packed volume); ties go to the lowest
    index. Returns (order int64[n], final surface).
    

    :func:`lws_ep` is the same loop with the extreme-point rule (see the module docstring).
    """
    n = dims.shape[0]
    ems = initial_ems(dims)
    n_ems = 1
    bin_dims = np.zeros(3, dtype=np.int64)
    placed = np.zeros(n, dtype=np.bool_)
    order = np.empty(n, dtype=np.int64)
    packed = np.int64(0)
    s_final = np.int64(0)
    for t in range(n):
        pick = -1
        pe = -1
        po = -1
        ps = np.int64(0)
        if t == 0:
            pick = _largest_surface_item(dims)
            ps, pe, po = best_placement(ems, n_ems, dims[pick], bin_dims)
        else:
            best_w = np.int64(0)
            for i in range(n):
                if placed[i]:
                    continue
                s, e, o = best_placement(ems, n_ems, dims[i], bin_dims)
                a, b, c = _oriented(dims[i], o)
                L = max(bin_dims[0], ems[e, 0] + a)
                W = max(bin_dims[1], ems[e, 1] + b)
                H = max(bin_dims[2], ems[e, 2] + c)
                w = L * W * H - packed - a * b * c
                if pick < 0 or w < best_w:
                    pick, best_w, ps, pe, po = i, w, s, e, o
        a, b, c = _oriented(dims[pick], po)
        x, y, z = ems[pe, 0], ems[pe, 1], ems[pe, 2]
        placed[pick] = True
        packed += a * b * c
        ems, n_ems = place_box(ems, n_ems, x, y, z, a, b, c, min_remaining_dim(dims, placed))
        bin_dims[0] = max(bin_dims[0], x + a)
        bin_dims[1] = max(bin_dims[1], y + b)
        bin_dims[2] = max(bin_dims[2], z + c)
        order[t] = pick
        s_final = ps
    return order, s_final


# ----------------------------------------------------------------------------------------------
# Best order under LSA: depth-first search over orders with shared prefixes and pruning
# ----------------------------------------------------------------------------------------------


@njit(cache=True)
def bin_bound(bin_dims, maxima, volume):
    """Least surface of any bin that contains ``bin_dims`` and the items and has ``volume``.

    The final bin's sorted dims dominate the current bin's sorted dims and the items' sorted
    maxima (``maxima``, descending); minimising the surface under those bounds and the volume is the
    water-filling problem of :func:`packzoo.envs.packing.lower_bound`. Continuous, so a valid bound.
    """
    # sort the bin's dims descending (scalars: no allocation in this hot path)
    p0, p1, p2 = float(bin_dims[0]), float(bin_dims[1]), float(bin_dims[2])
    if p1 > p0:
        p0, p1 = p1, p0
    if p2 > p1:
        p1, p2 = p2, p1
    if p1 > p0:
        p0, p1 = p1, p0
    a = max(p0, maxima[0])
    b = max(p1, maxima[1])
    c = max(p2, maxima[2])
    V = float(volume)
    s = V ** (1.0 / 3.0)
    if s >= a:
        return 6.0 * s * s
    t = (V / a) ** 0.5
    if t >= b:
        return 2.0 * (2.0 * a * t + t * t)
    zz = max(c, V / (a * b))
    return 2.0 * (a * b + a * zz + b * zz)


@njit(cache=True)
def best_order_search(
    dims,
    dup_prev,
    maxima,
    volume,
    ems_buf,
    n_ems,
    bins,
    cand,
    cand_s,
    cand_eo,
    n_cand,
    ptr,
    path,
    placed,
    state,
    best_order,
    budget,
):
    """Resumable depth-first search for the order whose LSA packing has the least surface.

    Every node is a prefix of an order; its EMS list and bin are computed once and shared by all
    the orders that extend it. Children are tried by increasing surface; a child whose bin bound
    (:func:`bin_bound`) is no better than the incumbent is cut, since the bin never shrinks. Among
    identical items only the lowest-index unplaced one is tried (``dup_prev``).

    All state lives in the arrays passed in, so a call returns after ``budget`` node expansions
    and the next call continues: Python checks the clock between calls.

    ``state`` = [depth, best surface, nodes expanded, started]. Returns 0 (budget used, not done),
    1 (search complete: ``best_order`` is optimal under LSA) or 2 (the EMS buffer is too small;
    nothing was changed, grow ``ems_buf`` and call again).
    """
    n = dims.shape[0]
    cap = ems_buf.shape[1]
    used = 0
    if state[3] == 0:
        # Expand the root: the empty packing.
        state[3] = 1
        _expand(dims, dup_prev, maxima, volume, ems_buf, n_ems, bins, cand, cand_s, cand_eo, n_cand, ptr, placed, state, 0)
    while True:
        if used >= budget:
            return 0
        d = state[0]
        if ptr[d] >= n_cand[d]:
            if d == 0:
                return 1
            state[0] = d - 1
            placed[path[d - 1]] = False
            continue
        k = ptr[d]
        s = cand_s[d, k]
        if s >= state[1]:
            # Children are sorted by surface: every later one is cut too.
            ptr[d] = n_cand[d]
            continue
        i = cand[d, k]
        if d + 1 == n:
            ptr[d] = k + 1
            path[d] = i
            state[1] = s
            for t in range(n):
                best_order[t] = path[t]
            continue
        e = cand_eo[d, k, 0]
        o = cand_eo[d, k, 1]
        a, b, c = _oriented(dims[i], o)
        x, y, z = ems_buf[d, e, 0], ems_buf[d, e, 1], ems_buf[d, e, 2]
        placed[i] = True
        new, k2 = place_box(ems_buf[d, : n_ems[d]], n_ems[d], x, y, z, a, b, c, min_remaining_dim(dims, placed))
        if k2 > cap:
            placed[i] = False
            return 2
        ptr[d] = k + 1
        path[d] = i
        for r in range(k2):
            for q in range(6):
                ems_buf[d + 1, r, q] = new[r, q]
        n_ems[d + 1] = k2
        bins[d + 1, 0] = max(bins[d, 0], x + a)
        bins[d + 1, 1] = max(bins[d, 1], y + b)
        bins[d + 1, 2] = max(bins[d, 2], z + c)
        state[0] = d + 1
        _expand(dims, dup_prev, maxima, volume, ems_buf, n_ems, bins, cand, cand_s, cand_eo, n_cand, ptr, placed, state, d + 1)
        used += 1
        state[2] += 1


@njit(cache=True)
def _expand(dims, dup_prev, maxima, volume, ems_buf, n_ems, bins, cand, cand_s, cand_eo, n_cand, ptr, placed, state, d):
    """Compute the children of the node at depth ``d``: LSA surfaces, cut by the bound, sorted."""
    n = dims.shape[0]
    m = 0
    child_bin = np.empty(3, dtype=np.int64)
    for i in range(n):
        if placed[i]:
            continue
        j = dup_prev[i]
        if j >= 0 and not placed[j]:
            continue  # an identical item with a lower index comes first
        s, e, o = best_placement(ems_buf[d], n_ems[d], dims[i], bins[d])
        if s >= state[1]:
            continue
        a, b, c = _oriented(dims[i], o)
        child_bin[0] = max(bins[d, 0], ems_buf[d, e, 0] + a)
        child_bin[1] = max(bins[d, 1], ems_buf[d, e, 1] + b)
        child_bin[2] = max(bins[d, 2], ems_buf[d, e, 2] + c)
        # Surfaces are even integers, so an improvement is at least 2 below the incumbent.
        if bin_bound(child_bin, maxima, volume) > state[1] - 1.0:
            continue
        # insertion sort by (surface, index)
        r = m
        while r > 0 and cand_s[d, r - 1] > s:
            cand_s[d, r] = cand_s[d, r - 1]
            cand[d, r] = cand[d, r - 1]
            cand_eo[d, r, 0] = cand_eo[d, r - 1, 0]
            cand_eo[d, r, 1] = cand_eo[d, r - 1, 1]
            r -= 1
        cand_s[d, r] = s
        cand[d, r] = i
        cand_eo[d, r, 0] = e
        cand_eo[d, r, 1] = o
        m += 1
    n_cand[d] = m
    ptr[d] = 0


# ----------------------------------------------------------------------------------------------
# LWS with the extreme-point placement
# ----------------------------------------------------------------------------------------------


@njit(cache=True)
def lws_ep(dims):
    """LWS order rule with the extreme-point placement: the same rule as :func:`lws_lsa` (the
    loop is written twice on purpose; see the module docstring).

    Returns (order int64[n], final surface).
    """
    n = dims.shape[0]
    points = np.zeros((6 * n + 1, 3), dtype=np.int64)
    npts = 1
    boxes = np.zeros((n, 6), dtype=np.int64)
    nb = 0
    bin_dims = np.zeros(3, dtype=np.int64)
    placed = np.zeros(n, dtype=np.bool_)
    order = np.empty(n, dtype=np.int64)
    packed = np.int64(0)
    s_final = np.int64(0)
    for t in range(n):
        pick = -1
        pp = -1
        po = -1
        ps = np.int64(0)
        if t == 0:
            pick = _largest_surface_item(dims)
            ps, pp, po = ep_best(points, npts, boxes, nb, dims[pick], bin_dims)
        else:
            best_w = np.int64(0)
            for i in range(n):
                if placed[i]:
                    continue
                s, p, o = ep_best(points, npts, boxes, nb, dims[i], bin_dims)
                a, b, c = _oriented(dims[i], o)
                L = max(bin_dims[0], points[p, 0] + a)
                W = max(bin_dims[1], points[p, 1] + b)
                H = max(bin_dims[2], points[p, 2] + c)
                w = L * W * H - packed - a * b * c
                if pick < 0 or w < best_w:
                    pick, best_w, ps, pp, po = i, w, s, p, o
        a, b, c = _oriented(dims[pick], po)
        x, y, z = points[pp, 0], points[pp, 1], points[pp, 2]
        placed[pick] = True
        packed += a * b * c
        points, npts, nb = ep_place(points, npts, boxes, nb, x, y, z, a, b, c)
        bin_dims[0] = max(bin_dims[0], x + a)
        bin_dims[1] = max(bin_dims[1], y + b)
        bin_dims[2] = max(bin_dims[2], z + c)
        order[t] = pick
        s_final = ps
    return order, s_final
