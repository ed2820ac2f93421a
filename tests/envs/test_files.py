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


def test_csv_weights_orientations_and_settings(tmp_path):
    from packzoo.envs import read_instance

    f = tmp_path / "b.csv"
    f.write_text("l,w,h,qty,Weight,rotation\n4,3,2,2,5,upright\n5,5,4,1,12.5,0 5\n2,2,2,1,1,\n")
    inst = read_instance(f, mode="bins", container=(6, 6, 6), max_weight=20, support=None)
    assert inst.mode == "bins" and inst.container == (6, 6, 6) and inst.max_weight == 20
    assert inst.weights == (5.0, 5.0, 12.5, 1.0)
    assert inst.orientations == ((0, 2), (0, 2), (0, 5), (0, 1, 2, 3, 4, 5))
    assert read_instance(f).mode == "free"
    bad = tmp_path / "bad.csv"
    bad.write_text("l,w,h,weight\n1,2,3,heavy\n")
    with pytest.raises(InstanceError, match="line 2: weight must be a number"):
        read_instance(bad)
    bad.write_text("l,w,h,orientations\n1,2,3,sideways\n")
    with pytest.raises(InstanceError, match="line 2: orientations must be"):
        read_instance(bad)
    with pytest.raises(InstanceError, match="fits the bins"):
        read_instance(f, mode="bins", container=(3, 3, 3))
    with pytest.raises(ValueError, match="unknown instance settings"):
        read_instance(f, colour="red")


def test_settings_override_a_json_file(tmp_path):
    from packzoo.envs import Instance, read_instance

    f = tmp_path / "i.json"
    Instance([[1, 2, 3], [2, 2, 2]], mode="container", container=(4, 4, 4)).save(f)
    assert read_instance(f).mode == "container"
    assert read_instance(f, mode="bins").container == (4, 4, 4)
    assert read_instance(f, mode="free").container is None
    assert read_instance(f, mode="base", container=(4, 4)).container == (4, 4)


def test_packzoo_solve_packs_every_mode_from_a_csv(tmp_path, capsys):
    from packzoo.cli import main

    f = tmp_path / "order.csv"
    f.write_text("l,w,h,qty,weight,orientations\n40,30,20,6,5,upright\n50,50,40,2,12.5,all\n20,20,20,8,1,fixed\n")
    out = tmp_path / "p.json"
    assert main(["solve", str(f), "--solver", "ffd-volume", "--mode", "bins", "--container", "60,60,60",
                 "--max-weight", "30", "--out", str(out)]) == 0
    p = Packing.load(out)
    assert p.instance.mode == "bins" and validate(p) == [] and p.bins_used >= 3  # the weight bound: 58 / 30
    assert "bins (ratio to the bound" in capsys.readouterr().out
    assert json.loads(out.read_text())["objective"] == p.bins_used
    assert main(["solve", str(f), "--solver", "dblf-volume", "--mode", "container", "--container", "80,60,50",
                 "--out", str(out)]) == 0
    assert "of 16 items, volume" in capsys.readouterr().out
    # A solver that ignores the constraints is refused with its reason; a bad container is named.
    assert main(["solve", str(f), "--solver", "lsa-lws", "--out", str(out)]) == 2
    assert "does not honour orientation limits" in capsys.readouterr().err
    assert main(["solve", str(f), "--solver", "ffd-volume", "--mode", "bins", "--container", "6,x", "--out", str(out)]) == 2
    assert main(["solvers", "--mode", "bins"]) == 0
    listed = capsys.readouterr().out
    assert "ffd-volume" in listed and "lsa-lws" not in listed
