import numpy as np
import pytest

from packzoo.envs import Instance, Packing, PackingError, Placement, cube_cut, lower_bound, surface_area, validate


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


def test_tuples_become_placements(tiny):
    # On main the tuples were kept as they were, and validate() failed on them with AttributeError.
    rows = [(0, 0, 0, 0, 0), [1, 2, 0, 1, 0], np.array([2, 0, 0, 0, 1]), Placement(3, 0, 2, 0, 0)]
    p = Packing(tiny, rows)
    assert all(isinstance(q, Placement) for q in p.placements)
    assert p.placements[1] == Placement(1, 2, 0, 1, 0)
    assert validate(p) == [] and p.surface_area == 32 and p.bin == (3, 2, 2)
    # values are kept as given, so validate still referees them
    assert validate(Packing(tiny, [(0, 0, 0.5, 0, 0)] + rows[1:]))[0].startswith("placement 0: item 0 has non-integer x")


@pytest.mark.parametrize(
    "placements, words",
    [
        ([(0, 0, 0, 0)], "placement 0: expected a Placement or"),
        ([Placement(0, 0, 0, 0, 0), "01234"], "placement 1: expected"),
        (5, "placements must be a sequence"),
        (Placement(0, 0, 0, 0, 0), "placements must be a sequence"),
    ],
)
def test_bad_placements_rejected_at_construction(tiny, placements, words):
    with pytest.raises(PackingError, match=words):
        Packing(tiny, placements)
    assert issubclass(PackingError, ValueError)


def test_measuring_a_boxless_placement_names_it(tiny):
    p = Packing(tiny, [(0, 0, 0, 0, 0), (1, 9, 2, 0, 0)])
    assert validate(p) == ["placement 1: item 1 has bad orientation 9 (0..5)", "items never placed: [2, 3]"]
    with pytest.raises(PackingError, match=r"placement 1: item 1 has bad orientation 9 \(0..5\)"):
        p.surface_area
    with pytest.raises(PackingError, match="placement 0: item -1 is not an item"):
        Packing(tiny, [(-1, 0, 0, 0, 0)]).bin  # numpy would have wrapped -1 round to item 3
    with pytest.raises(PackingError, match="instance must be an Instance"):
        Packing([[1, 1, 1]], [])
