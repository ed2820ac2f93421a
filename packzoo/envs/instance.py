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
#: The container modes. free: one bin of free size, least surface (Hu et al. 2017); base: a fixed
#: L x W footprint and free height, least height (pallets); container: one fixed L x W x H
#: container, most packed volume, items that do not fit stay out (single container loading);
#: bins: identical L x W x H bins, every item packed, fewest bins (Martello, Pisinger, Vigo 2000).
MODES = ("free", "base", "container", "bins")
#: "This side up": the orientations that keep the item's h along z, (l, w, h) and (w, l, h).
UPRIGHT = (0, 2)
_ORIENTATION_WORDS = {"all": tuple(range(6)), "upright": UPRIGHT, "fixed": (0,)}
_DICT_KEYS = ("dims", "names", "mode", "container", "orientations", "support", "weights", "max_weight")


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


def _check_weight(i: int, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise InstanceError(f"item {i} weight: expected a positive number, got {v!r}")
    f = float(v)
    if not math.isfinite(f) or f <= 0:
        raise InstanceError(f"item {i} weight: must be positive and finite, got {f}")
    return f


def _check_side(mode: str, k: int, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or int(v) <= 0:
        if isinstance(v, float) and v.is_integer() and v > 0:
            v = int(v)
        else:
            raise InstanceError(f"container side {k} of mode {mode!r}: expected a positive integer, got {v!r}")
    if int(v) > MAX_EDGE_SUM:
        raise InstanceError(f"container side {k}: {int(v)} exceeds the supported {MAX_EDGE_SUM}")
    return int(v)


def _normalise_orientations(n: int, spec: Any) -> tuple[tuple[int, ...], ...]:
    if isinstance(spec, str):
        if spec not in _ORIENTATION_WORDS:
            raise InstanceError(f"orientations: expected one of {sorted(_ORIENTATION_WORDS)} or one entry per item, got {spec!r}")
        return tuple(_ORIENTATION_WORDS[spec] for _ in range(n))
    try:
        rows = list(spec)
    except TypeError:
        raise InstanceError(f"orientations: expected one entry per item, got {spec!r}") from None
    if len(rows) != n:
        raise InstanceError(f"orientations: {len(rows)} entries given for {n} items")
    out = []
    for i, r in enumerate(rows):
        if isinstance(r, str):
            if r not in _ORIENTATION_WORDS:
                raise InstanceError(f"item {i} orientations: expected one of {sorted(_ORIENTATION_WORDS)} or indices 0..5, got {r!r}")
            out.append(_ORIENTATION_WORDS[r])
            continue
        try:
            idx = list(r)
        except TypeError:
            raise InstanceError(f"item {i} orientations: expected a word or a list of indices 0..5, got {r!r}") from None
        if not idx:
            raise InstanceError(f"item {i} orientations: at least one orientation must be allowed")
        for o in idx:
            if isinstance(o, bool) or not isinstance(o, numbers.Integral) or not 0 <= int(o) < 6:
                raise InstanceError(f"item {i} orientations: {o!r} is not an orientation index 0..5")
        out.append(tuple(sorted({int(o) for o in idx})))
    return tuple(out)


@dataclass(frozen=True, eq=False)
class Instance:
    """N cuboid items with positive integer dimensions, the container mode, and the constraints.

    Limits (enforced here, so that the engine's int64 arithmetic is exact for every accepted
    instance): every dimension is at most ``MAX_DIM`` = 1,000,000, and the items' longest edges
    sum to at most ``MAX_EDGE_SUM`` = 2**21 - 1 = 2,097,151 (no bin side can exceed that sum, so
    every bin surface, bin volume and the total volume fit in int64). For example 1,000 items of
    up to 2,000 (mm) each are fine. Container sides are at most ``MAX_EDGE_SUM`` too.

    Args:
        dims: N rows of (l, w, h): a list of triples or an array of shape (N, 3).
        names: optional item names, one per item (a list or tuple; each is turned into a str).
        max_items: the largest N accepted.
        mode: one of :data:`MODES`: "free" (one bin of free size, least surface; the default),
            "base" (fixed L x W footprint, least height), "container" (one fixed L x W x H
            container, most packed volume; items that do not fit stay out), "bins" (identical
            L x W x H bins, fewest bins).
        container: None in free mode; ``(L, W)`` in base mode; ``(L, W, H)`` in container and
            bins modes.
        orientations: None (all 6 for every item), a word for every item ("all", "upright": the
            two that keep h vertical, "fixed": the given one), or one entry per item, each a word
            or a list of orientation indices 0..5 (the paper's order). Normalised into
            :attr:`allowed`, an (N, 6) bool array.
        support: None, or a fraction in (0, 1]: every item above the floor must rest on the tops
            of items (in the same bin) with at least this fraction of its base area (the 60/80/95%
            rules of Zhao et al. 2021).
        weights: None or one positive weight per item.
        max_weight: None or the most weight a container, bin or pallet holds (needs weights).

    Raises:
        InstanceError (a ValueError): naming the item and the problem for an empty list, a wrong
        shape, a non-integer, zero, negative, NaN or infinite dimension, a dimension above
        ``MAX_DIM``, longest edges summing above ``MAX_EDGE_SUM``, too many items, names that
        are not a sequence of one name per item, an unknown mode, a container of the wrong shape
        for the mode, a bad orientation list, support or weight, and an infeasible instance (in
        base and bins modes an item that fits in no allowed orientation; a weight limit that the
        items exceed when all must go in one).

    Example:
        >>> inst = Instance([[2, 3, 4], [1, 1, 5]])
        >>> inst.n, inst.volume
        (2, 29)
        >>> Instance([[2, 3, 4]], mode="bins", container=(4, 4, 4), orientations="upright").allowed_orientations(0)
        [0, 2]
    """

    dims: np.ndarray
    names: tuple[str, ...] | None = None
    max_items: int = field(default=DEFAULT_MAX_ITEMS, repr=False)
    mode: str = "free"
    container: tuple[int, ...] | None = None
    orientations: tuple[tuple[int, ...], ...] | None = None
    support: float | None = None
    weights: tuple[float, ...] | None = None
    max_weight: float | None = None

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
        n = len(out)
        if self.names is not None:
            if isinstance(self.names, (str, bytes)) or not isinstance(self.names, (list, tuple, np.ndarray)):
                raise InstanceError(
                    f"names must be a list or tuple of {n} names (one per item), got {self.names!r}"
                )
            names = tuple(str(s) for s in self.names)
            if len(names) != n:
                raise InstanceError(f"{len(names)} names given for {n} items")
            object.__setattr__(self, "names", names)
        self._init_mode(n)
        self._init_constraints(n)

    def _init_mode(self, n: int) -> None:
        if self.mode not in MODES:
            raise InstanceError(f"mode must be one of {MODES}, got {self.mode!r}")
        want = {"free": 0, "base": 2, "container": 3, "bins": 3}[self.mode]
        if want == 0:
            if self.container is not None:
                raise InstanceError(f"mode 'free' takes no container (the bin is free), got {self.container!r}")
            return
        c = self.container
        if c is None or isinstance(c, (str, bytes)) or not hasattr(c, "__len__") or len(c) != want:
            shape = "(L, W)" if want == 2 else "(L, W, H)"
            raise InstanceError(f"mode {self.mode!r} needs container={shape}, got {c!r}")
        object.__setattr__(self, "container", tuple(_check_side(self.mode, k, v) for k, v in enumerate(c)))

    def _init_constraints(self, n: int) -> None:
        if self.orientations is None:
            allowed = np.ones((n, 6), dtype=bool)
        else:
            orient = _normalise_orientations(n, self.orientations)
            # "all" for every item is no constraint: store None so equal instances compare equal.
            if all(len(o) == 6 for o in orient):
                orient = None
            object.__setattr__(self, "orientations", orient)
            allowed = np.zeros((n, 6), dtype=bool)
            for i, o in enumerate(orient or [tuple(range(6))] * n):
                allowed[i, list(o)] = True
        allowed.setflags(write=False)
        object.__setattr__(self, "allowed", allowed)
        if self.support is not None:
            s = self.support
            if isinstance(s, bool) or not isinstance(s, numbers.Real) or not 0 < float(s) <= 1:
                raise InstanceError(f"support must be a fraction in (0, 1], got {s!r}")
            object.__setattr__(self, "support", float(s))
        if self.weights is not None:
            w = self.weights
            if isinstance(w, (str, bytes)) or not hasattr(w, "__len__"):
                raise InstanceError(f"weights must be one positive number per item, got {w!r}")
            if len(w) != n:
                raise InstanceError(f"{len(w)} weights given for {n} items")
            object.__setattr__(self, "weights", tuple(_check_weight(i, v) for i, v in enumerate(w)))
        if self.max_weight is not None:
            m = self.max_weight
            if isinstance(m, bool) or not isinstance(m, numbers.Real) or not math.isfinite(float(m)) or float(m) <= 0:
                raise InstanceError(f"max_weight must be a positive number, got {m!r}")
            if self.weights is None:
                raise InstanceError("max_weight needs weights (one per item)")
            object.__setattr__(self, "max_weight", float(m))
            if self.mode in ("free", "base") and sum(self.weights) > self.max_weight:
                raise InstanceError(
                    f"the items weigh {sum(self.weights)} in all, more than max_weight={self.max_weight}, "
                    f"and mode {self.mode!r} packs them all into one"
                )
            if self.mode == "bins":
                for i, w in enumerate(self.weights):
                    if w > self.max_weight:
                        raise InstanceError(f"item {i} weighs {w}, more than a bin holds (max_weight={self.max_weight})")
        if self.mode in ("base", "bins"):
            for i in range(n):
                if not any(self.fits(i, o) for o in range(6) if allowed[i, o]):
                    raise InstanceError(
                        f"item {i} {tuple(self.dims[i].tolist())} fits the {self.mode} {self.container} "
                        "in none of its allowed orientations"
                    )

    @property
    def n(self) -> int:
        """Number of items."""
        return int(self.dims.shape[0])

    @property
    def volume(self) -> int:
        """Total item volume."""
        return int(np.prod(self.dims, axis=1).sum())

    @property
    def item_volumes(self) -> np.ndarray:
        """Each item's volume, an int64 array (N,)."""
        return np.prod(self.dims, axis=1)

    @property
    def is_constrained(self) -> bool:
        """True if orientation limits, a support rule or weights are set."""
        return self.orientations is not None or self.support is not None or self.weights is not None

    def oriented(self, item: int, orientation: int) -> tuple[int, int, int]:
        """Dimensions along (x, y, z) of ``item`` in ``orientation`` (0..5, the paper's order)."""
        d = self.dims[item]
        a, b, c = ORIENTATIONS[orientation]
        return int(d[a]), int(d[b]), int(d[c])

    def fits(self, item: int, orientation: int) -> bool:
        """True if ``item`` in ``orientation`` fits inside the container (base: the footprint;
        free: always), whether or not the orientation is allowed."""
        if self.container is None:
            return True
        shape = self.oriented(item, orientation)
        return all(s <= c for s, c in zip(shape, self.container))

    def distinct_orientations(self, item: int) -> list[int]:
        """Orientation indices giving distinct shapes (the first of each repeated shape), all 6
        considered (see :meth:`allowed_orientations` for the ones the constraints allow)."""
        seen: set[tuple[int, int, int]] = set()
        out = []
        for o in range(6):
            s = self.oriented(item, o)
            if s not in seen:
                seen.add(s)
                out.append(o)
        return out

    def allowed_orientations(self, item: int) -> list[int]:
        """The allowed orientations giving distinct shapes (the first allowed index of each)."""
        seen: set[tuple[int, int, int]] = set()
        out = []
        for o in range(6):
            if not self.allowed[item, o]:
                continue
            s = self.oriented(item, o)
            if s not in seen:
                seen.add(s)
                out.append(o)
        return out

    def orientation_allowed(self, item: int, orientation: int) -> bool:
        """True if ``orientation`` gives ``item`` a shape that an allowed orientation gives (a cube
        may lie any way: the shape is what the constraint is about)."""
        shape = self.oriented(item, orientation)
        return any(self.oriented(item, o) == shape for o in range(6) if self.allowed[item, o])

    def _key(self) -> tuple:
        return (self.dims.tobytes(), self.names, self.mode, self.container, self.orientations,
                self.support, self.weights, self.max_weight)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Instance):
            return NotImplemented
        return self.dims.shape == other.dims.shape and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __len__(self) -> int:
        return self.n

    def to_dict(self) -> dict[str, Any]:
        """``{"dims": [[l, w, h], ...]}``, with ``"names"``, ``"mode"`` (when not free),
        ``"container"``, ``"orientations"``, ``"support"``, ``"weights"`` and ``"max_weight"``
        when set."""
        d: dict[str, Any] = {"dims": self.dims.tolist()}
        if self.names is not None:
            d["names"] = list(self.names)
        if self.mode != "free":
            d["mode"] = self.mode
            d["container"] = list(self.container)
        if self.orientations is not None:
            d["orientations"] = [list(o) for o in self.orientations]
        if self.support is not None:
            d["support"] = self.support
        if self.weights is not None:
            d["weights"] = list(self.weights)
        if self.max_weight is not None:
            d["max_weight"] = self.max_weight
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Instance:
        """The Instance of :meth:`to_dict`'s dict, checked as the constructor checks; unknown keys
        are refused (a misspelt constraint must not be dropped silently)."""
        if not isinstance(d, dict) or "dims" not in d:
            raise InstanceError("an instance dict needs a 'dims' key")
        unknown = sorted(set(d) - set(_DICT_KEYS))
        if unknown:
            raise InstanceError(f"unknown instance keys {unknown}; known: {list(_DICT_KEYS)}")
        return cls(d["dims"], d.get("names"), mode=d.get("mode", "free"), container=d.get("container"),
                   orientations=d.get("orientations"), support=d.get("support"), weights=d.get("weights"),
                   max_weight=d.get("max_weight"))

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
