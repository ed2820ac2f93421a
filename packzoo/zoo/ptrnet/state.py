"""A batch of packings in progress, for the decoder's dynamic features.

The paper's decoder sees only the items picked so far. Ours also sees the packing they make: at
each step, for every unplaced item, what LSA would do with it next (the bin's surface growth and
the empty volume it would leave), and the bin so far. These come from the env's own jitted
primitives (:func:`packzoo.envs.ems.best_placement`, :func:`place_box`), so the features describe
exactly the packing that the env (and the reward, :func:`evaluate_orders`) will build.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from packzoo.envs.ems import _oriented, best_placement, initial_ems, min_remaining_dim, place_box

N_ITEM_DYN = 3  # per-item: surface growth / s^2, waste after / V, new surface / current (log)
N_CTX = 5  # per-instance: sorted bin dims / s (3), packed volume share, current surface / s^2


@njit(cache=True)
def _features(dims, n, ems, n_ems, bins, placed, packed_vol, scale, total, item_f, ctx_f):
    B, N = dims.shape[0], dims.shape[1]
    for b in range(B):
        L, W, H = bins[b, 0], bins[b, 1], bins[b, 2]
        cur = 2 * (L * W + L * H + W * H)
        s2 = scale[b] * scale[b]
        a0 = max(L, max(W, H))
        c0 = min(L, min(W, H))
        m0 = L + W + H - a0 - c0
        ctx_f[b, 0] = a0 / scale[b]
        ctx_f[b, 1] = m0 / scale[b]
        ctx_f[b, 2] = c0 / scale[b]
        ctx_f[b, 3] = packed_vol[b] / total[b]
        ctx_f[b, 4] = cur / s2 / 6.0
        for j in range(N):
            if j >= n[b] or placed[b, j]:
                item_f[b, j, 0] = 0.0
                item_f[b, j, 1] = 0.0
                item_f[b, j, 2] = 0.0
                continue
            d = dims[b, j]
            s, e, o = best_placement(ems[b], n_ems[b], d, bins[b])
            x, y, z = ems[b, e, 0], ems[b, e, 1], ems[b, e, 2]
            p, q, r = _oriented(d, o)
            L2 = max(L, x + p)
            W2 = max(W, y + q)
            H2 = max(H, z + r)
            vol = d[0] * d[1] * d[2]
            item_f[b, j, 0] = (s - cur) / s2 / 6.0
            item_f[b, j, 1] = (L2 * W2 * H2 - packed_vol[b] - vol) / total[b]
            item_f[b, j, 2] = np.log(s / max(cur, 1.0)) if cur > 0 else 0.0


@njit(cache=True)
def _place(dims, n, ems, n_ems, bins, placed, packed_vol, idx):
    """Place item idx[b] (skip rows with idx < 0) by LSA; returns False if an EMS buffer is full."""
    B = dims.shape[0]
    cap = ems.shape[1]
    for b in range(B):
        i = idx[b]
        if i < 0:
            continue
        d = dims[b, i]
        s, e, o = best_placement(ems[b], n_ems[b], d, bins[b])
        a, bb, c = _oriented(d, o)
        x, y, z = ems[b, e, 0], ems[b, e, 1], ems[b, e, 2]
        placed[b, i] = True
        new, k = place_box(ems[b, : n_ems[b]], n_ems[b], x, y, z, a, bb, c, min_remaining_dim(dims[b, : n[b]], placed[b, : n[b]]))
        if k > cap:
            placed[b, i] = False  # undone: the caller grows the buffer and places this row again
            return False
        ems[b, :k] = new[:k]
        n_ems[b] = k
        bins[b, 0] = max(bins[b, 0], x + a)
        bins[b, 1] = max(bins[b, 1], y + bb)
        bins[b, 2] = max(bins[b, 2], z + c)
        packed_vol[b] += d[0] * d[1] * d[2]
    return True


class BatchPacker:
    """B packings in progress over padded dims (B, N, 3) with sizes n (B,).

    ``place(idx)`` packs item idx[b] into row b by LSA (-1: leave the row alone);
    ``features()`` returns (per-item (B, N, 3), per-instance (B, 5)) float32 arrays.
    """

    def __init__(self, dims: np.ndarray, n: np.ndarray, cap: int = 64) -> None:
        self.dims = np.ascontiguousarray(dims, dtype=np.int64)
        self.n = np.ascontiguousarray(n, dtype=np.int64)
        B, N, _ = self.dims.shape
        self.ems = np.zeros((B, cap, 6), dtype=np.int64)
        for b in range(B):
            self.ems[b, :1] = initial_ems(self.dims[b, : self.n[b]])
        self.n_ems = np.ones(B, dtype=np.int64)
        self.bins = np.zeros((B, 3), dtype=np.int64)
        self.placed = np.zeros((B, N), dtype=np.bool_)
        self.placed[np.arange(N)[None, :] >= self.n[:, None]] = True  # padding never constrains EMS pruning
        self.packed_vol = np.zeros(B, dtype=np.float64)
        vol = self.dims.prod(-1).astype(np.float64) * (~self.placed)
        self.total = vol.sum(-1)
        self.scale = np.cbrt(self.total)

    def copy_rows(self, rows: np.ndarray) -> BatchPacker:
        """A packer whose row k is a copy of row ``rows[k]`` (beam search)."""
        new = object.__new__(BatchPacker)
        for k in ("dims", "n", "ems", "n_ems", "bins", "placed", "packed_vol", "total", "scale"):
            setattr(new, k, np.ascontiguousarray(getattr(self, k)[rows]))
        return new

    def place(self, idx: np.ndarray) -> None:
        idx = np.ascontiguousarray(idx, dtype=np.int64)
        while not _place(self.dims, self.n, self.ems, self.n_ems, self.bins, self.placed, self.packed_vol, idx):
            # A row overflowed its EMS buffer: grow it and redo (rows already placed are skipped).
            grown = np.zeros((self.ems.shape[0], 2 * self.ems.shape[1], 6), dtype=np.int64)
            grown[:, : self.ems.shape[1]] = self.ems
            self.ems = grown
            idx = np.where(self.placed[np.arange(len(idx)), np.maximum(idx, 0)] & (idx >= 0), -1, idx)

    def features(self) -> tuple[np.ndarray, np.ndarray]:
        B, N, _ = self.dims.shape
        item_f = np.zeros((B, N, N_ITEM_DYN), dtype=np.float32)
        ctx_f = np.zeros((B, N_CTX), dtype=np.float32)
        _features(self.dims, self.n, self.ems, self.n_ems, self.bins, self.placed, self.packed_vol, self.scale, self.total, item_f, ctx_f)
        return item_f, ctx_f

    @property
    def surfaces(self) -> np.ndarray:
        L, W, H = self.bins[:, 0], self.bins[:, 1], self.bins[:, 2]
        return 2 * (L * W + L * H + W * H)
