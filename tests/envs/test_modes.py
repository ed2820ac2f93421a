"""Container modes and constraints: the Instance format, the validator, the bounds, the cut
generators with known optima (issue 14's data model)."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packzoo.envs import (
    MODES,
    Instance,
    InstanceError,
    Packing,
    Placement,
    bins_cut,
    bins_lower_bound,
    bound,
    container_cut,
    height_lower_bound,
    lower_bound,
    validate,
)


# ---- Instance ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(mode="pallet"), "mode must be one of"),
        (dict(mode="base"), r"needs container=\(L, W\)"),
        (dict(mode="base", container=(5, 5, 5)), r"needs container=\(L, W\)"),
        (dict(mode="container", container=(5, 5)), r"needs container=\(L, W, H\)"),
        (dict(container=(5, 5, 5)), "takes no container"),
        (dict(mode="bins", container=(5, 0, 5)), "container side 1"),
        (dict(mode="bins", container=(2, 2, 2)), "item 0 .* fits the bins"),
        (dict(mode="base", container=(2, 9), orientations="upright"), "item 0 .* fits the base"),
        (dict(orientations="sideways"), "orientations"),
        (dict(orientations=[[0], [9]]), "item 1 orientations: 9"),
        (dict(orientations=[[0], []]), "item 1 orientations: at least one"),
        (dict(orientations=[[0]]), "1 entries given for 2 items"),
        (dict(support=1.5), "support must be a fraction"),
        (dict(support=0), "support must be a fraction"),
        (dict(weights=[1.0]), "1 weights given for 2 items"),
        (dict(weights=[1.0, -2]), "item 1 weight"),
        (dict(weights=[1.0, float("nan")]), "item 1 weight"),
        (dict(max_weight=5), "max_weight needs weights"),
        (dict(weights=[3, 4], max_weight=5), "weigh 7.0 in all"),
        (dict(mode="bins", container=(5, 5, 5), weights=[3, 6], max_weight=5), "item 1 weighs 6.0"),
    ],
)
def test_bad_modes_and_constraints_are_named(kwargs, message):
    with pytest.raises(InstanceError, match=message):
        Instance([[3, 3, 4], [1, 2, 3]], **kwargs)


def test_orientation_words_and_lists_normalise():
    inst = Instance([[1, 2, 3], [2, 2, 3], [1, 1, 1]], orientations=["upright", [5, 0, 0], "fixed"])
    assert inst.orientations == ((0, 2), (0, 5), (0,))
    assert inst.allowed.sum(axis=1).tolist() == [2, 2, 1]
    assert inst.allowed_orientations(1) == [0, 5]
    # (2, 2, 3) in orientation 2 is (2, 2, 3) again: the same shape as the allowed 0.
    assert inst.orientation_allowed(1, 2) and not inst.orientation_allowed(1, 1)
    assert Instance([[1, 2, 3]], orientations="all").orientations is None
    assert Instance([[1, 2, 3]], orientations="all") == Instance([[1, 2, 3]])


def test_json_carries_mode_container_and_constraints():
    inst = Instance([[1, 2, 3], [2, 2, 2]], names=["a", "b"], mode="bins", container=(4, 4, 4),
                    orientations="upright", support=0.8, weights=[1.5, 2], max_weight=3)
    back = Instance.from_json(inst.to_json())
    assert back == inst and hash(back) == hash(inst)
    assert back.to_dict()["mode"] == "bins" and back.to_dict()["support"] == 0.8
    assert Instance([[1, 1, 1]]).to_dict() == {"dims": [[1, 1, 1]]}  # free stays as before
    with pytest.raises(InstanceError, match="unknown instance keys.*suport"):
        Instance.from_dict({"dims": [[1, 1, 1]], "suport": 0.5})


# ---- the validator, one hand-made violation per rule ----------------------------------------


def _pk(inst, rows):
    return Packing(inst, rows)


def test_container_bounds_and_completeness():
    inst = Instance([[2, 2, 2], [2, 2, 2]], mode="container", container=(4, 2, 2))
    assert validate(_pk(inst, [(0, 0, 0, 0, 0), (1, 0, 2, 0, 0)])) == []
    assert validate(_pk(inst, [(0, 0, 0, 0, 0)])) == []  # items may stay out
    errs = validate(_pk(inst, [(0, 0, 3, 0, 0)]))
    assert errs and "x=5, outside the container" in errs[0]
    base = Instance([[2, 2, 2], [2, 2, 2]], mode="base", container=(2, 2))
    assert validate(_pk(base, [(0, 0, 0, 0, 0), (1, 0, 0, 0, 2)])) == []
    assert any("y=3" in e for e in validate(_pk(base, [(0, 0, 0, 0, 0), (1, 0, 0, 1, 2)])))
    assert any("never placed" in e for e in validate(_pk(base, [(0, 0, 0, 0, 0)])))


def test_bins_overlap_only_within_a_bin_and_bin_indices():
    inst = Instance([[2, 2, 2], [2, 2, 2]], mode="bins", container=(2, 2, 2))
    good = _pk(inst, [(0, 0, 0, 0, 0, 0), (1, 0, 0, 0, 0, 1)])
    assert validate(good) == [] and good.bins_used == 2 and good.objective == 2
    assert validate(_pk(inst, [(0, 0, 0, 0, 0, 0), (1, 0, 0, 0, 0, 0)])) == ["items 0 and 1 overlap"]
    assert "bad bin" in validate(_pk(inst, [(0, 0, 0, 0, 0, -1), (1, 0, 0, 0, 0, 1)]))[0]
    free = Instance([[2, 2, 2], [2, 2, 2]])
    assert "mode 'free' has one bin" in validate(_pk(free, [(0, 0, 0, 0, 0, 1), (1, 0, 2, 0, 0)]))[0]
    assert Placement(1, 0, 0, 0, 0, 1).to_list() == [1, 0, 0, 0, 0, 1]
    assert Placement(1, 0, 0, 0, 0).to_list() == [1, 0, 0, 0, 0]


def test_orientation_limits():
    inst = Instance([[1, 2, 3]], orientations="upright")
    assert validate(_pk(inst, [(0, 2, 0, 0, 0)])) == []
    errs = validate(_pk(inst, [(0, 1, 0, 0, 0)]))
    assert errs == ["placement 0: item 0 in orientation 1 is not allowed (allowed: [0, 2])"]


def test_support_rule_at_its_boundary():
    # A 2x2 box on a 2x1 box: half its base rests on it.
    rows = [(0, 0, 0, 0, 0), (1, 0, 0, 0, 1)]
    dims = [[2, 1, 1], [2, 2, 1]]
    assert validate(_pk(Instance(dims, support=0.5), rows)) == []
    errs = validate(_pk(Instance(dims, support=0.6), rows))
    assert errs == ["item 1 at z=1 rests on 2 of its 4 base area (50% < the support rule's 60%)"]
    # Hanging in the air is caught; without a rule it is fine (the free problem has no gravity).
    assert validate(_pk(Instance([[1, 1, 1]], support=0.1), [(0, 0, 0, 0, 3)]))
    assert validate(_pk(Instance([[1, 1, 1]]), [(0, 0, 0, 0, 3)])) == []
    # A box below but in another bin holds nothing up.
    inst = Instance(dims, mode="bins", container=(2, 2, 2), support=0.5)
    assert validate(_pk(inst, [(0, 0, 0, 0, 0, 0), (1, 0, 0, 0, 1, 1)]))


def test_weight_limit_per_bin():
    inst = Instance([[1, 1, 1]] * 3, mode="bins", container=(3, 1, 1), weights=[2, 2, 2], max_weight=4)
    assert validate(_pk(inst, [(0, 0, 0, 0, 0, 0), (1, 0, 1, 0, 0, 0), (2, 0, 0, 0, 0, 1)])) == []
    errs = validate(_pk(inst, [(0, 0, 0, 0, 0, 0), (1, 0, 1, 0, 0, 0), (2, 0, 2, 0, 0, 0)]))
    assert errs == ["bin 0 carries weight 6, more than max_weight=4"]


# ---- metrics and bounds, by hand -------------------------------------------------------------


def test_objectives_and_ratios_per_mode():
    base = Instance([[2, 2, 1]] * 2, mode="base", container=(2, 2))
    pk = _pk(base, [(0, 0, 0, 0, 0), (1, 0, 0, 0, 1)])
    assert (pk.objective, bound(base), pk.ratio, pk.utilisation) == (2, 2.0, 1.0, 1.0)
    cont = Instance([[2, 2, 2], [3, 3, 3]], mode="container", container=(4, 4, 2))
    pk = _pk(cont, [(0, 0, 0, 0, 0)])
    # The 3-cube fits nowhere: the bound is the 2-cube's 8, reached.
    assert (pk.objective, bound(cont), pk.ratio, pk.utilisation) == (8, 8.0, 1.0, 8 / 32)
    with pytest.raises(ValueError, match="upper bound"):
        lower_bound(cont)
    assert _pk(cont, []).ratio == float("inf")


def test_height_bound_by_hand():
    # Volume 2*4*4*3 = 96 on a 4x4 base: 6; the tallest item standing lowest is 5 (a 5x5x5 cube
    # does not exist here; a 1x1x5 rod stands lowest at 1 unless upright).
    inst = Instance([[4, 4, 3], [4, 4, 3], [1, 1, 5]], mode="base", container=(4, 4))
    assert height_lower_bound(inst) == max(-(-101 // 16), 3) == 7
    up = Instance([[4, 4, 3], [4, 4, 3], [1, 1, 5]], mode="base", container=(4, 4), orientations="upright")
    assert height_lower_bound(up) == 7
    rod = Instance([[1, 1, 9]], mode="base", container=(4, 4), orientations="upright")
    assert height_lower_bound(rod) == 9


def test_martello_pisinger_vigo_bounds_by_hand():
    cap = (100, 100, 100)
    # Five 60-cubes: no two share a bin in any direction; L1 sees it, the volume bound (2) does not.
    five = Instance([[60, 60, 60]] * 5, mode="bins", container=cap, orientations="fixed")
    assert -(-five.volume // 10**6) == 2 and bins_lower_bound(five) == 5
    # A cube has one shape however it turns, so the bound holds with rotations too; for other
    # shapes with rotations allowed, L1/L2 are not used, only the volume bound.
    assert bins_lower_bound(Instance([[60, 60, 60]] * 5, mode="bins", container=cap)) == 5
    assert bins_lower_bound(Instance([[60, 60, 70]] * 5, mode="bins", container=cap, orientations="fixed")) == 5
    assert bins_lower_bound(Instance([[60, 60, 70]] * 5, mode="bins", container=cap)) == 2
    # L2: one 60x60x100 column takes its whole 100x100 slab from items wider than 40 both ways.
    inst = Instance([[60, 60, 100]] + [[45, 45, 50]] * 4, mode="bins", container=cap, orientations="fixed")
    # Volume: 360000 + 4 * 101250 = 765000 -> 1 bin; the column's slab counts 10^6 -> 2 bins.
    assert bins_lower_bound(inst) == 2
    w = Instance([[1, 1, 1]] * 3, mode="bins", container=(3, 3, 3), weights=[2, 2, 2], max_weight=3)
    assert bins_lower_bound(w) == 2


def _min_bins_brute(inst):
    """Least bins by brute force (fixed orientation, tiny): items into bins by every assignment,
    each bin checked by trying every corner from the normal patterns (sums of other items' edges)."""
    d = inst.dims
    n = inst.n
    cap = inst.container

    def fits(items):
        coords = [sorted({sum(c) for r in range(len(items)) for c in itertools.combinations([d[j][a] for j in items], r)})
                  for a in range(3)]

        def place(k, boxes):
            if k == len(items):
                return True
            s = d[items[k]]
            for x in coords[0]:
                for y in coords[1]:
                    for z in coords[2]:
                        lo = (x, y, z)
                        if any(lo[a] + s[a] > cap[a] for a in range(3)):
                            continue
                        if any(all(lo[a] < b[a] + b[3 + a] and b[a] < lo[a] + s[a] for a in range(3)) for b in boxes):
                            continue
                        if place(k + 1, boxes + [(*lo, *s)]):
                            return True
            return False

        return place(0, [])

    for k in range(1, n + 1):
        for assign in itertools.product(range(k), repeat=n):
            if len(set(assign)) == k and all(fits([i for i in range(n) if assign[i] == b]) for b in range(k)):
                return k
    return n


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(*[st.integers(1, 4)] * 3), min_size=1, max_size=4))
def test_bins_bound_never_beats_brute_force(dims):
    inst = Instance(dims, mode="bins", container=(4, 4, 4), orientations="fixed")
    assert bins_lower_bound(inst) <= _min_bins_brute(inst)


# ---- cut generators ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_cut_generators_return_their_optimal_packings(seed):
    inst, pk = container_cut(25, container=(9, 7, 5), seed=seed, support=1.0, orientations="upright")
    assert validate(pk) == [] and pk.utilisation == 1.0 and pk.ratio == 1.0
    assert inst.orientations == ((0, 2),) * 25
    inst, pk = container_cut(15, container=(9, 7, 5), mode="base", min_edge=2, seed=seed)
    assert validate(pk) == [] and pk.height == 5 == bound(inst) and inst.dims.min() >= 2
    inst, pk = bins_cut(30, bin=(10, 10, 10), k=3, orientations="fixed", seed=seed)
    assert validate(pk) == [] and pk.bins_used == 3 == bins_lower_bound(inst)
    assert inst.mode == "bins" and all(p.orientation == 0 for p in pk.placements)


def test_cut_generators_are_seeded_and_refuse_impossible_cuts():
    assert container_cut(12, seed=3)[0] == container_cut(12, seed=3)[0]
    assert container_cut(12, seed=3)[0] != container_cut(12, seed=4)[0]
    with pytest.raises(ValueError, match="edges of at least 3"):
        container_cut(50, container=(5, 5, 5), min_edge=3, seed=0)
    with pytest.raises(ValueError, match="at least 3 items"):
        bins_cut(2, k=3)
    with pytest.raises(ValueError, match="mode must be"):
        container_cut(3, mode="bins")


def test_every_mode_is_covered():
    assert MODES == ("free", "base", "container", "bins")
