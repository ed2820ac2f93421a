"""The heuristics' true optimality gap: ``packzoo gap``.

Runs the ``exact`` CP-SAT solver next to the heuristics through the leaderboard (so every packing
is refereed by the validator, results are saved in the leaderboard's format, and an interrupted
run resumes), then measures each heuristic against the *proven* optimum of every instance that
``exact`` closed. Instances it did not close within the time limit are counted but left out of
the gaps (their best known value is not proven).

``best-order`` (the best of all item orders under the LSA placement rule) splits a heuristic's gap
in two: ``order loss`` = heuristic / best-order - 1 is what its order loses against the best
order under the same rule; ``placement loss`` = best-order / optimum - 1 is what the LSA rule
loses even with the best order. (1 + gap) = (1 + order loss)(1 + placement loss) per instance.

Files in ``--out``: the leaderboard's ``leaderboard.json``, ``leaderboard.csv`` and partial file,
and ``gap.json`` with the table below.

Example:
    packzoo gap --set uniform-n8 --instances 100 --time-limit 60 --out results/gap
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from packzoo._io import atomic_write_text
from packzoo.solvers.backends import default_jobs
from packzoo.solvers.base import create_solver

REFERENCE = "best-order"


def _stats(xs: list[float]) -> dict[str, float | None]:
    if not xs:
        return {"mean": None, "median": None, "max": None}
    a = np.asarray(xs, dtype=np.float64)
    return {"mean": float(a.mean()), "median": float(np.median(a)), "max": float(a.max())}


def gap_table(board: dict[str, Any], exact: str = "exact") -> dict[str, Any]:
    """Gaps to the proven optima from a leaderboard dict that includes ``exact``.

    Returns:
        ``{"proven": k, "instances": n, "exact_seconds": {...}, "rows": [...]}``; one row per
        other solver: ``n`` (instances with a proven optimum and a valid result), ``optimal``
        (share of them solved to optimality), ``gap`` (mean/median/max of surface / optimum - 1),
        and, when best-order ran, ``order_loss`` and ``placement_loss`` (see the module docstring).
    """
    results = board["results"]
    by = {(r["solver"], r["instance"]): r for r in results}
    n_inst = board["instances"]
    opt: dict[int, int] = {}
    for k in range(n_inst):
        r = by.get((exact, k))
        if r is not None and r["valid"] and r["status"] == "optimal":
            opt[k] = r["surface"]
    secs = [by[(exact, k)]["seconds"] for k in range(n_inst) if (exact, k) in by and by[(exact, k)]["seconds"] is not None]
    proven_secs = [by[(exact, k)]["seconds"] for k in opt]
    solvers = [s for s in board["solvers"] if s != exact]
    rows = []
    for s in solvers:
        gaps, order_loss, place_loss, hits = [], [], [], 0
        for k, v in opt.items():
            r = by.get((s, k))
            if r is None or not r["valid"]:
                continue
            g = r["surface"] / v - 1.0
            gaps.append(g)
            hits += r["surface"] == v
            ref = by.get((REFERENCE, k))
            if s != REFERENCE and ref is not None and ref["valid"] and _lsa_based(board, s):
                order_loss.append(r["surface"] / ref["surface"] - 1.0)
                place_loss.append(ref["surface"] / v - 1.0)
        row: dict[str, Any] = {"solver": s, "n": len(gaps), "optimal": hits / len(gaps) if gaps else None, "gap": _stats(gaps)}
        if order_loss:
            row["order_loss"] = _stats(order_loss)
            row["placement_loss"] = _stats(place_loss)
        rows.append(row)
    return {
        "set": board["set"],
        "instances": n_inst,
        "proven": len(opt),
        "time_limit": board["time_limit"],
        "exact_seconds": {**_stats(secs), "proven": _stats(proven_secs)},
        "rows": rows,
    }


def _lsa_based(board: dict[str, Any], solver: str) -> bool:
    """Whether ``solver`` packs with the LSA rule (so best-order's split applies to it)."""
    params = board["solvers"].get(solver, {}).get("params", {})
    return params.get("placement", "lsa") == "lsa" and solver != "extreme-points"


def run_gap(
    set_name: str = "uniform-n8",
    instances: int = 100,
    solvers: str | Sequence[str] | None = None,
    time_limit: float | None = 60.0,
    out: str | os.PathLike | None = "results/gap",
    seed: int = 0,
    *,
    exact_params: dict[str, Any] | None = None,
    progress: bool = True,
    jobs: int | None = 1,
    backend: str = "local",
    address: str | None = None,
) -> dict[str, Any]:
    """Run ``exact`` and ``solvers`` on a named set through the leaderboard; return the gap table.

    Args:
        set_name: named instance set (``uniform-n8`` ...).
        instances: how many of its instances.
        solvers: heuristics to measure (default: every registered heuristic).
        time_limit: seconds per solve, for ``exact`` too.
        out: folder for the leaderboard files and ``gap.json`` (None: write nothing).
        seed: the run's seed.
        exact_params: hyperparameters of ``exact`` (e.g. ``{"num_workers": 2}``).
        progress: tqdm progress bar.
        jobs: worker processes, as in :func:`~packzoo.solvers.leaderboard.run_leaderboard` (None:
            every CPU divided by ``exact``'s CP-SAT workers, so its threads do not oversubscribe;
            on Ray, every CPU for the local Ray).
        backend: ``local`` or ``ray`` (on Ray an ``exact`` task reserves one CPU per CP-SAT worker).
        address: the Ray cluster to join (None: ``RAY_ADDRESS``, else a local Ray).

    Raises:
        ValueError: bad set, solver or limits (from the leaderboard), or ``exact`` among ``solvers``.
    """
    from packzoo.solvers.leaderboard import default_heuristics, run_leaderboard

    if solvers is None:
        names = default_heuristics("free")
    elif isinstance(solvers, str):
        names = [s.strip() for s in solvers.split(",") if s.strip()]
    else:
        names = [str(s) for s in solvers]
    if "exact" in names:
        raise ValueError("do not list 'exact' among the solvers: it always runs, as the reference")
    exact_params = dict(exact_params or {})
    if jobs is None and backend == "ray":
        jobs = default_jobs()  # a local Ray's CPUs: each exact task reserves num_workers of them
    elif jobs is None:
        threads = exact_params.get("num_workers", create_solver("exact").get_params().get("num_workers", 1))
        jobs = max(1, default_jobs() // max(1, int(threads or 1)))
    board = run_leaderboard(
        set_name, instances, ["exact", *names], time_limit, out, seed,
        params={"exact": exact_params}, progress=progress, jobs=jobs, backend=backend, address=address,
    )
    table = gap_table(board)
    table["seed"] = board["seed"]
    table["exact_params"] = board["solvers"]["exact"]["params"]
    if out is not None:
        atomic_write_text(Path(out) / "gap.json", json.dumps(table, indent=1))
    return table


def format_gap_table(table: dict[str, Any]) -> str:
    """The gap table as fixed-width text."""
    es = table["exact_seconds"]["proven"]

    def pct(v):
        return "      -" if v is None else f"{100 * v:6.2f}%"

    def sec(v):
        return "-" if v is None else f"{v:.2f}"

    lines = [
        f"{table['set']}: exact proved {table['proven']}/{table['instances']} optima within {table['time_limit']} s "
        f"(seconds to prove: median {sec(es['median'])}, max {sec(es['max'])})",
        f"{'solver':16s} {'n':>4s} {'optimal':>8s} {'mean gap':>9s} {'max gap':>8s} {'order loss':>11s} {'LSA loss':>9s}",
    ]
    lines.append("-" * len(lines[-1]))
    for r in sorted(table["rows"], key=lambda r: (r["gap"]["mean"] is None, r["gap"]["mean"] or 0.0)):
        ol = r.get("order_loss", {}).get("mean")
        pl = r.get("placement_loss", {}).get("mean")
        lines.append(
            f"{r['solver']:16s} {r['n']:4d} {pct(r['optimal'])} {pct(r['gap']['mean'])}  {pct(r['gap']['max'])} "
            f"    {pct(ol)}   {pct(pl)}"
        )
    lines.append("gap = surface / proven optimum - 1; order loss = surface / best-order - 1; "
                 "LSA loss = best-order / optimum - 1 (means over the proven instances)")
    return "\n".join(lines)


def build_parser(prog: str = "packzoo gap") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="The heuristics' gap to CP-SAT's proven optima.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--set", dest="set_name", default="uniform-n8", help="instance set (uniform-n8|10|12, orders-..., cube-...)")
    p.add_argument("--instances", type=int, default=100, help="how many instances of the set (the first ones)")
    p.add_argument("--solvers", default=None, help="comma-separated heuristics; none given: every registered heuristic")
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve (exact included)")
    p.add_argument("--num-workers", type=int, default=2, help="CP-SAT workers of exact")
    p.add_argument("--out", default="results/gap", help="output folder")
    p.add_argument("--seed", type=int, default=0, help="the run's seed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    from packzoo.solvers.leaderboard import add_backend_args

    add_backend_args(p, jobs_help="worker processes, or the CPUs of a local Ray (default: every CPU this process may use "
                                  "divided by --num-workers, so CP-SAT's threads do not oversubscribe; 1 solves in this process)%(default).0s")
    return p


def cli(argv: list[str]) -> int:
    """``packzoo gap ...``: see :func:`build_parser`."""
    args = build_parser().parse_args(argv)
    table = run_gap(
        args.set_name, args.instances, args.solvers, args.time_limit, args.out, args.seed,
        exact_params={"num_workers": args.num_workers}, progress=not args.no_progress,
        jobs=args.jobs, backend=args.backend, address=args.address,
    )
    print(format_gap_table(table))
    print(f"wrote {Path(args.out) / 'gap.json'} and the leaderboard files in {args.out}")
    return 0
