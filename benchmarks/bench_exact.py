"""Benchmark of the exact CP-SAT solver: time to prove optima, share proven, the heuristics' gaps.

Figures (for the README / final report):

- N=8: median and max seconds to prove optimality (``uniform-n8``, 100 instances);
- N=10 and N=12: the share of instances proven optimal within the time limit (60 s);
- the heuristics' true gaps to the proven optima (mean, max), and best-order's split of the gap
  into what the order loses and what the LSA placement rule loses.

Every run goes through ``packzoo gap`` (so through the leaderboard): results are refereed by the
validator, saved under ``--out/<set>/`` and resumed after an interruption. ``--ablation K`` also
measures the model's speed-ups on K instances of uniform-n8 in CP-SAT's deterministic time (one
worker), which does not depend on the machine's load.

Usage (the CPU is shared: run it in the background):
    nohup .venv/bin/python benchmarks/bench_exact.py --sets uniform-n8:100,uniform-n10:20,uniform-n12:20 \
        --time-limit 60 --out results/bench_exact > results/bench_exact.log 2>&1 &
    .venv/bin/python benchmarks/bench_exact.py --ablation 10
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np


def run_sets(spec: str, time_limit: float, num_workers: int, out: Path, solvers: str | None) -> list[dict]:
    from packzoo.solvers.gap import format_gap_table, run_gap

    tables = []
    for part in spec.split(","):
        name, _, count = part.partition(":")
        t0 = time.perf_counter()
        table = run_gap(name, int(count or 100), solvers, time_limit, out / name, seed=0,
                        exact_params={"num_workers": num_workers})
        print(format_gap_table(table))
        print(f"({time.perf_counter() - t0:.0f} s wall, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)\n", flush=True)
        tables.append(table)
    return tables


def exact_effort(board_path: Path) -> str:
    """Wall, CPU and deterministic seconds of exact's proofs: CPU and CP-SAT's deterministic time
    say what the wall time hides on a shared, loaded machine."""
    board = json.loads(board_path.read_text())
    proven = [r for r in board["results"] if r["solver"] == "exact" and r["status"] == "optimal"]
    if not proven:
        return "exact: no proven optimum"

    def fmt(name: str, xs: list[float]) -> str:
        if not xs:
            return f"{name}: -"
        a = np.asarray(xs)
        return f"{name} (n={len(a)}) median {np.median(a):.2f} p90 {np.percentile(a, 90):.2f} max {a.max():.2f}"

    wall = [r["seconds"] for r in proven]
    cpu = [r["info"]["cpu_seconds"] for r in proven if "cpu_seconds" in r.get("info", {})]
    det = [r["info"]["deterministic_time"] + r["info"].get("deterministic_time_tie_break", 0.0)
           for r in proven if "deterministic_time" in r.get("info", {})]
    return "exact proofs: " + "; ".join([fmt("wall s", wall), fmt("CPU s", cpu), fmt("deterministic time", det)])


def ablation(k: int, time_limit: float) -> None:
    """Deterministic time of the full model and of each speed-up switched off (one worker)."""
    from packzoo.envs import instance_set
    from packzoo.solvers import exact as ex

    variants = {
        "full": dict(symmetry=True, redundant=True, hint=True),
        "no redundant": dict(symmetry=True, redundant=False, hint=True),
        "no hint": dict(symmetry=True, redundant=True, hint=False),
        "no symmetry": dict(symmetry=False, redundant=True, hint=True),
    }
    insts = instance_set("uniform-n8", k)
    print(f"ablation on uniform-n8[:{k}], one worker, deterministic time (CP-SAT's load-independent clock), limit {time_limit} s")
    for name, v in variants.items():
        dts, solved = [], 0
        for inst in insts:
            hint, _ = ex._heuristic_packing(inst, 0)
            data = ex.build_data(inst, hint if v["hint"] else None, symmetry=v["symmetry"])
            model, _ = ex.build_model(data, redundant=v["redundant"])
            solver, status = ex.solve_model(model, time_limit=time_limit, num_workers=1, seed=1)
            dts.append(solver.deterministic_time)
            solved += solver.status_name(status) == "OPTIMAL"
        d = np.asarray(dts)
        print(f"  {name:14s} proven {solved}/{k}  dtime median {np.median(d):6.2f}  mean {d.mean():6.2f}  max {d.max():6.2f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="uniform-n8:100,uniform-n10:20,uniform-n12:20", help="SET:COUNT,...")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--num-workers", type=int, default=2)
    ap.add_argument("--solvers", default=None, help="heuristics (default: packzoo gap's)")
    ap.add_argument("--out", default="results/bench_exact")
    ap.add_argument("--ablation", type=int, default=0, help="also run the ablation on this many instances")
    ap.add_argument("--summary-only", action="store_true", help="print the saved gap.json tables, run nothing")
    args = ap.parse_args()
    out = Path(args.out)
    if args.summary_only:
        from packzoo.solvers.gap import format_gap_table

        for part in args.sets.split(","):
            path = out / part.partition(":")[0] / "gap.json"
            if path.exists():
                print(format_gap_table(json.loads(path.read_text())))
                print(exact_effort(out / part.partition(":")[0] / "leaderboard.json") + "\n")
        return
    if args.sets:
        run_sets(args.sets, args.time_limit, args.num_workers, out, args.solvers)
    if args.ablation:
        ablation(args.ablation, args.time_limit)


if __name__ == "__main__":
    main()
