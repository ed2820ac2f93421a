"""Leaderboard throughput: solves per second serial and on a process pool (``--jobs``).

    .venv/bin/python benchmarks/bench_jobs.py [--set uniform-n10] [--instances 40] [--jobs 2]

Runs the same leaderboard serially and with ``--jobs`` workers (no output folder, nothing reused),
checks the results are the same record by record (the wall times aside), and prints solves per
second and the speed-up. The pool spawns its workers (a few seconds of imports each), so it pays
off on boards of more than a few seconds of solving.
"""

from __future__ import annotations

import argparse
import os
import time

from packzoo.solvers.leaderboard import run_leaderboard


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--set", default="uniform-n10")
    p.add_argument("--instances", type=int, default=40)
    p.add_argument("--solvers", default="random,sort-volume,lsa-lws,local-search")
    p.add_argument("--time-limit", type=float, default=10.0)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    a = p.parse_args()
    runs = {}
    for jobs in (1, a.jobs):
        t0 = time.perf_counter()
        board = run_leaderboard(a.set, a.instances, a.solvers, a.time_limit, None, progress=False, jobs=jobs)
        runs[jobs] = (time.perf_counter() - t0, board)
    same = [{k: v for k, v in r.items() if k != "seconds"} for r in runs[1][1]["results"]] == \
           [{k: v for k, v in r.items() if k != "seconds"} for r in runs[a.jobs][1]["results"]]
    n = len(runs[1][1]["results"])
    print(f"{a.set}, {a.instances} instances x {len(a.solvers.split(','))} solvers = {n} solves; same results: {same}")
    for jobs, (secs, _) in runs.items():
        print(f"jobs={jobs}: {secs:7.2f} s wall, {n / secs:8.1f} solves/s, speed-up {runs[1][0] / secs:.2f}x")


if __name__ == "__main__":
    main()
