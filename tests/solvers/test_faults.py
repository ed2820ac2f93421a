"""Results you can trust after faults, interruptions and bad input (issue 11, the solver side):
interrupted solves are never saved, resumed results are re-refereed, bad input fails early."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from packzoo.envs import instance_set, uniform
from packzoo.solvers import BaseSolver, Solution, create_solver, list_solvers, pack_in_order, register_solver
from packzoo.solvers.base import SOLVERS
from packzoo.solvers.leaderboard import PARTIAL, cli, format_table, run_leaderboard

SOLVERS3 = "random,sort-volume,lsa-lws"


# ------------------------------------------------------------------ 1. an interrupted exact solve
def test_ctrl_c_stops_cp_sat_at_once_with_keyboard_interrupt():
    inst = instance_set("uniform-n12", 1)[0]  # CP-SAT needs far more than 30 s to prove it
    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    # Before, CP-SAT caught the signal itself and returned a cut-short "feasible" solution.
    with pytest.raises(KeyboardInterrupt):
        create_solver("exact", num_workers=2).solve(inst, seed=0, time_limit=30)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_interrupted_leaderboard_saves_no_cut_short_solve(tmp_path):
    out = tmp_path / "lb"
    proc = subprocess.Popen(
        [sys.executable, "-m", "packzoo.cli", "leaderboard", "--set", "uniform-n12", "--instances", "2",
         "--solvers", "exact", "--time-limit", "30", "--out", str(out), "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not (out / PARTIAL).exists() and not out.exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # into the first solve (imports, warm-up and model building take a second or two)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    lines = (out / PARTIAL).read_text().splitlines() if (out / PARTIAL).exists() else []
    assert lines == []  # the cut-short solve was discarded, not saved as finished


# ------------------------------------------------------------------ 2. safe resume
def _results(board):
    # Everything but the wall time, which a recomputed result cannot repeat.
    return [{k: v for k, v in r.items() if k != "seconds"} for r in board["results"]]


def test_an_edited_result_is_reported_and_recomputed(tmp_path, capsys):
    first = run_leaderboard("uniform-n8", 3, SOLVERS3, None, tmp_path, progress=False)
    lines = (tmp_path / PARTIAL).read_text().splitlines()
    rec = json.loads(lines[1])
    rec["result"]["surface"] = 100  # a forged figure: that solver would rank first
    lines[1] = json.dumps(rec)
    missing = json.loads(lines[2])
    del missing["result"]["instance"]  # a line missing fields: today a KeyError
    lines[2] = json.dumps(missing)
    (tmp_path / PARTIAL).write_text("\n".join(lines) + "\n")
    again = run_leaderboard("uniform-n8", 3, SOLVERS3, None, tmp_path, progress=False)
    assert _results(again) == _results(first)
    assert again["reused"] == 9 - 2 and again["recomputed"]["malformed_lines"] == [2, 3]
    assert "2 malformed or altered line(s) (lines 2, 3)" in capsys.readouterr().err


def test_a_forged_line_with_a_valid_digest_is_still_refereed(tmp_path):
    from packzoo.solvers.leaderboard import _line_digest

    first = run_leaderboard("uniform-n8", 2, "sort-volume", None, tmp_path, progress=False)
    rec = json.loads((tmp_path / PARTIAL).read_text().splitlines()[0])
    rec["result"]["surface"] = 100
    rec["sha256"] = _line_digest(rec["key"], rec["result"])
    (tmp_path / PARTIAL).write_text(json.dumps(rec) + "\n")
    again = run_leaderboard("uniform-n8", 2, "sort-volume", None, tmp_path, progress=False)
    assert _results(again) == _results(first) and again["reused"] == 0
    assert "do not match its packing" in again["recomputed"]["failed_recheck"][0]


class _Versioned(BaseSolver):
    """sort-volume, with a weights version standing for a learned solver's weights file."""

    weights = "v1"

    def fingerprint(self) -> str:
        return type(self).weights

    def _solve(self, instance, rng, deadline):
        return Solution(pack_in_order(instance, list(np.argsort(-instance.dims.prod(1), kind="stable"))))


def test_new_weights_never_reuse_old_results(tmp_path, monkeypatch):
    register_solver("test-versioned", _Versioned, kind="learned", keeps_time_limit=True, summary="test", source="tests")
    try:
        assert run_leaderboard("uniform-n8", 2, "test-versioned", None, tmp_path, progress=False)["reused"] == 0
        assert run_leaderboard("uniform-n8", 2, "test-versioned", None, tmp_path, progress=False)["reused"] == 2
        monkeypatch.setattr(_Versioned, "weights", "v2")
        assert run_leaderboard("uniform-n8", 2, "test-versioned", None, tmp_path, progress=False)["reused"] == 0
    finally:
        SOLVERS._entries.pop("test-versioned")


def test_learned_solvers_fingerprint_their_weights():
    from packzoo.zoo import model_card

    fp = create_solver("ptrnet-greedy", model="ptrnet-binpack-n8").fingerprint()
    assert fp == model_card("ptrnet-binpack-n8").weights.sha256
    assert create_solver("sb3-maskppo-n10").fingerprint() == model_card("sb3-maskppo-n10").weights.sha256
    assert create_solver("lsa-lws").fingerprint() == ""


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    board = run_leaderboard("uniform-n8", 4, SOLVERS3, None, out, progress=False)
    return _results(board), (out / PARTIAL).read_text().splitlines()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_resume_from_a_damaged_partial_file_gives_the_uninterrupted_results(clean_run, tmp_path_factory, data):
    want, lines = clean_run
    lines = list(lines)
    for _ in range(data.draw(st.integers(0, 8), label="damages")):
        if not lines:
            break
        i = data.draw(st.integers(0, len(lines) - 1), label="line")
        op = data.draw(st.sampled_from(["drop", "duplicate", "truncate", "flip", "blank", "swap"]), label="op")
        if op == "drop":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "truncate":
            lines[i] = lines[i][: data.draw(st.integers(0, max(0, len(lines[i]) - 1)))]
        elif op == "flip" and lines[i]:
            j = data.draw(st.integers(0, len(lines[i]) - 1))
            lines[i] = lines[i][:j] + chr((ord(lines[i][j]) + 1) % 128 or 1) + lines[i][j + 1:]
        elif op == "blank":
            lines[i] = ""
        else:
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    out = tmp_path_factory.mktemp("damaged")
    (out / PARTIAL).write_text("\n".join(lines) + ("\n" if lines else ""))
    got = run_leaderboard("uniform-n8", 4, SOLVERS3, None, out, progress=False)
    assert _results(got) == want


# ------------------------------------------------------------------ 6, 7. bad input, early
def test_out_naming_a_file_fails_before_any_solve(tmp_path, capsys, monkeypatch):
    import packzoo.solvers.leaderboard as L

    calls = []
    monkeypatch.setattr(L, "run_one", lambda *a, **k: calls.append(1))
    f = tmp_path / "file.txt"
    f.write_text("x")
    from packzoo.cli import main

    assert main(["leaderboard", "--set", "uniform-n8", "--instances", "1", "--solvers", "random", "--out", str(f)]) == 2
    assert "is a file" in capsys.readouterr().err and calls == []


def test_unknown_solver_parameters_name_the_valid_ones(tmp_path, capsys):
    with pytest.raises(ValueError, match=r"'lsa-lws' takes no parameter 'foo'; its parameters: placement"):
        create_solver("lsa-lws", foo=1)
    with pytest.raises(ValueError, match="its parameters: iterations, batch, placement|its parameters: batch"):
        create_solver("local-search", iterations=10, bogus=2)
    from packzoo.cli import main

    assert main(["leaderboard", "--instances", "1", "--solvers", "random", "--param", "random.foo=1",
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "takes no parameter 'foo'" in err and "Traceback" not in err


@pytest.mark.parametrize("seed", [-1, 1.5, "x", True])
def test_bad_seeds_are_refused_before_numpy_sees_them(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        create_solver("random").solve(uniform(4, seed=0), seed=seed)


def test_invalid_results_make_the_exit_code_1(tmp_path, capsys):
    class Broken(BaseSolver):
        def _solve(self, instance, rng, deadline):
            from packzoo.envs import Packing, Placement

            return Solution(Packing(instance, [Placement(i, 0, 0, 0, 0) for i in range(instance.n)]))

    register_solver("test-broken", Broken, kind="heuristic", keeps_time_limit=True, summary="test", source="tests")
    try:
        code = cli(["--set", "uniform-n8", "--instances", "2", "--solvers", "random,test-broken",
                    "--out", str(tmp_path), "--no-progress"])
    finally:
        SOLVERS._entries.pop("test-broken")
    assert code == 1 and "2 invalid result(s)" in capsys.readouterr().err


# ------------------------------------------------------------------ 11. the table stays aligned
def test_a_solver_without_valid_results_keeps_the_table_aligned():
    rows = [
        {"solver": "random", "mean_surface": 26837.3, "mean_ratio_lb": 1.2964, "mean_gap": 0.1883, "wins": 0,
         "mean_seconds": 0.0008, "max_seconds": 0.001, "invalid": 0},
        {"solver": "sb3", "mean_surface": None, "mean_ratio_lb": None, "mean_gap": None, "wins": 0,
         "mean_seconds": None, "max_seconds": None, "invalid": 3},
    ]
    lines = format_table(rows).splitlines()
    assert len({len(line) for line in lines}) == 1, lines  # every row as wide as the header
    head = lines[0]
    for line in lines[2:]:
        # each figure ends where its column's title ends
        for title in ("mean surface", "ratio LB", "gap best", "wins", "mean s", "max s", "invalid"):
            end = (head + " ").index(title + " ") + len(title)  # "mean s", not "mean surface"
            assert line[end - 1] != " ", (title, line)


# ------------------------------------------------------------------ 4. time limits
def _pack_seconds(inst) -> float:
    t0 = time.perf_counter()
    create_solver("sort-volume").solve(inst, seed=0)
    return time.perf_counter() - t0


@pytest.fixture(scope="module")
def big():
    return uniform(300, seed=0)


@pytest.mark.parametrize("name", [n for n in list_solvers() if n != "sb3"])  # sb3 needs path=
def test_every_solver_keeps_its_time_limit_or_says_it_has_none(name, big):
    from packzoo.solvers import solver_card
    from packzoo.solvers.base import time_tolerance

    card = solver_card(name)
    if not card["keeps_time_limit"]:
        # A constructive pass: the card says so and the leaderboard marks it (test below).
        assert card["keeps_time_limit"] is False
        return
    solver = create_solver(name)
    solver.solve(uniform(5, seed=1), seed=0, time_limit=2)  # loading weights or compiling is setup
    limit = 1.0
    sol = solver.solve(big, seed=0, time_limit=limit)
    assert sol.seconds <= limit + time_tolerance(_pack_seconds(big)), (name, sol.seconds)
    assert sol.packing is not None and sol.info.get("stopped_by_time") is True


def test_the_table_marks_solvers_without_a_time_limit(tmp_path):
    board = run_leaderboard("uniform-n8", 1, "lsa-lws,local-search", 1.0, tmp_path, progress=False)
    table = format_table(board["summary"])
    assert "lsa-lws*" in table and "local-search*" not in table and "* no time limit" in table
