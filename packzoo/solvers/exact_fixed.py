"""CP-SAT models of the fixed-container modes: ``base``, ``container`` and ``bins``.

The registered solver ``exact`` (:class:`packzoo.solvers.exact.ExactSolver`) hands every instance
whose mode is not ``free`` to :func:`solve_fixed`; the free mode keeps its own model in exact.py
and borrows :func:`add_support`, :func:`free_first_fit` and the CP-SAT runner :func:`solve_model`
(with :class:`OutOfTime`) from here, so that the import goes one way. Same shape as exact.py: data ->
model -> solve -> extract, each a function; the search runs through exact.py's
:func:`solve_model` (worker thread, clean Ctrl-C, one seed).

The model (every mode):

- per item one boolean per allowed orientation (distinct shapes that fit the container), exactly
  one true when the item is packed; sizes along x, y, z linear in them; integer corners;
- pairwise non-overlap: the disjunction of the 6 relative positions (plus "one of the two is left
  out" in container mode);
- ``base``: the footprint L x W is fixed, the height H is a variable, minimise H;
- ``container``: a presence literal per item (an item that fits nowhere is left out at once),
  maximise the packed volume;
- ``bins``: a bin index b per item and a *global* x, X = b L + x, so that bins lie side by side
  along x: no-overlap between items of different bins is then implied by the x ranges (the same
  pairwise disjunction serves), and so is "supports only within a bin". Minimise max b + 1.
- weights: the load of the container (or of each bin, through literals b == k) is linear;
  float weights are scaled to integers exactly when they are decimals of at most 6 places, else
  rounded conservatively (weights up, capacity down) and then no optimum is claimed.
- support (the fraction rule): for each ordered pair (i on j) a literal "j's top is at i's bottom"
  and the xy-overlap, bounded above by min(end) - max(start) terms (never more than the true
  overlap) and multiplied to an area; an item above the floor needs sum(area) >= ceil(f * base
  area), f the float's exact value as the validator takes it (an integer per orientation, so the
  constraint is linear and exact). Sound: the model never counts more support than the packing
  has (supporters with tops at one z have disjoint footprints, so their overlaps add); complete:
  the true overlaps satisfy it. See :func:`add_support`.

Symmetry breaking, each step valid as a lexicographic-minimum argument over the relabelled and
mirrored packings (so the heuristic hint is mapped onto the same canonical form, see
:func:`canonical`): the largest item's centre in the lower half of x and y (and z without
support; in bins mode only its own bin is mirrored); identical items (the same allowed shapes and
weight) ordered by their (global) x, present ones first in container mode; in bins mode the items
taken in a fixed order (a greedy clique of items no two of which share a bin, then the rest by
decreasing volume) open bins in first-appearance order, so the clique sits in bins 0..c-1 and the
bins used are always 0..max b. Without a support rule, also a dominance rule: pushed packings only
(every item at 0 or against another item's far face on every axis; pushing towards the origin
keeps a packing valid and its objective, and a support rule is what it could break).

Bounds: ``packzoo.envs.packing.bound`` (the height bound, the bins bound, the volume upper
bound), the clique size for bins, and the hint's objective (the better of a local first-fit by
decreasing volume and the engine's ``packzoo.envs.fixed.pack_order``). A start that meets the
proven bound is optimal even when the clock stops the search.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np

from packzoo.envs.fixed import pack_order
from packzoo.envs.instance import Instance
from packzoo.envs.packing import Packing, Placement, validate
from packzoo.solvers.base import Solution

#: The fixed modes this module solves.
FIXED_MODES = ("base", "container", "bins")
#: Decimal places tried when scaling float weights to integers exactly.
WEIGHT_DECIMALS = 6


# --- the CP-SAT plumbing shared with exact.py (here, so that the import goes one way) ----------


class OutOfTime(Exception):
    """The deadline passed while the model was being built (quadratic in the items)."""


def _check_clock(deadline: float | None) -> None:
    if deadline is not None and time.perf_counter() > deadline:
        raise OutOfTime


def _remaining(deadline: float | None) -> float | None:
    """Seconds left before ``deadline`` (never negative), None without a deadline."""
    return None if deadline is None else max(0.0, deadline - time.perf_counter())


def solve_model(model, *, time_limit: float | None, num_workers: int, seed: int, log: bool = False):
    """Run CP-SAT; returns (solver, status).

    With one worker CP-SAT is deterministic for a given seed (unless the clock stops it); with
    more it is not, which the solvers repair with a one-worker tie-break pass.

    Ctrl-C raises KeyboardInterrupt here, promptly: CP-SAT's own SIGINT handler is off (it would
    end the search as if the time limit had struck, and a cut-short solve would pass for a finished
    one). The search runs in a worker thread; while it runs, SIGINT only raises a flag, and the
    main thread stops the search, waits for it and raises KeyboardInterrupt. (Raising inside the
    wait instead left the process aborting at exit: "terminate called without an active exception".)
    """
    import signal
    import threading

    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    p = solver.parameters
    p.num_workers = num_workers
    p.random_seed = seed
    p.catch_sigint_signal = False
    if time_limit is not None:
        p.max_time_in_seconds = max(0.01, time_limit)
    p.log_search_progress = log
    if threading.current_thread() is not threading.main_thread():
        return solver, solver.solve(model)  # signals go to the main thread: nothing to catch here
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["status"] = solver.solve(model)
        except BaseException as e:  # re-raised in the caller's thread
            box["error"] = e

    interrupted: list[int] = []
    old = signal.signal(signal.SIGINT, lambda signum, frame: interrupted.append(signum))
    try:
        thread = threading.Thread(target=work, name="cp-sat", daemon=True)
        thread.start()
        while thread.is_alive():
            thread.join(0.05)
            if interrupted:
                solver.stop_search()
                thread.join()
    finally:
        signal.signal(signal.SIGINT, old)
    if interrupted:
        raise KeyboardInterrupt
    if "error" in box:
        raise box["error"]
    return solver, box["status"]


# --- numbers ---------------------------------------------------------------------------------


def support_need(support: float, area: int) -> int:
    """Least supported area an item with base ``area`` needs: ceil(support * area), with the
    float's exact value (``Fraction(support)``), the rule :func:`packzoo.envs.validate` applies.
    Integer per orientation, so the model's support constraint stays linear and exact."""
    return math.ceil(Fraction(support) * area)


@dataclass(frozen=True)
class ScaledWeights:
    """Item weights and the capacity as integers.

    Attributes:
        weights: per item, the scaled weight (rounded up when not exact).
        capacity: the scaled capacity (rounded down when not exact).
        exact: True when every value was a decimal of at most :data:`WEIGHT_DECIMALS` places, so
            the integer model is the problem itself; False: the model is stricter than the
            problem and its optimum is only an upper bound (no "optimal" claimed).
    """

    weights: tuple[int, ...]
    capacity: int
    exact: bool


def scale_weights(instance: Instance) -> ScaledWeights | None:
    """Integer weights for the model, or None when no weight limit binds a placement choice (no
    limit, or base mode, where every item is packed and the Instance checks the total)."""
    if instance.max_weight is None or instance.weights is None or instance.mode in ("free", "base"):
        return None
    values = [float(w) for w in instance.weights] + [float(instance.max_weight)]
    for k in range(WEIGHT_DECIMALS + 1):
        s = 10**k
        scaled = [v * s for v in values]
        if all(abs(x - round(x)) <= 1e-9 * max(1.0, abs(x)) for x in scaled):
            ints = [int(round(x)) for x in scaled]
            return ScaledWeights(tuple(ints[:-1]), ints[-1], True)
    s = 10**WEIGHT_DECIMALS
    return ScaledWeights(tuple(math.ceil(v * s) for v in values[:-1]), math.floor(values[-1] * s), False)


# --- a local first-fit (the hint and the fallback packing) -----------------------------------


def _shapes(instance: Instance, i: int, box: tuple[int, int, int] | None) -> list[tuple[int, tuple[int, int, int]]]:
    """Allowed distinct (orientation, shape) of item ``i`` that fit inside ``box`` (None: any)."""
    out = []
    for o in instance.allowed_orientations(i):
        sh = instance.oriented(i, o)
        if box is None or all(sh[k] <= box[k] for k in range(3)):
            out.append((o, sh))
    return out


def first_fit(
    instance: Instance,
    order: list[int],
    box: tuple[int, int, int],
    *,
    many_bins: bool,
    support: float | None,
    weights: ScaledWeights | None,
    deadline: float | None = None,
) -> list[tuple[int, int, int, int, int, int]] | None:
    """An extreme-point first-fit: every item, in ``order``, at the first corner that takes it.

    Each bin keeps candidate corners (the origin, and the three far corners of each placed box
    along x, y and z); an item goes to the first bin, the lowest (z, y, x) corner and the first
    allowed orientation that keeps it inside ``box``, off every placed box, supported (``support``:
    the fraction rule) and within the bin's weight. With ``many_bins`` a new bin opens when none takes the
    item; otherwise an item that fits nowhere is skipped (the caller decides whether that is
    allowed). Cheap (cubic in the items) and independent of the EMS engine.

    Returns:
        rows (item, orientation, x, y, z, bin) in placement order; None when the ``deadline``
        (a ``time.perf_counter()`` value) passes first.
    """
    bins: list[dict[str, Any]] = []

    def new_bin() -> dict[str, Any]:
        b = {"boxes": [], "points": {(0, 0, 0)}, "load": 0}
        bins.append(b)
        return b

    new_bin()
    rows = []
    for i in order:
        if deadline is not None and time.perf_counter() > deadline:
            return None
        shapes = _shapes(instance, i, box)
        w = 0 if weights is None else weights.weights[i]
        placed = False
        bi = 0
        while not placed:
            if bi == len(bins):
                if not many_bins or not bins[-1]["boxes"]:
                    break
                new_bin()
            b = bins[bi]
            if weights is not None and b["load"] + w > weights.capacity:
                bi += 1
                continue
            for pt in sorted(b["points"], key=lambda p: (p[2], p[1], p[0])):
                for o, sh in shapes:
                    if not _free_spot(b["boxes"], pt, sh, box, support):
                        continue
                    b["boxes"].append((pt, sh))
                    b["load"] += w
                    x, y, z = pt
                    b["points"].discard(pt)
                    b["points"].update({(x + sh[0], y, z), (x, y + sh[1], z), (x, y, z + sh[2])})
                    rows.append((i, o, x, y, z, bi))
                    placed = True
                    break
                if placed:
                    break
            bi += 1
        if not placed and many_bins:
            return None  # an item no empty bin takes (weight alone over the limit): no packing
    return rows


def _free_spot(boxes, pt, sh, box, support) -> bool:
    x, y, z = pt
    if any(pt[k] + sh[k] > box[k] for k in range(3)):
        return False
    for (bx, by, bz), (dx, dy, dz) in boxes:
        if x < bx + dx and bx < x + sh[0] and y < by + dy and by < y + sh[1] and z < bz + dz and bz < z + sh[2]:
            return False
    if support is None or z == 0:
        return True
    area = 0
    for (bx, by, bz), (dx, dy, dz) in boxes:
        if bz + dz == z:
            ox = min(x + sh[0], bx + dx) - max(x, bx)
            oy = min(y + sh[1], by + dy) - max(y, by)
            if ox > 0 and oy > 0:
                area += ox * oy
    return area >= support_need(support, sh[0] * sh[1])


def free_first_fit(instance: Instance, deadline: float | None = None) -> Packing:
    """A valid free-mode packing honouring the orientation limits and the support rule: the
    first-fit on square footprints S x S around the volume's cube root, the least surface kept.

    The free mode's weight limit is on the total, which the Instance already checks; the floor of
    a footprint wide enough for every item (the last S tried) always takes the next item, so a
    packing is always found. When the ``deadline`` passes first: every item in a row on the
    floor, in its first allowed orientation (valid under any orientation limit and support rule).
    """
    order = _heuristic_order(instance)
    widest = max(min(max(sh[0], sh[1]) for _, sh in _shapes(instance, i, None)) for i in range(instance.n))
    cube = round(instance.volume ** (1 / 3))
    tall = int(instance.dims.max(axis=1).sum())
    foot = sorted({max(widest, math.ceil(cube * f)) for f in (1.0, 1.25, 1.5, 2.0)})
    foot.append(max(foot[-1], sum(min(max(sh[0], sh[1]) for _, sh in _shapes(instance, i, None))
                                  for i in range(instance.n))))
    best: Packing | None = None
    for side in foot:
        rows = first_fit(instance, order, (side, side, tall), many_bins=False, support=instance.support, weights=None,
                         deadline=deadline)
        if rows is None or len(rows) < instance.n:
            continue
        p = Packing(instance, tuple(Placement(i, o, x, y, z) for i, o, x, y, z, _ in rows))
        if not validate(p) and (best is None or p.surface_area < best.surface_area):
            best = p
    if best is None:  # out of time (the widest footprint always holds every item on the floor)
        x, rows_ = 0, []
        for i in range(instance.n):
            o = instance.allowed_orientations(i)[0]
            rows_.append(Placement(i, o, x, 0, 0))
            x += instance.oriented(i, o)[0]
        best = Packing(instance, tuple(rows_))
    return best


def _heuristic_order(instance: Instance) -> list[int]:
    vol = instance.dims.astype(np.int64).prod(axis=1)
    return [int(i) for i in np.lexsort((np.arange(instance.n), -vol))]


def _mode_box(instance: Instance) -> tuple[int, int, int]:
    c = tuple(int(v) for v in instance.container)
    if instance.mode == "base":
        # No packing needs more height than all items stacked (every bottom is the floor or a top).
        tall = sum(max((sh[2] for _, sh in _shapes(instance, i, (c[0], c[1], 2**40))), default=0)
                   for i in range(instance.n))
        return c[0], c[1], max(1, tall)
    return c[0], c[1], c[2]


def _objective_key(packing: Packing) -> float:
    """Smaller is better in every fixed mode (container volume negated)."""
    mode = packing.instance.mode
    if mode == "base":
        return float(packing.height)
    if mode == "container":
        return -float(packing.packed_volume)
    return float(packing.bins_used)


#: Placement rules of the engine tried for the start (beside the local first-fit).
HINT_RULES = ("auto", "boundary", "ems-fit")


def _hint_orders(instance: Instance) -> dict[str, list[int]]:
    """Item orders for the start: decreasing volume, largest base area, longest base side (the
    last two matter under a support rule, where wide items belong low)."""
    n = instance.n
    shapes = [_shapes(instance, i, None) for i in range(n)]
    keys = {
        "volume": instance.dims.astype(np.int64).prod(axis=1),
        "base-area": np.array([max(sh[0] * sh[1] for _, sh in s) for s in shapes], dtype=np.int64),
        "base-side": np.array([max(max(sh[0], sh[1]) for _, sh in s) for s in shapes], dtype=np.int64),
    }
    return {name: [int(i) for i in np.lexsort((np.arange(n), -key))] for name, key in keys.items()}


def hint_packing(instance: Instance, deadline: float | None = None) -> tuple[Packing | None, str]:
    """A valid packing to start from: the best of the local first-fit and the engine's
    :func:`packzoo.envs.fixed.pack_order` with the rules :data:`HINT_RULES`, each on the orders of
    :func:`_hint_orders`; or (None, "") when none finds one (a base-mode dead end of the support
    rule every time, or the deadline). Each try costs about one packing of the instance."""
    sup = instance.support
    cands: list[tuple[Packing, str]] = []
    weights = scale_weights(instance)
    for oname, order in _hint_orders(instance).items():
        rows = first_fit(instance, order, _mode_box(instance), many_bins=instance.mode == "bins",
                         support=sup, weights=weights, deadline=deadline)
        if rows is not None:
            p = Packing(instance, tuple(Placement(i, o, x, y, z, b) for i, o, x, y, z, b in rows))
            if not validate(p):
                cands.append((p, f"first-fit/{oname}"))
        for rule in HINT_RULES:
            if deadline is not None and time.perf_counter() > deadline:
                break
            try:
                p = pack_order(instance, order, rule=rule)
            except ValueError:  # NoPlacementError: a base-mode dead end of the support rule
                continue
            if not validate(p):
                cands.append((p, f"pack_order:{rule}/{oname}"))
        if instance.support is None and cands and oname == "volume":
            break  # without a support rule decreasing volume serves; the other orders are for support
    if not cands:
        return None, ""
    return min(cands, key=lambda c: _objective_key(c[0]))


# --- data ------------------------------------------------------------------------------------


@dataclass
class FixedData:
    """Everything the fixed-mode model needs (no OR-Tools here).

    Attributes:
        instance: the instance (mode base, container or bins).
        box: the container (L, W, H); in base mode H is the largest height worth considering.
        shapes: per item the allowed (orientation, shape) that fit the container ([] = left out).
        order: bins mode: the order in which items open bins (clique first); else item order.
        clique: bins mode: items no two of which share a bin, in bins 0..len-1.
        n_bins: bins mode: the number of bin indices in the model (an upper bound on the optimum).
        obj_lo: the least objective value the model allows (a proven bound or the hint's value).
        obj_hi: the largest objective value the model allows.
        mirror: axes along which the anchor's centre is kept in the lower half.
        anchor: the item used for the mirror symmetry (None: no mirror symmetry).
        identical: groups of interchangeable items, each in ``order``'s order.
        support: the support fraction, or None.
        weights: the scaled weights, or None.
        hint: per item (present, bin, orientation, x, y, z) of a canonical valid packing, or None.
        compact: the model requires pushed packings: every item at 0 or against another item's
            far face on each axis (never with a support rule, which a push can break).
    """

    instance: Instance
    box: tuple[int, int, int]
    shapes: list[list[tuple[int, tuple[int, int, int]]]]
    order: list[int]
    clique: list[int]
    n_bins: int
    obj_lo: int
    obj_hi: int
    mirror: tuple[int, ...] = ()
    anchor: int | None = None
    identical: list[list[int]] = field(default_factory=list)
    support: float | None = None
    weights: ScaledWeights | None = None
    hint: list[tuple[bool, int, int, int, int, int]] | None = None
    compact: bool = False


def _pair_fits(data_shapes, i: int, j: int, box, weights: ScaledWeights | None) -> bool:
    """Can items i and j share one bin? (Two boxes fit iff they fit side by side along an axis.)"""
    if weights is not None and weights.weights[i] + weights.weights[j] > weights.capacity:
        return False
    for _, a in data_shapes[i]:
        for _, b in data_shapes[j]:
            for k in range(3):
                if a[k] + b[k] <= box[k]:
                    return True
    return False


def mode_bounds(instance: Instance) -> tuple[int, int]:
    """The mode's proven bound as an integer: (lower, upper) on the objective's optimum.

    base: (ceil height bound, -); container: (0, floor volume bound); bins: (ceil bins bound, n).
    The bound comes from :func:`packzoo.envs.packing.bound`; a float bound is rounded with a
    relative margin (it may overshoot an exactly tight integer by rounding).
    """
    from packzoo.envs.packing import bound

    b = float(bound(instance))
    if instance.mode == "container":
        return 0, int(math.floor(b * (1 + 1e-12) + 1e-6))
    return int(math.ceil(b * (1 - 1e-12) - 1e-6)), 0


def build_fixed_data(instance: Instance, hint: Packing | None, *, symmetry: bool = True, compact: bool = True) -> FixedData:
    """Shapes, order, clique, bounds, symmetry classes and the canonical hint of ``instance``.

    Args:
        instance: a base, container or bins instance.
        hint: a valid packing (its objective bounds the search), or None.
        symmetry: break the mirror, identical-item and bin-label symmetries.
        compact: require pushed packings (ignored under a support rule).
    """
    mode = instance.mode
    n = instance.n
    box = _mode_box(instance)
    shapes = [_shapes(instance, i, box) for i in range(n)]
    weights = scale_weights(instance)
    support = instance.support
    vol = instance.dims.astype(np.int64).prod(axis=1)
    by_volume = [int(i) for i in np.lexsort((np.arange(n), -vol))]
    lo, hi = mode_bounds(instance)
    clique: list[int] = []
    order = list(range(n))
    n_bins = 1
    if mode == "bins":
        for i in by_volume:  # greedy: the biggest items first, each incompatible with all so far
            if all(not _pair_fits(shapes, i, j, box, weights) for j in clique):
                clique.append(i)
        order = clique + [i for i in by_volume if i not in clique]
        n_bins = n if hint is None else hint.bins_used
        lo = max(lo, len(clique))
        hi = n_bins
    elif mode == "base":
        lo = max(lo, max((min(sh[2] for _, sh in s) for s in shapes if s), default=0))
        hi = box[2] if hint is None else hint.height
    else:  # container: maximise volume
        packable = int(sum(vol[i] for i in range(n) if shapes[i]))
        hi = min(hi, packable, box[0] * box[1] * box[2])
        lo = 0 if hint is None else int(hint.packed_volume)
    anchor = None
    mirror: tuple[int, ...] = ()
    identical: list[list[int]] = []
    if symmetry:
        cand = [i for i in (clique[:1] if mode == "bins" else by_volume) if shapes[i]]
        anchor = cand[0] if cand else None
        mirror = (0, 1) if support is not None else (0, 1, 2)
        groups: dict[tuple, list[int]] = {}
        for i in order:
            if not shapes[i]:
                continue
            key = (frozenset(sh for _, sh in shapes[i]), None if weights is None else weights.weights[i])
            groups.setdefault(key, []).append(i)
        identical = [g for g in groups.values() if len(g) > 1 and anchor not in g]
    data = FixedData(instance, box, shapes, order, clique, n_bins, lo, hi, mirror, anchor, identical,
                     support, weights, compact=compact and support is None)
    if hint is not None:
        data.hint = canonical(hint, data)
    return data


def canonical(packing: Packing, data: FixedData) -> list[tuple[bool, int, int, int, int, int]]:
    """Map a valid packing onto the symmetry-broken space: per item (present, bin, o, x, y, z).

    The moves of the symmetry breaking: mirror the anchor's bin (the container) so that the
    anchor's centre is in the lower half of each mirrored axis; then, until nothing changes,
    relabel the bins in first-appearance order of ``data.order`` and give each group of identical
    items its slots sorted by (absent last, global x). Each move keeps the packing valid and its
    objective; the loop ends because the bin vector only decreases lexicographically.
    """
    inst = data.instance
    n = inst.n
    slots: list[list[Any]] = [[False, 0, (0, 0, 0), 0, 0, 0] for _ in range(n)]  # present, bin, shape, x, y, z
    for p in packing.placements:
        slots[p.item] = [True, int(getattr(p, "bin", 0)), inst.oriented(p.item, p.orientation), p.x, p.y, p.z]
    size = list(data.box)
    if inst.mode == "base":
        size[2] = packing.height
    a = data.anchor
    while True:
        if a is not None and slots[a][0]:
            for k in data.mirror:
                sa = slots[a]
                if 2 * sa[3 + k] + sa[2][k] > size[k]:
                    for s in slots:
                        if s[0] and s[1] == sa[1]:
                            s[3 + k] = size[k] - s[3 + k] - s[2][k]
        if data.compact:
            _push(slots)
        if inst.mode != "base":
            break
        # Mirroring a packing with a gap under it, or pushing it down, lowers its height, and
        # with it the mirror's midpoint: mirror again (the height only falls, so this ends).
        top = max((s[5] + s[2][2] for s in slots if s[0]), default=0)
        if top == size[2]:
            break
        size[2] = top
    L = data.box[0]
    for _ in range(4 * n + 4):
        before = [s[1] for s in slots]
        if inst.mode == "bins":
            label: dict[int, int] = {}
            for i in data.order:
                label.setdefault(slots[i][1], len(label))
            for s in slots:
                s[1] = label[s[1]]
        for group in data.identical:
            rows = sorted((slots[i] for i in group), key=lambda s: (not s[0], s[1] * L + s[3], s[1], s[4], s[5]))
            for i, s in zip(group, rows):
                slots[i] = list(s)
        if [s[1] for s in slots] == before:
            break
    out = []
    for i, (present, b, shape, x, y, z) in enumerate(slots):
        o = next((oo for oo, sh in data.shapes[i] if sh == shape), 0)
        out.append((bool(present), int(b), int(o), int(x), int(y), int(z)))
    return out


def _push(slots: list[list[Any]]) -> None:
    """Push every packed box towards the origin, axis by axis, until none moves: each ends at 0
    or against the far face of a box it overlaps on the other two axes (same bin). Coordinates
    only fall, so it ends, and the packing stays valid (no support rule here)."""
    moved = True
    while moved:
        moved = False
        for s in slots:
            if not s[0]:
                continue
            for k in (2, 1, 0):
                o1, o2 = [q for q in range(3) if q != k]
                stop = 0
                for t in slots:
                    if t is s or not t[0] or t[1] != s[1] or t[3 + k] + t[2][k] > s[3 + k]:
                        continue
                    if (t[3 + o1] < s[3 + o1] + s[2][o1] and s[3 + o1] < t[3 + o1] + t[2][o1]
                            and t[3 + o2] < s[3 + o2] + s[2][o2] and s[3 + o2] < t[3 + o2] + t[2][o2]):
                        stop = max(stop, t[3 + k] + t[2][k])
                if stop < s[3 + k]:
                    s[3 + k] = stop
                    moved = True


# --- model -----------------------------------------------------------------------------------


@dataclass
class FixedVars:
    """Handles on the fixed-mode model's variables."""

    present: list[Any]
    orient: list[list[Any]]
    pos: list[list[Any]]  # [X (global in bins mode), y, z]
    local_x: list[Any]  # bins mode: x inside the bin; else the same as pos[i][0]
    size: list[list[Any]]
    bin: list[Any]  # bins mode: the bin index per item; else constants 0
    assign: list[list[Any]]  # bins mode: literals b_i == k (when weights or redundant)
    prefix: list[Any]  # bins mode: running max of the bin index along data.order
    height: Any  # base mode: H
    objective: Any
    rel: dict[tuple[int, int, int, int], Any]


def add_support(m, items: list[int], pos, size, orient, shapes, present, support: float, tag: str = "",
                deadline: float | None = None) -> None:
    """The support rule in CP-SAT, sound and complete (see the module docstring).

    Args:
        m: the CpModel.
        items: the items in the model.
        pos, size: per item [x, y, z] and [dx, dy, dz] variables (x global in bins mode).
        orient: per item the orientation literals, in the order of ``shapes[i]``.
        shapes: per item the (orientation, shape) list.
        present: per item a literal "packed" (or True).
        support: the fraction (a float, taken exactly).
        deadline: raise :class:`OutOfTime` when it passes (quadratic).
    """
    for i in items:
        _check_clock(deadline)
        need_i = sum(support_need(support, sh[0] * sh[1]) * lit for (_, sh), lit in zip(shapes[i], orient[i]))
        max_base = max(sh[0] * sh[1] for _, sh in shapes[i])
        contrib = []
        for j in items:
            if j == i:
                continue
            on = m.new_bool_var(f"{tag}on{i}_{j}")
            m.add(pos[j][2] + size[j][2] == pos[i][2]).only_enforce_if(on)
            if present[j] is not True:
                m.add_implication(on, present[j])
            ov = []
            for k in range(2):
                hi_k = min(max(sh[k] for _, sh in shapes[i]), max(sh[k] for _, sh in shapes[j]))
                o = m.new_int_var(0, hi_k, f"{tag}ov{i}_{j}{k}")
                # A positive o is at most min(end) - max(start), as four upper bounds: never more
                # than the true overlap. (Unconditional bounds would forbid disjoint projections.)
                pos_o = m.new_bool_var(f"{tag}ovp{i}_{j}{k}")
                m.add(o == 0).only_enforce_if(~pos_o)
                for term in (pos[j][k] + size[j][k] - pos[i][k], pos[i][k] + size[i][k] - pos[j][k],
                             size[i][k], size[j][k]):
                    m.add(o <= term).only_enforce_if(pos_o)
                ov.append(o)
            area = m.new_int_var(0, max_base, f"{tag}ar{i}_{j}")
            m.add_multiplication_equality(area, ov)
            c = m.new_int_var(0, max_base, f"{tag}c{i}_{j}")
            m.add(c <= area)
            m.add(c == 0).only_enforce_if(~on)
            contrib.append(c)
        lifted = m.new_bool_var(f"{tag}lift{i}")
        m.add(pos[i][2] >= 1).only_enforce_if(lifted)
        m.add(pos[i][2] == 0).only_enforce_if(~lifted)
        cond = [lifted] if present[i] is True else [lifted, present[i]]
        m.add(sum(contrib) >= need_i).only_enforce_if(cond)


def build_fixed_model(data: FixedData, *, redundant: bool = True, optimize: bool = True, deadline: float | None = None):
    """The CP-SAT model of ``data``; returns (model, variables).

    Args:
        data: from :func:`build_fixed_data`.
        redundant: add the cumulative (and per-bin volume) relaxations.
        optimize: optimise the mode's objective; False leaves a feasibility model with the
            objective inside [data.obj_lo, data.obj_hi] (the tie-break pass pins it).
    """
    from ortools.sat.python import cp_model

    m = cp_model.CpModel()
    inst = data.instance
    mode = inst.mode
    n = inst.n
    L, W, Hbox = data.box
    K = data.n_bins
    items = [i for i in range(n) if data.shapes[i]]
    H = None
    if mode == "base":
        H = m.new_int_var(max(1, data.obj_lo), max(1, data.obj_lo, data.obj_hi), "H")
    zcap = H if H is not None else Hbox
    present: list[Any] = [True] * n
    orient: list[list[Any]] = [[] for _ in range(n)]
    pos: list[list[Any]] = [[] for _ in range(n)]
    size: list[list[Any]] = [[] for _ in range(n)]
    local_x: list[Any] = [None] * n
    bins_of: list[Any] = [0] * n
    assign: list[list[Any]] = [[] for _ in range(n)]
    zmax = Hbox if H is None else max(1, data.obj_lo, data.obj_hi)
    for i in items:
        if mode == "container":
            present[i] = m.new_bool_var(f"p{i}")
        lits = [m.new_bool_var(f"o{i}_{o}") for o, _ in data.shapes[i]]
        if present[i] is True:
            m.add_exactly_one(lits)
        else:
            m.add(sum(lits) == present[i])
        orient[i] = lits
        for k in range(3):
            vals = [sh[k] for _, sh in data.shapes[i]]
            d = m.new_int_var(min(vals), max(vals), f"d{i}{'xyz'[k]}")
            if present[i] is True:
                m.add(d == sum(v * lit for v, lit in zip(vals, lits)))
            else:
                m.add(d == sum(v * lit for v, lit in zip(vals, lits))).only_enforce_if(present[i])
            size[i].append(d)
        cap = (L, W, zmax)
        ps = [m.new_int_var(0, max(0, cap[k] - min(sh[k] for _, sh in data.shapes[i])), f"{'xyz'[k]}{i}") for k in range(3)]
        m.add(ps[0] + size[i][0] <= L)
        m.add(ps[1] + size[i][1] <= W)
        m.add(ps[2] + size[i][2] <= zcap)
        local_x[i] = ps[0]
        if mode == "bins":
            b = m.new_int_var(0, K - 1, f"b{i}")
            X = m.new_int_var(0, K * L, f"X{i}")
            m.add(X == L * b + ps[0])
            bins_of[i] = b
            ps = [X, ps[1], ps[2]]
        pos[i] = ps
    rel: dict[tuple[int, int, int, int], Any] = {}
    for a_, i in enumerate(items):
        _check_clock(deadline)  # quadratic in the items
        for j in items[a_ + 1:]:
            lits = []
            for k in range(3):
                for side, (u, v) in enumerate(((i, j), (j, i))):
                    lit = m.new_bool_var(f"r{i}_{j}_{k}{side}")
                    m.add(pos[u][k] + size[u][k] <= pos[v][k]).only_enforce_if(lit)
                    rel[(i, j, k, side)] = lit
                    lits.append(lit)
            if mode == "container":
                lits += [~present[i], ~present[j]]
            m.add_bool_or(lits)
    # The objective.
    vol = {i: int(np.prod(inst.dims[i])) for i in items}
    prefix: list[Any] = []
    if mode == "base":
        objective = H
    elif mode == "container":
        objective = m.new_int_var(max(0, data.obj_lo), max(0, data.obj_lo, data.obj_hi), "V")
        m.add(objective == sum(vol[i] * present[i] for i in items))
    else:
        objective = m.new_int_var(max(1, data.obj_lo), max(1, data.obj_lo, data.obj_hi), "nbins")
        for r, i in enumerate(data.order):
            if r < len(data.clique):
                m.add(bins_of[i] == r)  # the clique opens bins 0..c-1, one each
            else:
                m.add(bins_of[i] <= prefix[-1] + 1)  # first appearance: no bin opens out of turn
            if not prefix:
                mx = bins_of[i]
            else:
                mx = m.new_int_var(0, K - 1, f"mx{r}")
                m.add_max_equality(mx, [prefix[-1], bins_of[i]])
            prefix.append(mx)
        m.add(objective == prefix[-1] + 1)
    # Weights: linear in the presence / bin literals.
    w = data.weights
    if mode == "bins" and (w is not None or redundant):
        for i in items:
            assign[i] = [m.new_bool_var(f"a{i}_{k}") for k in range(K)]
            m.add_exactly_one(assign[i])
            m.add(bins_of[i] == sum(k * lit for k, lit in enumerate(assign[i])))
        for k in range(K):
            if w is not None:
                m.add(sum(w.weights[i] * assign[i][k] for i in items) <= w.capacity)
            if redundant:
                m.add(sum(vol[i] * assign[i][k] for i in items) <= L * W * Hbox)
    elif w is not None:
        m.add(sum(w.weights[i] * present[i] for i in items) <= w.capacity)
    if data.support is not None:
        add_support(m, items, pos, size, orient, data.shapes, present, data.support, deadline=deadline)
    if redundant:
        _add_cumulatives(m, data, items, pos, size, orient, present, objective, H)
    _add_symmetry(m, data, pos, size, present, rel, H)
    if data.compact:
        _add_compaction(m, items, pos, size, local_x, present, deadline)
    if optimize:
        if mode == "container":
            m.maximize(objective)
        else:
            m.minimize(objective)
    var = FixedVars(present, orient, pos, local_x, size, bins_of, assign, prefix, H, objective, rel)
    _check_clock(deadline)
    if data.hint is not None:
        _add_fixed_hint(m, data, var, items)
    _check_clock(deadline)
    return m, var


def _add_cumulatives(m, data: FixedData, items, pos, size, orient, present, objective, H) -> None:
    """Per axis: the items crossing a plane normal to it have disjoint cross-sections."""
    inst = data.instance
    L, W, Hbox = data.box
    if inst.mode == "base":
        caps = [W * H, L * H, L * W]
        axes = (0, 1, 2)
    elif inst.mode == "container":
        caps = [W * Hbox, L * Hbox, L * W]
        axes = (0, 1, 2)
    else:  # bins side by side along x: only x has a fixed cross-section; y, z hold nbins of them
        caps = [W * Hbox, L * Hbox * objective, L * W * objective]
        axes = (0, 1, 2)
    for k in axes:
        o1, o2 = [q for q in range(3) if q != k]
        intervals, demands = [], []
        for i in items:
            areas = [sh[o1] * sh[o2] for _, sh in data.shapes[i]]
            dem = m.new_int_var(0, max(areas), f"cum{i}{k}")
            m.add(dem == sum(v * lit for v, lit in zip(areas, orient[i])))
            end = m.new_int_var(0, 2**40, f"e{i}{k}")
            if present[i] is True:
                intervals.append(m.new_interval_var(pos[i][k], size[i][k], end, f"iv{i}{k}"))
            else:
                intervals.append(m.new_optional_interval_var(pos[i][k], size[i][k], end, present[i], f"iv{i}{k}"))
            demands.append(dem)
        m.add_cumulative(intervals, demands, caps[k])


def _add_compaction(m, items, pos, size, local_x, present, deadline: float | None) -> None:
    """Every item at 0 or against another item's far face, on every axis (pushed packings)."""
    for i in items:
        _check_clock(deadline)  # quadratic in the items
        for k in range(3):
            lits = []
            z0 = m.new_bool_var(f"at0_{i}{k}")
            m.add((local_x[i] if k == 0 else pos[i][k]) == 0).only_enforce_if(z0)
            lits.append(z0)
            for j in items:
                if j == i:
                    continue
                t = m.new_bool_var(f"touch{i}_{j}{k}")
                m.add(pos[i][k] == pos[j][k] + size[j][k]).only_enforce_if(t)
                if present[j] is not True:
                    m.add_implication(t, present[j])
                lits.append(t)
            if present[i] is not True:
                lits.append(~present[i])
            m.add_bool_or(lits)


def _add_symmetry(m, data: FixedData, pos, size, present, rel, H) -> None:
    inst = data.instance
    a = data.anchor
    if a is not None:
        for k in data.mirror:
            if k == 0 and inst.mode == "bins":
                # Inside the anchor's bin (bin 0: the anchor opens the clique).
                ct = m.add(2 * pos[a][0] + size[a][0] <= data.box[0])
            elif k == 2 and inst.mode == "base":
                ct = m.add(2 * pos[a][2] + size[a][2] <= H)
            else:
                ct = m.add(2 * pos[a][k] + size[a][k] <= data.box[k])
            if present[a] is not True:
                ct.only_enforce_if(present[a])
    for group in data.identical:
        for u, v in zip(group, group[1:]):
            if present[u] is True:
                m.add(pos[u][0] <= pos[v][0])
            else:
                m.add_implication(present[v], present[u])
                m.add(pos[u][0] <= pos[v][0]).only_enforce_if(present[v])
        # With x_u <= x_v and both packed, "v entirely before u on x" is impossible.
        for ii, u in enumerate(group):
            for v in group[ii + 1:]:
                key = (u, v, 0, 1) if u < v else (v, u, 0, 0)
                if present[u] is True:
                    m.add(rel[key] == 0)


def _add_fixed_hint(m, data: FixedData, var: FixedVars, items: list[int]) -> None:
    """Hint every decision variable from the canonical hint (CP-SAT follows a full hint best)."""
    inst = data.instance
    hint = data.hint
    assert hint is not None
    L = data.box[0]
    boxes: dict[int, tuple[tuple[int, int, int], tuple[int, int, int]]] = {}
    for i in items:
        present, b, o, x, y, z = hint[i]
        if var.present[i] is not True:
            m.add_hint(var.present[i], present)
        shape = inst.oriented(i, o) if present else data.shapes[i][0][1]
        for lit, (oo, sh) in zip(var.orient[i], data.shapes[i]):
            m.add_hint(lit, bool(present) and sh == shape)
        gx = b * L + x if inst.mode == "bins" else x
        coords = (gx, y, z) if present else (0, 0, 0)
        for k in range(3):
            m.add_hint(var.pos[i][k], coords[k])
            if present or var.present[i] is True:
                m.add_hint(var.size[i][k], shape[k])
        if inst.mode == "bins":
            m.add_hint(var.local_x[i], x)
            m.add_hint(var.bin[i], b)
            for k, lit in enumerate(var.assign[i]):
                m.add_hint(lit, k == b)
        if present:
            boxes[i] = ((gx, y, z), shape)
    if inst.mode == "bins":
        run = -1
        for r, i in enumerate(data.order):
            run = max(run, hint[i][1])
            if r > 0:
                m.add_hint(var.prefix[r], run)
        m.add_hint(var.objective, run + 1)
    elif inst.mode == "base":
        m.add_hint(var.height, max(p[2] + s[2] for p, s in boxes.values()))
    else:
        m.add_hint(var.objective, sum(int(np.prod(inst.dims[i])) for i in boxes))
    for (i, j, k, side), lit in var.rel.items():
        if i in boxes and j in boxes:
            (pi, si), (pj, sj) = boxes[i], boxes[j]
            m.add_hint(lit, (pi[k] + si[k] <= pj[k]) if side == 0 else (pj[k] + sj[k] <= pi[k]))


def extract_fixed(solver, data: FixedData, var: FixedVars) -> Packing:
    """The packing in the solver's current solution (bins numbered 0.. in first appearance)."""
    inst = data.instance
    placements = []
    for i in range(inst.n):
        if not data.shapes[i]:
            continue
        if var.present[i] is not True and not solver.boolean_value(var.present[i]):
            continue
        o = next(oo for lit, (oo, _) in zip(var.orient[i], data.shapes[i]) if solver.boolean_value(lit))
        x = int(solver.value(var.local_x[i]))
        y, z = (int(solver.value(v)) for v in var.pos[i][1:])
        b = int(solver.value(var.bin[i])) if inst.mode == "bins" else 0
        placements.append(Placement(i, int(o), x, y, z, b))
    return Packing(inst, tuple(placements))


# --- the solve -------------------------------------------------------------------------------


def _value(packing: Packing) -> int:
    mode = packing.instance.mode
    if mode == "base":
        return int(packing.height)
    if mode == "container":
        return int(packing.packed_volume)
    return int(packing.bins_used)


def _better(a: Packing, b: Packing) -> bool:
    """Is ``a`` strictly better than ``b`` in their mode?"""
    return _objective_key(a) < _objective_key(b)


def solve_fixed(instance: Instance, *, seed: int, deadline: float | None, num_workers: int, symmetry: bool,
                hint: bool, redundant: bool, log: bool, compact: bool = True) -> Solution:
    """Solve a base / container / bins instance with CP-SAT; see :class:`~packzoo.solvers.exact.ExactSolver`.

    Returns:
        status "optimal" when CP-SAT proves it (and the weights were scaled exactly); "feasible"
        with ``bound`` = the proven bound (height or bins: a lower bound; container: an upper
        bound on the packed volume) when the clock stops it; "unknown" with no packing when
        neither the hint nor the search found one in time.
    """
    from ortools.sat.python import cp_model

    if instance.mode not in FIXED_MODES:
        raise ValueError(f"solve_fixed handles modes {FIXED_MODES}, got {instance.mode!r}")
    cpu0 = time.process_time()
    fallback, hint_name = hint_packing(instance, deadline)
    weights = scale_weights(instance)
    # A rounded (stricter) weight model may refuse the hint; then the model starts without it.
    usable = fallback is not None and hint and (weights is None or weights.exact or _within(fallback, weights))
    data = build_fixed_data(instance, fallback if usable else None, symmetry=symmetry, compact=compact)
    lo_proven = data.obj_lo if instance.mode != "container" else data.obj_hi
    info: dict[str, Any] = {"hint_solver": hint_name, "hint_objective": None if fallback is None else _value(fallback),
                            "stopped_by_time": False, "mode": instance.mode}
    exact_weights = data.weights is None or data.weights.exact
    info["weights_exact"] = exact_weights
    try:
        model, var = build_fixed_model(data, redundant=redundant, deadline=deadline)
    except OutOfTime:
        info.update(cp_status="NOT_STARTED", stopped_by_time=True, cpu_seconds=time.process_time() - cpu0)
        if fallback is not None and exact_weights and _value(fallback) == lo_proven:
            info["proven_by"] = "bound"  # the hint meets the mode's proven bound: optimal as it is
            return Solution(fallback, "optimal", float(lo_proven), info=info)
        return Solution(fallback, "feasible" if fallback is not None else "unknown",
                        float(lo_proven) if exact_weights else None, info=info)
    t0 = time.perf_counter()
    solver, status = solve_model(model, time_limit=_remaining(deadline), num_workers=num_workers, seed=seed, log=log)
    info.update(cp_status=solver.status_name(status), wall_cp=time.perf_counter() - t0,
                deterministic_time=solver.deterministic_time)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        packing = _checked(extract_fixed(solver, data, var))
        if fallback is not None and _better(fallback, packing):
            packing = fallback
        proven = status == cp_model.OPTIMAL
        if instance.mode == "container":
            cp_bound = int(math.floor(solver.best_objective_bound + 1e-9))
        else:
            cp_bound = int(math.ceil(solver.best_objective_bound - 1e-9))
    elif status == cp_model.INFEASIBLE and not exact_weights:
        # The rounded weights left no packing, though the instance has one (the hint, or none).
        packing, proven, cp_bound = fallback, False, lo_proven
    elif status == cp_model.INFEASIBLE and data.hint is None:
        # The model (with its sound bounds) has no packing at all: the instance has none.
        raise ValueError(f"no packing of this {instance.mode} instance exists (CP-SAT proves it infeasible)")
    elif status == cp_model.UNKNOWN:
        packing, proven, cp_bound = fallback, False, lo_proven
    else:
        raise RuntimeError(f"CP-SAT says {solver.status_name(status)} on a {instance.mode} instance: a bug in the model")
    if not exact_weights:
        # The model's weights were rounded (stricter): its optimum need not be the instance's.
        proven = False
        cp_bound = lo_proven
    if not proven:
        info["stopped_by_time"] = status == cp_model.UNKNOWN or status == cp_model.FEASIBLE
        info["cpu_seconds"] = time.process_time() - cpu0
        if packing is None:
            return Solution(None, "unknown", float(lo_proven) if exact_weights else None, info=info)
        val = _value(packing)
        if exact_weights and val == lo_proven:
            info["proven_by"] = "bound"  # the hint meets the mode's proven bound: optimal as it is
            return Solution(packing, "optimal", float(val), info=info)
        bound = min(cp_bound, data.obj_hi) if instance.mode == "container" else max(cp_bound, lo_proven)
        bound = max(bound, val) if instance.mode == "container" else min(bound, val)
        return Solution(packing, "feasible", float(bound) if exact_weights else None, info=info)
    if num_workers > 1:
        packing = _tie_break(data, packing, seed, deadline, info, redundant=redundant, log=log)
    info["cpu_seconds"] = time.process_time() - cpu0
    return Solution(packing, "optimal", float(_value(packing)), info=info)


def _within(packing: Packing, weights: ScaledWeights) -> bool:
    """Does ``packing`` keep every bin within the scaled (integer) weight limit?"""
    load: dict[int, int] = {}
    for p in packing.placements:
        load[p.bin] = load.get(p.bin, 0) + weights.weights[p.item]
    return all(v <= weights.capacity for v in load.values())


def _checked(packing: Packing) -> Packing:
    errors = validate(packing)
    if errors:  # never hand out an invalid packing; this would be a bug in the model
        raise RuntimeError(f"CP-SAT returned an invalid {packing.instance.mode} packing: {errors[:3]}")
    return packing


def _tie_break(data: FixedData, packing: Packing, seed: int, deadline: float | None, info: dict, *,
               redundant: bool, log: bool) -> Packing:
    """One worker, the objective pinned to the optimum: the same seed gives the same packing."""
    from ortools.sat.python import cp_model

    v = _value(packing)
    pinned = replace(data, obj_lo=v, obj_hi=v)
    try:
        model, var = build_fixed_model(pinned, redundant=redundant, optimize=False, deadline=deadline)
    except OutOfTime:
        info["stopped_by_time"] = True
        return packing
    t0 = time.perf_counter()
    solver, status = solve_model(model, time_limit=_remaining(deadline), num_workers=1, seed=seed, log=log)
    info["wall_tie_break"] = time.perf_counter() - t0
    info["deterministic_time_tie_break"] = solver.deterministic_time
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _checked(extract_fixed(solver, pinned, var))
    if status != cp_model.UNKNOWN:
        raise RuntimeError(f"tie-break pass says {solver.status_name(status)}: a bug in the model")
    info["stopped_by_time"] = True
    return packing
