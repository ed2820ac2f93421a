"""The literature sets: pinned, within the papers' ranges, cut packings optimal, metrics by hand."""

import math

import numpy as np
import pytest

from packzoo.envs import Instance, Packing, Placement, checksum, cube_set_solutions, instance_set, known_optimum, validate
from packzoo.envs import bins_lower_bound, set_names
from packzoo.envs import literature as L

# If these change, every literature table changes: never edit them lightly.
PINNED = {
    "rr-n10": "d74342afce437ae3",
    "rr-n20": "dae257ab987ba898",
    "rr-n30": "8e2cc9181301fc0d",
    "rr-n50": "7637e599d76873f5",
    "jiang-n20": "c939add21fb9e9e9",
    "jiang-n30": "96912380c630102b",
    "jiang-n50": "fa6e3515416bbd83",
    "jiang-n100": "b191eb5cff64627d",
    "mpv-c1-n50": "874a638d6fb60967",
    "mpv-c2-n50": "e361ee1fb4682428",
    "mpv-c3-n50": "6b3cbb0b80570861",
    "mpv-c4-n50": "e2d9e86254a738d7",
    "mpv-c5-n50": "33d7592512989c68",
    "mpv-c6-n50": "e4badf05625aef3f",
    "mpv-c7-n50": "eee43112ce128720",
    "mpv-c8-n50": "7190588a4a658c0c",
    "mpv-c9-n50": "e48591d1da25d7b6",
    "zhao-rs": "7eab8386016df841",
    "zhao-cut1": "f2dbe3d52281c4eb",
    "zhao-cut2": "87ae86963f98b191",
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_sets_are_seeded_and_pinned(name):
    a = instance_set(name, 10)
    assert checksum(a) == PINNED[name]
    assert instance_set(name, 4) == a[:4]  # a smaller count is a prefix


def test_every_literature_name_draws_and_others_are_refused():
    assert len(L.SET_NAMES) == 4 + 4 + 36 + 3
    for name in L.SET_NAMES:
        assert instance_set(name, 1)[0].n >= 1
    listed = " ".join(set_names())
    assert "rr-n10" in listed and "zhao-rs" in listed and "mpv-c1" in listed
    for bad in ["rr-n11", "jiang-n40", "mpv-c10-n50", "mpv-c1-n60", "mpv-c1", "zhao-cut3", "zhao-rs-n10"]:
        with pytest.raises(ValueError, match="unknown instance set"):
            instance_set(bad, 1)
    with pytest.raises(ValueError, match="count"):
        instance_set("rr-n10", 0)


def test_known_optima():
    assert [known_optimum(f"rr-n{n}") for n in L.RR_SIZES] == [600.0] * 4
    assert known_optimum("mpv-c9-n150") == 3.0 and known_optimum("mpv-c4-n50") is None
    assert known_optimum("zhao-cut1") == known_optimum("zhao-cut2") == 1000.0
    assert known_optimum("zhao-rs") is None and known_optimum("jiang-n20") is None
    with pytest.raises(ValueError, match="not a cut set"):
        cube_set_solutions("jiang-n20", 1)


# --- ranges and the cut packings -------------------------------------------------------------


@pytest.mark.parametrize("n", L.RR_SIZES)
def test_rr_instances_are_cube_cuts_with_optimal_packings(n):
    name = f"rr-n{n}"
    insts = instance_set(name, 20)
    for inst, pk in zip(insts, cube_set_solutions(name, 20)):
        assert inst.mode == "free" and inst.n == n
        assert inst.dims.min() >= 1 and inst.dims.max() <= 10  # Attend2Pack Table 4: edges in [1..10]
        assert inst.volume == 1000
        assert pk.instance == inst and validate(pk) == []
        assert pk.bin == (10, 10, 10) and pk.surface_area == 600 and L.rr_ratio(pk) == 1.0


def test_rr_cut_refuses_what_cannot_be_cut_and_favours_cuts_near_the_ends():
    with pytest.raises(ValueError, match="cannot cut"):
        L.rr_cut(9, side=2)
    with pytest.raises(ValueError, match="cannot cut"):
        L.rr_cut(3, side=4, min_edge=2)  # 4 = 2M: the only allowed point is the centre, weight 0
    # A 2-cut along a 10-edge: weight |2j - 10| over j = 1..9 (total 40) puts 8/40 on each of j = 1, 9,
    # 2/40 on each of j = 4, 6 and none on j = 5 (the end points j = 0, 10 are refused).
    firsts = []
    for k in range(400):
        inst, pk = L.rr_cut(2, seed=k)
        firsts.append(min(int(pk.boxes[:, 3:].min(axis=0).min()), 10))
    counts = np.bincount(firsts, minlength=6)
    assert counts[5] == 0 and counts[1] > counts[4] > 0


@pytest.mark.parametrize("n", L.JIANG_SIZES)
def test_jiang_ranges(n):
    for inst in instance_set(f"jiang-n{n}", 20):
        assert inst.mode == "base" and inst.container == (100, 100) and inst.n == n
        assert inst.dims.min() >= 20 and inst.dims.max() <= 80
        assert inst.orientations is None  # all 6 orientations
    big = L.jiang_random(1000, seed=1).dims
    assert big.min() == 20 and big.max() == 80  # both ends are reached


def _types_of(d, B):
    """The MPV types 1-5 (bin edge B) whose ranges hold item d."""
    return [t for t in range(1, 6) if all(lo <= v <= hi for v, (lo, hi) in zip(d, L._mpv_ranges(t, B)))]


def test_mpv_type_ranges_by_hand():
    assert L._mpv_ranges(1, 100) == ((1, 50), (66, 100), (66, 100))
    assert L._mpv_ranges(2, 100) == ((66, 100), (1, 50), (66, 100))
    assert L._mpv_ranges(3, 100) == ((66, 100), (66, 100), (1, 50))
    assert L._mpv_ranges(4, 100) == ((50, 100),) * 3
    assert L._mpv_ranges(5, 100) == ((1, 50),) * 3


@pytest.mark.parametrize("cls", [1, 2, 3, 4, 5])
def test_mpv_classes_1_to_5_mix_the_types_60_10_10_10_10(cls):
    insts = [L.mpv_class(cls, 1000, seed=k) for k in range(3)]
    for inst in insts:
        assert inst.mode == "bins" and inst.container == (100, 100, 100)
        assert all(o == (0,) for o in inst.orientations)  # fixed orientation, as in the paper
    types = [_types_of(d, 100) for inst in insts for d in inst.dims.tolist()]
    assert all(types)  # every item is of some type
    own = np.mean([cls in t for t in types])
    # 60 % drawn as the class's type, plus items of other types that also fit its ranges.
    assert 0.58 <= own <= 0.70
    if cls in (1, 2, 3):
        # Types 1-3 exclude each other: the two other ones get about 10 % each.
        for t in {1, 2, 3} - {cls}:
            assert 0.08 <= np.mean([t in ts for ts in types]) <= 0.12


@pytest.mark.parametrize("cls, bin_edge, edge", [(6, 10, 10), (7, 40, 35), (8, 100, 100)])
def test_mpv_classes_6_to_8(cls, bin_edge, edge):
    insts = instance_set(f"mpv-c{cls}-n100", 5)
    dims = np.concatenate([i.dims for i in insts])
    assert all(i.container == (bin_edge,) * 3 and i.mode == "bins" for i in insts)
    assert dims.min() == 1 and dims.max() == edge


@pytest.mark.parametrize("n", L.MPV_SIZES)
def test_mpv_class9_is_three_bins_cut(n):
    name = f"mpv-c9-n{n}"
    insts = instance_set(name, 3)
    for inst, pk in zip(insts, cube_set_solutions(name, 3)):
        assert inst.n == n and inst.volume == 3 * 100**3 and inst.container == (100, 100, 100)
        assert pk.instance == inst and validate(pk) == []
        assert pk.bins_used == 3 == bins_lower_bound(inst) and L.bins_vs_bound(pk) == (3, 3)
        # MPV's groups: n/3 + 1, n/3 and the rest items per bin.
        per_bin = np.bincount([p.bin for p in pk.placements])
        third = n // 3
        assert per_bin.tolist() == [third + 1, third, n - 2 * third - 1]


def test_mpv_class9_pinwheel_of_five():
    # Five items per bin: every bin is the pinwheel, so the items are its five pieces.
    inst, pk = L.mpv_class9(14, seed=3)  # groups 5, 4, 5
    assert validate(pk) == []
    b0 = sorted(tuple(map(int, b[3:])) for b, p in zip(pk.boxes, pk.placements) if p.bin == 0)
    assert b0 == sorted([(34, 34, 100), (67, 33, 100), (33, 67, 100), (67, 33, 100), (33, 67, 100)])
    with pytest.raises(ValueError, match="at least 4"):
        L.mpv_class9(3)
    with pytest.raises(ValueError, match="1..8"):
        L.mpv_class(9, 10)


def test_zhao_rs_ranges():
    types = set(L.zhao_types())
    assert len(types) == 64
    for inst in instance_set("zhao-rs", 30):
        assert inst.mode == "container" and inst.container == (10, 10, 10) and inst.support == L.ZHAO_SUPPORT
        assert {tuple(d) for d in inst.dims.tolist()} <= types
        vols = inst.dims.prod(axis=1)
        # Drawn until the total reaches the container's volume (Zhao et al. Sec. 4), not beyond.
        assert vols.sum() >= 1000 and vols[:-1].sum() < 1000
        assert all(o == (0,) for o in inst.orientations)


@pytest.mark.parametrize("kind", ["cut1", "cut2"])
def test_zhao_cut_sequences_fill_the_container_in_their_order(kind):
    name = f"zhao-{kind}"
    types = set(L.zhao_types())
    for inst, pk in zip(instance_set(name, 30), cube_set_solutions(name, 30)):
        assert pk.instance == inst and validate(pk) == []  # the support rule included
        assert {tuple(d) for d in inst.dims.tolist()} <= types
        assert pk.packed_volume == 1000 and L.zhao_measures(pk) == (inst.n, 1.0)
        assert [p.item for p in pk.placements] == list(range(inst.n))  # packed in arrival order
        z = pk.boxes[:, 2]
        if kind == "cut1":
            assert (np.diff(z) >= 0).all()  # bottom to top
        # Either order stacks: every item lands on the floor or on a level top of earlier items.
        height = np.zeros((10, 10), dtype=int)
        for x, y, zz, dx, dy, dz in pk.boxes.tolist():
            assert (height[x:x + dx, y:y + dy] == zz).all()
            height[x:x + dx, y:y + dy] = zz + dz
    # CUT-2 is not CUT-1: some sequence leaves the z order.
    assert any((np.diff(pk.boxes[:, 2]) < 0).any() for pk in cube_set_solutions("zhao-cut2", 30))
    with pytest.raises(ValueError, match="kind"):
        L.zhao_cut("cut3")


# --- metrics by hand ----------------------------------------------------------------------------


def test_rr_ratio_by_hand():
    two = Instance([[1, 1, 1], [1, 1, 1]])
    pk = Packing(two, (Placement(0, 0, 0, 0, 0), Placement(1, 0, 1, 0, 0)))
    # V = 2, bin 2 x 1 x 1: LW + WH + HL = 2 + 1 + 2 = 5.
    assert L.rr_ratio(pk) == pytest.approx(3 * 2 ** (2 / 3) / 5, rel=1e-12)
    cube = Packing(Instance([[2, 2, 2]]), (Placement(0, 0, 0, 0, 0),))
    assert L.rr_ratio(cube) == pytest.approx(1.0)  # 3 * 8^(2/3) / 12
    gap = Packing(two, (Placement(0, 0, 0, 0, 0), Placement(1, 0, 2, 0, 0)))  # bin 3 x 1 x 1
    assert L.rr_ratio(gap) == pytest.approx(3 * 2 ** (2 / 3) / 7)
    assert L.set_metric("rr-n10", pk) == L.rr_ratio(pk)
    with pytest.raises(ValueError, match="free"):
        L.rr_ratio(Packing(Instance([[1, 1, 1]], mode="base", container=(2, 2)), (Placement(0, 0, 0, 0, 0),)))


def test_base_utilisation_by_hand():
    inst = Instance([[4, 4, 1], [2, 2, 2]], mode="base", container=(4, 4))
    pk = Packing(inst, (Placement(0, 0, 0, 0, 0), Placement(1, 0, 0, 0, 1)))
    assert validate(pk) == []
    assert L.base_utilisation(pk) == pytest.approx(24 / 48)  # (16 + 8) / (4 * 4 * 3)
    assert L.set_metric("jiang-n20", pk) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="base"):
        L.base_utilisation(Packing(Instance([[1, 1, 1]]), (Placement(0, 0, 0, 0, 0),)))


def test_bins_and_zhao_measures_by_hand():
    inst = Instance([[6, 6, 6], [6, 6, 6], [2, 2, 2]], mode="bins", container=(10, 10, 10),
                    orientations=["fixed"] * 3)
    pk = Packing(inst, (Placement(0, 0, 0, 0, 0, 0), Placement(1, 0, 0, 0, 0, 1), Placement(2, 0, 6, 0, 0, 0)))
    assert validate(pk) == []
    # Two 6-cubes cannot share a 10-bin: L1 says 2 (the volume bound says 1).
    assert L.bins_vs_bound(pk) == (2, 2) and L.set_metric("mpv-c6-n50", pk) == 2.0
    box = Instance([[5, 5, 5], [5, 5, 5], [5, 5, 4]], mode="container", container=(10, 10, 10))
    half = Packing(box, (Placement(0, 0, 0, 0, 0), Placement(1, 0, 5, 0, 0)))
    assert L.zhao_measures(half) == (2, 0.25) and L.set_metric("zhao-rs", half) == 0.25
    with pytest.raises(ValueError, match="container"):
        L.zhao_measures(pk)
    with pytest.raises(ValueError, match="not a literature set"):
        L.set_metric("uniform-n8", pk)


def test_published_figures_are_where_the_issue_puts_them():
    assert L.PUBLISHED["rr-n10"] == {"Ranked Reward": 0.903, "Attend2Pack": 0.953}
    assert [L.PUBLISHED[f"rr-n{n}"]["Attend2Pack"] for n in L.RR_SIZES] == [0.953, 0.911, 0.904, 0.926]
    assert [L.PUBLISHED[f"jiang-n{n}"]["Attend2Pack"] for n in L.JIANG_SIZES] == [0.767, 0.797, 0.831, 0.870]
    assert [L.PUBLISHED[f"zhao-{k}"]["OnlineBPH"] for k in L.ZHAO_KINDS] == [0.354, 0.519, 0.492]
    # Every published set is a set, and the r_u column is consistent with r_RR (r_RR <= r_u^(2/3)).
    assert set(L.PUBLISHED) <= set(L.SET_NAMES)
    for name, ru in L.RR_ATTEND2PACK_UTILISATION.items():
        assert L.PUBLISHED[name]["Attend2Pack"] <= ru ** (2 / 3) + 1e-9
    assert math.isclose(sum(L.PUBLISHED_ITEMS["zhao-cut1"].values()), 10.8 + 13.5 + 14.9 + 19.1)
