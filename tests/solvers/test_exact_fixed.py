"""The exact CP-SAT solver in the fixed modes (base, container, bins) and under orientation limits,
support and weights, against independent oracles: a brute force on tiny instances, the cut
generators' known optima, and the validator."""

from __future__ import annotations

import itertools
import os
import signal
import threading

import numpy as np
import pytest

from packzoo.envs import Instance, validate
from packzoo.envs.generators import bins_cut, container_cut
from packzoo.envs.packing import Packing, Placement
from packzoo.solvers import create_solver, list_solvers, solver_card

pytest.importorskip("ortools")


# --- an independent brute force -------------------------------------------------------------


def _fill(options: list[list[tuple[int, int, int]]], box: tuple[int, int, int], support: float | None,
          weights: list[float] | None = None, cap: float | None = None) -> bool:
    """Can every item (item k in one of the shapes ``options[k]``) be packed in ``box``?

    Cells are decided in lexicographic (z, y, x) order: the first undecided cell is left empty or
    holds the corner of some item (a box covering it has its corner there, every earlier cell
    being decided). All cells below a layer are decided when it is reached, so the support of a
    box is counted when it is placed: the item cells right under its footprint (an item cell there
    belongs to a box whose top is exactly this z, else it would overlap). Shares no code with the
    solver.
    """
    if weights is not None and cap is not None and sum(weights) > cap * (1 + 1e-12):
        return False
    L, W, H = box
    vol = sum(min(a * b * c for a, b, c in opts) for opts in options)
    if vol > L * W * H:
        return False
    grid = np.zeros((H, W, L), dtype=np.int8)  # 0 free, 1 item, 2 left empty
    left = list(range(len(options)))

    def dfs() -> bool:
        if not left:
            return True
        free = np.argwhere(grid == 0)
        if len(free) == 0:
            return False
        z, y, x = free[0]
        used = sum(min(a * b * c for a, b, c in options[k]) for k in left)
        tried = set()
        for k in list(left):
            for dx, dy, dz in options[k]:
                if (tuple(options[k]), (dx, dy, dz)) in tried:
                    continue
                tried.add((tuple(options[k]), (dx, dy, dz)))
                if x + dx > L or y + dy > W or z + dz > H or grid[z:z + dz, y:y + dy, x:x + dx].any():
                    continue
                if support is not None and z > 0:
                    held = int((grid[z - 1, y:y + dy, x:x + dx] == 1).sum())
                    if held < support * dx * dy - 1e-9:
                        continue
                grid[z:z + dz, y:y + dy, x:x + dx] = 1
                left.remove(k)
                if dfs():
                    return True
                left.append(k)
                grid[z:z + dz, y:y + dy, x:x + dx] = 0
        if int((grid == 0).sum()) - 1 >= used:  # leave this cell empty if the rest still fits
            grid[z, y, x] = 2
            if dfs():
                return True
            grid[z, y, x] = 0
        return False

    return dfs()


def _options(inst: Instance, box: tuple[int, int, int] | None = None) -> list[list[tuple[int, int, int]]]:
    out = []
    for i in range(inst.n):
        shapes = {inst.oriented(i, o) for o in range(6) if inst.allowed[i, o]}
        if box is not None:
            shapes = {s for s in shapes if all(s[k] <= box[k] for k in range(3))}
        out.append(sorted(shapes))
    return out


def brute_force(inst: Instance) -> int | None:
    """The optimum of ``inst`` in its mode, by exhaustive search (tiny instances only); None when
    no packing exists (only a support rule in base mode can do that)."""
    w = None if inst.weights is None else list(inst.weights)
    cap = inst.max_weight
    vols = [int(v) for v in inst.item_volumes]
    if inst.mode == "container":
        box = tuple(inst.container)
        opts = _options(inst, box)
        best = 0
        for r in range(inst.n, 0, -1):
            for sub in itertools.combinations(range(inst.n), r):
                v = sum(vols[i] for i in sub)
                if v <= best or any(not opts[i] for i in sub):
                    continue
                if _fill([opts[i] for i in sub], box, inst.support, None if w is None else [w[i] for i in sub], cap):
                    best = v
        return best
    if inst.mode == "base":
        L, Wd = inst.container
        opts = _options(inst, (L, Wd, 10**9))
        # No packing is taller than all items stacked (a bottom is the floor or another's top).
        for h in range(1, sum(max(s[2] for s in o) for o in opts) + 1):
            if _fill(opts, (L, Wd, h), inst.support, w, cap):
                return h
        return None  # a support rule no packing meets
    if inst.mode == "bins":
        box = tuple(inst.container)
        opts = _options(inst, box)
        for k in range(1, inst.n + 1):
            for labels in itertools.product(range(k), repeat=inst.n):
                # Canonical labellings only: bins open in order of first use.
                if any(labels[i] > max(labels[:i], default=-1) + 1 for i in range(inst.n)) or max(labels) != k - 1:
                    continue
                groups = [[i for i in range(inst.n) if labels[i] == b] for b in range(k)]
                if all(_fill([opts[i] for i in g], box, inst.support, None if w is None else [w[i] for i in g], cap)
                       for g in groups):
                    return k
        raise AssertionError("unreachable: one item per bin always fits")
    # free: bins tried by surface
    opts = _options(inst)
    total = int(inst.dims.max(axis=1).sum())
    vol = sum(vols)
    cands = sorted((2 * (a * b + a * c + b * c), (a, b, c)) for a in range(1, total + 1)
                   for b in range(1, total + 1) for c in range(1, total + 1) if a * b * c >= vol)
    for s, b in cands:
        if _fill(opts, b, inst.support):
            return s
    raise AssertionError("unreachable")


def test_brute_force_oracle_on_hand_cases():
    # The oracle itself against answers worked out by hand.
    assert brute_force(Instance([[2, 1, 1]] * 3, mode="container", container=(3, 2, 1))) == 6  # one turned
    assert brute_force(Instance([[2, 1, 1]] * 3, mode="container", container=(3, 2, 1), orientations="fixed")) == 4
    assert brute_force(Instance([[1, 1, 3]] * 2, mode="base", container=(3, 1))) == 2  # both lying down
    assert brute_force(Instance([[1, 1, 1]] * 3, mode="bins", container=(2, 1, 1))) == 2
    assert brute_force(Instance([[2, 1, 1], [1, 1, 2]])) == 16  # a 2x2x1 slab
    # A 2x1x1 box cannot rest on a 1x1x1 one under a full-support rule: it must lie on the floor.
    assert brute_force(Instance([[1, 1, 1], [2, 1, 1]], mode="base", container=(2, 1), orientations="fixed",
                                support=1.0)) == 2
    assert brute_force(Instance([[1, 1, 2], [2, 1, 1]], mode="base", container=(2, 1), orientations="fixed",
                                support=1.0)) == 3


def _random_cases(count: int, seed: int) -> list[Instance]:
    """Tiny instances of every mode, a third with orientation limits, some with support or weights."""
    rng = np.random.default_rng(seed)
    out: list[Instance] = []
    while len(out) < count:
        mode = ("free", "base", "container", "bins")[len(out) % 4]
        n = int(rng.integers(2, 5))
        dims = rng.integers(1, 3 if mode == "free" and n == 4 else 4, size=(n, 3)).tolist()
        kw: dict = {}
        if mode == "base":
            kw["container"] = tuple(int(v) for v in rng.integers(2, 5, size=2))
        elif mode != "free":
            kw["container"] = tuple(int(v) for v in rng.integers(2, 5, size=3))
        if rng.random() < 0.4:
            kw["orientations"] = [("all", "upright", "fixed")[int(rng.integers(3))] for _ in range(n)]
        if rng.random() < 0.3:
            kw["support"] = float(rng.choice([0.5, 0.75, 1.0]))
        if mode in ("container", "bins") and rng.random() < 0.4:
            kw["weights"] = [float(rng.integers(1, 6)) + 0.5 for _ in range(n)]
            kw["max_weight"] = max(kw["weights"]) + float(rng.integers(0, 6)) if mode == "bins" else float(rng.integers(3, 12))
        try:
            out.append(Instance(dims, mode=mode, **kw))
        except ValueError:  # an item fitting no bin / footprint in its allowed orientations
            continue
    return out


@pytest.mark.parametrize("inst", _random_cases(32, 2026), ids=lambda i: f"{i.mode}-n{i.n}")
def test_exact_equals_brute_force(inst):
    best = brute_force(inst)
    if best is None:
        with pytest.raises(ValueError, match="no packing"):
            create_solver("exact", num_workers=1, hint=False).solve(inst, seed=0, time_limit=30)
        return
    sol = create_solver("exact", num_workers=1).solve(inst, seed=0, time_limit=30)
    assert sol.status == "optimal"
    assert not validate(sol.packing)
    assert sol.packing.objective == best
    assert sol.bound == best


def test_the_random_cases_exercise_every_constraint():
    # The oracle test above means something only if its cases carry the constraints.
    cases = _random_cases(32, 2026)
    assert {c.mode for c in cases} == {"free", "base", "container", "bins"}
    assert sum(c.orientations is not None for c in cases) >= 6
    assert sum(c.support is not None for c in cases) >= 4
    assert sum(c.max_weight is not None for c in cases) >= 3


# --- known optima of the cut generators (no hint: CP-SAT finds and proves them itself) ---------


@pytest.mark.parametrize("n,seed", [(8, 0), (10, 1), (12, 2)])
def test_container_cut_proves_full_utilisation(n, seed):
    inst, cut = container_cut(n, container=(8, 6, 5), seed=seed)
    sol = create_solver("exact", num_workers=1, hint=False).solve(inst, seed=0, time_limit=30)
    assert sol.status == "optimal" and not validate(sol.packing)
    assert sol.packing.packed_volume == 8 * 6 * 5 == cut.packed_volume
    assert sol.packing.utilisation == 1.0 and sol.bound == 240


@pytest.mark.parametrize("n,seed", [(8, 3), (10, 4), (12, 5)])
def test_base_cut_proves_the_cut_height(n, seed):
    inst, cut = container_cut(n, container=(6, 6, 7), mode="base", seed=seed)
    sol = create_solver("exact", num_workers=1, hint=False).solve(inst, seed=0, time_limit=30)
    assert sol.status == "optimal" and not validate(sol.packing)
    assert sol.packing.height == cut.height == 7 == sol.bound


@pytest.mark.parametrize("n,k,seed", [(8, 2, 6), (10, 3, 7), (12, 3, 8)])
def test_bins_cut_proves_k_bins(n, k, seed):
    inst, cut = bins_cut(n, bin=(6, 6, 6), k=k, seed=seed)
    sol = create_solver("exact", num_workers=1, hint=False).solve(inst, seed=0, time_limit=30)
    assert sol.status == "optimal" and not validate(sol.packing)
    assert sol.packing.bins_used == k == cut.bins_used == sol.bound


def test_cut_instances_with_orientation_limits_and_support():
    inst, cut = container_cut(8, container=(6, 5, 4), orientations="upright", support=1.0, seed=9)
    sol = create_solver("exact", num_workers=1, hint=False).solve(inst, seed=0, time_limit=30)
    assert sol.status == "optimal" and not validate(sol.packing) and sol.packing.packed_volume == 120
    inst, cut = bins_cut(8, bin=(5, 5, 5), k=2, orientations="fixed", seed=10)
    sol = create_solver("exact", num_workers=1, hint=False).solve(inst, seed=0, time_limit=30)
    assert sol.status == "optimal" and not validate(sol.packing) and sol.packing.bins_used == 2


# --- the constraints change the optimum, and the solver follows ------------------------------


@pytest.mark.parametrize(
    "dims,kw,free_best,limited_best",
    [
        ([[2, 1, 1]] * 3, dict(mode="container", container=(3, 2, 1)), 6, 4),
        ([[2, 1, 1]] * 3, dict(mode="bins", container=(3, 2, 1)), 1, 2),
        ([[1, 1, 3]] * 2, dict(mode="base", container=(3, 1)), 2, 3),
        ([[2, 1, 1], [1, 1, 2]], dict(), 16, 22),
    ],
)
def test_orientation_limits_change_the_optimum(dims, kw, free_best, limited_best):
    for orientations, best in ((None, free_best), ("fixed", limited_best)):
        inst = Instance(dims, orientations=orientations, **kw)
        assert brute_force(inst) == best
        sol = create_solver("exact", num_workers=1).solve(inst, seed=0, time_limit=30)
        assert sol.status == "optimal" and not validate(sol.packing)
        assert sol.packing.objective == best
        if orientations == "fixed":
            assert all(p.orientation == 0 for p in sol.packing.placements)


def test_support_changes_the_optimum():
    dims, kw = [[3, 1, 2], [3, 1, 3], [1, 2, 1]], dict(mode="base", container=(3, 3), orientations="fixed")
    for support, best in ((None, 3), (0.75, 5)):
        inst = Instance(dims, support=support, **kw)
        assert brute_force(inst) == best
        sol = create_solver("exact", num_workers=1, hint=False).solve(inst, seed=0, time_limit=30)
        assert sol.status == "optimal" and not validate(sol.packing) and sol.packing.height == best


def test_free_mode_support_keeps_items_supported():
    # Without support the best box puts the 1x1x1 cube on top of the 2x1x1 bar's end; with it too.
    inst = Instance([[2, 1, 2], [1, 1, 1], [1, 1, 1]], support=1.0, orientations="fixed")
    best = brute_force(inst)
    sol = create_solver("exact", num_workers=1).solve(inst, seed=0, time_limit=30)
    assert sol.status == "optimal" and not validate(sol.packing) and sol.packing.surface_area == best


@pytest.mark.parametrize(
    "dims,weights,kw,light,heavy",
    [
        ([[1, 1, 1]] * 2, [6.0, 6.0], dict(mode="bins", container=(2, 2, 2)), 1, 2),
        ([[1, 1, 1], [1, 1, 2]], [6.0, 6.0], dict(mode="container", container=(2, 2, 2)), 3, 2),
        ([[1, 1, 1]] * 3, [0.1, 0.2, 0.2], dict(mode="bins", container=(3, 1, 1)), 1, 2),  # decimals, exactly
    ],
)
def test_weight_limits_change_the_optimum(dims, weights, kw, light, heavy):
    cap = {6.0: 10.0, 0.1: 0.3}[weights[0]]
    for max_weight, best in ((None, light), (cap, heavy)):
        inst = Instance(dims, weights=weights, max_weight=max_weight, **kw)
        assert brute_force(inst) == best
        sol = create_solver("exact", num_workers=1).solve(inst, seed=0, time_limit=30)
        assert sol.status == "optimal" and not validate(sol.packing) and sol.packing.objective == best
        assert sol.info["weights_exact"] is True


def test_weights_that_are_not_short_decimals_claim_no_optimum():
    # 1/3 cannot be scaled to an integer exactly: the model rounds it conservatively (up), so its
    # optimum is only an upper bound on the true one; the solver says "feasible" and no bound.
    inst = Instance([[1, 1, 1]] * 3, mode="bins", container=(3, 1, 1), weights=[1 / 3] * 3, max_weight=1.0)
    sol = create_solver("exact", num_workers=1).solve(inst, seed=0, time_limit=30)
    assert sol.status == "feasible" and sol.bound is None and sol.info["weights_exact"] is False
    assert not validate(sol.packing)


def test_base_support_with_no_packing_is_a_value_error():
    inst = Instance([[1, 3, 1], [2, 1, 3]], mode="base", container=(2, 3), orientations="fixed", support=0.75)
    assert brute_force(inst) is None
    with pytest.raises(ValueError, match="no packing"):
        create_solver("exact", num_workers=1).solve(inst, seed=0, time_limit=30)


# --- the solver's contract in the fixed modes --------------------------------------------------


def test_card_lists_every_mode():
    card = solver_card("exact")
    assert tuple(card["modes"]) == ("free", "base", "container", "bins") and card["constraints"] is True
    for mode in ("free", "base", "container", "bins"):
        assert "exact" in list_solvers(mode=mode)


@pytest.mark.parametrize("mode", ["base", "container", "bins"])
def test_time_limit_gives_a_valid_packing_and_a_sound_bound(mode, monkeypatch):
    import packzoo.solvers.exact_fixed as ef

    budgets = []
    real = ef.solve_model

    def spy(model, *, time_limit, **kw):
        budgets.append(time_limit)
        return real(model, time_limit=time_limit, **kw)

    monkeypatch.setattr(ef, "solve_model", spy)
    if mode == "bins":
        inst, cut = bins_cut(40, bin=(10, 10, 10), k=4, seed=1)
    else:
        inst, cut = container_cut(40, container=(12, 10, 9), mode=mode, seed=1)
    sol = create_solver("exact").solve(inst, seed=0, time_limit=0.5)
    assert not validate(sol.packing)
    assert sol.status in ("feasible", "optimal")
    best = cut.objective
    if mode == "container":
        assert sol.packing.objective <= sol.bound and best <= sol.bound  # an upper bound on the volume
    else:
        assert sol.bound <= best <= sol.packing.objective  # a lower bound
    if sol.status == "feasible":
        assert sol.info["stopped_by_time"] is True
    assert all(b is not None and 0 <= b <= 0.5 for b in budgets)


@pytest.mark.parametrize("mode", ["base", "container", "bins"])
def test_same_seed_same_packing_with_two_workers(mode):
    if mode == "bins":
        inst, _ = bins_cut(9, bin=(6, 6, 6), k=3, seed=4)
    else:
        inst, _ = container_cut(9, container=(6, 5, 4), mode=mode, seed=4)
    a = create_solver("exact", num_workers=2, hint=False).solve(inst, seed=9, time_limit=30)
    b = create_solver("exact", num_workers=2, hint=False).solve(inst, seed=9, time_limit=30)
    assert a.status == b.status == "optimal" and not a.info["stopped_by_time"]
    assert [p.to_list() for p in a.packing.placements] == [p.to_list() for p in b.packing.placements]


@pytest.mark.parametrize("params", [dict(symmetry=False), dict(redundant=False), dict(hint=False), dict(compact=False)])
def test_every_variant_of_the_fixed_model_agrees(params):
    for inst in _random_cases(8, 7):
        if inst.mode == "free" or brute_force(inst) is None:
            continue
        full = create_solver("exact", num_workers=1).solve(inst, seed=1, time_limit=30)
        other = create_solver("exact", num_workers=1, **params).solve(inst, seed=1, time_limit=30)
        assert full.status == other.status == "optimal" and not validate(other.packing)
        assert full.packing.objective == other.packing.objective


def test_ctrl_c_stops_a_fixed_mode_solve():
    inst, _ = bins_cut(60, bin=(10, 10, 10), k=6, seed=3)
    timer = threading.Timer(1.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            create_solver("exact", num_workers=2).solve(inst, seed=0, time_limit=60)
    finally:
        timer.cancel()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("mode", ["base", "container", "bins"])
@pytest.mark.parametrize("compact", [True, False])
def test_canonical_hint_satisfies_the_symmetry_broken_model(mode, compact):
    # The heuristic's packing, mapped onto the canonical form, must be a solution of the model
    # with every symmetry cut: CP-SAT with every hinted variable fixed to its hint finds it.
    from ortools.sat.python import cp_model

    from packzoo.solvers.exact_fixed import build_fixed_data, build_fixed_model, hint_packing

    for seed in range(4):
        if mode == "bins":
            inst, _ = bins_cut(12, bin=(6, 6, 6), k=3, seed=seed)
            inst = Instance(np.concatenate([inst.dims, inst.dims[:3]]).tolist(), mode="bins", container=(6, 6, 6))
        else:
            inst, _ = container_cut(10, container=(7, 6, 5), mode=mode, seed=seed)
            inst = Instance(np.concatenate([inst.dims, inst.dims[:3]]).tolist(), mode=mode,  # identical items
                            container=inst.container)
        packing, _ = hint_packing(inst)
        # Far from canonical: mirrored along x and y, lifted (base), bins numbered backwards.
        L, W = inst.container[:2]
        k = packing.bins_used
        moved = []
        for p in packing.placements:
            dx, dy, _ = inst.oriented(p.item, p.orientation)
            moved.append(Placement(p.item, p.orientation, L - p.x - dx, W - p.y - dy, p.z + 2 * (mode == "base"),
                                   k - 1 - p.bin))
        packing = Packing(inst, tuple(moved))
        assert not validate(packing)
        data = build_fixed_data(inst, packing, compact=compact)
        assert data.identical
        model, _ = build_fixed_model(data, optimize=False)
        solver = cp_model.CpSolver()
        solver.parameters.fix_variables_to_their_hinted_value = True
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = 10
        assert solver.status_name(solver.solve(model)) in ("OPTIMAL", "FEASIBLE")


def test_out_of_time_hints_stay_valid():
    # With the clock already out: the fixed-mode first-fit gives up, the free one falls back to a
    # row on the floor, which every orientation limit and support rule accepts.
    from packzoo.solvers.exact_fixed import first_fit, free_first_fit

    inst = Instance([[3, 1, 2], [1, 2, 1], [2, 2, 2]], orientations=["fixed", "upright", "all"], support=1.0)
    assert first_fit(inst, [0, 1, 2], (9, 9, 9), many_bins=False, support=1.0, weights=None, deadline=0.0) is None
    row = free_first_fit(inst, deadline=0.0)
    assert not validate(row) and all(p.z == 0 for p in row.placements)
    sol = create_solver("exact", num_workers=1).solve(inst, seed=0, time_limit=30)
    assert sol.status == "optimal" and not validate(sol.packing) and sol.packing.surface_area == brute_force(inst)


def test_a_hint_that_meets_the_bound_is_optimal_without_a_search(monkeypatch):
    # When the clock stops the model's building, the heuristic start is returned; it is optimal
    # exactly when it meets the mode's proven bound (a full container, k bins of a k-bin cut).
    import packzoo.solvers.exact_fixed as ef

    def no_time(*args, **kwargs):
        raise ef.OutOfTime

    monkeypatch.setattr(ef, "build_fixed_model", no_time)
    seen = set()
    for seed in range(20):
        inst, cut = container_cut(6, container=(10, 10, 10), seed=seed)
        hint, _ = ef.hint_packing(inst)
        sol = create_solver("exact", num_workers=1).solve(inst, seed=0, time_limit=30)
        assert not validate(sol.packing) and sol.packing.packed_volume == hint.packed_volume
        full = hint.packed_volume == cut.packed_volume
        assert sol.status == ("optimal" if full else "feasible") and sol.bound == 1000
        seen.add(full)
    assert seen == {True, False}


def test_no_start_and_no_time_is_an_honest_unknown(monkeypatch):
    # A base-mode support rule can leave every heuristic at a dead end; if the clock then stops
    # the model too, there is no packing to give: status "unknown", no packing, the proven bound.
    import packzoo.solvers.exact_fixed as ef

    def no_time(*args, **kwargs):
        raise ef.OutOfTime

    monkeypatch.setattr(ef, "hint_packing", lambda instance, deadline=None: (None, ""))
    monkeypatch.setattr(ef, "build_fixed_model", no_time)
    inst, cut = container_cut(8, container=(6, 6, 7), mode="base", orientations="upright", support=1.0, seed=0)
    sol = create_solver("exact", num_workers=1).solve(inst, seed=0, time_limit=30)
    assert sol.status == "unknown" and sol.packing is None
    assert sol.bound is not None and sol.bound <= cut.height
