"""Placements, packings, the independent validator and the lower bound.

The validator shares no code with the EMS engine: it checks a packing from first principles
(every item once, a legal orientation, a non-negative integer corner, no two boxes overlapping), so
it can referee any solver, the engine included.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from packzoo._io import atomic_write_text
from packzoo.envs.instance import ORIENTATIONS, Instance


class PackingError(ValueError):
    """A Packing that cannot be built or measured; the message names the placement and the problem."""


@dataclass(frozen=True)
class Placement:
    """Item ``item`` in ``orientation`` (0..5, the paper's order) with its corner at (x, y, z)."""

    item: int
    orientation: int
    x: int
    y: int
    z: int

    def to_list(self) -> list[int]:
        """``[item, orientation, x, y, z]``, the form the leaderboard files store."""
        return [self.item, self.orientation, self.x, self.y, self.z]


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
        placements: :class:`Placement` objects, or 5-sequences ``(item, orientation, x, y, z)``
            (as the leaderboard stores them), which are turned into Placements as they are; their
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
                if isinstance(p, (str, bytes, dict)) or not hasattr(p, "__len__") or len(p) != 5:
                    raise PackingError(
                        f"placement {r}: expected a Placement or (item, orientation, x, y, z), got {p!r}"
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
    def utilisation(self) -> float:
        """Packed item volume divided by bin volume (0 for an empty packing)."""
        L, W, H = self.bin
        if L * W * H == 0:
            return 0.0
        packed = sum(int(np.prod(self.instance.dims[p.item])) for p in self.placements)
        return packed / (L * W * H)

    @property
    def ratio(self) -> float:
        """Surface area divided by :func:`lower_bound` of the instance."""
        return self.surface_area / lower_bound(self.instance)

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
        d = {**self.to_dict(), "bin": list(self.bin), "surface_area": int(self.surface_area), **facts}
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

    Checks: item indices in range, every item placed exactly once, orientation in 0..5, integer
    non-negative corners, and no two boxes overlapping with positive volume (touching is fine).
    """
    inst = packing.instance
    errors: list[str] = []
    seen: dict[int, int] = {}
    good: list[int] = []  # placements whose box is well defined, for the overlap check
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
        for axis, v in zip("xyz", (p.x, p.y, p.z)):
            if not isinstance(v, (int, np.integer)):
                errors.append(f"placement {r}: item {p.item} has non-integer {axis}={v!r}")
                ok = False
            elif v < 0:
                errors.append(f"placement {r}: item {p.item} has negative corner {axis}={v}")
                ok = False
        if ok:
            good.append(r)
    missing = sorted(set(range(inst.n)) - set(seen))
    if missing:
        errors.append(f"items never placed: {missing}")
    if len(good) > 1:
        lo = np.empty((len(good), 3), dtype=np.int64)
        size = np.empty((len(good), 3), dtype=np.int64)
        for k, r in enumerate(good):
            p = packing.placements[r]
            lo[k] = (p.x, p.y, p.z)
            size[k] = inst.dims[p.item][ORIENTATIONS[p.orientation]]
        hi = lo + size
        # Two boxes overlap iff their open intervals intersect on all three axes.
        inter = (lo[:, None, :] < hi[None, :, :]) & (lo[None, :, :] < hi[:, None, :])
        over = inter.all(axis=2)
        ii, jj = np.nonzero(np.triu(over, k=1))
        for a, b in zip(ii.tolist(), jj.tolist()):
            pa, pb = packing.placements[good[a]], packing.placements[good[b]]
            errors.append(f"items {pa.item} and {pb.item} overlap")
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
    """A lower bound on the surface area of any packing of ``instance``.

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
