import math

import numpy as np
import pytest

from packzoo.envs import Instance, InstanceError


def test_builds_from_list_and_array():
    a = Instance([[1, 2, 3], [4, 5, 6]])
    b = Instance(np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int32))
    assert a == b and a.n == 2 and a.volume == 6 + 120
    assert a.dims.dtype == np.int64
    with pytest.raises(ValueError):
        a.dims[0, 0] = 9  # frozen


def test_float_integers_accepted():
    assert Instance([[1.0, 2.0, 3.0]]).dims.tolist() == [[1, 2, 3]]


@pytest.mark.parametrize(
    "dims, words",
    [
        ([], "at least one item"),
        ([[1, 2]], "item 0: expected 3"),
        ([[1, 2, 3], [1, 2, 3, 4]], "item 1: expected 3"),
        ([[1, 2, 0]], "item 0 dim 2: must be positive"),
        ([[1, -2, 3]], "item 0 dim 1: must be positive"),
        ([[1, 2.5, 3]], "item 0 dim 1: expected an integer"),
        ([[1, math.nan, 3]], "item 0 dim 1"),
        ([[1, 2, math.inf]], "item 0 dim 2"),
        ([[1, "2", 3]], "item 0 dim 1"),
        ([[True, 2, 3]], "item 0 dim 0"),
        (np.ones((2, 4)), "shape"),
        (np.ones(3), "shape"),
        ("abc", "item 0"),
    ],
)
def test_bad_input_names_item_and_problem(dims, words):
    with pytest.raises(InstanceError, match=words):
        Instance(dims)
    assert issubclass(InstanceError, ValueError)


def test_max_items():
    with pytest.raises(InstanceError, match="exceed the maximum of 1000"):
        Instance([[1, 1, 1]] * 1001)
    with pytest.raises(InstanceError, match="maximum of 3"):
        Instance([[1, 1, 1]] * 4, max_items=3)
    assert Instance([[1, 1, 1]] * 1000).n == 1000


def test_names_and_json_roundtrip(tmp_path):
    inst = Instance([[1, 2, 3], [3, 3, 3]], names=["book", "mug"])
    again = Instance.from_json(inst.to_json())
    assert again == inst and again.names == ("book", "mug")
    path = tmp_path / "sub" / "inst.json"
    inst.save(path)
    assert Instance.load(path) == inst
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(InstanceError, match="2 names given for 1 items"):
        Instance([[1, 1, 1]], names=["a", "b"])
    with pytest.raises(InstanceError, match="not valid JSON"):
        Instance.from_json("{")


def test_orientations_in_paper_order():
    inst = Instance([[1, 2, 3], [2, 2, 5], [4, 4, 4]])
    # (l,w,h) (l,h,w) (w,l,h) (w,h,l) (h,l,w) (h,w,l)
    assert [inst.oriented(0, o) for o in range(6)] == [
        (1, 2, 3), (1, 3, 2), (2, 1, 3), (2, 3, 1), (3, 1, 2), (3, 2, 1)
    ]
    assert inst.distinct_orientations(0) == [0, 1, 2, 3, 4, 5]
    assert len(inst.distinct_orientations(1)) == 3
    assert inst.distinct_orientations(2) == [0]


# -- limits (issue 11 item 3): every accepted instance is computed exactly ----------------------

from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from packzoo.envs import BinPack3DEnv, evaluate_orders, lower_bound, validate  # noqa: E402
from packzoo.envs.ep import ep_pack_order  # noqa: E402
from packzoo.envs.instance import MAX_DIM, MAX_EDGE_SUM  # noqa: E402


def test_limits_state_the_int64_reasoning():
    # S^3 must fit int64 (bin volumes) and the limits must let a real-world case through.
    assert MAX_EDGE_SUM**3 < 2**63 <= (MAX_EDGE_SUM + 1) ** 3
    assert 6 * MAX_EDGE_SUM**2 < 2**53  # surfaces exact in float64 too
    assert MAX_DIM <= MAX_EDGE_SUM and Instance([[2000, 2000, 2000]] * 1000).volume == 8 * 10**12


def test_issue_example_is_rejected_naming_the_limit():
    # On main this was accepted with a negative volume, and lower_bound raised TypeError (complex).
    with pytest.raises(InstanceError, match=r"longest edges sum to 10000000, more than the supported 2097151"):
        Instance([[10**6] * 3] * 10)


def test_edge_sum_at_and_just_beyond_the_limit():
    rods = [[MAX_DIM, 1, 1], [MAX_DIM, 1, 1]]
    rest = MAX_EDGE_SUM - 2 * MAX_DIM
    at = Instance(rods + [[1, rest, 1]])
    assert int(at.dims.max(axis=1).sum()) == MAX_EDGE_SUM
    with pytest.raises(InstanceError, match="2097152, more than the supported 2097151"):
        Instance(rods + [[1, rest + 1, 1]])
    with pytest.raises(ValueError, match="2097152, more than the supported"):
        evaluate_orders(np.array(rods + [[1, rest + 1, 1]]), [[0, 1, 2]])  # raw arrays bypass Instance
    _packs_exactly(at)


def test_largest_volumes_are_exact():
    # Two near-maximal cubes: total volume ~2e18, beyond 2**53 but inside int64.
    inst = Instance([[MAX_DIM] * 3, [MAX_DIM - 1, MAX_DIM, 7]])
    assert inst.volume == MAX_DIM**3 + (MAX_DIM - 1) * MAX_DIM * 7
    _packs_exactly(inst)


def test_dim_just_beyond_the_per_edge_limit():
    Instance([[MAX_DIM, 1, 1]])
    with pytest.raises(InstanceError, match="item 0 dim 0: 1000001 exceeds the largest supported dimension"):
        Instance([[MAX_DIM + 1, 1, 1]])


def _packs_exactly(inst):
    """A positive finite lower bound; the env, the batched evaluator and extreme points all pack
    ``inst`` validly, with the surface the packing itself gives (no overflow anywhere)."""
    lb = lower_bound(inst)
    assert np.isfinite(lb) and lb > 0
    env = BinPack3DEnv(n_items=inst.n)
    env.reset(options={"instance": inst})
    for item in range(inst.n):
        _, reward, *_ = env.step(item)
        assert np.isfinite(reward)
    p = env.packing
    assert validate(p) == [] and p.surface_area >= lb * (1 - 1e-12) and 0 < p.utilisation <= 1
    order = np.arange(inst.n)[None, :]
    surf, rows = evaluate_orders(inst.dims, order, return_placements=True)
    assert int(surf[0]) == p.surface_area and [list(r) for r in rows[0].tolist()] == [q.to_list() for q in p.placements]
    out = np.zeros((inst.n, 5), dtype=np.int64)
    s = ep_pack_order(inst.dims, order[0], out)
    from packzoo.envs import Packing

    ep = Packing(inst, out.tolist())
    assert validate(ep) == [] and int(s) == ep.surface_area > 0


_dim = st.one_of(st.integers(1, 50), st.integers(MAX_DIM // 2, MAX_DIM), st.integers(1, MAX_DIM))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.lists(st.tuples(_dim, _dim, _dim), min_size=1, max_size=5))
def test_accepted_iff_within_the_limits_and_then_packed_exactly(dims):
    within = sum(max(d) for d in dims) <= MAX_EDGE_SUM
    event("accepted" if within else "rejected")
    if not within:
        with pytest.raises(InstanceError, match="longest edges sum to"):
            Instance(dims)
        return
    inst = Instance(dims)
    assert inst.volume == sum(a * b * c for a, b, c in dims)  # exact, Python ints as the oracle
    _packs_exactly(inst)


def test_names_must_be_a_sequence():
    # On main: a raw TypeError (len() of an int) for 5, and "abc" became three names.
    with pytest.raises(InstanceError, match="names must be a list or tuple of 1 names"):
        Instance([[1, 1, 1]], names=5)
    with pytest.raises(InstanceError, match="names must be a list or tuple of 3 names"):
        Instance([[1, 1, 1]] * 3, names="abc")
    assert Instance([[1, 1, 1]] * 2, names=("a", 7)).names == ("a", "7")
