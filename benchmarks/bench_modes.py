"""Quality and speed of the fixed-mode and online heuristics on each mode's generated sets.

    flock /tmp/packzoo-heavy.lock .venv/bin/python benchmarks/bench_modes.py [--instances 20]

Prints one table per instance set: for every heuristic that packs the set's mode, the mean gap
to the known optimum (cut sets: base height 100, container volume 100^3, bins k; the cube's
surface in free mode) or the mean ratio to the mode's bound (uniform-style sets, where no
optimum is known), how often the optimum was reached, the mean utilisation, the mean seconds per
instance, and how many instances ended without a valid packing (base-mode dead ends of the
support rule). Nothing is asserted; the figures are what this machine measured.

Sets:
- ``base-n20``, ``base-n50``, ``container-n20``, ``container-n50``, ``bins-n50``, ``bins-n100``:
  packzoo's named cut sets (a 100^3 container, or k = n // 10 bins, cut into n items, min edge 10).
- the same cuts with constraints: ``+upright+support0.8`` (this side up, 80 % support), drawn with
  the generators' ``orientations`` and ``support`` arguments (the cut packing meets them).
- ``types-container``: Zhao et al. 2021's setting: a 10^3 container, 100 items from the 64 types
  {2..5}^3 in arrival order, 80 % support; the online solvers also run with ``until_misfit``
  (their episode end: the first item that fits nowhere).
- ``types-bins``: 60 items of the same types into 10^3 bins (ratio to the bins bound).
- ``cube-n20``: free mode (the cube's surface is optimal), for the online rules in free mode.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import numpy as np

from packzoo.envs import Instance, instance_set, validate
from packzoo.envs.fixed import PackState, pack_order
from packzoo.envs.generators import MODE_MIN_EDGE, MODE_SIDE, Stream, bins_cut, container_cut
from packzoo.solvers import create_solver, list_solvers, solver_card

OFFLINE_PREFIXES = ("ffd", "bfd", "dblf", "ems", "minheight", "contact")
ONLINE = ("online-bph", "boundary", "lsah", "online-contact")


def types_instances(count: int, n: int, mode: str, seed: int, support: float | None) -> list[Instance]:
    """Zhao et al.'s item distribution: each edge uniform in 2..5, a 10^3 container or bins."""
    out = []
    for k in range(count):
        s = Stream((seed, n, k))
        dims = s.integers(2, 5, 3 * n).reshape(n, 3)
        out.append(Instance(dims, mode=mode, container=(10, 10, 10), support=support))
    return out


def cut_constrained(family: str, n: int, count: int, seed: int) -> list[Instance]:
    side = (MODE_SIDE,) * 3
    kw = {"orientations": "upright", "support": 0.8, "min_edge": MODE_MIN_EDGE}
    if family == "bins":
        return [bins_cut(n, bin=side, k=max(2, n // 10), seed=(seed, n, k), **kw)[0] for k in range(count)]
    return [container_cut(n, container=side, mode=family, seed=(seed, n, k), **kw)[0] for k in range(count)]


def optimum(family: str, inst: Instance) -> float | None:
    """The known optimal objective of a cut instance (None for the uniform-style sets)."""
    if family == "base":
        return float(MODE_SIDE)
    if family == "container":
        return float(MODE_SIDE**3)
    if family == "bins":
        return float(np.ceil(inst.volume / MODE_SIDE**3))  # the cut fills exactly k bins
    if family == "cube":
        return 6.0 * 100**2
    return None


def gap(packing, opt: float | None) -> float:
    """Relative gap to the optimum (container: shortfall of packed volume), else ratio - 1."""
    if opt is None:
        return packing.ratio - 1.0
    if packing.instance.mode == "container":
        return 1.0 - packing.objective / opt
    return packing.objective / opt - 1.0


def solvers_for(mode: str) -> list[str]:
    mine = [f"{p}-{k}" for p in OFFLINE_PREFIXES for k in ("volume", "longest", "surface")]
    mine += ["order-search", *ONLINE]
    names = [n for n in mine if mode in solver_card(n)["modes"]]
    if mode == "free":
        names = ["sort-volume", "lsa-lws", *names]
    return names


def run_set(title: str, family: str, insts: list[Instance], names: list[str], time_limit: float,
            variants: dict[str, dict] | None = None) -> None:
    mode = insts[0].mode
    opt_known = optimum(family, insts[0]) is not None
    print(f"\n### {title} ({len(insts)} instances, mode {mode}, n={insts[0].n})")
    col = "gap to optimum" if opt_known else "ratio to bound - 1"
    print(f"| solver | mean {col} | optimal | utilisation | s / instance | no valid packing |")
    print("|---|---:|---:|---:|---:|---:|")
    runs: list[tuple[str, Callable]] = []
    for name in names:
        params = {"iterations": 10**6} if name == "order-search" else {}
        runs.append((name, lambda name=name, params=params: create_solver(name, **params)))
        for suffix, extra in (variants or {}).items():
            if name in ONLINE:
                runs.append((f"{name} {suffix}", lambda name=name, extra=extra: create_solver(name, **extra)))
    for label, make in runs:
        solver = make()
        solver.solve(insts[0], seed=0, time_limit=time_limit)  # warm-up: compiled kernels
        gaps, hits, utils, secs, failed = [], 0, [], [], 0
        for inst in insts:
            sol = solver.solve(inst, seed=0, time_limit=time_limit)
            secs.append(sol.seconds)
            if sol.packing is None or validate(sol.packing):
                failed += 1
                continue
            g = gap(sol.packing, optimum(family, inst))
            gaps.append(g)
            hits += g <= 1e-12
            utils.append(sol.packing.utilisation)
        mean_gap = f"{100 * np.mean(gaps):.2f} %" if gaps else "-"
        util = f"{100 * np.mean(utils):.1f} %" if utils else "-"
        print(f"| {label} | {mean_gap} | {hits}/{len(insts) - failed} | {util} | {np.mean(secs):.3f} | {failed} |")
        sys.stdout.flush()


def speed(count: int) -> None:
    """Engine speed: placements per second of pack_order (the mode's default rule), and
    mask + place steps per second (what a masked env step costs), on the named cut sets."""
    print("\n### engine speed (PackState; wall-clock and CPU rates, the machine is shared)")
    print("| set | pack_order placements/s (per CPU-s) | mask() + place steps/s | spaces at the busiest step |")
    print("|---|---:|---:|---:|")
    for name in ("base-n100", "container-n100", "bins-n200"):
        insts = instance_set(name, count)
        pack_order(insts[0], range(insts[0].n))  # warm-up: compiled kernels
        t, c, k = time.perf_counter(), time.process_time(), 0
        for inst in insts:
            pack_order(inst, range(inst.n))
            k += inst.n
        wall, cpu = k / (time.perf_counter() - t), k / (time.process_time() - c)
        state, steps, busiest = PackState(insts[0]), 0, 0
        t = time.perf_counter()
        while True:
            acts = np.argwhere(state.mask())
            steps += 1
            busiest = max(busiest, state.spaces.shape[0])
            if not len(acts):
                break
            state.place(*(int(v) for v in acts[0]))
        print(f"| {name} | {wall:,.0f} ({cpu:,.0f}) | {steps / (time.perf_counter() - t):,.0f} | {busiest} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=20, help="instances per set")
    ap.add_argument("--time-limit", type=float, default=2.0, help="seconds for order-search per instance")
    ap.add_argument("--seed", type=int, default=20_260_000, help="seed of the drawn (non-named) sets")
    ap.add_argument("--sets", default="all", help="comma-separated set titles to run, 'speed' for the "
                    "engine speed table (default all)")
    args = ap.parse_args(argv)
    k = args.instances
    print(f"command: .venv/bin/python benchmarks/bench_modes.py --instances {k} --time-limit {args.time_limit} "
          f"--seed {args.seed}" + (f" --sets {args.sets}" if args.sets != "all" else ""))
    print(f"order-search: time_limit={args.time_limit} s per instance (anytime); the others: one constructive pass")
    t0 = time.perf_counter()
    sets: list[tuple[str, str, Callable[[], list[Instance]], dict | None]] = []
    for fam, ns in (("base", (20, 50)), ("container", (20, 50)), ("bins", (50, 100))):
        for n in ns:
            sets.append((f"{fam}-n{n}", fam, lambda fam=fam, n=n: instance_set(f"{fam}-n{n}", k), None))
        n = ns[0]
        sets.append((f"{fam}-n{n}+upright+support0.8", fam,
                     lambda fam=fam, n=n: cut_constrained(fam, n, k, args.seed), None))
    sets.append(("types-container", "types", lambda: types_instances(k, 100, "container", args.seed, 0.8),
                 {"until-misfit": {"until_misfit": True}}))
    sets.append(("types-bins", "types", lambda: types_instances(k, 60, "bins", args.seed + 1, None), None))
    sets.append(("cube-n20", "cube", lambda: instance_set("cube-n20", k), None))
    wanted = None if args.sets == "all" else set(args.sets.split(","))
    for title, fam, make, variants in sets:
        if wanted is not None and title not in wanted:
            continue
        insts = make()
        run_set(title, fam, insts, solvers_for(insts[0].mode), args.time_limit, variants)
    if wanted is None or "speed" in wanted:
        speed(min(k, 5))
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
