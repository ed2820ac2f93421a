import pytest

from packzoo.envs import Instance, Packing, Placement, cube_cut, lower_bound, surface_area, validate


def _overlapping_packing(tiny):
    return Packing(
        tiny,
        (
            Placement(0, 0, 0, 0, 0),
            Placement(1, 2, 0, 1, 0),
            Placement(2, 0, 0, 0, 1),
            Placement(3, 0, 0, 0, 0),  # on top of item 0
        ),
    )


def test_valid_packing(tiny):
    p = Packing(
        tiny,
        (
            Placement(0, 0, 0, 0, 0),
            Placement(1, 2, 0, 1, 0),
            Placement(2, 0, 0, 0, 1),
            Placement(3, 4, 0, 0, 2),  # (h,l,w) = (2,1,1) on top: bin (2,2,3)
        ),
    )
    assert validate(p) == []
    assert p.bin == (2, 2, 3)
    assert p.surface_area == surface_area((2, 2, 3)) == 2 * (4 + 6 + 6)
    assert p.utilisation == pytest.approx((2 + 2 + 4 + 2) / 12)
    assert p.is_complete() and p.order == [0, 1, 2, 3]
    assert Packing.from_dict(p.to_dict()).boxes.tolist() == p.boxes.tolist()


def test_overlap_detected(tiny):
    errors = validate(_overlapping_packing(tiny))
    assert errors == ["items 0 and 3 overlap", "items 2 and 3 overlap"]


def test_touching_is_not_overlap():
    inst = Instance([[1, 1, 1], [1, 1, 1]])
    assert validate(Packing(inst, (Placement(0, 0, 0, 0, 0), Placement(1, 0, 1, 0, 0)))) == []
    assert validate(Packing(inst, (Placement(0, 0, 0, 0, 0), Placement(1, 0, 0, 0, 0)))) == ["items 0 and 1 overlap"]


def test_missing_item():
    inst = Instance([[1, 1, 1], [1, 1, 1]])
    assert validate(Packing(inst, (Placement(0, 0, 0, 0, 0),))) == ["items never placed: [1]"]


def test_repeated_item():
    inst = Instance([[1, 1, 1], [1, 1, 1]])
    errs = validate(Packing(inst, (Placement(0, 0, 0, 0, 0), Placement(1, 0, 1, 0, 0), Placement(0, 0, 5, 0, 0))))
    assert errs == ["placement 2: item 0 is repeated (first placed at 0)"]


def test_bad_orientation_and_item_index():
    inst = Instance([[1, 1, 1]])
    assert "bad orientation 6" in validate(Packing(inst, (Placement(0, 6, 0, 0, 0),)))[0]
    errs = validate(Packing(inst, (Placement(0, 0, 0, 0, 0), Placement(3, 0, 2, 0, 0))))
    assert errs == ["placement 1: item 3 is not an item of this 1-item instance"]


def test_negative_and_non_integer_corner():
    inst = Instance([[1, 1, 1]])
    assert validate(Packing(inst, (Placement(0, 0, 0, -1, 0),))) == ["placement 0: item 0 has negative corner y=-1"]
    assert "non-integer z=0.5" in validate(Packing(inst, (Placement(0, 0, 0, 0, 0.5),)))[0]


def test_orientation_changes_the_box():
    inst = Instance([[3, 1, 1], [1, 1, 1]])
    # Item 0 lying along z (orientation 4: (h,l,w) = (1,3,1)) would overlap the cube at (0,2,0).
    assert validate(Packing(inst, (Placement(0, 0, 0, 0, 0), Placement(1, 0, 0, 2, 0)))) == []
    assert validate(Packing(inst, (Placement(0, 4, 0, 0, 0), Placement(1, 0, 0, 2, 0)))) == ["items 0 and 1 overlap"]


def test_cube_cut_is_optimal_and_matches_bound():
    for n, side, seed in [(1, 5, 0), (8, 20, 1), (20, 30, 2), (50, 100, 3)]:
        inst, opt = cube_cut(n, side=side, seed=seed)
        assert inst.n == n and validate(opt) == []
        assert opt.bin == (side, side, side)
        assert opt.surface_area == 6 * side * side
        assert lower_bound(inst) == 6 * side * side
        assert opt.utilisation == 1.0


def test_lower_bound_single_item_is_exact():
    for dims in ([4, 2, 1], [7, 7, 1], [3, 3, 3], [10, 1, 1]):
        inst = Instance([dims])
        l, w, h = dims
        assert lower_bound(inst) == pytest.approx(2 * (l * w + l * h + w * h))


def test_lower_bound_tighter_than_cube_for_long_items():
    inst = Instance([[100, 1, 1], [100, 1, 1]])
    assert lower_bound(inst) > 6 * inst.volume ** (2 / 3)
    assert lower_bound(inst) <= surface_area((100, 2, 1))
