"""Benchmark of the exact CP-SAT solver in the fixed modes: how large an instance it proves.

For each mode (base, container, bins) the script solves cut instances with a known optimum
(``container_cut`` for base and container, ``bins_cut`` for bins) at growing n, ``--instances``
seeds per n, with the time limit ``--time-limit`` (60 s), and prints per n: how many it proved
optimal, the wall / CPU seconds and CP-SAT's deterministic time of the proofs, and how often the
starting heuristic (the hint) was already optimal. The headline figures are the largest n at
which *every* instance was proven within 10 s and within 60 s of wall time (one sweep serves
both: a proof is also counted under 10 s when it took at most 10 s). The sweep of a mode stops at
the first n where some instance is not proven within the limit.

Every returned packing goes through :func:`packzoo.envs.validate` and its objective is checked
against the cut's optimum (a proven "optimal" that misses it would be a bug and stops the run).

Wall times depend on the machine's load (2 shared cores here): run it under the shared lock, in
the background, and read the CPU and deterministic columns beside the wall ones:
    nohup flock /tmp/packzoo-heavy.lock .venv/bin/python benchmarks/bench_exact_modes.py \
        --out results/bench_exact_modes.json > results/bench_exact_modes.log 2>&1 &
Variants: ``--constraints upright-support`` (upright orientations, support 1.0; the cut packings
meet both), ``--no-hint`` (CP-SAT without the heuristic start), ``--no-compact`` (without the
pushed-packing dominance constraints).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from packzoo._io import atomic_write_text

CONSTRAINTS = {
    "none": {},
    "upright": {"orientations": "upright"},
    "upright-support": {"orientations": "upright", "support": 1.0},
    "fixed": {"orientations": "fixed"},
}


def cut_instance(mode: str, n: int, seed: int, side: int, per_bin: int, constraints: str):
    """The cut instance of ``mode`` with n items and its known-optimal packing."""
    from packzoo.envs.generators import bins_cut, container_cut

    kw = CONSTRAINTS[constraints]
    if mode == "bins":
        k = max(1, round(n / per_bin))
        return bins_cut(n, bin=(side, side, side), k=k, seed=seed, **kw)
    return container_cut(n, container=(side, side, side), mode=mode, seed=seed, **kw)


def sweep(mode: str, args: argparse.Namespace) -> dict:
    """Solve growing n until some instance is not proven within the limit; rows per n."""
    from packzoo.envs import validate
    from packzoo.solvers import create_solver

    solver = create_solver("exact", num_workers=args.workers, hint=not args.no_hint, compact=not args.no_compact)
    rows = []
    n = args.n_start
    while n <= args.n_max:
        recs = []
        for seed in range(args.instances):
            inst, cut = cut_instance(mode, n, seed, args.side, args.per_bin, args.constraints)
            cpu0 = time.process_time()
            sol = solver.solve(inst, seed=0, time_limit=args.time_limit)
            cpu = time.process_time() - cpu0
            # No packing at all is an honest "unknown" (a base-mode support rule can leave every
            # heuristic at a dead end and CP-SAT without a packing in time); an invalid one is a bug.
            errors = validate(sol.packing) if sol.packing is not None else []
            if errors or (sol.packing is None and sol.status != "unknown"):
                raise SystemExit(f"{mode} n={n} seed={seed}: invalid packing {errors[:2]} ({sol.status})")
            if sol.status == "optimal" and sol.packing.objective != cut.objective:
                raise SystemExit(f"{mode} n={n} seed={seed}: 'optimal' {sol.packing.objective} != known {cut.objective}")
            recs.append({
                "seed": seed, "status": sol.status, "optimum": cut.objective,
                "objective": None if sol.packing is None else sol.packing.objective,
                "bound": sol.bound, "seconds": sol.seconds, "cpu_seconds": cpu,
                "deterministic_time": sol.info.get("deterministic_time", 0.0) + sol.info.get("deterministic_time_tie_break", 0.0),
                "hint_optimal": sol.info.get("hint_objective") == cut.objective,
            })
        proven = [r for r in recs if r["status"] == "optimal"]
        row = {"n": n, "proven": len(proven), "count": len(recs),
               "proven_10s": sum(r["seconds"] <= 10.0 for r in proven),
               "hint_optimal": sum(r["hint_optimal"] for r in recs),
               "wall_median": float(np.median([r["seconds"] for r in recs])),
               "wall_max": max(r["seconds"] for r in recs),
               "cpu_median": float(np.median([r["cpu_seconds"] for r in recs])),
               "det_median": float(np.median([r["deterministic_time"] for r in recs])),
               "results": recs}
        rows.append(row)
        print(f"  {mode:9s} n={n:3d}  proven {row['proven']}/{row['count']} (<=10 s: {row['proven_10s']})  "
              f"hint optimal {row['hint_optimal']}/{row['count']}  wall median {row['wall_median']:6.2f} s "
              f"max {row['wall_max']:6.2f} s  CPU median {row['cpu_median']:6.2f} s  det. median {row['det_median']:7.2f}",
              flush=True)
        if row["proven"] < row["count"]:
            break
        n += args.step if n < args.step_switch else 2 * args.step
    # The largest n of the prefix of n's with every instance proven (within 10 s / the limit): a
    # later n proven after a miss does not count.
    largest = {}
    for key in ("proven_10s", "proven"):
        largest[key] = 0
        for r in rows:
            if r[key] < r["count"]:
                break
            largest[key] = r["n"]
    return {"mode": mode, "rows": rows, "largest_n_10s": largest["proven_10s"], "largest_n_limit": largest["proven"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--modes", default="base,container,bins")
    ap.add_argument("--instances", type=int, default=3, help="seeds per n")
    ap.add_argument("--n-start", type=int, default=6)
    ap.add_argument("--step", type=int, default=2)
    ap.add_argument("--step-switch", type=int, default=20, help="above this n the step doubles")
    ap.add_argument("--n-max", type=int, default=80)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--side", type=int, default=10, help="container / bin side (a cube)")
    ap.add_argument("--per-bin", type=int, default=4, help="bins mode: items per bin (k = n / per_bin)")
    ap.add_argument("--constraints", choices=sorted(CONSTRAINTS), default="none")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-hint", action="store_true")
    ap.add_argument("--no-compact", action="store_true", help="without the pushed-packing dominance constraints")
    ap.add_argument("--out", type=Path, default=None, help="write every result as JSON here")
    args = ap.parse_args(argv)
    print(f"exact solver, cut instances, side {args.side}, {args.instances} seeds per n, limit {args.time_limit:g} s, "
          f"{args.workers} workers, hint {'off' if args.no_hint else 'on'}, compact {'off' if args.no_compact else 'on'}, constraints {args.constraints}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
    out = {"args": {k: str(v) for k, v in vars(args).items()}, "modes": []}
    for mode in args.modes.split(","):
        res = sweep(mode, args)
        out["modes"].append(res)
        if args.out is not None:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(args.out, json.dumps(out, indent=1))
    print("\nlargest n with every instance proven optimal:")
    print(f"  {'mode':10s} {'<= 10 s':>8s} {'<= ' + format(args.time_limit, 'g') + ' s':>8s}")
    for res in out["modes"]:
        print(f"  {res['mode']:10s} {res['largest_n_10s']:8d} {res['largest_n_limit']:8d}")
    print(f"(load average at the end {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
