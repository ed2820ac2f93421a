"""Leaderboards on a process pool: the same results as a serial run, record by record."""

from __future__ import annotations

import json

import pytest

from packzoo.solvers.leaderboard import PARTIAL, run_leaderboard

SOLVERS = "random,sort-volume,lsa-lws,local-search"


def _strip(board):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in board["results"]]


def test_two_jobs_give_the_serial_results_and_stream_into_the_partial_file(tmp_path):
    serial = run_leaderboard("uniform-n8", 6, SOLVERS, 5.0, tmp_path / "s", progress=False)
    # Half of it done before (as if interrupted), the rest on two workers.
    run_leaderboard("uniform-n8", 3, SOLVERS, 5.0, tmp_path / "p", progress=False)
    pooled = run_leaderboard("uniform-n8", 6, SOLVERS, 5.0, tmp_path / "p", progress=False, jobs=2)
    assert _strip(pooled) == _strip(serial)
    assert pooled["reused"] == 12
    lines = (tmp_path / "p" / PARTIAL).read_text().splitlines()
    keys = [json.loads(line)["key"] for line in lines]
    assert len(keys) == len(set(keys)) == 24  # every result written once, none computed twice


def test_jobs_must_be_a_positive_integer(tmp_path):
    with pytest.raises(ValueError, match="jobs must be a positive integer"):
        run_leaderboard("uniform-n8", 1, "random", None, tmp_path, progress=False, jobs=0)
