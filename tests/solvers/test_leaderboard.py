"""The leaderboard: refereeing, the JSON/CSV contract, determinism, resume, the CLIs."""

import csv
import json

import numpy as np
import pytest

from packzoo.envs import Packing, Placement, instance_set, validate
from packzoo.solvers import SOLVERS, BaseSolver, Solution, pack_in_order, register_solver
from packzoo.solvers.leaderboard import PARTIAL, cli, run_leaderboard


class Counting(BaseSolver):
    """Identity order + LSA; counts its solves (class-wide, as the leaderboard builds its own)."""

    calls = 0

    def __init__(self) -> None:
        pass

    def _solve(self, instance, rng, deadline):
        type(self).calls += 1
        return Solution(pack_in_order(instance, list(range(instance.n))))


class Overlapping(BaseSolver):
    """Puts every item at the origin: invalid as soon as there are two items."""

    def __init__(self) -> None:
        pass

    def _solve(self, instance, rng, deadline):
        return Solution(Packing(instance, [Placement(i, 0, 0, 0, 0) for i in range(instance.n)]))


class Crashing(BaseSolver):
    def __init__(self) -> None:
        pass

    def _solve(self, instance, rng, deadline):
        raise RuntimeError("boom")


class ClaimsOptimal(BaseSolver):
    """Identity order, but claims optimality (to check best_known uses proven values)."""

    def __init__(self) -> None:
        pass

    def _solve(self, instance, rng, deadline):
        return Solution(pack_in_order(instance, list(range(instance.n))), status="optimal")


class Interrupted(BaseSolver):
    """Identity order, but the user presses Ctrl-C on the third solve."""

    calls = 0

    def __init__(self) -> None:
        pass

    def _solve(self, instance, rng, deadline):
        type(self).calls += 1
        if type(self).calls == 3:
            raise KeyboardInterrupt
        return Solution(pack_in_order(instance, list(range(instance.n))))


TEST_SOLVERS = {
    "test-interrupted": Interrupted,
    "test-counting": Counting,
    "test-overlapping": Overlapping,
    "test-crashing": Crashing,
    "test-claims-optimal": ClaimsOptimal,
}


@pytest.fixture
def test_solvers():
    for name, cls in TEST_SOLVERS.items():
        register_solver(name, cls, kind="heuristic", keeps_time_limit=True, summary="a test solver", source="tests")
    Counting.calls = 0
    yield
    for name in TEST_SOLVERS:  # the registry has no public removal: tests clean up their own
        SOLVERS._entries.pop(name, None)


def strip_times(board):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in board["results"]]


def test_schema_and_scores(tmp_path):
    board = run_leaderboard("uniform-n8", 3, "random,lsa-lws,sort-volume", 5.0, tmp_path, seed=1, progress=False)
    on_disk = json.loads((tmp_path / "leaderboard.json").read_text())
    assert on_disk["summary"] == board["summary"]
    for key in ("set", "instances", "time_limit", "seed", "versions", "solvers", "best_known", "results", "summary"):
        assert key in on_disk
    assert on_disk["set"] == "uniform-n8" and on_disk["instances"] == 3 and on_disk["seed"] == 1
    assert on_disk["versions"]["numpy"] == np.__version__
    assert on_disk["solvers"]["lsa-lws"]["params"] == {"placement": "lsa"}
    assert on_disk["solvers"]["lsa-lws"]["card"]["source"]
    insts = instance_set("uniform-n8", 3)
    assert len(board["results"]) == 9
    for r in board["results"]:
        assert r["valid"] and r["errors"] == []
        p = Packing.from_dict({"instance": insts[r["instance"]].to_dict(), "placements": r["placements"]})
        assert validate(p) == [] and p.surface_area == r["surface"]
        assert r["ratio_lb"] == pytest.approx(r["surface"] / r["lower_bound"])
    for b in board["best_known"]:
        rs = [r for r in board["results"] if r["instance"] == b["instance"]]
        assert b["value"] == min(r["surface"] for r in rs) and b["proven"] is False
        for r in rs:
            assert r["gap"] == pytest.approx(r["surface"] / b["value"] - 1)
    for row in board["summary"]:
        rs = [r for r in board["results"] if r["solver"] == row["solver"]]
        assert row["n"] == 3 and row["invalid"] == 0
        assert row["mean_surface"] == pytest.approx(np.mean([r["surface"] for r in rs]))
    assert sum(row["wins"] for row in board["summary"]) >= 3
    rows = list(csv.DictReader((tmp_path / "leaderboard.csv").open()))
    assert len(rows) == 9 and "placements" not in rows[0]
    assert {int(r["surface"]) for r in rows} == {r["surface"] for r in board["results"]}


def test_same_arguments_same_numbers(tmp_path):
    a = run_leaderboard("orders-n8", 2, "random,local-search", 5.0, tmp_path / "a", seed=3, progress=False)
    b = run_leaderboard("orders-n8", 2, "random,local-search", 5.0, tmp_path / "b", seed=3, progress=False)
    assert strip_times(a) == strip_times(b)
    c = run_leaderboard("orders-n8", 2, "random", 5.0, None, seed=4, progress=False)
    assert [r["seed"] for r in c["results"]] != [r["seed"] for r in a["results"] if r["solver"] == "random"]


def test_resume_reuses_finished_results(tmp_path, test_solvers):
    first = run_leaderboard("uniform-n8", 3, "test-counting,lsa-lws", 5.0, tmp_path, progress=False)
    assert Counting.calls == 3
    second = run_leaderboard("uniform-n8", 5, "test-counting,lsa-lws", 5.0, tmp_path, progress=False)
    assert Counting.calls == 5  # only instances 3 and 4 were solved again
    assert second["reused"] == 6
    assert strip_times(first) == [r for r in strip_times(second) if r["instance"] < 3]
    assert [r["seconds"] for r in first["results"]] == [r["seconds"] for r in second["results"][:6]]
    # other settings are not mixed up with these results
    run_leaderboard("uniform-n8", 3, "test-counting", 7.0, tmp_path, progress=False)
    assert Counting.calls == 8
    # --fresh throws the cache away
    run_leaderboard("uniform-n8", 2, "test-counting", 5.0, tmp_path, progress=False, resume=False)
    assert Counting.calls == 10


def test_interrupted_run_keeps_its_results_and_resumes(tmp_path, test_solvers):
    Interrupted.calls = 0
    with pytest.raises(KeyboardInterrupt):
        run_leaderboard("uniform-n8", 4, "test-interrupted", 5.0, tmp_path, progress=False)
    assert not (tmp_path / "leaderboard.json").exists()
    assert len((tmp_path / PARTIAL).read_text().splitlines()) == 2
    board = run_leaderboard("uniform-n8", 4, "test-interrupted", 5.0, tmp_path, progress=False)
    assert board["reused"] == 2 and Interrupted.calls == 5
    assert [r["instance"] for r in board["results"]] == [0, 1, 2, 3] and all(r["valid"] for r in board["results"])


def test_torn_partial_line_is_ignored(tmp_path, test_solvers):
    run_leaderboard("uniform-n8", 2, "test-counting", 5.0, tmp_path, progress=False)
    part = tmp_path / PARTIAL
    text = part.read_text()
    part.write_text(text + text.splitlines()[0][:40])  # a run killed in the middle of a write
    board = run_leaderboard("uniform-n8", 3, "test-counting", 5.0, tmp_path, progress=False)
    assert Counting.calls == 3 and board["reused"] == 2
    lines = part.read_text().splitlines()
    assert json.loads(lines[-1])["result"]["instance"] == 2


def test_invalid_and_crashing_solvers_are_reported_not_scored(tmp_path, test_solvers):
    board = run_leaderboard("uniform-n8", 2, "test-overlapping,test-crashing,sort-volume", 5.0, tmp_path, progress=False)
    rows = {r["solver"]: r for r in board["summary"]}
    assert rows["test-overlapping"]["invalid"] == 2 and rows["test-overlapping"]["mean_surface"] is None
    assert rows["test-crashing"]["invalid"] == 2
    assert rows["sort-volume"]["invalid"] == 0 and rows["sort-volume"]["wins"] == 2
    bad = [r for r in board["results"] if r["solver"] == "test-overlapping"]
    assert all(not r["valid"] and r["surface"] is None and r["gap"] is None for r in bad)
    assert any("overlap" in e for e in bad[0]["errors"])
    crash = [r for r in board["results"] if r["solver"] == "test-crashing"][0]
    assert "boom" in crash["errors"][0]
    # the best known value never comes from an invalid result
    sv = {r["instance"]: r["surface"] for r in board["results"] if r["solver"] == "sort-volume"}
    assert [b["value"] for b in board["best_known"]] == [sv[0], sv[1]]


def test_best_known_prefers_proven_optima_and_cube_optimum(tmp_path, test_solvers):
    board = run_leaderboard("uniform-n8", 2, "test-claims-optimal,best-order", 5.0, None, progress=False)
    for b in board["best_known"]:
        assert b["proven"] is True and b["by"] == "test-claims-optimal"
    cube = run_leaderboard("cube-n10", 2, "lsa-lws", 5.0, None, progress=False)
    assert all(b["value"] == 60000.0 and b["proven"] for b in cube["best_known"])
    assert all(r["gap"] == pytest.approx(r["surface"] / 60000 - 1) for r in cube["results"])


def test_bad_input_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="lsa-lws"):
        run_leaderboard("uniform-n8", 2, "lsa-lwz", 5.0, None, progress=False)
    with pytest.raises(ValueError, match="instance set"):
        run_leaderboard("uniform-n9", 2, "random", 5.0, None, progress=False)
    with pytest.raises(ValueError, match="instances"):
        run_leaderboard("uniform-n8", 0, "random", 5.0, None, progress=False)
    with pytest.raises(ValueError, match="time_limit"):
        run_leaderboard("uniform-n8", 2, "random", -1.0, None, progress=False)
    with pytest.raises(ValueError, match="twice"):
        run_leaderboard("uniform-n8", 2, "random,random", 5.0, None, progress=False)


def test_cli_prints_the_table(tmp_path, capsys):
    rc = cli(["--set", "uniform-n8", "--instances", "2", "--solvers", "random,lsa-lws", "--time-limit", "5",
              "--out", str(tmp_path), "--no-progress", "--param", "random.placement=ep"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "lsa-lws" in out and "mean surface" in out and "invalid" in out
    board = json.loads((tmp_path / "leaderboard.json").read_text())
    assert board["solvers"]["random"]["params"] == {"placement": "ep"}
    with pytest.raises(ValueError, match="SOLVER.KEY=VALUE"):
        cli(["--param", "oops", "--out", str(tmp_path)])


def test_mainjob_cli(tmp_path, capsys):
    from packzoo.mainjob import cli as main_cli, default_solvers

    assert "lsa-lws" in default_solvers() and "best-order" in default_solvers()
    # `make run` runs the defaults on a free-mode set: every one of them must pack it.
    from packzoo.solvers import solver_card

    assert all("free" in solver_card(n)["modes"] for n in default_solvers())
    assert "ffd-volume" not in default_solvers() and "ffd-volume" in default_solvers("bins")
    rc = main_cli(["--out", str(tmp_path), "--instances", "2", "--solvers", "sort-volume,lsa-lws", "--no-progress",
                   "--report", str(tmp_path / "report.html")])
    assert rc == 0
    assert "sort-volume" in capsys.readouterr().out
    assert (tmp_path / "leaderboard.json").exists() and (tmp_path / "leaderboard.csv").exists()
    assert (tmp_path / "report.html").exists()


def test_tests_write_only_to_temporary_folders(tmp_path):
    """The main job's defaults (results/, report.html) are relative paths: run from a test they land
    in the test's temporary folder, never in the checkout where `make run` wrote its report."""
    from pathlib import Path

    from packzoo.mainjob import cli as main_cli

    repo = Path(__file__).resolve().parents[2]
    assert Path.cwd() == tmp_path and Path.cwd() != repo
    before = (repo / "report.html").stat().st_mtime_ns if (repo / "report.html").exists() else None
    assert main_cli(["--instances", "1", "--solvers", "sort-volume", "--no-progress"]) == 0
    assert (tmp_path / "report.html").exists() and (tmp_path / "results" / "leaderboard.json").exists()
    after = (repo / "report.html").stat().st_mtime_ns if (repo / "report.html").exists() else None
    assert after == before


# ---- the fixed modes -------------------------------------------------------------------------


def test_mode_sets_are_scored_by_their_objective(tmp_path):
    from packzoo.solvers.leaderboard import format_table, run_leaderboard

    board = run_leaderboard("bins-n20", 3, "ffd-volume,lsah", None, tmp_path / "b", progress=False)
    assert board["mode"] == "bins"
    for r in board["results"]:
        assert r["valid"] and r["mode"] == "bins" and r["lower_bound"] == 2.0  # bins-n20 is cut from 2 bins
        assert r["objective"] >= 2 and r["gap"] == r["objective"] / 2 - 1
        assert r["utilisation"] == pytest.approx(2 / r["objective"])
    assert "mean bins" in format_table(board["summary"], "bins")
    board = run_leaderboard("container-n10", 3, "dblf-volume,boundary", None, tmp_path / "c", progress=False)
    for r in board["results"]:
        # Maximising: the gap is what is missing from the known optimum, 100^3.
        assert r["gap"] == pytest.approx(1 - r["objective"] / 10**6) and r["ratio_lb"] >= 1
    table = format_table(board["summary"], "container")
    assert "mean volume" in table and "UB ratio" in table


def test_a_solver_that_cannot_pack_the_mode_is_refused_before_any_work(tmp_path):
    from packzoo.solvers import UnsupportedMode
    from packzoo.solvers.leaderboard import run_leaderboard

    with pytest.raises(UnsupportedMode, match="'lsa-lws' packs modes \\['free'\\].*bins"):
        run_leaderboard("bins-n20", 2, "ffd-volume,lsa-lws", None, tmp_path / "x", progress=False)
    assert not (tmp_path / "x").exists()


def test_an_edited_objective_is_distrusted_on_resume(tmp_path):
    import json

    from packzoo.solvers.leaderboard import PARTIAL, _line_digest, run_leaderboard

    out = tmp_path / "r"
    first = run_leaderboard("base-n10", 2, "minheight-volume", None, out, progress=False)
    lines = (out / PARTIAL).read_text().splitlines()
    rec = json.loads(lines[0])
    rec["result"]["objective"] -= 1  # a flattering height, with a fresh digest
    rec["sha256"] = _line_digest(rec["key"], rec["result"])
    (out / PARTIAL).write_text("\n".join([json.dumps(rec)] + lines[1:]) + "\n")
    again = run_leaderboard("base-n10", 2, "minheight-volume", None, out, progress=False)
    assert again["reused"] == 1 and len(again["recomputed"]["failed_recheck"]) == 1
    assert [r["objective"] for r in again["results"]] == [r["objective"] for r in first["results"]]


def test_a_set_name_wins_over_a_folder_of_that_name(tmp_path, monkeypatch):
    from packzoo.envs import Instance
    from packzoo.solvers.leaderboard import load_set

    monkeypatch.chdir(tmp_path)
    (tmp_path / "bins-n20").mkdir()  # e.g. an earlier run's --out folder
    (tmp_path / "bins-n20" / "leaderboard.csv").write_text("solver,instance\nx,0\n")
    insts, key, files = load_set("bins-n20", 2)
    assert key == "bins-n20" and files is None and insts[0].mode == "bins"
    Instance([[1, 2, 3]]).save(tmp_path / "bins-n20" / "leaderboard.csv.json")
    (tmp_path / "bins-n20" / "leaderboard.csv").unlink()
    insts, key, files = load_set("./bins-n20", 5)  # the folder, asked for as a path
    assert files is not None and len(insts) == 1
