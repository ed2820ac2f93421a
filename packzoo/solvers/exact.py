"""OR-Tools CP-SAT exact solver: proven optima of the free-bin problem and of the fixed modes.

The free mode's model is here; ``base``, ``container`` and ``bins`` instances go to
:mod:`packzoo.solvers.exact_fixed` (same steps, same search runner :func:`solve_model`). In every
mode only the allowed orientations enter the model, and the support rule and weight limits are
constraints of it (see exact_fixed's docstring for why the support model is exact).

The free model, in the OR-Tools examples' shape (data -> model -> solve -> extract, each a function):

- one boolean per *distinct* orientation of each item, exactly one true; the item's sizes along
  x, y, z are linear in those booleans;
- integer corners (integer corners lose nothing: any packing can be pushed to the origin until
  every coordinate is a sum of item sizes) and bin dims L, W, H >= every item's far corner;
- pairwise non-overlap as the disjunction of the 6 relative positions (i left of j on x, ...);
- the objective LW + LH + WH through three multiplication equalities (exact, integer).

What makes it fast (uniform-n8: median 2.9 CPU seconds to prove an optimum, see
benchmarks/bench_exact.py; in CP-SAT's deterministic time, on 6 instances, the redundant
constraints save 38%, the hint 18%, and the symmetry breaking 14x on the one instance measured):

- symmetry breaking, each step valid because it maps an optimal packing onto another one with the
  same bin: L >= W >= H (rotate the whole packing; only when every orientation is allowed, since
  a rotation changes the items' orientations), the largest item's centre in the lower half of
  each axis (mirror the packing along that axis; not z under a support rule, which gravity
  breaks), items with the same allowed shapes ordered by x (swap them);
- bounds from the items' sorted dims (the bin's sorted dims dominate every item's sorted dims),
  from :func:`packzoo.envs.lower_bound` and from the hint's surface;
- redundant constraints: LWH >= total volume, and one cumulative constraint per axis (the items
  crossing a plane x = t have disjoint cross-sections, so their areas sum to at most W*H);
- a solution hint on every decision variable from a heuristic (lsa-lws, else sort-volume),
  mapped onto the symmetry-broken space so that it stays feasible, and its surface as an upper
  bound.

Determinism: one CP-SAT worker is deterministic for a given seed, several are not in *which*
optimal packing they return (CP-SAT's deterministic ``interleave_search`` mode was 2-5x slower
here). So with ``num_workers > 1`` the parallel search proves the optimum, then a one-worker
feasibility pass with the objective pinned to that optimum picks the packing: the same seed gives
the same packing unless the clock stops a pass (then ``info["stopped_by_time"]`` is True).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from packzoo._checks import positive_int
from packzoo.envs.instance import Instance
from packzoo.envs.packing import Packing, Placement, lower_bound, validate
from packzoo.solvers.base import BaseSolver, Solution, create_solver, list_solvers, register_solver
from packzoo.solvers.exact_fixed import (  # noqa: F401  (OutOfTime, solve_model: public here as before)
    OutOfTime,
    _check_clock,
    _remaining,
    add_support,
    free_first_fit,
    solve_fixed,
    solve_model,
)

# Hint heuristics in order of preference (the first registered one is used).
HINT_SOLVERS = ("lsa-lws", "sort-volume")


@dataclass
class ExactData:
    """Everything the model needs, computed from the instance and the hint (no OR-Tools here).

    Attributes:
        instance: the instance.
        shapes: per item, the list of (orientation, (dx, dy, dz)) for its distinct orientations.
        lo: lower bounds on (L, W, H).
        hi: upper bounds on (L, W, H).
        half_objective_lb: a proven lower bound on LW + LH + WH.
        half_objective_ub: an upper bound on LW + LH + WH (the hint's), or None.
        symmetry: whether the model breaks symmetries (the bounds and the hint assume it).
        rotate: whether it also breaks the axis rotation (L >= W >= H): only when every item may
            take every orientation.
        mirror: the axes along which the anchor's centre is kept in the lower half.
        support: the support fraction (None: no support rule).
        anchor: the item whose centre is kept in the lower half of each axis (None: no symmetry).
        identical: groups of items with the same sorted dims, ordered by x (anchor's group left out).
        hint: per item (orientation, x, y, z) of a feasible packing of the symmetry-broken model.
    """

    instance: Instance
    shapes: list[list[tuple[int, tuple[int, int, int]]]]
    lo: tuple[int, int, int]
    hi: tuple[int, int, int]
    half_objective_lb: int
    half_objective_ub: int | None
    symmetry: bool
    anchor: int | None = None
    identical: list[list[int]] = field(default_factory=list)
    hint: list[tuple[int, int, int, int]] | None = None
    rotate: bool = True
    mirror: tuple[int, ...] = (0, 1, 2)
    support: float | None = None


@dataclass
class _Vars:
    """Handles on the model's variables, for the hint and the extraction."""

    orient: list[list[Any]]
    pos: list[list[Any]]  # per item [x, y, z]
    size: list[list[Any]]  # per item [dx, dy, dz]
    bin: list[Any]  # [L, W, H]
    prods: list[Any]  # [LW, LH, WH]
    rel: dict[tuple[int, int, int, int], Any]  # (i, j, axis, 0: i before j | 1: j before i)


def _sorted_maxima(dims: np.ndarray) -> tuple[int, int, int]:
    s = np.sort(dims, axis=1)[:, ::-1]
    m = s.max(axis=0)
    return int(m[0]), int(m[1]), int(m[2])


def canonical_boxes(packing: Packing, anchor: int | None, identical: list[list[int]], *, rotate: bool = True,
                    mirror: tuple[int, ...] = (0, 1, 2)) -> list[tuple[int, int, int, int]]:
    """Map a valid packing onto the symmetry-broken space: per item (orientation, x, y, z).

    The same three moves as the symmetry breaking: permute the axes so that L >= W >= H (when
    ``rotate``), mirror each axis of ``mirror`` so that the anchor's centre is in its lower half,
    and reassign the positions within each group of identical items in order of x. The bin, and
    so the surface, is unchanged.
    """
    inst = packing.instance
    boxes = np.zeros((inst.n, 6), dtype=np.int64)
    for p, b in zip(packing.placements, packing.boxes):
        boxes[p.item] = b
    bin_dims = np.array(packing.bin, dtype=np.int64)
    perm = np.argsort(-bin_dims, kind="stable") if rotate else np.arange(3)  # new axis a is old axis perm[a]
    boxes = np.concatenate([boxes[:, :3][:, perm], boxes[:, 3:][:, perm]], axis=1)
    bin_dims = bin_dims[perm]
    if anchor is not None:
        for a in mirror:
            if 2 * boxes[anchor, a] + boxes[anchor, 3 + a] > bin_dims[a]:
                boxes[:, a] = bin_dims[a] - boxes[:, a] - boxes[:, 3 + a]
    for group in identical:
        rows = boxes[group]
        order = np.lexsort((rows[:, 2], rows[:, 1], rows[:, 0]))
        boxes[group] = rows[order]
    out = []
    for i in range(inst.n):
        shape = tuple(int(v) for v in boxes[i, 3:])
        o = next(o for o in inst.allowed_orientations(i) if inst.oriented(i, o) == shape)
        out.append((o, int(boxes[i, 0]), int(boxes[i, 1]), int(boxes[i, 2])))
    return out


def build_data(instance: Instance, hint_packing: Packing | None, *, symmetry: bool = True) -> ExactData:
    """Bounds, symmetry classes and the canonical hint for ``instance``.

    Args:
        instance: the items.
        hint_packing: a valid packing whose surface bounds the search from above, or None.
        symmetry: whether the model will break symmetries (the hint is mapped accordingly).
    """
    dims = instance.dims.astype(np.int64)
    n = instance.n
    shapes = [[(o, instance.oriented(i, o)) for o in instance.allowed_orientations(i)] for i in range(n)]
    # A whole-packing rotation keeps a packing valid only if every orientation is allowed.
    rotate = symmetry and bool(np.all(instance.allowed))
    mirror = (0, 1) if instance.support is not None else (0, 1, 2)
    a, b, c = _sorted_maxima(dims)
    # A relative margin: the float bound of huge items may overshoot an exactly tight optimum.
    half_lb = int(math.ceil(lower_bound(instance) / 2 * (1 - 1e-9) - 1e-6))
    if hint_packing is not None:
        half_ub: int | None = hint_packing.surface_area // 2
        s = half_ub
        # L >= W >= H >= c and W >= b give L(b + c) + bc <= s; W^2 + 2Wc <= s; 3H^2 <= s.
        cap_l = (s - b * c) // (b + c)
        cap_w = int(math.isqrt(c * c + s)) - c
        cap_h = int(math.isqrt(s // 3))
    else:
        half_ub = None
        # A compacted packing has every coordinate a sum of item sizes.
        cap_l = cap_w = cap_h = int(dims.max(axis=1).sum())
    if rotate:
        lo = (a, b, c)
        hi = (max(a, cap_l), max(b, cap_w), max(c, cap_h))
    else:
        # Per axis, every item reaches at least its least extent there over its allowed shapes;
        # the caps above bound the bin's largest side, whatever the axis.
        lo = tuple(max(min(sh[k] for _, sh in shapes[i]) for i in range(n)) for k in range(3))  # type: ignore[assignment]
        hi = tuple(max(lo[k], a, cap_l) for k in range(3))  # type: ignore[assignment]
    anchor = None
    identical: list[list[int]] = []
    if symmetry:
        vol = dims.prod(axis=1)
        anchor = int(np.lexsort((np.arange(n), -vol))[0])
        groups: dict[frozenset, list[int]] = {}
        for i in range(n):  # interchangeable: the same set of allowed shapes
            groups.setdefault(frozenset(sh for _, sh in shapes[i]), []).append(i)
        identical = [g for g in groups.values() if len(g) > 1 and anchor not in g]
    hint = None
    if hint_packing is not None:
        if symmetry:
            hint = canonical_boxes(hint_packing, anchor, identical, rotate=rotate, mirror=mirror)
        else:
            hint = [None] * n  # type: ignore[list-item]
            for p in hint_packing.placements:
                hint[p.item] = (p.orientation, p.x, p.y, p.z)
            # Orientations outside the distinct set are renamed to the first one of that shape.
            hint = [
                (next(o for o, sh in shapes[i] if sh == instance.oriented(i, h[0])), h[1], h[2], h[3])
                for i, h in enumerate(hint)
            ]
    return ExactData(instance, shapes, lo, hi, half_lb, half_ub, symmetry, anchor, identical, hint,
                     rotate=rotate, mirror=mirror if symmetry else (), support=instance.support)


def build_model(data: ExactData, *, redundant: bool = True, optimize: bool = True, deadline: float | None = None):
    """The CP-SAT model of ``data``; returns (model, variables).

    Args:
        data: from :func:`build_data`.
        redundant: add the redundant volume and cumulative constraints.
        optimize: minimise LW + LH + WH; False leaves a feasibility model within the objective
            bounds of ``data`` (the deterministic tie-break pass fixes them to the optimum).
    """
    from ortools.sat.python import cp_model

    m = cp_model.CpModel()
    inst = data.instance
    n = inst.n
    L, W, H = (m.new_int_var(data.lo[k], data.hi[k], "LWH"[k]) for k in range(3))
    bins = [L, W, H]
    orient, pos, size = [], [], []
    for i in range(n):
        lits = [m.new_bool_var(f"o{i}_{o}") for o, _ in data.shapes[i]]
        m.add_exactly_one(lits)
        orient.append(lits)
        sz, ps = [], []
        for k in range(3):
            vals = [sh[k] for _, sh in data.shapes[i]]
            d = m.new_int_var(min(vals), max(vals), f"d{i}{'xyz'[k]}")
            m.add(d == sum(v * lit for v, lit in zip(vals, lits)))
            p = m.new_int_var(0, max(0, data.hi[k] - min(vals)), f"{'xyz'[k]}{i}")
            m.add(p + d <= bins[k])
            sz.append(d)
            ps.append(p)
        size.append(sz)
        pos.append(ps)
    rel: dict[tuple[int, int, int, int], Any] = {}
    for i in range(n):
        _check_clock(deadline)  # n^2/2 pairs: at 1000 items building alone takes a minute
        for j in range(i + 1, n):
            lits = []
            for k in range(3):
                for side, (u, v) in enumerate(((i, j), (j, i))):
                    lit = m.new_bool_var(f"r{i}_{j}_{k}{side}")
                    m.add(pos[u][k] + size[u][k] <= pos[v][k]).only_enforce_if(lit)
                    rel[(i, j, k, side)] = lit
                    lits.append(lit)
            m.add_bool_or(lits)
    LW = m.new_int_var(data.lo[0] * data.lo[1], data.hi[0] * data.hi[1], "LW")
    LH = m.new_int_var(data.lo[0] * data.lo[2], data.hi[0] * data.hi[2], "LH")
    WH = m.new_int_var(data.lo[1] * data.lo[2], data.hi[1] * data.hi[2], "WH")
    m.add_multiplication_equality(LW, [L, W])
    m.add_multiplication_equality(LH, [L, H])
    m.add_multiplication_equality(WH, [W, H])
    obj = LW + LH + WH
    m.add(obj >= data.half_objective_lb)
    if data.half_objective_ub is not None:
        m.add(obj <= data.half_objective_ub)
    if redundant:
        vol = inst.volume
        top = data.hi[0] * data.hi[1] * data.hi[2]
        if top < 2**61:  # CP-SAT domains are int64; huge items skip this cut rather than overflow
            LWH = m.new_int_var(vol, top, "LWH_vol")
            m.add_multiplication_equality(LWH, [LW, H])
        # Per axis: the items crossing a plane normal to the axis have disjoint cross-sections.
        caps = [WH, LH, LW]
        for k in range(3):
            intervals, demands = [], []
            o1, o2 = [q for q in range(3) if q != k]
            for i in range(n):
                areas = [sh[o1] * sh[o2] for _, sh in data.shapes[i]]
                dem = m.new_int_var(min(areas), max(areas), f"a{i}{k}")
                m.add(dem == sum(v * lit for v, lit in zip(areas, orient[i])))
                end = m.new_int_var(0, data.hi[k], f"e{i}{k}")
                intervals.append(m.new_interval_var(pos[i][k], size[i][k], end, f"iv{i}{k}"))
                demands.append(dem)
            m.add_cumulative(intervals, demands, caps[k])
    if data.support is not None:
        add_support(m, list(range(n)), pos, size, orient, data.shapes, [True] * n, data.support, deadline=deadline)
    if data.symmetry:
        if data.rotate:
            m.add(L >= W)
            m.add(W >= H)
        if data.anchor is not None:
            t = data.anchor
            for k in data.mirror:
                m.add(2 * pos[t][k] + size[t][k] <= bins[k])
        for group in data.identical:
            for u, v in zip(group, group[1:]):
                m.add(pos[u][0] <= pos[v][0])
            # With x_u <= x_v (u < v), "v entirely before u on x" is impossible.
            for u in group:
                for v in group:
                    if u < v:
                        m.add(rel[(u, v, 0, 1)] == 0)
    if optimize:
        m.minimize(obj)
    var = _Vars(orient, pos, size, bins, [LW, LH, WH], rel)
    _check_clock(deadline)
    if data.hint is not None:
        _add_hint(m, data, var)
    _check_clock(deadline)
    return m, var


def _add_hint(m, data: ExactData, var: _Vars) -> None:
    """Hint every decision variable and the bin (CP-SAT follows a fuller hint more reliably)."""
    inst = data.instance
    boxes = []
    for i, (o, x, y, z) in enumerate(data.hint):  # type: ignore[arg-type]
        shape = inst.oriented(i, o)
        for lit, (oo, _) in zip(var.orient[i], data.shapes[i]):
            m.add_hint(lit, oo == o)
        for k in range(3):
            m.add_hint(var.pos[i][k], (x, y, z)[k])
            m.add_hint(var.size[i][k], shape[k])
        boxes.append(((x, y, z), shape))
    far = [max(bx[0][k] + bx[1][k] for bx in boxes) for k in range(3)]
    for k in range(3):
        m.add_hint(var.bin[k], far[k])
    m.add_hint(var.prods[0], far[0] * far[1])
    m.add_hint(var.prods[1], far[0] * far[2])
    m.add_hint(var.prods[2], far[1] * far[2])
    for (i, j, k, side), lit in var.rel.items():
        (pi, si), (pj, sj) = boxes[i], boxes[j]
        m.add_hint(lit, (pi[k] + si[k] <= pj[k]) if side == 0 else (pj[k] + sj[k] <= pi[k]))


def extract(solver, data: ExactData, var: _Vars) -> Packing:
    """The packing in the solver's current solution."""
    inst = data.instance
    placements = []
    for i in range(inst.n):
        o = next(oo for lit, (oo, _) in zip(var.orient[i], data.shapes[i]) if solver.boolean_value(lit))
        x, y, z = (int(solver.value(v)) for v in var.pos[i])
        placements.append(Placement(i, int(o), x, y, z))
    return Packing(inst, tuple(placements))


def _heuristic_packing(instance: Instance, seed: int, deadline: float | None = None) -> tuple[Packing, str]:
    """A valid packing from the first hint heuristic (lsa-lws, else sort-volume).

    Under a deadline lsa-lws is used only when it fits: it costs about n/2 packings, measured on
    the sort-volume packing made first. An instance with orientation limits, support or weights
    gets the best of :func:`packzoo.solvers.exact_fixed.free_first_fit`'s packings instead when
    the heuristics' packing breaks a constraint (or they refuse the instance).
    """
    if instance.is_constrained:
        try:
            packing: Packing | None
            packing, name = _registered_hint(instance, seed, deadline)
        except (ValueError, RuntimeError):  # a heuristic that does not honour the constraints
            packing, name = None, ""
        ff = free_first_fit(instance, deadline)
        if packing is None or ff.surface_area < packing.surface_area:
            return ff, "first-fit"
        return packing, name
    return _registered_hint(instance, seed, deadline)


def _registered_hint(instance: Instance, seed: int, deadline: float | None) -> tuple[Packing, str]:
    t0 = time.perf_counter()
    cheap = create_solver(HINT_SOLVERS[-1]).solve(instance, seed=seed)
    pack_s = time.perf_counter() - t0
    if deadline is None or time.perf_counter() + pack_s * (instance.n + 1) / 2 < deadline:
        for name in HINT_SOLVERS[:-1]:
            sol = create_solver(name).solve(instance, seed=seed)
            if sol.packing is not None and not validate(sol.packing):
                return sol.packing, name
    if cheap.packing is None or validate(cheap.packing):
        raise RuntimeError(f"no hint heuristic among {HINT_SOLVERS} produced a valid packing")
    return cheap.packing, HINT_SOLVERS[-1]


class ExactSolver(BaseSolver):
    """CP-SAT exact solver for every mode: free (surface 2(LW + LH + WH)), base (height),
    container (packed volume) and bins (bins used), under orientation limits, support and weights.

    Args:
        num_workers: CP-SAT search workers (threads); >= 1.
        time_limit: default time limit in seconds (None: none) when ``solve`` is not given one.
        symmetry: break symmetries (free: L >= W >= H when every orientation is allowed; all
            modes: mirrored anchor item, identical items ordered; bins: bin labels in first
            appearance, a clique of mutually exclusive items in bins 0..c-1).
        hint: start from a heuristic packing (free: lsa-lws, else sort-volume; fixed modes: the
            better of a first-fit and the engine's ``pack_order``) and bound the objective by it.
            Without it the fallback packing is still computed and returned if the search finds
            nothing better.
        redundant: add the redundant volume and per-axis cumulative constraints.
        compact: fixed modes only: require pushed packings (every item at 0 or against another
            item's far face on each axis; a dominance rule, valid since pushing an item towards
            the origin keeps a packing valid and its objective; not used under a support rule).
        log: let CP-SAT log its search to stdout (off by default: solvers return, never print).

    Returns from ``solve``: status "optimal" (proven), "feasible" (time limit: the best packing and
    ``bound`` = the proven bound in the mode's objective: a lower bound on the surface, height or
    bins, an upper bound on the packed volume in container mode) or "unknown" (free mode: never, a
    heuristic packing is always at hand; base mode under a support rule: no packing found in
    time). With float weights that are not decimals of at most 6 places the fixed-mode model
    rounds them conservatively and claims no optimum ("feasible", ``bound`` None). A base
    instance whose support rule no packing meets raises ValueError. ``info`` has
    ``stopped_by_time``, ``cp_status``, ``hint_surface`` (fixed modes: ``hint_objective``),
    ``hint_solver``, ``wall_cp`` (seconds of the main CP-SAT search) and, with several workers,
    ``wall_tie_break`` (seconds of the one-worker pass that makes the packing deterministic),
    ``deterministic_time`` (CP-SAT's load-independent work measure) and ``cpu_seconds`` (CPU time
    of this process during the solve, all threads: on a loaded machine it says what the wall
    time would be on an idle one, times the number of busy workers).

    Example:
        >>> from packzoo.envs import cube_cut
        >>> inst, cube = cube_cut(6, side=6, seed=0)
        >>> sol = ExactSolver(num_workers=1).solve(inst, seed=0, time_limit=30)
        >>> sol.status, sol.packing.surface_area == cube.surface_area
        ('optimal', True)
    """

    name = "exact"
    modes = ("free", "base", "container", "bins")
    constraints = True

    def __init__(
        self,
        *,
        num_workers: int = 2,
        time_limit: float | None = 60.0,
        symmetry: bool = True,
        hint: bool = True,
        redundant: bool = True,
        compact: bool = True,
        log: bool = False,
    ) -> None:
        positive_int(num_workers, "num_workers")
        if time_limit is not None and (
            isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) or not time_limit > 0
        ):
            raise ValueError(f"time_limit must be a positive number of seconds or None, got {time_limit!r}")
        for pname, val in (("symmetry", symmetry), ("hint", hint), ("redundant", redundant), ("compact", compact),
                           ("log", log)):
            if not isinstance(val, bool):
                raise ValueError(f"{pname} must be True or False, got {val!r}")
        self.num_workers = int(num_workers)
        self.time_limit = time_limit
        self.symmetry = symmetry
        self.hint = hint
        self.redundant = redundant
        self.compact = compact
        self.log = log

    def _solve(self, instance: Instance, rng: np.random.Generator, deadline: float | None) -> Solution:
        from ortools.sat.python import cp_model

        cpu0 = time.process_time()
        if deadline is None and self.time_limit is not None:
            deadline = time.perf_counter() + float(self.time_limit)
        seed = int(rng.integers(0, 2**31 - 1))
        if instance.mode != "free":
            return solve_fixed(instance, seed=seed, deadline=deadline, num_workers=self.num_workers,
                               symmetry=self.symmetry, hint=self.hint, redundant=self.redundant, log=self.log,
                               compact=self.compact)
        fallback, hint_name = _heuristic_packing(instance, seed, deadline)
        data = build_data(instance, fallback if self.hint else None, symmetry=self.symmetry)
        try:
            model, var = build_model(data, redundant=self.redundant, deadline=deadline)
        except OutOfTime:
            # No time left to search: the hint heuristic's packing, honestly labelled.
            info = {"cp_status": "NOT_STARTED", "hint_solver": hint_name, "hint_surface": int(fallback.surface_area),
                    "stopped_by_time": True, "cpu_seconds": time.process_time() - cpu0}
            return Solution(fallback, "feasible", float(lower_bound(instance)), info=info)
        t0 = time.perf_counter()
        solver, status = solve_model(
            model, time_limit=_remaining(deadline), num_workers=self.num_workers, seed=seed, log=self.log
        )
        info: dict[str, Any] = {
            "cp_status": solver.status_name(status),
            "hint_solver": hint_name,
            "hint_surface": int(fallback.surface_area),
            "wall_cp": time.perf_counter() - t0,
            "deterministic_time": solver.deterministic_time,
            "stopped_by_time": False,
        }
        lb = lower_bound(instance)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            packing = self._checked(extract(solver, data, var))
            if fallback.surface_area < packing.surface_area:
                packing = fallback
            proven = status == cp_model.OPTIMAL
            cp_bound = 2 * float(math.ceil(solver.best_objective_bound - 1e-9))
        elif status == cp_model.UNKNOWN:
            packing, proven, cp_bound = fallback, False, 0.0
        else:
            raise RuntimeError(
                f"CP-SAT says {solver.status_name(status)} on {instance.dims.tolist()}: a bug in the model"
            )
        if not proven:
            info["cpu_seconds"] = time.process_time() - cpu0
            info["stopped_by_time"] = True
            bound = min(max(cp_bound, lb), float(packing.surface_area))
            return Solution(packing, "feasible", bound, info=info)
        if self.num_workers > 1:
            packing = self._tie_break(data, packing, seed, deadline, info)
        info["cpu_seconds"] = time.process_time() - cpu0
        return Solution(packing, "optimal", float(packing.surface_area), info=info)

    def _checked(self, packing: Packing) -> Packing:
        errors = validate(packing)
        if errors:  # never hand out an invalid packing; this would be a bug in the model
            raise RuntimeError(f"CP-SAT returned an invalid packing of {packing.instance.dims.tolist()}: {errors[:3]}")
        return packing

    def _tie_break(self, data: ExactData, packing: Packing, seed: int, deadline: float | None, info: dict) -> Packing:
        """Re-find an optimal packing on one worker (deterministic), the optimum value now fixed.

        Parallel CP-SAT proves the optimum fast but returns whichever optimal packing a worker hit
        first. A one-worker feasibility pass with the objective pinned to the optimum, seeded the
        same way, returns the same packing on every run. If the clock stops it, the parallel
        packing (optimal too) is returned and ``stopped_by_time`` says the choice was not fixed.
        """
        from ortools.sat.python import cp_model

        half = packing.surface_area // 2
        pinned = ExactData(**{**data.__dict__, "half_objective_lb": half, "half_objective_ub": half})
        try:
            model, var = build_model(pinned, redundant=self.redundant, optimize=False, deadline=deadline)
        except OutOfTime:
            info["stopped_by_time"] = True
            return packing
        t0 = time.perf_counter()
        solver, status = solve_model(model, time_limit=_remaining(deadline), num_workers=1, seed=seed, log=self.log)
        info["wall_tie_break"] = time.perf_counter() - t0
        info["deterministic_time_tie_break"] = solver.deterministic_time
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return self._checked(extract(solver, pinned, var))
        if status != cp_model.UNKNOWN:
            raise RuntimeError(f"tie-break pass says {solver.status_name(status)}: a bug in the model")
        info["stopped_by_time"] = True
        return packing


register_solver(
    "exact",
    ExactSolver,
    kind="exact",
    keeps_time_limit=True,
    modes=ExactSolver.modes,
    constraints=True,
    summary="CP-SAT model with symmetry breaking, redundant cumulatives and a heuristic hint; proves optima "
            "(every mode: free surface, base height, container volume, bins; orientation limits, support, weights)",
    source="packzoo (OR-Tools CP-SAT); problem of Hu et al. 2017",
)
