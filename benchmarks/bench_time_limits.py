"""Do the solvers keep their time limits? Seconds taken on a large instance under a short limit.

    .venv/bin/python benchmarks/bench_time_limits.py [--n 1000] [--limit 5]

Prints, per solver, the seconds one solve took, the stated tolerance (max(1 s, 4 x one LSA
packing of the instance)), and whether the limit was kept. Solvers whose card says
keeps_time_limit=False make a fixed number of constructive passes: they are timed for reference
(the one-pass pointer-network decoders and agents, which cannot pack 1000 items or take minutes,
are left out unless named with --solvers).
"""

from __future__ import annotations

import argparse
import time

from packzoo.envs import uniform
from packzoo.solvers import create_solver, list_solvers, solver_card
from packzoo.solvers.base import time_tolerance

DEFAULT = "sort-volume,lsa-lws,best-order,local-search,exact,ptrnet-sample128"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--n", type=int, default=1000, help="items of the uniform instance (seed 0)")
    p.add_argument("--limit", type=float, default=5.0, help="time limit per solve, seconds")
    p.add_argument("--solvers", default=DEFAULT, help="comma-separated solvers")
    a = p.parse_args()
    inst = uniform(a.n, seed=0)
    t0 = time.perf_counter()
    create_solver("sort-volume").solve(inst, seed=0)
    pack_s = time.perf_counter() - t0
    tol = time_tolerance(pack_s)
    print(f"uniform({a.n}, seed=0), time_limit={a.limit} s; one LSA packing {pack_s:.2f} s; tolerance {tol:.2f} s")
    print(f"{'solver':18s} {'keeps limit':>11s} {'seconds':>8s} {'within':>7s} {'surface':>10s}")
    for name in [s for s in a.solvers.split(",") if s]:
        if name not in list_solvers():
            raise SystemExit(f"unknown solver {name!r}")
        solver = create_solver(name)
        solver.solve(uniform(5, seed=1), seed=0, time_limit=5)  # loading and compiling are setup
        sol = solver.solve(inst, seed=0, time_limit=a.limit)
        keeps = solver_card(name)["keeps_time_limit"]
        within = sol.seconds <= a.limit + tol
        print(f"{name:18s} {str(keeps):>11s} {sol.seconds:8.2f} {('yes' if within else 'NO') if keeps else '-':>7s} "
              f"{sol.packing.surface_area:10d}", flush=True)


if __name__ == "__main__":
    main()
