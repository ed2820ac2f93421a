"""The order heuristics against oracles: a Python LWS on the env's engine, brute force over all
orders, the validator, and cube-cut instances with a known optimum."""

import copy
import itertools

import numpy as np
import pytest

from packzoo.envs import EMSState, Instance, cube_cut, evaluate_orders, uniform, validate
from packzoo.envs.generators import orders as orders_instance
from packzoo.solvers import create_solver, pack_in_order
from packzoo.solvers.heuristics import (
    BestOrder,
    LocalSearch,
    LWSOrder,
    RandomOrder,
    SortOrder,
    evaluate,
    lws_order,
    pack_order_ep,
    sort_order,
)


def reference_lws(inst: Instance) -> list[int]:
    """LWS written plainly on the env's EMSState: a second implementation to check the kernel."""
    dims = inst.dims.astype(np.int64)
    surf = [a * b + a * c + b * c for a, b, c in dims.tolist()]
    first = int(np.argmax(surf))  # argmax returns the first maximum: ties to the lowest index
    st = EMSState(dims)
    st.place_lsa(first)
    order = [first]
    while len(order) < inst.n:
        best = None
        for i in range(inst.n):
            if i in order:
                continue
            trial = copy.deepcopy(st)
            trial.place_lsa(i)
            packed = sum(int(np.prod(dims[j])) for j in order + [i])
            waste = int(np.prod(trial.bin)) - packed
            if best is None or waste < best[0]:
                best = (waste, i)
        st.place_lsa(best[1])
        order.append(best[1])
    return order


def brute_force_best(inst: Instance) -> int:
    perms = np.array(list(itertools.permutations(range(inst.n))), dtype=np.int64)
    return int(evaluate_orders(inst.dims, perms).min())


SMALL = [
    uniform(5, seed=1),
    uniform(6, seed=2),
    uniform(6, low=1, high=6, seed=3),
    orders_instance(6, seed=4),
    cube_cut(6, side=10, seed=5)[0],
    # identical items, to exercise the deduplication
    Instance([[3, 2, 2], [3, 2, 2], [2, 3, 2], [4, 1, 1], [3, 2, 2], [4, 1, 1]]),
    Instance([[2, 2, 2]] * 5 + [[1, 2, 3]]),
]


@pytest.mark.parametrize("inst", SMALL + [uniform(9, seed=6), orders_instance(10, seed=7)])
def test_lws_matches_reference_and_env(inst):
    order, s = lws_order(inst)
    assert order == reference_lws(inst)
    sol = create_solver("lsa-lws").solve(inst)
    assert sol.info["order"] == order
    assert sol.packing.order == order
    assert validate(sol.packing) == []
    # The env's packing of that order, the batched evaluator and the kernel agree.
    assert sol.surface_area == s == int(evaluate_orders(inst.dims, [order])[0])
    assert sol.surface_area == pack_in_order(inst, order).surface_area


def test_lws_first_item_is_largest_surface_lowest_index():
    inst = Instance([[1, 1, 1], [3, 2, 1], [1, 2, 3], [2, 2, 1]])  # items 1 and 2 tie at 11
    assert lws_order(inst)[0][0] == 1


@pytest.mark.parametrize("inst", SMALL)
def test_best_order_equals_brute_force(inst):
    sol = create_solver("best-order").solve(inst)
    assert sol.info["order_optimal"] is True and sol.info["stopped_by_time"] is False
    assert sol.status == "feasible"
    assert validate(sol.packing) == []
    assert sol.surface_area == brute_force_best(inst)
    assert sol.surface_area == int(evaluate_orders(inst.dims, [sol.info["order"]])[0])


def test_best_order_beats_every_rule_and_stops_on_time():
    inst = uniform(12, seed=8)
    cut = BestOrder(node_budget=50).solve(inst, time_limit=0.05)
    assert cut.info["stopped_by_time"] is True and cut.info["order_optimal"] is False
    assert validate(cut.packing) == []
    rules = [create_solver(n).solve(inst).surface_area for n in ("lsa-lws", "sort-volume", "sort-longest", "sort-surface")]
    assert cut.surface_area <= min(rules)
    full = create_solver("best-order").solve(uniform(7, seed=9))
    assert full.info["order_optimal"] is True
    assert full.surface_area <= min(create_solver(n).solve(uniform(7, seed=9)).surface_area for n in ("lsa-lws", "sort-volume"))


def test_best_order_single_item():
    sol = create_solver("best-order").solve(Instance([[2, 3, 4]]))
    assert sol.surface_area == 2 * (6 + 8 + 12)


@pytest.mark.parametrize("name", ["random", "sort-volume", "lsa-lws", "local-search"])
def test_placement_ep_gives_valid_packings(name):
    for inst in (cube_cut(12, side=30, seed=1)[0], uniform(12, seed=2), orders_instance(9, seed=3)):
        sol = create_solver(name, placement="ep").solve(inst, seed=0)
        assert sol.info["placement"] == "ep"
        assert validate(sol.packing) == [], validate(sol.packing)
        assert sol.surface_area == int(evaluate(inst, np.array([sol.info["order"]]), "ep")[0])


def test_extreme_points_on_cube_cut():
    ratios = []
    for seed in range(5):
        inst, opt = cube_cut(10, side=50, seed=seed)
        sol = create_solver("extreme-points").solve(inst)
        assert validate(sol.packing) == []
        ratios.append(sol.surface_area / opt.surface_area)
    assert min(ratios) >= 1.0
    print("extreme-points mean ratio to the cube optimum:", np.mean(ratios))


def test_ep_rule_places_at_the_origin_then_grows_least():
    # the first item sits at the origin; the second goes where the bin grows least: stacked into
    # a 2x2x2 cube (surface 24), not side by side (4x2x1, surface 28)
    inst = Instance([[2, 2, 1], [2, 2, 1]])
    p = pack_order_ep(inst, [0, 1])
    assert validate(p) == []
    assert p.placements[0].to_list()[2:] == [0, 0, 0]
    assert p.bin == (2, 2, 2)
    assert p.surface_area == 24


def test_lws_with_ep_runs_and_is_deterministic():
    inst = uniform(10, seed=4)
    a = LWSOrder(placement="ep").solve(inst)
    b = LWSOrder(placement="ep").solve(inst)
    assert a.info["order"] == b.info["order"] and validate(a.packing) == []
    assert a.info["kernel_surface"] == a.surface_area


def test_local_search_improves_on_its_start_and_is_seeded():
    inst = uniform(10, seed=5)
    ls = LocalSearch(iterations=400, batch=16)
    a = ls.solve(inst, seed=1)
    b = ls.solve(inst, seed=1)
    assert a.info["order"] == b.info["order"]
    assert a.info["evaluated"] == 400
    assert a.surface_area == a.info["search_surface"] <= a.info["start_surface"]
    assert validate(a.packing) == []
    starts = [create_solver(n).solve(inst).surface_area for n in ("lsa-lws", "sort-volume", "sort-longest", "sort-surface")]
    assert a.info["start_surface"] == min(starts)


def test_random_is_seeded_and_varies():
    inst = uniform(8, seed=6)
    r = RandomOrder()
    assert r.solve(inst, seed=4).info["order"] == r.solve(inst, seed=4).info["order"]
    assert len({tuple(r.solve(inst, seed=s).info["order"]) for s in range(6)}) > 1


def test_sort_orders():
    inst = Instance([[1, 1, 1], [5, 1, 1], [2, 2, 2], [2, 2, 2]])
    assert sort_order(inst, "volume") == [2, 3, 1, 0]
    assert sort_order(inst, "longest") == [1, 2, 3, 0]
    assert SortOrder(key="surface").solve(inst).info["order"] == [2, 3, 1, 0]


def test_bad_parameters_are_value_errors():
    with pytest.raises(ValueError, match="placement"):
        RandomOrder(placement="blf")
    with pytest.raises(ValueError, match="key"):
        SortOrder(key="weight")
    with pytest.raises(ValueError, match="iterations"):
        LocalSearch(iterations=0)
    with pytest.raises(ValueError, match="node_budget"):
        BestOrder(node_budget=-1)
    with pytest.raises(ValueError, match="permutation"):
        pack_order_ep(uniform(3, seed=0), [0, 0, 1])
