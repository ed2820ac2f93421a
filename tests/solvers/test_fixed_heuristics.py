"""The fixed-mode and online heuristics (packzoo.solvers.modes): valid packings in every mode and
constraint set, hand-checked behaviour, and the online solvers' arrival order."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from packzoo.envs import Instance, validate
from packzoo.envs.fixed import pack_order
from packzoo.envs.generators import bins_cut, container_cut
from packzoo.solvers import check_solver, create_solver, list_solvers, solver_card
from packzoo.solvers import modes as M
from packzoo.solvers.base import UnsupportedMode

OFFLINE = [f"{p}-{k}" for p in ("ffd", "bfd", "dblf", "ems", "minheight", "contact") for k in ("volume", "longest", "surface")]
ONLINE = ["online-bph", "boundary", "lsah", "online-contact"]
NAMES = OFFLINE + ["order-search"] + ONLINE


def test_registered_with_their_modes():
    for name in NAMES:
        card = solver_card(name)
        assert card["constraints"] is True
        assert set(create_solver(name).modes) == set(card["modes"])
    assert solver_card("ffd-volume")["modes"] == ("bins",)
    assert set(list_solvers(mode="base")) >= {"dblf-volume", "ems-volume", "minheight-volume", "online-bph"}
    assert "ffd-volume" not in list_solvers(mode="container")
    assert set(list_solvers(mode="free")) & set(ONLINE) == {"lsah"}


@pytest.mark.parametrize("name", NAMES)
def test_check_solver(name):
    check_solver(create_solver(name))


def test_unsupported_mode_is_refused():
    inst, _ = container_cut(5, container=(5, 5, 5), seed=1)
    with pytest.raises(UnsupportedMode, match="ffd-volume"):
        create_solver("ffd-volume").solve(inst)


def test_unknown_rule_fails_at_construction():
    with pytest.raises(ValueError, match="unknown"):
        M.RuleOrder("volume", rule="deepest")
    with pytest.raises(ValueError, match="key"):
        M.RuleOrder("weight")


def _cut(mode, seed, n=14, **kw):
    if mode == "bins":
        return bins_cut(n, bin=(6, 6, 6), k=3, seed=seed, **kw)
    return container_cut(n, container=(8, 6, 5), mode=mode, seed=seed, **kw)


@pytest.mark.parametrize("mode", ["base", "container", "bins"])
def test_every_solver_of_a_mode_packs_cut_instances_validly(mode):
    names = [n for n in NAMES if mode in solver_card(n)["modes"]]
    for seed in range(3):
        for kw in ({}, {"orientations": "upright"}, {"support": 1.0}, {"orientations": "fixed", "support": 0.8}):
            inst, best = _cut(mode, seed, **kw)
            for name in names:
                sol = create_solver(name, **({"iterations": 20} if name == "order-search" else {})).solve(inst, seed=0)
                if sol.status == "unknown":  # only at a base-mode dead end of the support rule
                    assert mode == "base" and inst.support is not None and (sol.packing is None or name in ONLINE)
                    continue
                assert not validate(sol.packing), (name, kw, validate(sol.packing))
                assert sol.packing.ratio >= 1 - 1e-12
                assert (sol.status == "optimal") == (sol.packing.ratio <= 1.0), name


def test_ffd_sorts_then_fits_first():
    # Bins 4x1x1, fixed bars 2, 3, 1 long: sorted by volume 3, 2, 1: the 3-bar opens bin 0, the
    # 2-bar bin 1, the 1-bar fills bin 0 (first fit; best fit too: bin 0 is fuller): 2 bins, the
    # volume bound, so "optimal".
    inst = Instance([[2, 1, 1], [3, 1, 1], [1, 1, 1]], mode="bins", container=(4, 1, 1), orientations=["fixed"] * 3)
    for name in ("ffd-volume", "bfd-volume"):
        sol = create_solver(name).solve(inst)
        assert [(q.item, q.bin, q.x) for q in sol.packing.placements] == [(1, 0, 0), (0, 1, 0), (2, 0, 3)]
        assert sol.status == "optimal"


def test_online_solvers_keep_the_arrival_order():
    for mode in ("container", "bins", "free"):
        if mode == "free":
            inst = Instance(np.random.default_rng(0).integers(1, 6, size=(12, 3)))
        else:
            inst, _ = _cut(mode, 4)
        for name in [n for n in ONLINE if mode in solver_card(n)["modes"]]:
            order = create_solver(name).solve(inst).packing.order
            assert order == sorted(order), (name, mode)
            order = create_solver(name, buffer=3).solve(inst).packing.order
            # With a buffer of 3, the item placed t-th arrived at most 2 + (items left out) later.
            assert all(i <= t + 2 + inst.n - len(order) for t, i in enumerate(order)), (name, order)


def test_until_misfit_stops_at_the_first_item_that_fits_nowhere():
    # Container 2x2x2: a 2x2x1 slab, a cube of 2 (fits nowhere after the slab), a unit cube.
    inst = Instance([[2, 2, 1], [2, 2, 2], [1, 1, 1]], mode="container", container=(2, 2, 2))
    for name in ONLINE:
        skip = create_solver(name).solve(inst)
        stop = create_solver(name, until_misfit=True).solve(inst)
        assert skip.packing.order == [0, 2] and skip.info["left_out"] == [1]
        assert stop.packing.order == [0] and stop.info["stopped_at"] == 1
        assert not validate(stop.packing)


def test_buffer_can_change_the_packing():
    inst, _ = _cut("container", 2, n=20)
    packs = {k: create_solver("online-bph", buffer=k).solve(inst).packing for k in (1, 5)}
    assert [p.order for p in packs.values()][0] != [p.order for p in packs.values()][1]


def test_lsah_in_free_mode_is_lsa_in_arrival_order():
    inst = Instance(np.random.default_rng(3).integers(1, 9, size=(10, 3)))
    sol = create_solver("lsah").solve(inst)
    assert sol.packing.placements == pack_order(inst, range(10), "lsa").placements


def test_order_search_never_worse_than_its_start():
    for mode in ("base", "container", "bins"):
        inst, _ = _cut(mode, 7, n=18)
        sol = create_solver("order-search", iterations=40).solve(inst, seed=1)
        assert sol.info["score"] <= sol.info["start_score"]
        assert list(M.mode_score(sol.packing)) == sol.info["score"]
        assert not validate(sol.packing)


def test_order_search_best_rule_is_the_modes_search_rule():
    for mode in ("base", "container", "bins"):
        inst, _ = _cut(mode, 2, n=10)
        sol = create_solver("order-search", iterations=3).solve(inst, seed=0)
        assert sol.info["rule"] == M.SEARCH_RULES[mode]
        sol = create_solver("order-search", iterations=3, rule="auto").solve(inst, seed=0)
        assert sol.info["rule"] == "auto"
    with pytest.raises(ValueError, match="unknown"):
        M.OrderSearch(rule="bestest")


def test_order_search_keeps_its_time_limit():
    inst, _ = _cut("bins", 1, n=40)
    sol = create_solver("order-search", iterations=10**6).solve(inst, seed=0, time_limit=0.5)
    assert sol.info["stopped_by_time"] or sol.status == "optimal"
    assert not validate(sol.packing)


def test_base_dead_end_is_repaired_offline():
    # Sorted by volume the slab comes after the pillar... any order that strands the slab is
    # repaired by moving it to the front.
    inst = Instance([[3, 3, 1], [1, 1, 4], [3, 3, 1]], mode="base", container=(3, 3),
                    orientations=["fixed"] * 3, support=0.8)
    p, repairs = M.pack_repaired(inst, [0, 1, 2], "dblf")
    assert repairs == 1 and p.order[0] == 2 and not validate(p)
    sol = create_solver("online-bph").solve(inst)  # online: no reordering, a dead end
    assert sol.status == "unknown" and sol.info["stuck_item"] == 2
    assert sol.packing.order == [0, 1]


def test_fallback_rules_rescue_a_stranded_sort_order():
    # A base-mode cut (20 items, this side up, 80 % support) where dblf on the volume order stays
    # stuck through its repairs; another rule and order pack it.
    inst, _ = container_cut(20, container=(100, 100, 100), mode="base", seed=(20260000, 20, 16),
                            orientations="upright", support=0.8, min_edge=10)
    with pytest.raises(M.NoPlacementError):
        M.pack_repaired(inst, M._sort_order(inst, "volume"), "dblf")
    sol = create_solver("dblf-volume").solve(inst)
    assert sol.info["fallback"] == ["min-height", "longest"] and not validate(sol.packing)


def test_infeasible_base_instance_is_unknown():
    # A 5x1 and a 1x5 bar on a 5x5 floor, fixed, fully supported: they cross on the floor and
    # either rests on 1 of its 5 units on the other: no packing exists.
    inst = Instance([[5, 1, 1], [1, 5, 1]], mode="base", container=(5, 5), orientations=["fixed"] * 2, support=1.0)
    with pytest.raises(M.NoPlacementError):
        M.pack_repaired(inst, [0, 1], "dblf", budget=20)
    sol = create_solver("dblf-volume").solve(inst)
    assert sol.status == "unknown" and sol.packing is None and "no feasible placement" in sol.info["error"]


@st.composite
def constrained(draw, mode):
    n = draw(st.integers(2, 10))
    dims = draw(st.lists(st.tuples(*[st.integers(1, 4)] * 3), min_size=n, max_size=n))
    kw = {"container": (5, 5) if mode == "base" else (5, 5, 5)}
    if draw(st.booleans()):
        kw["support"] = draw(st.sampled_from([0.6, 1.0]))
    if draw(st.booleans()):
        kw["orientations"] = "upright"  # (l, w) <= 4 < 5: every item fits upright
    if draw(st.booleans()):
        w = draw(st.lists(st.floats(0.5, 5), min_size=n, max_size=n))
        kw["weights"] = w
        kw["max_weight"] = sum(w) if mode == "base" else max(max(w), sum(w) / 3)
    return Instance(dims, mode=mode, **kw)


@pytest.mark.parametrize("mode", ["base", "container", "bins"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_constrained_instances(mode, data):
    inst = data.draw(constrained(mode))
    for name in [n for n in NAMES if mode in solver_card(n)["modes"]]:
        sol = create_solver(name, **({"iterations": 5} if name == "order-search" else {})).solve(inst, seed=0)
        if sol.status == "unknown":  # only at a base-mode dead end of the support rule
            assert mode == "base" and inst.support is not None
            continue
        assert not validate(sol.packing), (name, validate(sol.packing))
