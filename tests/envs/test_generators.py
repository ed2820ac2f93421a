import numpy as np
import pytest

from packzoo.envs import Stream, checksum, cube_cut, cube_set_solutions, instance_set, known_optimum, orders, uniform, validate


def test_uniform_range_and_seed():
    a = uniform(50, low=10, high=50, seed=1)
    assert a.n == 50 and a.dims.min() >= 10 and a.dims.max() <= 50
    assert a == uniform(50, seed=1) and a != uniform(50, seed=2)
    # Both ends of the range are reached.
    big = uniform(500, low=1, high=3, seed=0)
    assert set(np.unique(big.dims)) == {1, 2, 3}


def test_orders_shape_like_parcels():
    inst = orders(1000, seed=3)
    s = np.sort(inst.dims, axis=1)[:, ::-1]
    assert s[:, 0].max() <= 60 and s.min() >= 1
    # Flat: the smallest side is on average well under half the longest.
    assert (s[:, 2] / s[:, 0]).mean() < 0.45
    # Random axis order: the longest side is not always listed first.
    assert 0.1 < (inst.dims.argmax(axis=1) == 0).mean() < 0.6


def test_stream_is_explicit_arithmetic():
    s = Stream(0)
    raw = np.random.PCG64(np.random.SeedSequence([0])).random_raw(3).astype(np.uint64)
    assert s.integers(0, 9, 3).tolist() == (raw % np.uint64(10)).astype(int).tolist()
    p = Stream(5).permutation(10)
    assert sorted(p.tolist()) == list(range(10))


def test_named_sets_checksums_are_pinned():
    # If these change, every published leaderboard number changes: never edit them lightly.
    assert checksum(instance_set("uniform-n8", 50)) == PINNED["uniform-n8"]
    assert checksum(instance_set("orders-n10", 50)) == PINNED["orders-n10"]
    assert checksum(instance_set("cube-n20", 5)) == PINNED["cube-n20"]


def test_named_sets_prefix_and_distinct():
    a = instance_set("uniform-n10", 5)
    b = instance_set("uniform-n10", 8)
    assert a == b[:5] and all(i.n == 10 for i in b)
    assert instance_set("uniform-n8", 1)[0] != instance_set("orders-n8", 1)[0]


def test_cube_sets_know_their_optimum():
    assert known_optimum("cube-n10") == 60000.0 and known_optimum("uniform-n8") is None
    for inst, sol in zip(instance_set("cube-n10", 3), cube_set_solutions("cube-n10", 3)):
        assert sol.instance == inst and validate(sol) == [] and sol.surface_area == 60000


@pytest.mark.parametrize("name", ["uniform-n9", "cube-n7", "cube-n51", "foo", "orders-n", 3])
def test_unknown_set(name):
    with pytest.raises(ValueError, match="unknown instance set"):
        instance_set(name, 1)


@pytest.mark.parametrize("count", [0, 1001, 2.5, -1])
def test_bad_count(count):
    with pytest.raises(ValueError, match="count"):
        instance_set("uniform-n8", count)


def test_bad_generator_args():
    with pytest.raises(ValueError, match="n must be a positive integer"):
        uniform(0, seed=1)
    with pytest.raises(ValueError, match="low <= high"):
        uniform(3, low=5, high=4)
    with pytest.raises(ValueError, match="cannot be cut"):
        cube_cut(9, side=2)
    with pytest.raises(ValueError, match="seed"):
        uniform(3, seed=-1)


PINNED = {"uniform-n8": "cb84f026f6771bfa", "orders-n10": "f06f82ede2249826", "cube-n20": "4b7c134f94601374"}


MODE_PINNED = {"container-n20": "9edd09812941d582", "base-n50": "02080d6ba4ed9292", "bins-n30": "55d445d301c9abad"}


@pytest.mark.parametrize("name", sorted(MODE_PINNED))
def test_mode_sets_are_pinned_and_their_cut_packings_are_optimal(name):
    insts = instance_set(name, 20)
    assert checksum(insts) == MODE_PINNED[name]
    opt = known_optimum(name)
    for inst, pk in zip(insts, cube_set_solutions(name, 20)):
        assert pk.instance == inst and validate(pk) == [] and pk.objective == opt and pk.ratio == 1.0
        assert inst.dims.min() >= 10  # the sets' minimum edge
