"""Instance: the items of one packing problem, validated on construction."""

from __future__ import annotations

import json
import math
import numbers
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from packzoo._io import atomic_write_text

DEFAULT_MAX_ITEMS = 1000
# The limits that keep every number the engine computes exact. The numba kernels (LSA in ems.py,
# extreme points in ep.py, the LWS order rule) work in int64. A bin side is at most S, the sum over
# items of each item's longest edge (all items stacked along one axis), so every coordinate, EMS
# bound and bin side is <= S, every bin surface 2(LW + LH + WH) <= 6 S^2, and every bin volume
# L*W*H (LWS's waste, the extreme-point tie-break) <= S^3; the total item volume is <= S^3 too
# (sum a_i^3 <= (sum a_i)^3). S <= 2**21 - 1 makes S^3 < 2**63: nothing overflows int64, and
# every surface (< 2**45) is exact in float64. A bound on surfaces alone (6 S^2 < 2**62) would not
# do: the bin volumes would overflow first. The per-edge limit is the older, per-item check.
MAX_DIM = 10**6
MAX_EDGE_SUM = 2**21 - 1
# Orientations in the paper's order: indices into an item's (l, w, h).
ORIENTATIONS = np.array(
    [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]], dtype=np.int64
)


class InstanceError(ValueError):
    """Bad input for an Instance; the message names the item and the problem."""


def _check_dim(i: int, j: int, v: Any) -> int:
    where = f"item {i} dim {j}"
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise InstanceError(f"{where}: expected a positive integer, got {v!r}")
    if isinstance(v, numbers.Integral):
        iv = int(v)
    else:
        fv = float(v)
        if math.isnan(fv) or math.isinf(fv):
            raise InstanceError(f"{where}: expected a positive integer, got {fv}")
        if not fv.is_integer():
            raise InstanceError(f"{where}: expected an integer, got {fv}")
        iv = int(fv)
    if iv <= 0:
        raise InstanceError(f"{where}: must be positive, got {iv}")
    if iv > MAX_DIM:
        raise InstanceError(f"{where}: {iv} exceeds the largest supported dimension {MAX_DIM}")
    return iv


@dataclass(frozen=True, eq=False)
class Instance:
    """N cuboid items with positive integer dimensions.

    Limits (enforced here, so that the engine's int64 arithmetic is exact for every accepted
    instance): every dimension is at most ``MAX_DIM`` = 1,000,000, and the items' longest edges
    sum to at most ``MAX_EDGE_SUM`` = 2**21 - 1 = 2,097,151 (no bin side can exceed that sum, so
    every bin surface, bin volume and the total volume fit in int64). For example 1,000 items of
    up to 2,000 (mm) each are fine.

    Args:
        dims: N rows of (l, w, h): a list of triples or an array of shape (N, 3).
        names: optional item names, one per item (a list or tuple; each is turned into a str).
        max_items: the largest N accepted.

    Raises:
        InstanceError (a ValueError): naming the item and the problem for an empty list, a wrong
        shape, a non-integer, zero, negative, NaN or infinite dimension, a dimension above
        ``MAX_DIM``, longest edges summing above ``MAX_EDGE_SUM``, too many items, or names that
        are not a sequence of one name per item.

    Example:
        >>> inst = Instance([[2, 3, 4], [1, 1, 5]])
        >>> inst.n, inst.volume
        (2, 29)
    """

    dims: np.ndarray
    names: tuple[str, ...] | None = None
    max_items: int = field(default=DEFAULT_MAX_ITEMS, repr=False)

    def __post_init__(self) -> None:
        raw = self.dims
        if isinstance(raw, np.ndarray):
            rows = raw.tolist() if raw.ndim == 2 else None
            if raw.ndim != 2 or (raw.size and raw.shape[1] != 3):
                raise InstanceError(f"dims must have shape (N, 3), got array of shape {raw.shape}")
        else:
            try:
                rows = list(raw)
            except TypeError:
                raise InstanceError(f"dims must be a list of (l, w, h) triples, got {raw!r}") from None
        if len(rows) == 0:
            raise InstanceError("an instance needs at least one item, got none")
        if len(rows) > self.max_items:
            raise InstanceError(f"{len(rows)} items exceed the maximum of {self.max_items}")
        out = np.empty((len(rows), 3), dtype=np.int64)
        for i, row in enumerate(rows):
            if isinstance(row, (str, bytes)) or not hasattr(row, "__len__") or len(row) != 3:
                raise InstanceError(f"item {i}: expected 3 dimensions (l, w, h), got {row!r}")
            for j, v in enumerate(row):
                out[i, j] = _check_dim(i, j, v)
        # Python ints: the sum itself must not overflow before it is checked.
        edge_sum = sum(max(row) for row in out.tolist())
        if edge_sum > MAX_EDGE_SUM:
            raise InstanceError(
                f"the items' longest edges sum to {edge_sum}, more than the supported {MAX_EDGE_SUM} "
                "(2**21 - 1: beyond it bin volumes overflow the engine's int64); use smaller units"
            )
        out.setflags(write=False)
        object.__setattr__(self, "dims", out)
        if self.names is not None:
            if isinstance(self.names, (str, bytes)) or not isinstance(self.names, (list, tuple, np.ndarray)):
                raise InstanceError(
                    f"names must be a list or tuple of {len(out)} names (one per item), got {self.names!r}"
                )
            names = tuple(str(s) for s in self.names)
            if len(names) != len(out):
                raise InstanceError(f"{len(names)} names given for {len(out)} items")
            object.__setattr__(self, "names", names)

    @property
    def n(self) -> int:
        """Number of items."""
        return int(self.dims.shape[0])

    @property
    def volume(self) -> int:
        """Total item volume."""
        return int(np.prod(self.dims, axis=1).sum())

    def oriented(self, item: int, orientation: int) -> tuple[int, int, int]:
        """Dimensions along (x, y, z) of ``item`` in ``orientation`` (0..5, the paper's order)."""
        d = self.dims[item]
        a, b, c = ORIENTATIONS[orientation]
        return int(d[a]), int(d[b]), int(d[c])

    def distinct_orientations(self, item: int) -> list[int]:
        """Orientation indices giving distinct shapes (the first of each repeated shape)."""
        seen: set[tuple[int, int, int]] = set()
        out = []
        for o in range(6):
            s = self.oriented(item, o)
            if s not in seen:
                seen.add(s)
                out.append(o)
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Instance):
            return NotImplemented
        return np.array_equal(self.dims, other.dims) and self.names == other.names

    def __hash__(self) -> int:
        return hash((self.dims.tobytes(), self.names))

    def __len__(self) -> int:
        return self.n

    def to_dict(self) -> dict[str, Any]:
        """``{"dims": [[l, w, h], ...]}``, with ``"names"`` when the items have names."""
        d: dict[str, Any] = {"dims": self.dims.tolist()}
        if self.names is not None:
            d["names"] = list(self.names)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Instance:
        """The Instance of :meth:`to_dict`'s dict, checked as the constructor checks."""
        if not isinstance(d, dict) or "dims" not in d:
            raise InstanceError("an instance dict needs a 'dims' key")
        return cls(d["dims"], d.get("names"))

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Instance:
        """The Instance of :meth:`to_json`'s text; malformed JSON is an InstanceError."""
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise InstanceError(f"not valid JSON: {e}") from None
        return cls.from_dict(d)

    def save(self, path: str | os.PathLike) -> None:
        """Write JSON atomically (temp file, then rename)."""
        atomic_write_text(path, self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike) -> Instance:
        """The Instance :meth:`save` wrote to ``path``."""
        return cls.from_json(Path(path).read_text())
