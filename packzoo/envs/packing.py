"""Placements, packings, the independent validator and the lower bound.

The validator shares no code with the EMS engine: it checks a packing from first principles
(every item once, a legal orientation, a non-negative integer corner, no two boxes overlapping,
and each mode's container and each instance's constraints), so it can referee any solver, the
engine included.

Each container mode has its objective and its bound (:func:`bound`):

- free: the bin's surface area (minimise) against :func:`lower_bound`'s surface bound;
- base: the height (minimise) against the height bound (volume over footprint, tallest item);
- container: the packed volume (maximise) against an upper bound (container volume, volume of the
  items that fit);
- bins: the bins used (minimise) against the volume bound, the weight bound and, when every item
  has one orientation, Martello, Pisinger and Vigo's L1 and L2 bounds (Oper. Res. 48(2), 2000).

``packing.ratio`` is the objective against the bound, always >= 1, 1 being a proven optimum.
"""

from __future__ import annotations

import functools
import json
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from packzoo._io import atomic_write_text

from packzoo.envs.instance import ORIENTATIONS, Instance


class PackingError(ValueError):
    """A Packing that cannot be built or measured; the message names the placement and the problem."""


@dataclass(frozen=True)
class Placement:
    """Item ``item`` in ``orientation`` (0..5, the paper's order) with its corner at (x, y, z),
    in bin ``bin`` (always 0 but in the bins mode, where bins are numbered from 0)."""

    item: int
    orientation: int
    x: int
    y: int
    z: int
    bin: int = 0

    def to_list(self) -> list[int]:
        """``[item, orientation, x, y, z]`` (and ``bin`` when it is not 0), the form the
        leaderboard files store."""
        row = [self.item, self.orientation, self.x, self.y, self.z]
        return row + [self.bin] if self.bin != 0 else row


def surface_area(bin_dims: Any) -> int:
    """Surface area 2(LW + LH + WH) of a box with dimensions (L, W, H)."""
    L, W, H = (int(v) for v in bin_dims)
    return 2 * (L * W + L * H + W * H)


@dataclass(frozen=True, eq=False)
class Packing:
    """An instance and its placements, in placement order.

    A Packing may be partial or even invalid: :func:`validate` says what is wrong with it, and the
    properties below describe whatever placements it holds (they raise :class:`PackingError` for
    a placement with no box: an item or orientation out of range).

    Args:
        instance: the items.
        placements: :class:`Placement` objects, or sequences ``(item, orientation, x, y, z)``
            or ``(item, orientation, x, y, z, bin)`` (as the leaderboard stores them), which are turned into Placements as they are; their
            values are not coerced, so :func:`validate` still sees a non-integer corner.

    Raises:
        PackingError (a ValueError): ``instance`` is not an Instance, or a placement is neither a
        Placement nor a 5-sequence.
    """

    instance: Instance
    placements: tuple[Placement, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.instance, Instance):
            raise PackingError(f"instance must be an Instance, got {type(self.instance).__name__}")
        if isinstance(self.placements, (str, bytes, Placement)):
            raise PackingError(f"placements must be a sequence of placements, got {self.placements!r}")
        try:
            rows = list(self.placements)
        except TypeError:
            raise PackingError(f"placements must be a sequence of placements, got {self.placements!r}") from None
        out = []
        for r, p in enumerate(rows):
            if not isinstance(p, Placement):
                if isinstance(p, (str, bytes, dict)) or not hasattr(p, "__len__") or len(p) not in (5, 6):
                    raise PackingError(
                        f"placement {r}: expected a Placement or (item, orientation, x, y, z[, bin]), got {p!r}"
                    )
                p = Placement(*p)
            out.append(p)
        object.__setattr__(self, "placements", tuple(out))

    @property
    def boxes(self) -> np.ndarray:
        """(k, 6) int array of (x, y, z, dx, dy, dz) for each placement, in order."""
        out = np.zeros((len(self.placements), 6), dtype=np.int64)
        for r, p in enumerate(self.placements):
            # Index checks first: numpy would wrap a negative index round to another item.
            if not isinstance(p.item, (int, np.integer)) or not 0 <= p.item < self.instance.n:
                raise PackingError(
                    f"placement {r}: item {p.item!r} is not an item of this {self.instance.n}-item instance"
                )
            if not isinstance(p.orientation, (int, np.integer)) or not 0 <= p.orientation < 6:
                raise PackingError(f"placement {r}: item {p.item} has bad orientation {p.orientation!r} (0..5)")
            out[r, :3] = (p.x, p.y, p.z)
            out[r, 3:] = self.instance.oriented(p.item, p.orientation)
        return out

    @property
    def bin(self) -> tuple[int, int, int]:
        """(L, W, H): the bounding box of the placed items from the origin."""
        if not self.placements:
            return (0, 0, 0)
        b = self.boxes
        far = (b[:, :3] + b[:, 3:]).max(axis=0)
        return int(far[0]), int(far[1]), int(far[2])

    @property
    def surface_area(self) -> int:
        """Surface area of the bin, 2(LW + LH + WH)."""
        return surface_area(self.bin)

    @property
    def packed_volume(self) -> int:
        """Volume of the items placed."""
        return int(sum(int(np.prod(self.instance.dims[p.item])) for p in self.placements))

    @property
    def items_packed(self) -> int:
        """Number of placements."""
        return len(self.placements)

    @property
    def bins_used(self) -> int:
        """Number of distinct bins holding an item (1 for any non-empty packing outside bins mode)."""
        return len({p.bin for p in self.placements})

    @property
    def height(self) -> int:
        """Height of the packing (the bin's H), the base mode's objective."""
        return self.bin[2]

    @property
    def utilisation(self) -> float:
        """Packed volume over the space it takes, per mode: free, the bounding box; base, L x W x
        the height used; container, the container; bins, the bins used (0 for an empty packing)."""
        inst = self.instance
        if inst.mode == "free":
            L, W, H = self.bin
            space = L * W * H
        elif inst.mode == "base":
            space = inst.container[0] * inst.container[1] * self.height
        elif inst.mode == "container":
            space = int(np.prod(inst.container))
        else:
            space = int(np.prod(inst.container)) * self.bins_used
        return self.packed_volume / space if space else 0.0

    @property
    def objective(self) -> float:
        """The mode's objective: surface area (free, minimise), height (base, minimise), packed
        volume (container, maximise), bins used (bins, minimise)."""
        mode = self.instance.mode
        if mode == "free":
            return self.surface_area
        if mode == "base":
            return self.height
        if mode == "container":
            return self.packed_volume
        return self.bins_used

    @property
    def ratio(self) -> float:
        """The objective against the mode's :func:`bound`, always >= 1 for a valid packing, 1 a
        proven optimum: surface / lower bound (free), height / height bound (base), bins / bins
        bound (bins), volume upper bound / packed volume (container; inf when nothing is packed)."""
        b = bound(self.instance)
        if self.instance.mode == "container":
            v = self.packed_volume
            return b / v if v else math.inf
        return self.objective / b

    @property
    def order(self) -> list[int]:
        """Items in placement order."""
        return [p.item for p in self.placements]

    def is_complete(self) -> bool:
        """True if every item is placed exactly once (says nothing about overlaps: see validate)."""
        return sorted(self.order) == list(range(self.instance.n))

    def to_dict(self) -> dict[str, Any]:
        """``{"instance": ..., "placements": [[item, orientation, x, y, z], ...]}``."""
        return {
            "instance": self.instance.to_dict(),
            "placements": [p.to_list() for p in self.placements],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Packing:
        """The Packing of :meth:`to_dict`'s dict."""
        inst = Instance.from_dict(d["instance"])
        return cls(inst, tuple(Placement(*map(int, row)) for row in d["placements"]))

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON."""
        return json.dumps(self.to_dict())

    def save(self, path: str | os.PathLike, **facts: Any) -> None:
        """Write the packing as JSON atomically, with its bin and surface (and any ``facts``, such
        as the solver and its status) beside it; :meth:`load` reads it back."""
        d = {**self.to_dict(), "bin": list(self.bin), "surface_area": int(self.surface_area),
             "mode": self.instance.mode, "objective": self.objective, "utilisation": self.utilisation, **facts}
        atomic_write_text(path, json.dumps(d) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> Packing:
        """The Packing a :meth:`save` wrote (facts beside it are ignored; the packing is rebuilt)."""
        try:
            d = json.loads(Path(path).read_text())
            return cls.from_dict(d)
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise PackingError(f"{path}: not a packing file ({type(e).__name__}: {e})") from None


def validate(packing: Packing) -> list[str]:
    """Every violation found in ``packing``; an empty list means it is a valid, complete packing.

    Checks, from first principles: item indices in range, every item placed exactly once (at most
    once in container mode, where items may stay out), orientation in 0..5 and allowed by the
    instance (by shape), integer non-negative corners, a bin index that is a non-negative integer
    (and 0 outside bins mode), every box inside the container (base: inside the footprint), no
    two boxes in the same bin overlapping with positive volume (touching is fine), the support
    fraction for every box above the floor, and the weight limit of every bin.
    """
    inst = packing.instance
    errors: list[str] = []
    seen: dict[int, int] = {}
    good: list[int] = []  # placements whose box is well defined, for the checks between boxes
    limit = inst.container
    for r, p in enumerate(packing.placements):
        ok = True
        if not isinstance(p.item, (int, np.integer)) or not 0 <= p.item < inst.n:
            errors.append(f"placement {r}: item {p.item!r} is not an item of this {inst.n}-item instance")
            continue
        if p.item in seen:
            errors.append(f"placement {r}: item {p.item} is repeated (first placed at {seen[p.item]})")
            ok = False
        else:
            seen[p.item] = r
        if not isinstance(p.orientation, (int, np.integer)) or not 0 <= p.orientation < 6:
            errors.append(f"placement {r}: item {p.item} has bad orientation {p.orientation!r} (0..5)")
            ok = False
        elif not inst.orientation_allowed(p.item, p.orientation):
            errors.append(
                f"placement {r}: item {p.item} in orientation {p.orientation} is not allowed "
                f"(allowed: {inst.allowed_orientations(p.item)})"
            )
        for axis, v in zip("xyz", (p.x, p.y, p.z)):
            if not isinstance(v, (int, np.integer)):
                errors.append(f"placement {r}: item {p.item} has non-integer {axis}={v!r}")
                ok = False
            elif v < 0:
                errors.append(f"placement {r}: item {p.item} has negative corner {axis}={v}")
                ok = False
        if not isinstance(p.bin, (int, np.integer)) or p.bin < 0:
            errors.append(f"placement {r}: item {p.item} has bad bin {p.bin!r} (a non-negative integer)")
            ok = False
        elif p.bin != 0 and inst.mode != "bins":
            errors.append(f"placement {r}: item {p.item} is in bin {p.bin}, but mode {inst.mode!r} has one bin (0)")
            ok = False
        if ok and limit is not None:
            size = inst.oriented(p.item, p.orientation)
            for axis, lo, d, cap in zip("xyz", (p.x, p.y, p.z), size, limit):
                if lo + d > cap:
                    errors.append(
                        f"placement {r}: item {p.item} reaches {axis}={lo + d}, outside the {inst.mode} "
                        f"{tuple(limit)} ({axis} <= {cap})"
                    )
        if ok:
            good.append(r)
    missing = sorted(set(range(inst.n)) - set(seen))
    if missing and inst.mode != "container":
        errors.append(f"items never placed: {missing}")
    if not good:
        return errors
    lo = np.empty((len(good), 3), dtype=np.int64)
    size = np.empty((len(good), 3), dtype=np.int64)
    bins = np.empty(len(good), dtype=np.int64)
    for k, r in enumerate(good):
        p = packing.placements[r]
        lo[k] = (p.x, p.y, p.z)
        size[k] = inst.dims[p.item][ORIENTATIONS[p.orientation]]
        bins[k] = p.bin
    hi = lo + size
    if len(good) > 1:
        # Two boxes overlap iff they share a bin and their open intervals meet on all three axes.
        inter = (lo[:, None, :] < hi[None, :, :]) & (lo[None, :, :] < hi[:, None, :])
        over = inter.all(axis=2) & (bins[:, None] == bins[None, :])
        ii, jj = np.nonzero(np.triu(over, k=1))
        for a, b in zip(ii.tolist(), jj.tolist()):
            pa, pb = packing.placements[good[a]], packing.placements[good[b]]
            errors.append(f"items {pa.item} and {pb.item} overlap")
    if inst.support is not None:
        need = Fraction(inst.support)  # exact: the float's own value, no rounding at the boundary
        for k in range(len(good)):
            if lo[k, 2] == 0:
                continue
            under = (hi[:, 2] == lo[k, 2]) & (bins == bins[k])
            ox = np.clip(np.minimum(hi[under, 0], hi[k, 0]) - np.maximum(lo[under, 0], lo[k, 0]), 0, None)
            oy = np.clip(np.minimum(hi[under, 1], hi[k, 1]) - np.maximum(lo[under, 1], lo[k, 1]), 0, None)
            area = int(size[k, 0] * size[k, 1])
            held = int((ox * oy).sum())
            if held < need * area:
                p = packing.placements[good[k]]
                errors.append(
                    f"item {p.item} at z={p.z} rests on {held} of its {area} base area "
                    f"({held / area:.0%} < the support rule's {inst.support:.0%})"
                )
    if inst.max_weight is not None:
        load: dict[int, float] = {}
        for p in packing.placements:
            if isinstance(p.item, (int, np.integer)) and 0 <= p.item < inst.n and isinstance(p.bin, (int, np.integer)):
                load[int(p.bin)] = load.get(int(p.bin), 0.0) + inst.weights[p.item]
        for b, w in sorted(load.items()):
            # Weights are floats: allow their summation's rounding, nothing more.
            if w > inst.max_weight * (1 + 1e-12):
                errors.append(f"bin {b} carries weight {w:g}, more than max_weight={inst.max_weight:g}")
    return errors


def _sorted_maxima(dims: np.ndarray) -> tuple[int, int, int]:
    s = np.sort(np.asarray(dims, dtype=np.int64), axis=1)[:, ::-1]
    m = s.max(axis=0)
    return int(m[0]), int(m[1]), int(m[2])


def _icbrt(v: int) -> int | None:
    """Exact integer cube root of ``v`` when it is a perfect cube, else None."""
    r = round(v ** (1 / 3))
    for c in (r - 1, r, r + 1):
        if c >= 0 and c**3 == v:
            return c
    return None


def lower_bound(instance: Instance) -> float:
    """A lower bound on the objective of any packing of ``instance``, in a minimising mode (free:
    surface area, base: height, bins: bins); see :func:`bound`. In container mode (maximise the
    packed volume) there is no lower bound to give: a ValueError says to use :func:`bound`.
    """
    if instance.mode == "container":
        raise ValueError("mode 'container' maximises the packed volume: its bound(instance) is an upper bound")
    return bound(instance)


# Instances are frozen and hashable: the bins bound's p x q loops (0.1 s at n = 200) ran once per
# result, and again for each ratio and each re-check of a leaderboard; now once per instance.
@functools.lru_cache(maxsize=4096)
def bound(instance: Instance) -> float:
    """The bound of the instance's mode on its objective: a lower bound on the surface area (free),
    the height (base) or the bins (bins), an upper bound on the packed volume (container).

    - free: :func:`surface_lower_bound`.
    - base: :func:`height_lower_bound`.
    - bins: :func:`bins_lower_bound`.
    - container: the container's volume, or the volume of the items that fit in it in some
      allowed orientation if that is less.
    """
    mode = instance.mode
    if mode == "free":
        return surface_lower_bound(instance)
    if mode == "base":
        return float(height_lower_bound(instance))
    if mode == "bins":
        return float(bins_lower_bound(instance))
    fit = sum(
        int(v) for i, v in enumerate(instance.item_volumes)
        if any(instance.fits(i, o) for o in range(6) if instance.allowed[i, o])
    )
    return float(min(int(np.prod(instance.container)), fit))


def height_lower_bound(instance: Instance) -> int:
    """Least height of any packing on the base L x W: the larger of ceil(V / (L W)) (the volume
    over the footprint) and, for every item, the least height it can stand at (its smallest
    vertical edge among the allowed orientations that fit the footprint). Heights are integers."""
    L, W = instance.container[:2]
    tallest = 0
    for i in range(instance.n):
        hs = [instance.oriented(i, o)[2] for o in range(6) if instance.allowed[i, o] and instance.fits(i, o)]
        tallest = max(tallest, min(hs))
    return max(-(-instance.volume // (L * W)), tallest)


def _mt_bound(d: np.ndarray, cap: int) -> int:
    """Martello and Toth's L2 bound for one-dimensional bin packing of lengths ``d`` into bins of
    length ``cap``, the p loop (1 <= p <= cap / 2) restricted to the values where the item sets
    change: the lengths <= cap / 2 and cap - length + 1 (any p gives a valid bound)."""
    if len(d) == 0:
        return 0
    best = 0
    ps = {1} | {int(v) for v in d if v <= cap // 2} | {cap - int(v) + 1 for v in d if 1 <= cap - v + 1 <= cap // 2}
    for p in sorted(ps):
        large = d[d > cap - p]
        small = d[(d >= p) & (d <= cap - p)]
        # The large items each need their own bin; the small ones fill what the large leave.
        by_len = -(-(int(small.sum()) - (len(large) * cap - int(large.sum()))) // cap)
        by_count = -(-(len(small) - int(((cap - large) // p).sum())) // (cap // p))
        best = max(best, len(large) + max(0, by_len, by_count))
    return best


def bins_lower_bound(instance: Instance) -> int:
    """Least number of bins of any packing (mode bins).

    The largest of: the volume bound ceil(V / (L W H)); the weight bound ceil(total weight /
    max_weight); and, when every item has a single allowed shape (the setting of Martello,
    Pisinger and Vigo 2000, "The three-dimensional bin packing problem", Oper. Res. 48(2)), their
    bounds L1 and L2. L1: for each pair of bin faces (say W x H), items wider than W/2 and taller
    than H/2 cannot stand side by side in that face, so they form a one-dimensional problem along
    the third axis (Martello and Toth's bound). L2: for p <= W/2, q <= H/2, an item with
    w > W - p and h > H - q leaves no room beside it for any item with w >= p and h >= q, so it
    takes its whole W x H slab; counting those slabs' volume beside the other such items' volume
    gives a tighter volume bound. (With rotations allowed these two do not hold as stated, and we
    use the volume and weight bounds only.)
    """
    cap = np.array(instance.container, dtype=np.int64)
    B = int(np.prod(cap))
    best = -(-instance.volume // B)
    if instance.max_weight is not None:
        best = max(best, math.ceil(sum(instance.weights) / instance.max_weight - 1e-12))
    shapes = []
    for i in range(instance.n):
        allowed = instance.allowed_orientations(i)
        if len(allowed) != 1:
            return best
        shapes.append(instance.oriented(i, allowed[0]))
    d = np.array(shapes, dtype=np.int64)
    vol = d.prod(axis=1)
    for a, b, c in ((0, 1, 2), (0, 2, 1), (1, 2, 0)):
        A, Bc, C = int(cap[a]), int(cap[b]), int(cap[c])
        big = (2 * d[:, a] > A) & (2 * d[:, b] > Bc)
        l1 = _mt_bound(d[big, c], C)
        best = max(best, l1)
        ps = {1} | {int(v) for v in d[:, a] if v <= A // 2} | {A - int(v) + 1 for v in d[:, a] if A - v + 1 <= A // 2}
        qs = {1} | {int(v) for v in d[:, b] if v <= Bc // 2} | {Bc - int(v) + 1 for v in d[:, b] if Bc - v + 1 <= Bc // 2}
        for p in ps:
            for q in qs:
                slab = (d[:, a] > A - p) & (d[:, b] > Bc - q)
                other = ~slab & (d[:, a] >= p) & (d[:, b] >= q)
                need = int(vol[other].sum()) + A * Bc * int(d[slab, c].sum())
                best = max(best, -(-need // B))
    return best


def surface_lower_bound(instance: Instance) -> float:
    """A lower bound on the surface area of any packing of ``instance``'s items in a free bin.

    The cube bound 6 V^(2/3) (no box of volume V has less surface than the cube), tightened by the
    items' sorted dimensions: if a box holds an item, the box's sorted dims dominate the item's
    sorted dims one by one, so the bin's sorted dims (L1 >= L2 >= L3) satisfy L1 >= a, L2 >= b,
    L3 >= c for a, b, c the largest first, second and third sorted item dims. Minimising
    L1L2 + L1L3 + L2L3 subject to L1L2L3 >= V and those bounds is convex in log-space, and its
    optimum fixes the largest dims at their bounds one at a time (water-filling).
    """
    V = instance.volume
    a, b, c = _sorted_maxima(instance.dims)
    cube = _icbrt(V)
    s = cube if cube is not None else V ** (1 / 3)
    if s >= a:
        return float(6 * s * s)
    t = math.sqrt(V / a)
    if t >= b:
        return float(2 * (2 * a * t + t * t))
    z = max(float(c), V / (a * b))
    return float(2 * (a * b + a * z + b * z))
