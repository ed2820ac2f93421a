"""Random coding of very high-dimensional sparse features (the talk's section 2).

A row of a click log is a few bags of feature ids (a user id, an age, a city; an item id, its
genres, ...), one bag per field. One-hot coding makes it a binary vector with hundreds of millions
of coordinates. :class:`RandomCoding` maps that vector to ``d`` dimensions with a sparse random
sign matrix (Achlioptas 2003; the count-sketch / feature-hashing family of Weinberger et al. 2009)
whose columns are never stored: the ``s`` non-zeros of the column of id ``x`` in field ``f`` sit at
rows ``h_j(f, x) mod d`` with signs from another bit of ``h_j``, value ``1/sqrt(s)``, for ``j < s``
and a seeded 64-bit mixing hash ``h_j`` (SplitMix64's finaliser). So:

- any id in the whole int64 space works and nothing is looked up: memory does not grow with the
  id space (only with the batch);
- it is deterministic given the seed (the same id always gets the same code, in any process);
- it is a Johnson-Lindenstrauss map: ``E |Rx - Ry|^2 = |x - y|^2`` and, for ``d`` of
  :func:`jl_dim`, each pairwise distance of n vectors keeps within ``1 +- eps`` with probability
  at least ``1 - 2/n^2`` (Kane & Nelson 2014 for sparse JL; the tests check it as a property).

A learned linear layer after the coding (``W @ code``) equals the sum of ``s`` signed columns of
``W`` (a multi-hash signed embedding with ``d`` shared rows, close to the hash embeddings of
Svenstrup et al. 2017 and to Deep Hash Embedding, Kang et al. 2021); :meth:`RandomCoding.sparse`
returns the non-zeros so a model computes that product with ``embedding_bag`` instead of a dense
``(batch, d)`` matrix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from packzoo.zoo.data.hashing import hash_ids, mix64, salt


class CodingError(ValueError):
    """Bad arguments or input of the random coding; the message names the problem."""


def _check_ids(ids: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(ids)
    if a.dtype.kind not in "iu":
        raise CodingError(f"{name} must be an integer array (int64 ids), got dtype {a.dtype}")
    if a.dtype == np.uint64:
        return a.view(np.int64)
    return a.astype(np.int64, copy=False)


@dataclass(frozen=True)
class RandomCoding:
    """Seeded sparse random-sign coding of bags of int64 ids, one field at a time.

    Args:
        dim: ``d``, the dimension of the code.
        nnz: ``s``, non-zeros per id column (1 = feature hashing / count sketch; 2-8 spread the id
            over several coordinates so distinct ids collide on all of them with probability ~(1/d)^s).
        seed: the seed of the hash; the same seed gives the same codes everywhere.

    Example:
        >>> rc = RandomCoding(dim=64, nnz=4, seed=0)
        >>> ids = np.array([[12, 2**62], [7, -5]])          # 2 rows, bags of 2 ids
        >>> rc.encode(ids, field=0).shape
        (2, 64)
    """

    dim: int
    nnz: int = 4
    seed: int = 0

    def __post_init__(self) -> None:
        for name, v, lo in (("dim", self.dim, 1), ("nnz", self.nnz, 1)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < lo:
                raise CodingError(f"{name} must be an integer >= {lo}, got {v!r}")
        if self.nnz > self.dim:
            raise CodingError(f"nnz ({self.nnz}) cannot exceed dim ({self.dim})")
        if not isinstance(self.seed, (int, np.integer)) or isinstance(self.seed, bool):
            raise CodingError(f"seed must be an integer, got {self.seed!r}")

    def columns(self, ids: np.ndarray, field: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The non-zeros of each id's column: ``(rows, signs)``, each of shape ``ids.shape + (nnz,)``.

        ``rows`` are int64 in ``[0, dim)``; ``signs`` float32 ``+-1/sqrt(nnz)``.
        """
        x = _check_ids(ids, "ids")
        rows = np.empty(x.shape + (self.nnz,), dtype=np.int64)
        signs = np.empty(x.shape + (self.nnz,), dtype=np.float32)
        scale = np.float32(1.0 / math.sqrt(self.nnz))
        d = np.uint64(self.dim)
        pow2 = self.dim & (self.dim - 1) == 0
        # one full hash of (id, field, seed), then one cheap mix per non-zero
        z = hash_ids(x, salt(self.seed, field))
        for j in range(self.nnz):
            with np.errstate(over="ignore"):
                h = mix64(z + salt(self.seed, field, j + 1))
            # low bits pick the row, the top bit the sign: independent bits of one good hash.
            rows[..., j] = (h & (d - np.uint64(1))) if pow2 else (h % d)
            signs[..., j] = scale
            signs[..., j][(h >> np.uint64(63)) == 0] = -scale
        return rows, signs

    def sparse(self, ids: np.ndarray, weights: np.ndarray | None = None, field: int = 0
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The codes of a batch of bags as COO triples ``(batch_row, code_row, value)``.

        Args:
            ids: int64 ``(batch, bag)`` (or ``(batch,)`` for single ids).
            weights: ``(batch, bag)`` weights of the ids (0 = padding); None = all 1.
            field: the field index (a field's ids are coded independently of other fields').
        """
        x = _check_ids(ids, "ids")
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2:
            raise CodingError(f"ids must have shape (batch,) or (batch, bag), got {x.shape}")
        w = np.ones(x.shape, np.float32) if weights is None else np.asarray(weights, np.float32).reshape(x.shape[0], -1)
        if w.shape != x.shape:
            raise CodingError(f"weights shape {w.shape} differs from ids shape {x.shape}")
        rows, signs = self.columns(x, field)
        vals = signs * w[..., None]
        b = np.broadcast_to(np.arange(x.shape[0], dtype=np.int64)[:, None, None], rows.shape)
        return b.reshape(-1), rows.reshape(-1), vals.reshape(-1)

    def encode(self, ids: np.ndarray, weights: np.ndarray | None = None, field: int = 0) -> np.ndarray:
        """Dense codes ``(batch, dim)`` float32 of bags of ids (the sum of their columns, weighted)."""
        b, r, v = self.sparse(ids, weights, field)
        n = np.asarray(ids).shape[0]
        out = np.bincount(b * self.dim + r, weights=v, minlength=n * self.dim)
        return out.astype(np.float32).reshape(n, self.dim)

    def encode_sparse_vectors(self, indices: list[np.ndarray], values: list[np.ndarray], field: int = 0) -> np.ndarray:
        """Codes of sparse vectors given as (indices, values) pairs: ``(len(indices), dim)`` float64."""
        out = np.zeros((len(indices), self.dim))
        for i, (ix, vx) in enumerate(zip(indices, values)):
            rows, signs = self.columns(np.asarray(ix, dtype=np.int64), field)
            np.add.at(out[i], rows.reshape(-1), (signs.astype(np.float64) * np.asarray(vx, float)[:, None]).reshape(-1))
        return out


def jl_dim(n: int, eps: float) -> int:
    """The Johnson-Lindenstrauss dimension of Dasgupta & Gupta (2003): ``ceil(4 ln n / (eps^2/2 - eps^3/3))``.

    For a Gaussian map of that dimension each pair of ``n`` points keeps its squared distance within
    ``1 +- eps`` with probability at least ``1 - 2/n^2`` (so all pairs at once with probability at
    least ``1/n``, by the union bound); the tests check the sparse random-sign coding meets the
    per-pair bound.
    """
    if n < 2 or not 0 < eps < 1:
        raise CodingError(f"need n >= 2 and 0 < eps < 1, got n={n}, eps={eps}")
    return math.ceil(4 * math.log(n) / (eps**2 / 2 - eps**3 / 3))


__all__ = ["CodingError", "RandomCoding", "hash_ids", "jl_dim", "mix64", "salt"]  # hashes re-exported
