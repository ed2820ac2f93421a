"""Leaderboards on a process pool: the same results as a serial run, record by record, a dying
worker costing only its unfinished solves, Ctrl-C stopping every worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from packzoo.solvers.backends import default_jobs
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


# B: few slow, deterministic solves (local-search stops after its iterations, far within the limit),
# so a worker is busy when it is killed or interrupted.
B = dict(set_name="cube-n20", instances=4, solvers="sort-volume,local-search", time_limit=30.0,
         params={"local-search": {"iterations": 3000}})


def _children(pid: int, marker: bytes) -> list[int]:
    out = []
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{p}/cmdline").read_bytes()
            ppid = int(Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid and marker in cmd:
            out.append(int(p))
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _first_line(path: Path, until: float, proc=None) -> None:
    while time.time() < until and (proc is None or proc.poll() is None):
        if path.exists() and path.read_text().strip():
            return
        time.sleep(0.02)


def test_jobs_default_to_every_cpu_this_process_may_use():
    from packzoo.solvers.gap import build_parser as gap_parser
    from packzoo.solvers.leaderboard import build_parser

    assert default_jobs() == len(os.sched_getaffinity(0))
    args = build_parser().parse_args([])
    assert args.jobs is None and args.backend == "local" and args.address is None
    assert gap_parser().parse_args([]).jobs is None  # run_gap: CPUs / CP-SAT workers


def test_a_killed_pool_worker_loses_nothing_and_repeats_nothing(tmp_path, capsys):
    serial = run_leaderboard(**B, out=None, progress=False)
    killed = []

    def killer():
        _first_line(tmp_path / PARTIAL, time.time() + 120)
        workers = _children(os.getpid(), b"spawn_main")
        if workers:
            os.kill(workers[0], signal.SIGKILL)
            killed.append(workers[0])

    t = threading.Thread(target=killer)
    t.start()
    try:
        pooled = run_leaderboard(**B, out=tmp_path, progress=False, jobs=2)
    finally:
        t.join()
    assert killed
    assert _strip(pooled) == _strip(serial)
    keys = [json.loads(line)["key"] for line in (tmp_path / PARTIAL).read_text().splitlines()]
    assert len(keys) == len(set(keys)) == 8
    assert "a worker process died: resubmitting" in capsys.readouterr().err


def test_ctrl_c_stops_the_pool_and_its_workers(tmp_path):
    out = tmp_path / "lb"
    proc = subprocess.Popen(
        [sys.executable, "-m", "packzoo.cli", "leaderboard", "--set", "cube-n20", "--instances", "4",
         "--solvers", "sort-volume,local-search", "--time-limit", "30", "--param", "local-search.iterations=200000",
         "--out", str(out), "--jobs", "2", "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    _first_line(out / PARTIAL, time.time() + 120, proc)
    workers = _children(proc.pid, b"spawn_main")
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: to the whole process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert workers and not [w for w in workers if _alive(w)]  # no solve outlives Ctrl-C
    keys = [json.loads(line)["key"] for line in (out / PARTIAL).read_text().splitlines()]
    assert len(keys) == len(set(keys)) < 8
