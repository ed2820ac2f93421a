"""The fixed-container engine: hand-checked rules, the LSA engine as an oracle, and random
feasible placements refereed by the independent validator in every mode and constraint set."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from packzoo.envs import EMSState, Instance, evaluate_orders, uniform, validate
from packzoo.envs.fixed import (
    DEFAULT_RULES,
    PLACEMENT_RULES,
    NoPlacementError,
    PackState,
    pack_order,
    parse_rule,
)
from packzoo.envs.generators import bins_cut, container_cut

MODES = ("free", "base", "container", "bins")


def _corner(placement):
    return (placement.x, placement.y, placement.z)


def _space_at(state, corner, bin=0):
    for e, row in enumerate(state.spaces.tolist()):
        if tuple(row[:3]) == corner and row[6] == bin:
            return e
    raise AssertionError(f"no space at {corner}: {state.spaces.tolist()}")


# --- the LSA engine is the oracle of the free mode ----------------------------------------------

@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 14), high=st.integers(1, 9))
def test_free_mode_equals_the_lsa_engine(seed, n, high):
    inst = uniform(n, low=1, high=high, seed=seed)
    order = np.random.default_rng(seed).permutation(n)
    surf, rows = evaluate_orders(inst.dims, order[None], return_placements=True)
    p = pack_order(inst, order, "lsa")
    assert [q.to_list() for q in p.placements] == rows[0].tolist()
    assert p.surface_area == surf[0]
    assert pack_order(inst, order).placements == p.placements  # "auto" is lsa in free mode


def test_free_mode_spaces_follow_ems_state_step_by_step():
    inst = uniform(10, low=1, high=6, seed=3)
    ref, state = EMSState(inst.dims), PackState(inst)
    for i in range(inst.n):
        assert state.spaces[:, :6].tolist() == ref.spaces.tolist()
        _, e, o = ref.lsa(i)
        assert state.choose(i, "lsa") == (o, e)
        ref.place(i, o, e)
        state.place(i, o, e)


# --- hand-checked rules ---------------------------------------------------------------------------

def _after_unit_cube(container, rule, second=(1, 1, 1)):
    """Container mode: a fixed unit cube at the origin, then where ``second`` goes by ``rule``."""
    inst = Instance([[1, 1, 1], list(second)], mode="container", container=container, orientations=["fixed", "fixed"])
    s = PackState(inst)
    s.place(0, 0, 0)
    return s.place_by(1, rule)


def test_dblf_lowest_z_then_x_then_y():
    # Spaces after the cube in a 2x3x1 container: (1,0,0) and (0,1,0); dblf takes x = 0 first.
    assert _corner(_after_unit_cube((2, 3, 1), "dblf")) == (0, 1, 0)
    # With room above, z = 0 still comes first.
    assert _corner(_after_unit_cube((2, 3, 2), "dblf")) == (0, 1, 0)
    s = PackState(Instance([[2, 2, 2], [2, 2, 2]], mode="container", container=(4, 2, 2)))
    assert s.place_by(0, "dblf").x == 0 and s.place_by(1, "dblf").x == 2


def test_bph_sorts_spaces_by_z_then_y_then_x():
    # Ha et al.'s order as the PCT code sorts it: (1,0,0) has y = 0, before (0,1,0).
    assert _corner(_after_unit_cube((2, 3, 1), "bph")) == (1, 0, 0)


def test_ems_fit_takes_the_tightest_space():
    # (1,0,0,2,3,1) has volume 3, (0,1,0,2,3,1) volume 4: the residual is least in the first.
    assert _corner(_after_unit_cube((2, 3, 1), "ems-fit")) == (1, 0, 0)


def test_dftrc_goes_far_from_the_front_top_right_corner():
    # Far corners: (2,1,1) is 2 from (2,3,1); (1,2,1) is sqrt(2): the first is farther.
    assert _corner(_after_unit_cube((2, 3, 1), "dftrc")) == (1, 0, 0)


def test_contact_counts_walls_floor_ceiling_and_boxes():
    # At (1,0,0): floor, ceiling, wall y=0, wall x=2, the cube: 5. At (0,1,0): floor, ceiling,
    # wall x=0, the cube: 4.
    assert _corner(_after_unit_cube((2, 3, 1), "contact")) == (1, 0, 0)


def test_boundary_scores_space_volume_plus_shapes_that_fit():
    # Volumes 3 and 4, both fit the one shape: the larger space wins.
    assert _corner(_after_unit_cube((2, 3, 1), "boundary")) == (0, 1, 0)


def test_min_height_prefers_lying_beside_to_standing():
    # Base 4x1; a fixed 1x1x2 post at the origin. A 3x1x1 bar lying at x=1 keeps height 2;
    # standing (1x1x3) or on top would make it 3.
    inst = Instance([[1, 1, 2], [3, 1, 1]], mode="base", container=(4, 1), orientations=["fixed", "all"])
    s = PackState(inst)
    s.place(0, 0, 0)
    p = s.place_by(1, "min-height")
    assert (p.x, p.y, p.z) == (1, 0, 0) and inst.oriented(1, p.orientation) == (3, 1, 1)
    assert s.packing().height == 2


def test_first_fit_and_best_fit_over_bins():
    # Bins 4x1x1: a 2-bar opens bin 0, a 3-bar bin 1; a unit cube: first-fit -> bin 0, best-fit
    # -> bin 1 (fuller).
    inst = Instance([[2, 1, 1], [3, 1, 1], [1, 1, 1]], mode="bins", container=(4, 1, 1))
    for rule, want in (("first-fit", 0), ("best-fit", 1), ("best-fit:ems-fit", 1), ("dblf", 0)):
        p = pack_order(inst, [0, 1, 2], rule)
        assert [q.bin for q in p.placements] == [0, 1, want], rule
        assert not validate(p)


def test_the_fresh_bin_is_the_last_space():
    inst = Instance([[2, 2, 2]] * 3, mode="bins", container=(2, 2, 2))
    s = PackState(inst)
    assert s.n_bins == 0 and s.spaces.tolist() == [[0, 0, 0, 2, 2, 2, 0]]
    for k in range(3):
        assert s.spaces[-1].tolist() == [0, 0, 0, 2, 2, 2, k]
        s.place_by(k)
        assert s.n_bins == k + 1
    assert s.spaces.shape[0] == 0 and s.done
    assert s.packing().bins_used == 3


# --- constraints, by hand -----------------------------------------------------------------------------

@pytest.mark.parametrize("support,fits", [(0.5, True), (0.6, False), (None, True)])
def test_support_fraction(support, fits):
    # A unit cube at the origin of a 2x1x2 container; the 2x1x1 bar can only go on top of it,
    # resting on 1 of its 2 base units.
    inst = Instance([[1, 1, 1], [2, 1, 1]], mode="container", container=(2, 1, 2),
                    orientations=["fixed", "fixed"], support=support)
    p = pack_order(inst, [0, 1], "dblf")
    assert (len(p.placements) == 2) is fits
    assert not validate(p)


def test_support_on_two_boxes_adds_up():
    # Two unit cubes side by side carry a 2x1x1 bar fully (support 1.0).
    inst = Instance([[1, 1, 1], [1, 1, 1], [2, 1, 1]], mode="container", container=(2, 1, 2),
                    orientations=["fixed"] * 3, support=1.0)
    p = pack_order(inst, [0, 1, 2], "dblf")
    assert [(q.x, q.z) for q in p.placements] == [(0, 0), (1, 0), (0, 1)]
    assert not validate(p)


def test_anchors_carry_what_a_space_corner_overhangs():
    # Base 3x1: a unit cube at x=0, a 2x1x2 post at x=1. Above z=2 the maximal space starts at
    # x=0, over the cube's lower top: a fixed 2x1x1 bar there rests on half of its base. The
    # anchor at the post's corner (1, 0, 2) carries it fully.
    inst = Instance([[1, 1, 1], [2, 1, 2], [2, 1, 1]], mode="base", container=(3, 1),
                    orientations=["fixed"] * 3, support=1.0)
    for anchors, placed in ((False, None), (True, (1, 0, 2))):
        s = PackState(inst, anchors=anchors)
        s.place(0, 0, _space_at(s, (0, 0, 0)))
        s.place(1, 0, _space_at(s, (1, 0, 0)))
        p = s.place_by(2, "dblf")
        assert (p if p is None else (p.x, p.y, p.z)) == placed
    assert not validate(s.packing())
    assert PackState(inst).anchors and not PackState(Instance([[1, 1, 1]])).anchors


def test_weight_limit_opens_a_bin():
    inst = Instance([[1, 1, 1], [1, 1, 1]], mode="bins", container=(2, 1, 1), weights=[3, 3], max_weight=5)
    p = pack_order(inst, [0, 1])
    assert p.bins_used == 2 and not validate(p)
    s = PackState(inst)
    s.place_by(0)
    assert "overload" in s.why_not(1, 0, 0)


def test_orientation_limits():
    inst = Instance([[1, 1, 2]], mode="container", container=(2, 2, 1), orientations=["fixed"])
    assert pack_order(inst, [0]).placements == ()  # standing it is too tall: it stays out
    inst = Instance([[1, 1, 2]], mode="container", container=(2, 2, 1))
    p = pack_order(inst, [0])
    assert len(p.placements) == 1 and not validate(p)
    s = PackState(Instance([[1, 2, 3]], orientations=["upright"]))
    assert sorted(s.feasible(0)[:, 0].tolist()) == [0, 2]
    assert not s.can_place(0, 1, 0) and "not allowed" in s.why_not(0, 1, 0)


def test_mask_lists_one_orientation_per_allowed_shape():
    # Orientations of (2,2,1): 0 (2,2,1), 1 (2,1,2), 2 (2,2,1), 3 (2,1,2), 4 (1,2,2), 5 (1,2,2).
    s = PackState(Instance([[2, 2, 1]]))
    assert np.flatnonzero(s.mask()[0].any(axis=1)).tolist() == [0, 1, 4]
    assert s.can_place(0, 2, 0)  # orientation 2 is shape (2,2,1) again: allowed, just not listed


def test_container_mode_leaves_out_what_does_not_fit():
    inst = Instance([[3, 3, 3], [2, 2, 2], [2, 2, 2]], mode="container", container=(3, 3, 4))
    p = pack_order(inst, [0, 1, 2], "dblf")
    assert p.order == [0] and not validate(p)


def test_base_dead_end_raises():
    # A pillar on a 3x3 floor, then a 3x3 slab: no corner carries 80% of it.
    inst = Instance([[3, 3, 1], [1, 1, 4], [3, 3, 1]], mode="base", container=(3, 3),
                    orientations=["fixed"] * 3, support=0.8)
    with pytest.raises(NoPlacementError) as e:
        pack_order(inst, [0, 1, 2], "dblf")
    assert e.value.item == 2
    assert not validate(pack_order(inst, [0, 2, 1], "dblf"))


def test_bad_input():
    inst = Instance([[1, 1, 1], [1, 1, 1]], mode="container", container=(2, 1, 1))
    s = PackState(inst)
    s.place_by(0)
    with pytest.raises(ValueError, match="already placed"):
        s.place(0, 0, 0)
    with pytest.raises(ValueError, match="space"):
        s.place(1, 0, 5)
    with pytest.raises(ValueError, match="orientation"):
        s.can_place(1, 6, 0)
    with pytest.raises(ValueError, match="item"):
        s.feasible(2)
    with pytest.raises(ValueError, match="only for mode 'bins'"):
        parse_rule("first-fit", "container")
    with pytest.raises(ValueError, match="unknown"):
        pack_order(inst, [0], "nope")
    with pytest.raises(ValueError, match="distinct"):
        pack_order(inst, [0, 0])
    with pytest.raises(ValueError, match="Instance"):
        PackState([[1, 1, 1]])


def test_every_rule_is_documented_and_every_mode_has_a_default():
    assert set(DEFAULT_RULES) == set(MODES)
    for mode, rule in DEFAULT_RULES.items():
        parse_rule(rule, mode)
    for rule in PLACEMENT_RULES:
        assert PLACEMENT_RULES[rule]


# --- random instances, random feasible placements, the validator as referee -----------------------

@st.composite
def instances(draw, mode):
    n = draw(st.integers(1, 9))
    dims = draw(st.lists(st.tuples(*[st.integers(1, 5)] * 3), min_size=n, max_size=n))
    kw = {}
    if mode == "base":
        kw["container"] = (draw(st.integers(5, 7)), draw(st.integers(5, 7)))
    elif mode != "free":
        kw["container"] = tuple(draw(st.integers(5, 7)) for _ in range(3))
    if draw(st.booleans()):
        kw["orientations"] = draw(st.lists(st.sampled_from(["all", "upright", "fixed"]), min_size=n, max_size=n))
    if draw(st.booleans()):
        kw["support"] = draw(st.sampled_from([0.5, 0.75, 0.8, 1.0]))
    if draw(st.booleans()):
        w = draw(st.lists(st.floats(0.1, 10, allow_nan=False), min_size=n, max_size=n))
        kw["weights"] = w
        kw["max_weight"] = sum(w) if mode in ("free", "base") else max(max(w), draw(st.floats(0.2, 1.0)) * sum(w))
    if mode in ("base", "bins") and "orientations" in kw:
        # The instance must be packable: an item whose allowed shapes miss the container gets all 6.
        cont = kw["container"]
        probe = Instance(dims)
        kw["orientations"] = [
            o if any(all(s <= c for s, c in zip(probe.oriented(i, k), cont)) for k in
                     Instance([dims[i]], orientations=[o]).allowed_orientations(0)) else "all"
            for i, o in enumerate(kw["orientations"])
        ]
    return Instance(dims, mode=mode, **kw)


def _only_incomplete(errors):
    return all(e.startswith("items never placed") for e in errors)


@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_feasible_placements_are_valid(mode, data):
    inst = data.draw(instances(mode))
    seed = data.draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    s = PackState(inst)
    while True:
        m = s.mask()
        acts = np.argwhere(m)
        for i in range(inst.n):  # the mask and feasible() agree
            assert sorted(map(tuple, s.feasible(i).tolist())) == sorted(map(tuple, acts[acts[:, 0] == i, 1:].tolist()))
        if len(acts) == 0:
            break
        i, o, e = (int(v) for v in acts[rng.integers(len(acts))])
        assert s.can_place(i, o, e)
        s.place(i, o, e)
        # Every masked action keeps every constraint: the partial packing breaks nothing.
        assert _only_incomplete(validate(s.packing())), validate(s.packing())
    assert s.done
    errors = validate(s.packing())
    if mode in ("free", "bins") or (mode == "base" and inst.support is None):
        assert errors == []  # these modes can always go on
    elif mode == "container":
        assert errors == []
    else:  # base with a support rule can reach a dead end: then only completeness fails
        assert _only_incomplete(errors)


@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_unmasked_actions_are_refused_by_place(mode, data):
    inst = data.draw(instances(mode))
    s = PackState(inst)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    for _ in range(inst.n):
        m = s.mask()
        k = s.spaces.shape[0]
        if k == 0 or not m.any():
            break
        i, o, e = int(rng.integers(inst.n)), int(rng.integers(6)), int(rng.integers(k))
        canonical = o in inst.allowed_orientations(i)
        if canonical:
            assert s.can_place(i, o, e) == m[i, o, e]
        if not s.can_place(i, o, e):
            with pytest.raises(ValueError, match="cannot place"):
                s.place(i, o, e)
        i, o, e = (int(v) for v in np.argwhere(m)[0])
        s.place(i, o, e)


@pytest.mark.parametrize("rule", ["dblf", "ems-fit", "min-height", "dftrc", "contact", "bph", "boundary", "lsa"])
@pytest.mark.parametrize("mode", ["base", "container"])
def test_every_rule_packs_cut_instances_validly(rule, mode):
    for seed in range(4):
        inst, best = container_cut(12, container=(8, 6, 5), mode=mode, seed=seed,
                                   orientations="upright" if seed % 2 else None, support=1.0 if seed > 1 else None)
        assert not validate(best)
        try:
            p = pack_order(inst, range(inst.n), rule)
        except NoPlacementError:
            assert mode == "base" and inst.support is not None
            continue
        assert not validate(p), (rule, mode, seed, validate(p))
        assert p.ratio >= 1 - 1e-12


@pytest.mark.parametrize("rule", ["first-fit", "best-fit", "first-fit:ems-fit", "best-fit:contact", "lsa", "bph", "boundary"])
def test_bin_rules_pack_bins_cut_validly(rule):
    for seed in range(4):
        inst, best = bins_cut(15, bin=(6, 6, 6), k=3, seed=seed, support=1.0 if seed % 2 else None)
        p = pack_order(inst, range(inst.n), rule)
        assert not validate(p), validate(p)
        assert p.bins_used >= best.bins_used == 3
