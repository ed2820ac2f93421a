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
