"""The EMS engine and LSA: hand-worked cases and an independent pure-Python reference."""

import numpy as np
import pytest

from packzoo.envs import EMSState, Instance, Packing, Placement, evaluate_orders, orders, uniform, validate
from packzoo.envs.instance import ORIENTATIONS


def test_two_unit_cubes_side_by_side():
    st = EMSState(np.array([[1, 1, 1], [1, 1, 1]]))
    assert st.place_lsa(0) == (0, 0, 0, 0, 0)
    # Every neighbouring slot gives surface 10 with equal slack: the first EMS (beyond x) wins.
    assert st.place_lsa(1) == (1, 0, 1, 0, 0)
    assert st.surface_area == 10


def test_single_item_keeps_its_listed_orientation():
    st = EMSState(np.array([[4, 2, 1]]))
    assert st.place_lsa(0) == (0, 0, 0, 0, 0)
    assert tuple(st.bin) == (4, 2, 1)


def test_two_bars_stack_not_chain():
    # (2,1,1) twice: side by side along y or z gives 16; end to end along x gives 18.
    st = EMSState(np.array([[2, 1, 1], [2, 1, 1]]))
    st.place_lsa(0)
    assert st.place_lsa(1) == (1, 0, 0, 1, 0)
    assert st.surface_area == 16


def test_lsa_fills_a_hole_when_it_saves_surface():
    # A 2x2x1 slab and a 1x2x1 bar: then a 1x2x1 bar fits beside... build an L and fill it.
    inst = Instance([[2, 2, 1], [1, 2, 1], [1, 2, 1], [2, 2, 1]])
    st = EMSState(inst.dims)
    st.place(0, 0, 0)  # slab at the origin, z in [0, 1)
    st.place(1, 0, st.spaces.tolist().index(_find(st, (0, 0, 1))))  # bar on top, x in [0, 1)
    # The 1x2x1 bar goes into the hole at (1, 0, 1): the bin stays 2x2x2, surface 24.
    assert st.place_lsa(2) == (2, 0, 1, 0, 1)
    assert st.surface_area == 24


def _find(st, corner):
    for row in st.spaces.tolist():
        if tuple(row[:3]) == corner:
            return row
    raise AssertionError(f"no EMS at {corner}: {st.spaces.tolist()}")


def test_place_rejects_bad_moves():
    st = EMSState(np.array([[2, 2, 2], [1, 1, 1]]))
    st.place_lsa(0)
    with pytest.raises(ValueError, match="already placed"):
        st.place(0, 0, 0)
    with pytest.raises(ValueError, match="out of range"):
        st.place(1, 0, 99)


# --- an independent, slow reference of Appendix A -------------------------------------------


def _ref_pack(dims, order):
    dims = np.asarray(dims)
    big = int(dims.max(axis=1).sum()) + 1
    ems = [(0, 0, 0, big, big, big)]
    binv = [0, 0, 0]
    rows = []
    remaining = set(order)
    for i in order:
        best = None
        for o in range(6):
            a, b, c = (int(v) for v in dims[i][ORIENTATIONS[o]])
            if any(tuple(dims[i][ORIENTATIONS[p]]) == (a, b, c) for p in range(o)):
                continue
            for e, (x1, y1, z1, x2, y2, z2) in enumerate(ems):
                if a > x2 - x1 or b > y2 - y1 or c > z2 - z1:
                    continue
                L, W, H = max(binv[0], x1 + a), max(binv[1], y1 + b), max(binv[2], z1 + c)
                key = (2 * (L * W + L * H + W * H), min(x2 - x1 - a, y2 - y1 - b, z2 - z1 - c), e, o)
                if best is None or key < best[0]:
                    best = (key, e, o, (a, b, c))
        _, e, o, (a, b, c) = best
        x, y, z = ems[e][:3]
        lo, hi = (x, y, z), (x + a, y + b, z + c)
        remaining.discard(i)
        m = min((int(dims[j].min()) for j in remaining), default=1 << 62)
        new = []
        for s in ems:
            if all(s[k] < hi[k] and lo[k] < s[k + 3] for k in range(3)):
                for k in range(3):
                    if lo[k] > s[k]:
                        new.append(tuple(s[:k + 3]) + (lo[k],) + tuple(s[k + 4:]))
                    if hi[k] < s[k + 3]:
                        new.append(tuple(s[:k]) + (hi[k],) + tuple(s[k + 1:]))
            else:
                new.append(s)
        new = [s for s in new if min(s[3] - s[0], s[4] - s[1], s[5] - s[2]) >= m]
        kept = []
        for j, s in enumerate(new):
            contained = any(
                k != j and all(t[q] <= s[q] for q in range(3)) and all(t[q] >= s[q] for q in range(3, 6))
                and (t != s or k < j)
                for k, t in enumerate(new)
            )
            if not contained:
                kept.append(s)
        ems = kept
        binv = [max(binv[k], hi[k]) for k in range(3)]
        rows.append((i, o, x, y, z))
    return 2 * (binv[0] * binv[1] + binv[0] * binv[2] + binv[1] * binv[2]), rows


@pytest.mark.parametrize("family", ["uniform", "orders", "small"])
def test_engine_matches_reference(family):
    rng = np.random.default_rng({"uniform": 1, "orders": 2, "small": 3}[family])
    for k in range(25):
        n = int(rng.integers(1, 9))
        if family == "uniform":
            inst = uniform(n, seed=k)
        elif family == "orders":
            inst = orders(n, seed=k)
        else:
            inst = uniform(n, low=1, high=3, seed=k)  # many ties
        order = rng.permutation(n)
        s, rows = evaluate_orders(inst.dims, order, return_placements=True)
        ref_s, ref_rows = _ref_pack(inst.dims, order.tolist())
        assert int(s[0]) == ref_s
        assert [tuple(r) for r in rows[0].tolist()] == ref_rows


def test_batched_equals_one_at_a_time():
    rng = np.random.default_rng(7)
    dims = np.stack([uniform(10, seed=i).dims for i in range(40)])
    ords = np.stack([rng.permutation(10) for _ in range(40)])
    surf, rows = evaluate_orders(dims, ords, return_placements=True)
    par = evaluate_orders(dims, ords, parallel=True)
    assert surf.tolist() == par.tolist()
    for b in range(40):
        st = EMSState(dims[b])
        for i in ords[b]:
            st.place_lsa(int(i))
        assert st.surface_area == surf[b]
        assert [tuple(r) for r in rows[b].tolist()] == st.placements
        packing = Packing(Instance(dims[b]), tuple(Placement(*r) for r in st.placements))
        assert validate(packing) == [] and packing.surface_area == surf[b]


def test_partial_orders_pack_only_their_items():
    dims = uniform(6, seed=0).dims
    s_sub = evaluate_orders(dims[:3], [[2, 0, 1]])
    s_pad = evaluate_orders(dims, [[2, 0, 1]])  # items 3..5 are padding
    assert s_sub.tolist() == s_pad.tolist()


@pytest.mark.parametrize(
    "dims, ords, words",
    [
        ([[1, 1, 1]], [[1]], "item indices"),
        ([[1, 1, 1], [1, 1, 1]], [[0, 0]], "repeats"),
        ([[1, 1, 0]], [[0]], "positive"),
        ([[1, 1]], [[0]], "shape"),
        ([[1, 1, 1]], [[0.5]], "integers"),
        ([[[1, 1, 1]], [[1, 1, 1]]], [[0], [0], [0]], "batch sizes"),
    ],
)
def test_evaluate_orders_bad_input(dims, ords, words):
    with pytest.raises(ValueError, match=words):
        evaluate_orders(dims, ords)
