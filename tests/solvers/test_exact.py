"""The exact CP-SAT solver against independent oracles: brute force, cube cuts, the validator."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from packzoo.envs import Instance, cube_cut, lower_bound, uniform, validate
from packzoo.envs.instance import ORIENTATIONS
from packzoo.envs.packing import Packing, Placement, surface_area
from packzoo.solvers import check_solver, create_solver, list_solvers
from packzoo.solvers.exact import ExactSolver, build_data, canonical_boxes
from packzoo.solvers.gap import format_gap_table, gap_table, run_gap

pytest.importorskip("ortools")


# --- an independent brute force -------------------------------------------------------------


def _fits(shapes: list[tuple[int, int, int]], bin_dims: tuple[int, int, int]) -> bool:
    """Can boxes of exactly these shapes (fixed orientation) be packed into ``bin_dims``?

    Fills cells in lexicographic (z, y, x) order: the first undecided cell is either left empty or
    holds the corner of some box (if a box covered it with its corner elsewhere, that corner would
    be an earlier, already decided cell). Complete, and shares no code with the solver.
    """
    L, W, H = bin_dims
    grid = np.zeros((H, W, L), dtype=bool)
    waste = L * W * H - sum(a * b * c for a, b, c in shapes)
    if waste < 0:
        return False
    left = list(range(len(shapes)))

    def first_free():
        free = np.argwhere(~grid)
        return None if len(free) == 0 else tuple(free[0])

    def dfs(waste_left: int) -> bool:
        if not left:
            return True
        cell = first_free()
        if cell is None:
            return False
        z, y, x = cell
        tried = set()
        for idx in list(left):
            dx, dy, dz = shapes[idx]
            if (dx, dy, dz) in tried:
                continue
            tried.add((dx, dy, dz))
            if x + dx > L or y + dy > W or z + dz > H or grid[z : z + dz, y : y + dy, x : x + dx].any():
                continue
            grid[z : z + dz, y : y + dy, x : x + dx] = True
            left.remove(idx)
            if dfs(waste_left):
                return True
            left.append(idx)
            left.sort()
            grid[z : z + dz, y : y + dy, x : x + dx] = False
        if waste_left > 0:
            grid[z, y, x] = True
            if dfs(waste_left - 1):
                return True
            grid[z, y, x] = False
        return False

    return dfs(waste)


def brute_force_optimum(dims: list[list[int]]) -> int:
    """The least surface over all orientations and all placements (bins tried by surface)."""
    dims_a = np.asarray(dims)
    vol = int(np.prod(dims_a, axis=1).sum())
    total = int(dims_a.max(axis=1).sum())
    shape_sets = {
        tuple(sorted(tuple(int(v) for v in d[ORIENTATIONS[o]]) for d, o in zip(dims_a, combo)))
        for combo in itertools.product(range(6), repeat=len(dims))
    }
    bins = sorted(
        (surface_area((L, W, H)), (L, W, H))
        for L in range(1, total + 1)
        for W in range(1, total + 1)
        for H in range(1, total + 1)
        if L * W * H >= vol
    )
    for s, b in bins:
        if any(_fits(list(shapes), b) for shapes in shape_sets):
            return s
    raise AssertionError("unreachable: a row of all items always fits")


def _tiny_cases() -> list[list[list[int]]]:
    rng = np.random.default_rng(2024)
    cases = [[[2, 1, 1], [1, 2, 1], [2, 2, 1], [1, 1, 2]], [[1, 1, 3], [1, 2, 2]], [[3, 1, 1], [3, 1, 1], [3, 1, 1]]]
    for n, hi in ((2, 4), (2, 4), (3, 3), (3, 3), (3, 3), (4, 2), (4, 2), (4, 3)):
        cases.append(rng.integers(1, hi + 1, size=(n, 3)).tolist())
    return cases


def test_brute_force_finds_known_cube():
    # The oracle itself against a known answer: 4 boxes that fill a 2x2x2 cube.
    assert brute_force_optimum([[2, 1, 1], [1, 2, 1], [2, 2, 1]]) == 24  # fill a 2x2x2 cube
    assert brute_force_optimum([[1, 1, 1], [1, 1, 1]]) == 10  # a 2x1x1 bar
    for seed in range(3):
        inst, cube = cube_cut(3, side=3, seed=seed)
        assert brute_force_optimum(inst.dims.tolist()) == cube.surface_area == 54


@pytest.mark.parametrize("dims", _tiny_cases())
def test_exact_equals_brute_force(dims):
    inst = Instance(dims)
    best = brute_force_optimum(dims)
    sol = create_solver("exact").solve(inst, seed=0, time_limit=30)
    assert sol.status == "optimal"
    assert not validate(sol.packing)
    assert sol.packing.surface_area == best
    assert sol.bound == best
    assert lower_bound(inst) <= best + 1e-9


@pytest.mark.parametrize("dims", _tiny_cases()[:4])
@pytest.mark.parametrize("params", [dict(symmetry=False), dict(hint=False), dict(redundant=False), dict(num_workers=1)])
def test_every_variant_of_the_model_agrees(dims, params):
    inst = Instance(dims)
    full = create_solver("exact").solve(inst, seed=1, time_limit=30)
    other = create_solver("exact", **params).solve(inst, seed=1, time_limit=30)
    assert other.status == full.status == "optimal"
    assert not validate(other.packing)
    assert other.packing.surface_area == full.packing.surface_area


@pytest.mark.parametrize("n,side,seed", [(6, 6, 0), (7, 8, 1), (8, 6, 2), (8, 10, 3)])
def test_finds_the_cube_of_cube_cut_instances(n, side, seed):
    inst, cube = cube_cut(n, side=side, seed=seed)
    sol = create_solver("exact").solve(inst, seed=0, time_limit=60)
    assert sol.status == "optimal"
    assert not validate(sol.packing)
    assert sol.packing.surface_area == cube.surface_area == 6 * side * side
    assert lower_bound(inst) <= sol.packing.surface_area + 1e-9


@pytest.mark.parametrize(
    "dims,best",
    [
        ([[3, 4, 5]], 94),
        ([[1, 1, 1]] * 5, 22),  # a 5x1x1 bar and a 3x2x1 box both have surface 22
        ([[10**6] * 3, [999_999, 10**6, 7]], 2 * (10**12 + 2 * 10**6 * (10**6 + 7))),  # int64 domains
    ],
)
def test_edge_instances(dims, best):
    sol = create_solver("exact", num_workers=1).solve(Instance(dims), seed=0, time_limit=30)
    assert sol.status == "optimal" and not validate(sol.packing)
    assert sol.packing.surface_area == best


def test_passes_check_solver():
    # The hint heuristic's numba kernels load from the disk cache on their first call in a
    # process (seconds on a loaded machine); check_solver measures exact's own time limit.
    create_solver("lsa-lws").solve(uniform(3, seed=0), seed=0)
    check_solver(create_solver("exact"))


def test_same_seed_same_packing_with_two_workers():
    inst = uniform(6, low=2, high=9, seed=5)
    a = create_solver("exact", num_workers=2).solve(inst, seed=9, time_limit=30)
    b = create_solver("exact", num_workers=2).solve(inst, seed=9, time_limit=30)
    assert a.status == b.status == "optimal" and not a.info["stopped_by_time"]
    assert [p.to_list() for p in a.packing.placements] == [p.to_list() for p in b.packing.placements]


def test_time_limit_gives_a_valid_packing_and_a_bound(monkeypatch):
    import packzoo.solvers.exact as exact_mod

    budgets = []
    real = exact_mod.solve_model

    def spy(model, *, time_limit, **kw):
        budgets.append(time_limit)
        return real(model, time_limit=time_limit, **kw)

    monkeypatch.setattr(exact_mod, "solve_model", spy)
    inst = uniform(12, seed=4)
    sol = create_solver("exact").solve(inst, seed=0, time_limit=0.5)
    assert sol.status == "feasible"
    assert sol.info["stopped_by_time"] is True
    assert not validate(sol.packing)
    assert sol.packing.surface_area <= sol.info["hint_surface"]
    assert lower_bound(inst) - 1e-9 <= sol.bound <= sol.packing.surface_area
    # The limit is respected by construction: every CP-SAT call gets only what is left of it
    # (checked on the budgets handed over, not on a wall clock, which a busy machine would skew).
    assert budgets and all(b is not None and 0 <= b <= 0.5 for b in budgets)


def test_default_time_limit_parameter_is_used():
    inst = uniform(12, seed=4)
    sol = create_solver("exact", time_limit=0.3).solve(inst, seed=0)
    assert sol.status == "feasible" and sol.info["stopped_by_time"] is True
    assert not validate(sol.packing)


@pytest.mark.parametrize(
    "params",
    [
        dict(num_workers=0),
        dict(num_workers=1.5),
        dict(num_workers=True),
        dict(time_limit=0),
        dict(time_limit=-1.0),
        dict(time_limit="60"),
        dict(symmetry="yes"),
        dict(hint=1),
        dict(redundant=None),
        dict(log="no"),
    ],
)
def test_bad_parameters_raise_value_error(params):
    with pytest.raises(ValueError):
        create_solver("exact", **params)


def test_bad_solve_arguments_raise_value_error(tiny):
    with pytest.raises(ValueError):
        create_solver("exact").solve(tiny, time_limit=-2)
    with pytest.raises(ValueError):
        create_solver("exact").solve([[1, 2, 0]])


def test_registered_with_a_card_and_repr():
    assert "exact" in list_solvers()
    r = repr(ExactSolver(num_workers=1))
    for k in ("num_workers=1", "time_limit=", "symmetry=", "hint=", "redundant=", "log="):
        assert k in r


@pytest.mark.parametrize("seed", range(5))
def test_canonical_hint_is_valid_and_keeps_the_surface(seed):
    # Identical items included: the canonical map must stay valid and inside the symmetry cuts.
    inst = Instance(uniform(4, low=1, high=6, seed=seed).dims.tolist() * 2)
    packing = create_solver("sort-volume").solve(inst, seed=0).packing
    data = build_data(inst, packing, symmetry=True)
    canon = Packing(inst, tuple(Placement(i, o, x, y, z) for i, (o, x, y, z) in enumerate(canonical_boxes(packing, data.anchor, data.identical))))
    assert not validate(canon)
    assert canon.surface_area == packing.surface_area
    L, W, H = canon.bin
    assert L >= W >= H
    b = canon.boxes
    t = data.anchor
    assert all(2 * b[t, k] + b[t, 3 + k] <= canon.bin[k] for k in range(3))
    for group in data.identical:
        xs = [b[i, 0] for i in group]
        assert xs == sorted(xs)
    assert data.lo[0] <= L <= data.hi[0] and data.lo[1] <= W <= data.hi[1] and data.lo[2] <= H <= data.hi[2]


# --- the gap command ------------------------------------------------------------------------


def _board(results, solvers):
    return {"set": "uniform-n8", "instances": 2, "time_limit": 5.0, "seed": 0,
            "solvers": {s: {"params": {}} for s in solvers}, "results": results}


def _r(solver, k, surface, status="feasible", seconds=0.1):
    return {"solver": solver, "instance": k, "status": status, "valid": True, "surface": surface, "seconds": seconds}


def test_gap_table_arithmetic():
    results = [
        _r("exact", 0, 100, "optimal", 1.0), _r("exact", 1, 200, "feasible", 5.0),
        _r("lsa-lws", 0, 121), _r("lsa-lws", 1, 260),
        _r("best-order", 0, 110), _r("best-order", 1, 210),
    ]
    t = gap_table(_board(results, ["exact", "lsa-lws", "best-order"]))
    assert t["proven"] == 1
    rows = {r["solver"]: r for r in t["rows"]}
    assert rows["lsa-lws"]["n"] == 1  # instance 1 is not proven: left out
    assert rows["lsa-lws"]["gap"]["mean"] == pytest.approx(0.21)
    assert rows["lsa-lws"]["order_loss"]["mean"] == pytest.approx(0.1)
    assert rows["lsa-lws"]["placement_loss"]["mean"] == pytest.approx(0.1)
    assert rows["best-order"]["gap"]["max"] == pytest.approx(0.1)
    assert "order_loss" not in rows["best-order"]
    assert t["exact_seconds"]["proven"]["max"] == 1.0
    assert "lsa-lws" in format_gap_table(t)


def test_run_gap_end_to_end(tmp_path, monkeypatch):
    # The pipeline on small instances (the named sets' 8-item instances take seconds each).
    import packzoo.solvers.leaderboard as lb

    monkeypatch.setattr(lb, "instance_set", lambda name, count: [uniform(6, low=2, high=9, seed=k) for k in range(count)])
    table = run_gap("uniform-n8", 2, "sort-volume,lsa-lws", 60.0, tmp_path, progress=False)
    saved = json.loads((tmp_path / "gap.json").read_text())
    board = json.loads((tmp_path / "leaderboard.json").read_text())
    assert saved["rows"] == json.loads(json.dumps(table["rows"]))
    assert table["proven"] == 2
    for k in range(2):
        ex = [r for r in board["results"] if r["solver"] == "exact" and r["instance"] == k][0]
        assert ex["valid"] and ex["status"] == "optimal"
        assert board["best_known"][k]["value"] == ex["surface"] and board["best_known"][k]["proven"]
    for row in table["rows"]:
        assert row["gap"]["mean"] >= 0  # nothing beats a proven optimum


def test_run_gap_rejects_exact_among_solvers(tmp_path):
    with pytest.raises(ValueError):
        run_gap("uniform-n8", 1, "exact,lsa-lws", 5.0, tmp_path, progress=False)
