"""Our solvers on the literature sets, beside every published figure (issue 15).

    flock /tmp/packzoo-heavy.lock .venv/bin/python benchmarks/bench_literature.py \
        [--rr 100] [--jiang 100] [--mpv 20] [--zhao 1000] [--out results/literature] [--only rr,jiang,mpv,zhao]

Every set runs through :func:`packzoo.solvers.leaderboard.run_leaderboard` (every packing
refereed by the validator) into its own resumable folder ``OUT/<set>/``: an interrupted run
resumes where it stopped, and a second run reprints the tables from the stored results. Then a
table per set prints the paper's metric for each of our solvers beside the published figures
(:data:`packzoo.envs.literature.PUBLISHED`), and a summary line per target of issue 15:

- ``rr-n10|20|30|50`` (free; r_RR, 1 = the cube): ``local-search``, ``ptrnet-sample128`` and
  ``lsa-lws`` at 1 s per instance. Target: mean r_RR >= 0.98 at every N within 1 s.
- ``jiang-n20|30|50|100`` (base; r_u): the ``minheight-*`` rules, ``dblf-volume`` and
  ``order-search`` (1 s). Target: above Attend2Pack at every N.
- ``mpv-c1..c9-n50|100|150|200`` (bins, fixed orientation): ``ffd-volume``, ``ffd-surface``,
  ``bfd-volume``, ``ems-volume``, and ``exact`` (CP-SAT, 5 s) on ``mpv-c9-n50``. Target: mean bins
  against the L2 bound per class; class 9 at 3 bins where the exact solver proves it.
- ``zhao-rs|cut1|cut2`` (container, online, support 0.8): ``online-bph``, ``boundary``, ``lsah``,
  ``online-contact``, strictly online (buffer 1) and stopping at the first item that fits nowhere
  (``until_misfit``, Zhao et al.'s episode end); and, beside their offline LBP row, the offline
  ``ems-volume`` and ``dblf-volume`` (the whole sequence sorted; items that fit nowhere stay out).
  Target: at least OnlineBPH's published level.

Means are over the first K instances of each set (K per family from the flags). Nothing is
asserted: the figures are what this machine measured; the wall times share 2 cores with others.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from packzoo._io import atomic_write_text
from packzoo.envs import Packing, Placement, bins_lower_bound, instance_set
from packzoo.envs import literature as L
from packzoo.envs.generators import SET_SIZE
from packzoo.solvers.leaderboard import run_leaderboard

RR_SOLVERS = ("local-search", "ptrnet-sample128", "lsa-lws")
JIANG_SOLVERS = ("minheight-volume", "minheight-surface", "minheight-longest", "dblf-volume", "order-search")
MPV_SOLVERS = ("ffd-volume", "ffd-surface", "bfd-volume", "ems-volume")
ZHAO_SOLVERS = ("online-bph", "boundary", "lsah", "online-contact")
#: Offline comparators for Zhao et al.'s LBP row: they see the whole sequence and reorder it.
ZHAO_OFFLINE = ("ems-volume", "dblf-volume")
#: local-search's default stops after 2000 orders (0.4 s at N = 50): let it use its second.
RR_PARAMS = {"local-search": {"iterations": 1_000_000}}


def plan(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The leaderboard runs: set, instances, solvers, their parameters and the time limit."""
    only = set(args.only.split(","))
    runs: list[dict[str, Any]] = []
    if "rr" in only:
        runs += [dict(set=f"rr-n{n}", k=args.rr, solvers=RR_SOLVERS, params=RR_PARAMS, time_limit=1.0)
                 for n in L.RR_SIZES]
    if "jiang" in only:
        runs += [dict(set=f"jiang-n{n}", k=args.jiang, solvers=JIANG_SOLVERS, params={}, time_limit=1.0)
                 for n in L.JIANG_SIZES]
    if "mpv" in only:
        for c in L.MPV_CLASSES:
            for n in L.MPV_SIZES:
                exact = c == 9 and n == 50
                runs.append(dict(set=f"mpv-c{c}-n{n}", k=args.mpv, solvers=MPV_SOLVERS + (("exact",) if exact else ()),
                                 params={}, time_limit=5.0 if exact else None))
    if "zhao" in only:
        online = {s: {"until_misfit": True} for s in ZHAO_SOLVERS}
        runs += [dict(set=f"zhao-{kind}", k=args.zhao, solvers=ZHAO_SOLVERS + ZHAO_OFFLINE, params=online, time_limit=None)
                 for kind in L.ZHAO_KINDS]
    return runs


def measures(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per solver: the paper's metric over its valid packings (rebuilt from the stored placements),
    plus the extras each family reports, the mean seconds and the invalid count."""
    name = board["set"]
    insts = instance_set(name, board["instances"])
    family = L.parse(name)[0]
    out: dict[str, dict[str, Any]] = {}
    bounds: dict[int, int] = {}  # the L2 bound costs 0.1 s at n = 200: once per instance
    for solver in board["solvers"]:
        rs = [r for r in board["results"] if r["solver"] == solver]
        vals, extra = [], []
        for r in rs:
            if not r["valid"]:
                continue
            inst = insts[r["instance"]]
            pk = Packing(inst, tuple(Placement(*map(int, p)) for p in r["placements"]))
            vals.append(L.set_metric(name, pk))
            if family.startswith("mpv"):
                if r["instance"] not in bounds:
                    bounds[r["instance"]] = bins_lower_bound(inst)
                extra.append((pk.bins_used, bounds[r["instance"]], r["status"]))
            elif family.startswith("zhao"):
                extra.append(L.zhao_measures(pk)[0])
            elif family == "rr":
                extra.append(pk.utilisation)
        secs = [r["seconds"] for r in rs if r["seconds"] is not None]
        row: dict[str, Any] = {"n": len(rs), "valid": len(vals), "mean": float(np.mean(vals)) if vals else None,
                               "min": float(np.min(vals)) if vals else None,
                               "seconds": float(np.mean(secs)) if secs else None, "invalid": len(rs) - len(vals)}
        if family.startswith("mpv") and extra:
            row["bound"] = float(np.mean([b for _, b, _ in extra]))
            row["at_bound"] = sum(u == b for u, b, _ in extra)
            row["ratio"] = float(np.mean([u / b for u, b, _ in extra]))
            row["proven"] = sum(s == "optimal" for _, _, s in extra)
        elif family.startswith("zhao") and extra:
            row["items"] = float(np.mean(extra))
        elif family == "rr" and extra:
            row["utilisation"] = float(np.mean(extra))
        out[solver] = row
    return out


def _f(v: float | None, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def table(name: str, rows: dict[str, dict[str, Any]], k: int, time_limit: float | None) -> str:
    """One set's table: our solvers, then the published figures (the source named below)."""
    family = L.parse(name)[0]
    key = family.split("-")[0]
    metric, higher = L.METRICS[key]
    lim = "no time limit (constructive)" if time_limit is None else f"{time_limit:g} s per instance"
    lines = [f"{name}: {k} instances, {lim}; metric {metric} ({'higher' if higher else 'lower'} is better)"]
    if key == "mpv":
        head = f"  {'method':34s} {'bins':>7s} {'L2 bound':>9s} {'bins/LB':>8s} {'at LB':>6s} {'mean s':>8s} {'invalid':>7s}"
        lines += [head, "  " + "-" * (len(head) - 2)]
        for s, r in rows.items():
            lines.append(f"  {s:34s} {_f(r['mean'], '.2f'):>7s} {_f(r.get('bound'), '.2f'):>9s} "
                         f"{_f(r.get('ratio'), '.4f'):>8s} {r.get('at_bound', 0):>6d} {_f(r['seconds'], '.3f'):>8s} "
                         f"{r['invalid']:>7d}")
            if s == "exact":
                lines.append(f"  {'':34s} exact proved optimal on {r.get('proven', 0)} of {r['n']}")
        if family == "mpv-c9":
            lines.append(f"  {'known optimum (cut from 3 bins)':34s} {3.0:7.2f}")
        return "\n".join(lines)
    extra_name = {"zhao": "items", "rr": "util"}.get(key)
    head = f"  {'method':46s} {metric:>12s} {'min':>7s}" + (f" {extra_name:>7s}" if extra_name else "") \
        + f" {'mean s':>8s} {'invalid':>7s}"
    lines += [head, "  " + "-" * (len(head) - 2)]
    for s, r in sorted(rows.items(), key=lambda kv: -(kv[1]["mean"] or 0)):
        ex = {"zhao": r.get("items"), "rr": r.get("utilisation")}.get(key)
        who = "ours (offline): " if key == "zhao" and s in ZHAO_OFFLINE else "ours: "
        lines.append(f"  {who + s:46s} {_f(r['mean'], '.4f'):>12s} {_f(r['min'], '.4f'):>7s}"
                     + (f" {_f(ex, '.2f' if key == 'zhao' else '.3f'):>7s}" if extra_name else "")
                     + f" {_f(r['seconds'], '.3f'):>8s} {r['invalid']:>7d}")
    for method, v in L.PUBLISHED.get(name, {}).items():
        ex = (L.PUBLISHED_ITEMS.get(name, {}).get(method) if key == "zhao"
              else (L.RR_ATTEND2PACK_UTILISATION.get(name) if key == "rr" and method == "Attend2Pack" else None))
        lines.append(f"  {'published: ' + method:46s} {v:12.4f} {'':>7s}"
                     + (f" {_f(ex, '.2f' if key == 'zhao' else '.3f'):>7s}" if extra_name else ""))
    return "\n".join(lines)


def targets(results: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    """Issue 15's targets, met or missed, from the measured means."""
    out = []
    rr = {n: r for n, r in results.items() if n.startswith("rr-")}
    if rr:
        for s in RR_SOLVERS:
            got = {n: r[s]["mean"] for n, r in rr.items() if s in r}
            best_pub = {n: max(L.PUBLISHED[n].values()) for n in got}
            out.append(f"rr, {s}: mean r_RR " + ", ".join(f"{n} {v:.4f}" for n, v in got.items())
                       + f"; >= 0.98 at every N: {'yes' if all(v >= 0.98 for v in got.values()) else 'NO'}"
                       + f"; above every published figure: {'yes' if all(v > best_pub[n] for n, v in got.items()) else 'NO'}")
    jiang = {n: r for n, r in results.items() if n.startswith("jiang-")}
    if jiang:
        best = {n: max(r.items(), key=lambda kv: kv[1]["mean"] or 0) for n, r in jiang.items()}
        out.append("jiang, best of ours vs Attend2Pack: " + ", ".join(
            f"{n} {s} {r['mean']:.4f} vs {L.PUBLISHED[n]['Attend2Pack']:.3f}"
            f" ({'above' if r['mean'] > L.PUBLISHED[n]['Attend2Pack'] else 'BELOW'})" for n, (s, r) in best.items()))
    mpv = {n: r for n, r in results.items() if n.startswith("mpv-")}
    if mpv:
        for c in L.MPV_CLASSES:
            cls = {n: r for n, r in mpv.items() if n.startswith(f"mpv-c{c}-")}
            if not cls:
                continue
            parts = []
            for n, r in cls.items():
                s, best = min(((s, x) for s, x in r.items() if s != "exact"), key=lambda kv: kv[1]["ratio"])
                parts.append(f"n{n.rsplit('-n', 1)[1]} {best['mean']:.2f}/{best['bound']:.2f} ({s})")
            out.append(f"mpv class {c}, best heuristic bins / L2 bound: " + ", ".join(parts))
        ex = mpv.get("mpv-c9-n50", {}).get("exact")
        if ex:
            out.append(f"mpv class 9, n50, exact (5 s): mean {ex['mean']:.2f} bins; 3 bins on {ex['at_bound']} of "
                       f"{ex['n']}, proven optimal on {ex['proven']}")
    zhao = {n: r for n, r in results.items() if n.startswith("zhao-")}
    if zhao:
        for s in ZHAO_SOLVERS:
            got = {n: r[s]["mean"] for n, r in zhao.items() if s in r}
            out.append(f"zhao, {s}: " + ", ".join(
                f"{n} {v:.3f} vs OnlineBPH {L.PUBLISHED[n]['OnlineBPH']:.3f}"
                f" ({'at/above' if v >= L.PUBLISHED[n]['OnlineBPH'] else 'below'})" for n, v in got.items()))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rr", type=int, default=100, help="instances per rr set")
    p.add_argument("--jiang", type=int, default=100, help="instances per jiang set")
    p.add_argument("--mpv", type=int, default=20, help="instances per mpv set")
    p.add_argument("--zhao", type=int, default=1000, help="instances per zhao set")
    p.add_argument("--only", default="rr,jiang,mpv,zhao", help="families to run, comma-separated")
    p.add_argument("--out", default="results/literature", help="folder of the per-set leaderboards")
    args = p.parse_args(argv)
    for fam in ("rr", "jiang", "mpv", "zhao"):
        if not 1 <= getattr(args, fam) <= SET_SIZE:
            p.error(f"--{fam} must be 1..{SET_SIZE} (a named set holds {SET_SIZE} instances)")
    out = Path(args.out)
    command = "flock /tmp/packzoo-heavy.lock .venv/bin/python benchmarks/bench_literature.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    results: dict[str, dict[str, dict[str, Any]]] = {}
    t0 = time.perf_counter()
    for run in plan(args):
        t = time.perf_counter()
        board = run_leaderboard(run["set"], run["k"], list(run["solvers"]), run["time_limit"], out / run["set"],
                                params={s: v for s, v in run["params"].items() if s in run["solvers"]},
                                progress=False)
        results[run["set"]] = measures(board)
        print(table(run["set"], results[run["set"]], board["instances"], run["time_limit"]))
        print(f"  ({board['reused']} results reused; {time.perf_counter() - t:.0f} s)\n", flush=True)
    print("Targets (issue 15):")
    for line in targets(results):
        print("  " + line)
    print("\nSources of the published figures:")
    for fam in sorted({n.split("-")[0] for n in results}):
        print(f"  {fam}: {L.PUBLISHED_SOURCES[fam]}")
    print(f"\nTotal {time.perf_counter() - t0:.0f} s. Command: {command}")
    atomic_write_text(out / "summary.json", json.dumps({"command": command, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
