"""Leaderboard throughput: instances per second serial, on a process pool (``--jobs``) and on Ray.

    flock /tmp/packzoo-heavy.lock .venv/bin/python benchmarks/bench_jobs.py \\
        [--set cube-n20] [--instances 40] [--solvers local-search] [--time-limit 1] [--jobs 2]

Runs the same leaderboard (no output folder, nothing reused) four ways and prints the wall time,
instances per second and speed-up of each, with how many records equal the serial run's (all but
the wall times; a solve stopped by its time limit on a busy machine may differ, so the count
of such solves is printed beside it):

- serial: ``jobs=1``, in this process;
- pool: ``jobs=N`` spawned processes (their start-up, a few seconds of imports each, included);
- ray, cold: ``backend="ray"`` starting a local Ray with N CPUs and shutting it down (included);
- ray, warm: the same on a Ray already running with N CPUs whose workers have solved before (what
  a run on a standing cluster pays: the tasks alone).

The machine's 1-minute load average is printed before and after each run: on shared cores the
figures move with it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

from packzoo.solvers.backends import default_jobs
from packzoo.solvers.leaderboard import run_leaderboard


def _records(board):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in board["results"]]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--set", default="cube-n20")
    p.add_argument("--instances", type=int, default=40)
    p.add_argument("--solvers", default="local-search")
    p.add_argument("--time-limit", type=float, default=1.0)
    p.add_argument("--jobs", type=int, default=default_jobs(), help="pool processes and Ray CPUs")
    p.add_argument("--no-ray", action="store_true", help="serial and pool only")
    a = p.parse_args()

    def run(**kw):
        t0 = time.perf_counter()
        board = run_leaderboard(a.set, a.instances, a.solvers, a.time_limit, None, progress=False, **kw)
        return time.perf_counter() - t0, board, os.getloadavg()[0]

    print("command:", " ".join([os.path.basename(sys.executable), *sys.argv]))
    print(f"{a.set}, {a.instances} instances x solvers {a.solvers}, time limit {a.time_limit} s; "
          f"{default_jobs()} CPUs here, load average before {os.getloadavg()[0]:.2f}")
    runs = {"serial (jobs=1)": run(jobs=1), f"pool (jobs={a.jobs})": run(jobs=a.jobs)}
    if not a.no_ray:
        runs[f"ray, cold (local Ray, {a.jobs} CPUs, start-up included)"] = run(backend="ray", jobs=a.jobs)
        import ray

        tmp = tempfile.mkdtemp(prefix="pzb-ray-", dir="/tmp")
        ray.init(num_cpus=a.jobs, include_dashboard=False, _temp_dir=tmp, log_to_driver=False, logging_level="WARNING")
        try:
            run(backend="ray")  # starts and warms the workers, untimed
            runs[f"ray, warm (running Ray, {a.jobs} CPUs)"] = run(backend="ray")
        finally:
            ray.shutdown()
            shutil.rmtree(tmp, ignore_errors=True)
    base_secs, base, _ = runs["serial (jobs=1)"]
    want = _records(base)
    for name, (secs, board, load) in runs.items():
        same = sum(x == y for x, y in zip(_records(board), want))
        timed = sum(bool((r.get("info") or {}).get("stopped_by_time")) for r in board["results"])
        print(f"{name:48s} {secs:7.2f} s wall  {a.instances / secs:6.2f} instances/s  "
              f"speed-up {base_secs / secs:4.2f}x  records equal to serial: {same}/{len(want)} "
              f"(stopped by the time limit: {timed}; load average after: {load:.2f})")


if __name__ == "__main__":
    main()
