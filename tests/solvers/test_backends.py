"""Leaderboards on Ray: the serial run's records, resumable across backends, robust to a dying
worker and to Ctrl-C. One local Ray with 2 CPUs serves the module (started once: ~5-10 s)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from packzoo.solvers import BaseSolver, Solution, pack_in_order, register_solver
from packzoo.solvers.backends import BackendError, check_backend, default_jobs
from packzoo.solvers.base import SOLVERS
from packzoo.solvers.leaderboard import PARTIAL, run_leaderboard

# A: many quick solves. B: few slow ones (a worker is surely mid-solve when it is killed). Both
# deterministic: local-search stops after its iterations (a second at most), far within the limit.
A = dict(set_name="uniform-n8", instances=6, solvers="random,sort-volume,lsa-lws,local-search", time_limit=5.0)
B = dict(set_name="cube-n20", instances=4, solvers="sort-volume,local-search", time_limit=30.0,
         params={"local-search": {"iterations": 5000}})
B_ARGS = ["--set", "cube-n20", "--instances", "4", "--solvers", "sort-volume,local-search", "--time-limit", "30",
          "--param", "local-search.iterations=5000"]


def _strip(board):
    # Everything but the wall time, which no rerun repeats.
    return [{k: v for k, v in r.items() if k != "seconds"} for r in board["results"]]


def _keys(out: Path) -> list[str]:
    return [json.loads(line)["key"] for line in (out / PARTIAL).read_text().splitlines()]


def _run(spec, out, **kw):
    return run_leaderboard(spec["set_name"], spec["instances"], spec["solvers"], spec["time_limit"], out,
                           params=spec.get("params"), progress=False, **kw)


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray with 2 CPUs; the leaderboard uses it (and leaves it running) when it is up."""
    import ray

    tmp = tempfile.mkdtemp(prefix="pz-ray-")  # short: Ray's socket paths must stay under 107 bytes
    ray.init(address="local", num_cpus=2, include_dashboard=False, _temp_dir=tmp, log_to_driver=False,
             logging_level="WARNING")
    yield ray
    ray.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def serial_a():
    return _strip(_run(A, None, jobs=1))


@pytest.fixture(scope="module")
def serial_b():
    return _strip(_run(B, None, jobs=1))


def test_ray_gives_the_serial_records_and_streams_each_once(ray_cluster, serial_a, tmp_path):
    board = _run(A, tmp_path, backend="ray")
    assert _strip(board) == serial_a
    keys = _keys(tmp_path)
    assert len(keys) == len(set(keys)) == len(serial_a) == 24


@pytest.mark.parametrize("first,second", [("ray", "local"), ("local", "ray")])
def test_a_run_resumes_on_the_other_backend(ray_cluster, serial_a, tmp_path, first, second):
    # Half of it on one backend (as if interrupted), the rest on the other.
    _run({**A, "instances": 3}, tmp_path, backend=first, jobs=1 if first == "local" else None)
    board = _run(A, tmp_path, backend=second, jobs=1 if second == "local" else None)
    assert board["reused"] == 12
    assert _strip(board) == serial_a
    keys = _keys(tmp_path)
    assert len(keys) == len(set(keys)) == 24


def _ray_workers_solving() -> list[int]:
    """Ray worker processes of this test's cluster running a solve: children of a raylet started by
    this process, titled ``ray::solve_task`` while they run one."""
    me, raylets, solving = os.getpid(), set(), []
    procs = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        procs.append((int(pid), ppid, cmd))
        if ppid == me and b"raylet" in cmd:
            raylets.add(int(pid))
    return [pid for pid, ppid, cmd in procs if ppid in raylets and cmd.startswith(b"ray::solve_task")]


def test_a_killed_ray_worker_loses_nothing_and_repeats_nothing(ray_cluster, serial_b, tmp_path):
    killed: list[int] = []
    stop = threading.Event()

    def killer():
        # Once results stream in, kill a worker in the middle of a solve.
        while not stop.is_set():
            if (tmp_path / PARTIAL).exists() and (tmp_path / PARTIAL).read_text().strip():
                busy = _ray_workers_solving()
                if busy:
                    os.kill(busy[0], signal.SIGKILL)
                    killed.append(busy[0])
                    return
            time.sleep(0.02)

    t = threading.Thread(target=killer)
    t.start()
    try:
        board = _run(B, tmp_path, backend="ray")
    finally:
        stop.set()
        t.join()
    assert killed, "no worker was mid-solve to kill"
    assert _strip(board) == serial_b  # the killed solve was retried, on another worker
    keys = _keys(tmp_path)
    assert len(keys) == len(set(keys)) == 8


def test_ctrl_c_stops_a_ray_run_cleanly_and_a_local_run_resumes_it(serial_b, tmp_path):
    # Its own Ray, started and shut down by the command (TMPDIR shows it cleans its files up).
    out, tmpdir = tmp_path / "lb", Path(tempfile.mkdtemp(prefix="pzt-", dir="/tmp"))  # short: see above
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    env.pop("RAY_ADDRESS", None)
    # In a session of its own, so Ctrl-C goes to every process of its group, as a terminal's does.
    proc = subprocess.Popen([sys.executable, "-m", "packzoo.cli", "leaderboard", *B_ARGS, "--out", str(out),
                             "--backend", "ray", "--jobs", "2", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if (out / PARTIAL).exists() and (out / PARTIAL).read_text().strip():
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert not _group_alive(proc.pid, until=time.time() + 10), "Ray processes outlived the run"
    keys = _keys(out)
    assert 1 <= len(keys) < 8 and len(set(keys)) == len(keys)  # stopped mid-run, nothing written twice
    left = list(tmpdir.glob("packzoo-ray-*"))
    shutil.rmtree(tmpdir, ignore_errors=True)
    assert not left, "the Ray it started left its files"
    board = _run(B, out, jobs=1)
    assert board["reused"] == len(keys)
    assert _strip(board) == serial_b
    assert len(_keys(out)) == len(set(_keys(out))) == 8


def _group_alive(pgid: int, until: float) -> list[int]:
    """Processes of group ``pgid`` still running (not zombies) once ``until`` passes or none are."""
    while True:
        alive = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                alive.append(int(pid))
        if not alive or time.time() > until:
            return alive
        time.sleep(0.1)


class _Reversed(BaseSolver):
    """Items in reverse order: registered by this test module, which a Ray worker never imports."""

    def _solve(self, instance, rng, deadline):
        return Solution(pack_in_order(instance, list(range(instance.n))[::-1]))


def test_solvers_registered_outside_packzoo_run_here(ray_cluster, tmp_path, capsys):
    register_solver("test-reversed", _Reversed, kind="heuristic", keeps_time_limit=True, summary="test", source="tests")
    try:
        here = run_leaderboard("uniform-n8", 3, "test-reversed,sort-volume", None, None, progress=False)
        board = run_leaderboard("uniform-n8", 3, "test-reversed,sort-volume", None, tmp_path, progress=False,
                                backend="ray")
    finally:
        SOLVERS._entries.pop("test-reversed")
    assert _strip(board) == _strip(here)
    assert "test-reversed are registered outside packzoo" in capsys.readouterr().err


def test_backend_settings_are_checked_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="backend must be one of local, ray"):
        run_leaderboard("uniform-n8", 1, "random", None, tmp_path, progress=False, backend="dask")
    with pytest.raises(ValueError, match="is for the ray backend"):
        run_leaderboard("uniform-n8", 1, "random", None, tmp_path, progress=False, address="auto")
    with pytest.raises(ValueError, match="non-empty string"):
        check_backend("ray", " ", None)
    with pytest.raises(ValueError, match="jobs must be a positive integer"):
        check_backend("ray", None, 2.5)
    assert check_backend("local", None, None) == default_jobs() == len(os.sched_getaffinity(0))
    assert not (tmp_path / PARTIAL).exists()


def test_the_cli_refuses_an_address_without_the_ray_backend(tmp_path, capsys):
    from packzoo.cli import main

    for cmd in ("leaderboard", "gap"):
        assert main([cmd, "--instances", "1", "--solvers", "random", "--address", "auto", "--out", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert "is for the ray backend" in err and "Traceback" not in err


def test_without_ray_the_backend_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(BackendError, match=r"pip install 'packzoo\[ray\]'"):
        run_leaderboard("uniform-n8", 2, "random", None, tmp_path, progress=False, backend="ray")


def test_ray_is_imported_only_by_the_ray_backend():
    code = ("import sys, packzoo, packzoo.solvers, packzoo.solvers.leaderboard, packzoo.solvers.gap\n"
            "from packzoo.cli import main\n"
            "for cmd in (['--help'], ['leaderboard', '--help'], ['gap', '--help']):\n"
            "    try:\n"
            "        main(cmd)\n"
            "    except SystemExit:\n"
            "        pass\n"
            "print('ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_gap_on_ray_gives_the_serial_table(ray_cluster, tmp_path, monkeypatch):
    # Small instances CP-SAT proves in well under a second; each exact task reserves its 2 CP-SAT
    # workers' CPUs on the 2-CPU Ray. Optimal placements may differ between CP-SAT runs; the table may not.
    import packzoo.solvers.leaderboard as lb
    from packzoo.envs import uniform
    from packzoo.solvers.gap import run_gap

    monkeypatch.setattr(lb, "instance_set", lambda name, count: [uniform(6, low=2, high=9, seed=k) for k in range(count)])
    serial = run_gap("uniform-n8", 3, "sort-volume,lsa-lws", 60.0, tmp_path / "s", progress=False)
    on_ray = run_gap("uniform-n8", 3, "sort-volume,lsa-lws", 60.0, tmp_path / "r", progress=False, backend="ray")
    assert serial["proven"] == on_ray["proven"] == 3
    assert on_ray["rows"] == serial["rows"]
    keys = _keys(tmp_path / "r")
    assert len(keys) == len(set(keys)) == 9
