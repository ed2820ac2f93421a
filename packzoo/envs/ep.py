"""The extreme-point placement rule (Crainic, Perboli and Tadei 2008), beside LSA in the engine.

Candidate positions are the extreme points of the boxes placed so far; an item goes to the point
and orientation that grow the bin's surface least (a bounding-box growth merit). The kernels work
on plain int64 arrays and are compiled by numba (``cache=True``), like :mod:`packzoo.envs.ems`.

:func:`ep_pack_order` has the shape of :func:`packzoo.envs.ems.pack_order` on purpose: one loop
per placement rule keeps numba from calling the rule through a first-class function in the
hottest loop.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from packzoo.envs.ems import _oriented, orientation_is_first

@njit(cache=True)
def _overlaps(boxes, nb, x, y, z, a, b, c):
    for j in range(nb):
        if (
            x < boxes[j, 0] + boxes[j, 3]
            and boxes[j, 0] < x + a
            and y < boxes[j, 1] + boxes[j, 4]
            and boxes[j, 1] < y + b
            and z < boxes[j, 2] + boxes[j, 5]
            and boxes[j, 2] < z + c
        ):
            return True
    return False


@njit(cache=True)
def ep_best(points, npts, boxes, nb, d, bin_dims):
    """Extreme-point placement of dims ``d``: every EP x every distinct orientation that overlaps no
    placed box; least resulting bin surface (the bounding-box growth), then least bin volume, then
    the lowest point (z, then y, then x), then the earlier orientation.

    Returns (surface, point index, orientation).
    """
    best_s = np.int64(-1)
    best_v = np.int64(0)
    best_p = -1
    best_o = -1
    for o in range(6):
        if not orientation_is_first(d, o):
            continue
        a, b, c = _oriented(d, o)
        for p in range(npts):
            x, y, z = points[p, 0], points[p, 1], points[p, 2]
            L = max(bin_dims[0], x + a)
            W = max(bin_dims[1], y + b)
            H = max(bin_dims[2], z + c)
            s = 2 * (L * W + L * H + W * H)
            if best_p >= 0 and s > best_s:
                continue
            v = L * W * H
            if best_p >= 0 and s == best_s:
                if v > best_v:
                    continue
                if v == best_v:
                    q = points[best_p]
                    if (z, y, x) > (q[2], q[1], q[0]):
                        continue
                    if (z, y, x) == (q[2], q[1], q[0]):
                        continue  # same point: keep the earlier orientation
            if _overlaps(boxes, nb, x, y, z, a, b, c):
                continue
            best_s, best_v, best_p, best_o = s, v, p, o
    return best_s, best_p, best_o


@njit(cache=True)
def _project(boxes, nb, px, py, pz, axis):
    """Slide point (px, py, pz) towards the origin along ``axis`` until it meets a box or the wall."""
    p = (px, py, pz)
    u = (axis + 1) % 3
    v = (axis + 2) % 3
    stop = np.int64(0)
    for j in range(nb):
        hi = boxes[j, axis] + boxes[j, 3 + axis]
        if hi > p[axis] or hi <= stop:
            continue
        if boxes[j, u] <= p[u] < boxes[j, u] + boxes[j, 3 + u] and boxes[j, v] <= p[v] < boxes[j, v] + boxes[j, 3 + v]:
            stop = hi
    return stop


@njit(cache=True)
def ep_place(points, npts, boxes, nb, x, y, z, a, b, c):
    """Place box (x, y, z, a, b, c); update the extreme points. Returns (points, npts, nb).

    The new points are Crainic et al.'s six projections: the box's corners (x+a, y, z), (x, y+b, z)
    and (x, y, z+c), each slid towards the origin along the two other axes. Points inside a box
    are dropped, and duplicates.
    """
    boxes[nb, 0], boxes[nb, 1], boxes[nb, 2] = x, y, z
    boxes[nb, 3], boxes[nb, 4], boxes[nb, 5] = a, b, c
    nb += 1
    new = np.empty((6, 3), dtype=np.int64)
    corners = ((x + a, y, z), (x, y + b, z), (x, y, z + c))
    k = 0
    for ci in range(3):
        cx, cy, cz = corners[ci]
        for axis in range(3):
            if axis == ci:
                continue
            q0, q1, q2 = cx, cy, cz
            if axis == 0:
                q0 = _project(boxes, nb, cx, cy, cz, 0)
            elif axis == 1:
                q1 = _project(boxes, nb, cx, cy, cz, 1)
            else:
                q2 = _project(boxes, nb, cx, cy, cz, 2)
            new[k, 0], new[k, 1], new[k, 2] = q0, q1, q2
            k += 1
    if npts + 6 > points.shape[0]:
        grown = np.empty((2 * points.shape[0] + 6, 3), dtype=np.int64)
        grown[:npts] = points[:npts]
        points = grown
    # drop old points covered by the new box
    m = 0
    for p in range(npts):
        if x <= points[p, 0] < x + a and y <= points[p, 1] < y + b and z <= points[p, 2] < z + c:
            continue
        points[m] = points[p]
        m += 1
    for r in range(6):
        inside = False
        for j in range(nb):
            if (
                boxes[j, 0] <= new[r, 0] < boxes[j, 0] + boxes[j, 3]
                and boxes[j, 1] <= new[r, 1] < boxes[j, 1] + boxes[j, 4]
                and boxes[j, 2] <= new[r, 2] < boxes[j, 2] + boxes[j, 5]
            ):
                inside = True
                break
        if inside:
            continue
        dup = False
        for p in range(m):
            if points[p, 0] == new[r, 0] and points[p, 1] == new[r, 1] and points[p, 2] == new[r, 2]:
                dup = True
                break
        if not dup:
            points[m] = new[r]
            m += 1
    return points, m, nb


@njit(cache=True)
def ep_pack_order(dims, order, out):
    """Pack ``order`` with extreme points; write (item, orientation, x, y, z) rows to ``out``.

    Returns the final surface area.
    """
    n = order.shape[0]
    points = np.zeros((6 * n + 1, 3), dtype=np.int64)
    npts = 1
    boxes = np.zeros((n, 6), dtype=np.int64)
    nb = 0
    bin_dims = np.zeros(3, dtype=np.int64)
    s = np.int64(0)
    for t in range(n):
        i = order[t]
        s, p, o = ep_best(points, npts, boxes, nb, dims[i], bin_dims)
        a, b, c = _oriented(dims[i], o)
        x, y, z = points[p, 0], points[p, 1], points[p, 2]
        points, npts, nb = ep_place(points, npts, boxes, nb, x, y, z, a, b, c)
        bin_dims[0] = max(bin_dims[0], x + a)
        bin_dims[1] = max(bin_dims[1], y + b)
        bin_dims[2] = max(bin_dims[2], z + c)
        out[t, 0], out[t, 1], out[t, 2], out[t, 3], out[t, 4] = i, o, x, y, z
    return s


@njit(cache=True)
def ep_evaluate(dims, orders, out):
    """Surfaces of the extreme-point packings of a batch of orders of one instance."""
    B = orders.shape[0]
    res = np.empty(B, dtype=np.int64)
    for bi in range(B):
        res[bi] = ep_pack_order(dims, orders[bi], out[bi])
    return res


