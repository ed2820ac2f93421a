"""Seeded instance generators and the named instance sets.

Every draw goes through :class:`Stream` (:mod:`packzoo.envs.sampling`), which maps PCG64's raw
64-bit outputs to integers and floats with its own arithmetic. numpy documents SeedSequence and
PCG64's raw stream as stable, but not the algorithms of ``Generator.integers`` and friends, so the
named sets are the same on every machine and numpy version (a checksum test guards this). The
literature sets (``rr-*``, ``jiang-*``, ``mpv-*``, ``zhao-*``) come from
:mod:`packzoo.envs.literature`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import numpy as np

from packzoo._checks import positive_int
from packzoo.envs import literature
from packzoo.envs.instance import ORIENTATIONS, Instance
from packzoo.envs.packing import Packing
from packzoo.envs.sampling import SeedLike, Stream, cut_instance

__all__ = ["SeedLike", "Stream", "bins_cut", "checksum", "container_cut", "cube_cut", "cube_set_solutions", "draw",
           "instance_set", "known_optimum", "orders", "set_names", "uniform"]


def _check_n(n: int, name: str = "n") -> int:
    positive_int(n, name)
    return int(n)


def uniform(n: int, *, low: int = 10, high: int = 50, seed: SeedLike = None) -> Instance:
    """N items with dims drawn uniformly from the integers low..high (inclusive).

    Example:
        >>> uniform(3, seed=0).dims.shape
        (3, 3)
    """
    n = _check_n(n)
    if not (isinstance(low, (int, np.integer)) and isinstance(high, (int, np.integer))):
        raise ValueError(f"low and high must be integers, got {low!r}, {high!r}")
    if not 1 <= low <= high:
        raise ValueError(f"need 1 <= low <= high, got low={low}, high={high}")
    s = Stream(seed)
    return Instance(s.integers(low, high, 3 * n).reshape(n, 3))


def orders(n: int, *, seed: SeedLike = None) -> Instance:
    """N items shaped like the parcels of an e-commerce order: many flat and long.

    length ~ U[10, 60], width ~ U[0.3, 1] * length, height ~ U[0.1, 0.8] * width, each rounded up
    to an integer >= 1, then listed in a random axis order.
    """
    n = _check_n(n)
    s = Stream(seed)
    u = s.uniform(3 * n).reshape(n, 3)
    perm = s.integers(0, 5, n)
    length = 10 + u[:, 0] * 50
    width = (0.3 + 0.7 * u[:, 1]) * length
    height = (0.1 + 0.7 * u[:, 2]) * width
    dims = np.maximum(1, np.ceil(np.stack([length, width, height], axis=1) - 1e-9)).astype(np.int64)
    dims = np.take_along_axis(dims, ORIENTATIONS[perm], axis=1)
    return Instance(dims)


def _guillotine(s: Stream, n: int, boxes: list[tuple[int, ...]], min_edge: int) -> list[tuple[int, ...]]:
    """Cut ``boxes`` ((x, y, z, dx, dy, dz, bin) rows) by guillotine cuts until there are n.

    Each cut takes a box with probability proportional to its volume among those that can be cut
    (an edge of at least 2 * min_edge), an axis with probability proportional to its length among
    the cuttable ones, and a cut point uniform in [min_edge, edge - min_edge].
    """
    boxes = list(boxes)
    while len(boxes) < n:
        vols = np.array([b[3] * b[4] * b[5] if max(b[3:6]) >= 2 * min_edge else 0 for b in boxes], dtype=np.float64)
        if vols.sum() == 0:
            raise ValueError(f"cannot cut {n} boxes with edges of at least {min_edge}")
        pick = int(np.searchsorted(np.cumsum(vols), s.uniform(1)[0] * vols.sum(), side="right"))
        pick = min(pick, len(boxes) - 1)
        x, y, z, dx, dy, dz, k = boxes.pop(pick)
        size = [dx, dy, dz]
        axes = [a for a in range(3) if size[a] >= 2 * min_edge]
        # Prefer the longer axes, so pieces stay chunky rather than thin slabs.
        w = np.array([size[a] for a in axes], dtype=np.float64)
        axis = axes[min(int(np.searchsorted(np.cumsum(w), s.uniform(1)[0] * w.sum(), side="right")), len(axes) - 1)]
        cut = int(s.integers(min_edge, size[axis] - min_edge, 1)[0])
        lo = [x, y, z]
        a_size, b_size = list(size), list(size)
        a_size[axis] = cut
        b_size[axis] = size[axis] - cut
        b_lo = list(lo)
        b_lo[axis] += cut
        boxes.append((*lo, *a_size, k))
        boxes.append((*b_lo, *b_size, k))
    return boxes


def cube_cut(n: int, *, side: int = 100, seed: SeedLike = None) -> tuple[Instance, Packing]:
    """Cut a side^3 cube into n boxes by guillotine cuts; return the items and the cube packing.

    The cube is optimal: no box of volume side^3 has less surface than the cube, and the items
    fill it exactly. Items are shuffled and each is listed in a random axis order, so the returned
    optimal packing uses various orientations.

    Raises:
        ValueError: if the cube cannot be cut into n integer boxes (n > side^3).
    """
    n = _check_n(n)
    side = _check_n(side, "side")
    if n > side**3:
        raise ValueError(f"a cube of side {side} cannot be cut into {n} integer boxes")
    s = Stream(seed)
    return cut_instance(s, _guillotine(s, n, [(0, 0, 0, side, side, side, 0)], 1), None)


def _check_box(box, name: str) -> tuple[int, int, int]:
    if isinstance(box, (str, bytes)) or not hasattr(box, "__len__") or len(box) != 3:
        raise ValueError(f"{name} must be (L, W, H), got {box!r}")
    for v in box:
        positive_int(v, name)
    return tuple(int(v) for v in box)


def container_cut(n: int, *, container=(10, 10, 10), mode: str = "container", min_edge: int = 1,
                  orientations=None, support: float | None = None,
                  seed: SeedLike = None) -> tuple[Instance, Packing]:
    """Cut a container into n boxes by guillotine cuts: items with a known optimal packing.

    The cut packing fills the container: in mode "container" it packs everything (100 %
    utilisation, the bound), in mode "base" (footprint L x W) its height H is the volume bound,
    and it meets any support rule (every box above the floor rests wholly on boxes). The items are
    shuffled and listed in a random allowed orientation.

    Args:
        n: number of items.
        container: (L, W, H).
        mode: "container" or "base".
        min_edge: the shortest edge a cut may leave.
        orientations: the instance's orientation limits (see :class:`Instance`); the cut packing
            respects them.
        support: the instance's support rule, if any.

    Returns:
        (instance, optimal packing).
    """
    n = _check_n(n)
    L, W, H = _check_box(container, "container")
    min_edge = _check_n(min_edge, "min_edge")
    if mode not in ("container", "base"):
        raise ValueError(f"mode must be 'container' or 'base', got {mode!r}")
    s = Stream(seed)
    boxes = _guillotine(s, n, [(0, 0, 0, L, W, H, 0)], min_edge)
    dims = (L, W) if mode == "base" else (L, W, H)
    return cut_instance(s, boxes, orientations, mode=mode, container=dims, support=support)


def bins_cut(n: int, *, bin=(10, 10, 10), k: int = 3, min_edge: int = 1, orientations=None,
             support: float | None = None, seed: SeedLike = None) -> tuple[Instance, Packing]:
    """Cut k bins into n boxes (mode "bins"): k bins is optimal, since the items' volume fills
    exactly k bins (the volume bound), as in Martello, Pisinger and Vigo's class 9.

    Returns:
        (instance, the optimal packing into k bins).
    """
    n = _check_n(n)
    k = _check_n(k, "k")
    if n < k:
        raise ValueError(f"cutting {k} bins gives at least {k} items, got n={n}")
    L, W, H = _check_box(bin, "bin")
    min_edge = _check_n(min_edge, "min_edge")
    s = Stream(seed)
    boxes = _guillotine(s, n, [(0, 0, 0, L, W, H, b) for b in range(k)], min_edge)
    return cut_instance(s, boxes, orientations, mode="bins", container=(L, W, H), support=support)


# Named sets: fixed base seeds; instance k of a set is drawn with seed (base, k), so a smaller count
# is a prefix of a larger one. Training code draws from seeds >= TRAIN_SEED_BASE, never these.
SET_SIZE = 1000
_BASE_SEEDS = {"uniform": 20_170_000, "orders": 20_170_100, "cube": 20_170_200,
               "container": 20_260_300, "base": 20_260_400, "bins": 20_260_500}
TRAIN_SEED_BASE = 1_000_000_000
CUBE_SIDE = 100
#: The fixed modes' named sets: a 100^3 container (base: its 100 x 100 footprint) cut into n items
#: with edges >= 10; bins: max(2, n // 10) bins of 100^3 cut into n items (about 10 per bin).
MODE_SIDE = 100
MODE_MIN_EDGE = 10
_SET_SIZES = {"uniform": (8, 10, 12), "orders": (8, 10, 12), "cube": range(8, 51),
              "container": range(5, 101), "base": range(5, 101), "bins": range(10, 201)}


#: Base seeds of the literature sets (:mod:`packzoo.envs.literature`), apart from the others.
_LIT_SEEDS = {"rr": 20_180_000, "jiang": 20_210_000, "zhao-rs": 20_210_100, "zhao-cut1": 20_210_200,
              "zhao-cut2": 20_210_300, **{f"mpv-c{c}": 20_000_000 + 100 * c for c in range(1, 10)}}


def _parse_set(name: str) -> tuple[str, int]:
    """(family, n) of a set name; the literature sets' families are those of
    :func:`packzoo.envs.literature.parse` (n = 0 for the zhao sets, whose length varies)."""
    lit = literature.parse(name)
    if lit is not None:
        return lit
    if not isinstance(name, str) or "-n" not in name:
        raise ValueError(f"unknown instance set {name!r}; known: {', '.join(set_names())}")
    family, _, n = name.partition("-n")
    if family not in _BASE_SEEDS or not n.isdigit() or int(n) not in _SET_SIZES[family]:
        raise ValueError(f"unknown instance set {name!r}; known: {', '.join(set_names())}")
    return family, int(n)


def set_names() -> list[str]:
    """Names accepted by :func:`instance_set`."""
    names = [f"{f}-n{n}" for f in ("uniform", "orders") for n in (8, 10, 12)]
    return names + ["cube-n8 ... cube-n50", "container-n5 ... container-n100", "base-n5 ... base-n100",
                    "bins-n10 ... bins-n200", "rr-n10|20|30|50", "jiang-n20|30|50|100",
                    "mpv-c1 ... mpv-c9 -n50|100|150|200", "zhao-rs|cut1|cut2"]


def _bins_k(n: int) -> int:
    return max(2, n // 10)


def _draw_cut(family: str, n: int, seed: SeedLike) -> tuple[Instance, Packing]:
    side = (MODE_SIDE,) * 3
    if family == "bins":
        return bins_cut(n, bin=side, k=_bins_k(n), min_edge=MODE_MIN_EDGE, seed=seed)
    return container_cut(n, container=side, mode=family, min_edge=MODE_MIN_EDGE, seed=seed)


def draw(family: str, n: int, seed: SeedLike) -> Instance:
    """One instance of ``family`` ("uniform", "orders", "cube", "container", "base", "bins", or a
    literature family: "rr", "jiang", "mpv-c1" ... "mpv-c9", "zhao-rs", "zhao-cut1", "zhao-cut2")
    with ``n`` items (the zhao families ignore n: their sequences' length varies)."""
    if family == "uniform":
        return uniform(n, seed=seed)
    if family == "orders":
        return orders(n, seed=seed)
    if family == "cube":
        return cube_cut(n, side=CUBE_SIDE, seed=seed)[0]
    if family in ("container", "base", "bins"):
        return _draw_cut(family, n, seed)[0]
    if family in _LIT_SEEDS:
        return literature.draw(family, n, seed)[0]
    raise ValueError(f"unknown generator family {family!r}; known: uniform, orders, cube, container, base, bins, "
                     f"{', '.join(_LIT_SEEDS)}")


def instance_set(name: str, count: int | None = None) -> list[Instance]:
    """The first ``count`` (default all 1000) instances of the named set.

    Names: ``uniform-n8|10|12``, ``orders-n8|10|12``, ``cube-n8`` ... ``cube-n50`` (free mode);
    ``container-n5`` ... ``container-n100`` (a 100^3 container cut into n items: every item fits,
    100 % is optimal), ``base-n5`` ... ``base-n100`` (the same cut on a 100 x 100 base: height 100
    is optimal), ``bins-n10`` ... ``bins-n200`` (max(2, n // 10) bins of 100^3 cut into n items:
    that many bins is optimal). Cube instances have side 100 and a known optimal surface of 60000.

    The literature sets (:mod:`packzoo.envs.literature`, drawn as the papers drew them):
    ``rr-n10|20|30|50`` (Laterre et al.'s 10^3 cube cut, free mode, optimum surface 600),
    ``jiang-n20|30|50|100`` (Jiang et al.'s 100 x 100 base, edges in [20, 80]),
    ``mpv-c1-n50`` ... ``mpv-c9-n200`` (Martello, Pisinger and Vigo's classes 1-9 at n = 50, 100,
    150, 200, mode bins, fixed orientation; class 9 needs 3 bins), ``zhao-rs``, ``zhao-cut1``,
    ``zhao-cut2`` (Zhao et al.'s online sequences in a 10^3 container; the cut ones fill it).
    """
    family, n = _parse_set(name)
    if count is None:
        count = SET_SIZE
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or not 1 <= count <= SET_SIZE:
        raise ValueError(f"count must be an integer in 1..{SET_SIZE}, got {count!r}")
    base = _BASE_SEEDS[family] if family in _BASE_SEEDS else _LIT_SEEDS[family]
    return [draw(family, n, (base, n, k)) for k in range(int(count))]


def known_optimum(name: str) -> float | None:
    """The optimal objective shared by every instance of a cut set (the cube's surface 60000, the
    container's volume 100^3, the height 100, the bins cut; rr-*: surface 600, mpv-c9-*: 3 bins,
    zhao-cut1/2: volume 1000), None for other sets."""
    family, n = _parse_set(name)
    if family in _LIT_SEEDS:
        return literature.known_optimum(family, n)
    return {"cube": float(6 * CUBE_SIDE**2), "container": float(MODE_SIDE**3), "base": float(MODE_SIDE),
            "bins": float(_bins_k(n))}.get(family)


def cube_set_solutions(name: str, count: int | None = None) -> list[Packing]:
    """The optimal (cut) packings of a cut set's instances (cube, container, base, bins, rr,
    mpv-c9, zhao-cut1, zhao-cut2)."""
    family, n = _parse_set(name)
    count = SET_SIZE if count is None else count
    if family in _LIT_SEEDS and known_optimum(name) is not None:
        return [literature.draw(family, n, (_LIT_SEEDS[family], n, k))[1] for k in range(count)]
    if family not in ("cube", "container", "base", "bins"):
        raise ValueError(f"{name!r} is not a cut set")
    if family == "cube":
        return [cube_cut(n, side=CUBE_SIDE, seed=(_BASE_SEEDS["cube"], n, k))[1] for k in range(count)]
    return [_draw_cut(family, n, (_BASE_SEEDS[family], n, k))[1] for k in range(count)]


def checksum(instances: Sequence[Instance]) -> str:
    """A short sha256 of the instances (their dims, and their mode and constraints when set), to
    pin named sets across machines."""
    h = hashlib.sha256()
    for inst in instances:
        h.update(np.ascontiguousarray(inst.dims, dtype="<i8").tobytes())
        extra = {k: v for k, v in inst.to_dict().items() if k not in ("dims", "names")}
        if extra:  # free, unconstrained instances hash as before, so the old pins hold
            h.update(json.dumps(extra, sort_keys=True).encode())
    return h.hexdigest()[:16]

