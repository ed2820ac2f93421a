"""A user's own boxes: instance files (JSON, CSV, folders), packing files, `packzoo solve`, and
leaderboards on files."""

from __future__ import annotations

import json

import pytest

from packzoo.envs import Instance, InstanceError, Packing, PackingError, read_instance, read_instances, validate


def test_csv_with_names_and_quantities(tmp_path):
    f = tmp_path / "order.csv"
    f.write_text("Name,Length,Width,Height,Qty\nbook,30,20,5,2\n\nlamp, 40 ,40,60,1\n")
    inst = read_instance(f)
    assert inst.dims.tolist() == [[30, 20, 5], [30, 20, 5], [40, 40, 60]]
    assert inst.names == ("book#1", "book#2", "lamp")
    g = tmp_path / "plain.csv"
    g.write_text("h,w,l\n1,2,3\n")
    assert read_instance(g).dims.tolist() == [[3, 2, 1]] and read_instance(g).names is None


@pytest.mark.parametrize("text, message", [
    ("", "empty file"),
    ("l,w\n1,2\n", r"missing columns \['h'\]"),
    ("l,w,h,colour\n1,2,3,red\n", "line 1: unknown column 'colour'"),
    ("l,w,h\n1,2,3\n4,5\n", "line 3: 2 fields"),
    ("l,w,h\n1,2,x\n", "line 2: dimensions and quantity must be integers"),
    ("l,w,h,qty\n1,2,3,0\n", "line 2: quantity must be in"),
    ("l,w,h\n1,2,0\n", "positive"),
    ("l,w,h\n", "no items"),
])
def test_bad_csv_names_the_line(tmp_path, text, message):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(InstanceError, match=message):
        read_instance(f)


def test_json_files_folders_and_unknown_types(tmp_path):
    Instance([[1, 2, 3], [2, 2, 2]]).save(tmp_path / "b.json")
    (tmp_path / "a.csv").write_text("l,w,h\n5,5,5\n")
    (tmp_path / "notes.txt").write_text("ignored")
    insts, files = read_instances(tmp_path)
    assert [f.name for f in files] == ["a.csv", "b.json"] and [i.n for i in insts] == [1, 2]
    with pytest.raises(InstanceError, match="unknown file type '.txt'"):
        read_instance(tmp_path / "notes.txt")
    with pytest.raises(InstanceError, match="no such file"):
        read_instance(tmp_path / "missing.json")
    (tmp_path / "c.json").write_text("{oops")
    with pytest.raises(InstanceError, match=r"c\.json: not valid JSON"):
        read_instance(tmp_path / "c.json")


def test_packing_files_round_trip(tmp_path, cube8):
    inst, optimal = cube8
    optimal.save(tmp_path / "p.json", solver="cube_cut")
    again = Packing.load(tmp_path / "p.json")
    assert again.to_dict() == optimal.to_dict() and validate(again) == []
    d = json.loads((tmp_path / "p.json").read_text())
    assert d["surface_area"] == optimal.surface_area and d["solver"] == "cube_cut"
    (tmp_path / "q.json").write_text('{"instance": {"dims": [[1,1,1]]}}')
    with pytest.raises(PackingError, match="not a packing file"):
        Packing.load(tmp_path / "q.json")


def test_packzoo_solve_writes_a_validated_packing_and_its_view(tmp_path, capsys):
    from packzoo.cli import main

    f = tmp_path / "order.csv"
    f.write_text("name,l,w,h,quantity\nbook,30,20,5,4\nlamp,40,40,60,1\nmug,12,12,10,6\n")
    assert main(["solve", str(f), "--solver", "sort-volume", "--out", str(tmp_path / "p.json"),
                 "--html", str(tmp_path / "p.html")]) == 0
    p = Packing.load(tmp_path / "p.json")
    assert p.instance.n == 11 and validate(p) == []
    assert "surface" in capsys.readouterr().out and (tmp_path / "p.html").read_text().count("<script") >= 1
    assert main(["solve", str(f), "--solver", "sort-volume", "--out", str(tmp_path)]) == 2  # a folder
    assert main(["solve", str(tmp_path / "none.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_leaderboard_on_a_folder_of_files(tmp_path):
    from packzoo.solvers.leaderboard import run_leaderboard

    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "a.csv").write_text("l,w,h,qty\n30,20,5,3\n12,12,10,2\n")
    Instance([[3, 4, 5], [5, 4, 3], [2, 2, 2]]).save(folder / "b.json")
    board = run_leaderboard(str(folder), 10, "sort-volume,local-search", 2.0, tmp_path / "lb", progress=False)
    assert board["instances"] == 2 and len(board["files"]) == 2 and board["instance_dims"][1] == [[3, 4, 5], [5, 4, 3], [2, 2, 2]]
    assert all(r["valid"] for r in board["results"])
    again = run_leaderboard(str(folder), 10, "sort-volume,local-search", 2.0, tmp_path / "lb", progress=False)
    assert again["reused"] == 4
    (folder / "a.csv").write_text("l,w,h,qty\n30,20,5,3\n12,12,10,3\n")  # an edited file: nothing reused
    assert run_leaderboard(str(folder), 10, "sort-volume,local-search", 2.0, tmp_path / "lb", progress=False)["reused"] == 0
