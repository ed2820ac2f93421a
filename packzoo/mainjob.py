"""The main job (``make run`` / ``packzoo`` / ``packzoo run``): a seeded default leaderboard.

It runs the heuristics (and the CP-SAT ``exact`` solver with a short time limit, when it is
registered) on the first instances of ``uniform-n8``, checks every packing with the validator,
prints the table and writes ``results/leaderboard.json``, ``results/leaderboard.csv`` and the offline
HTML report ``report.html``. It takes
about a minute on two cores; an interrupted run resumes from ``results/leaderboard.partial.jsonl``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from packzoo.solvers import list_solvers
from packzoo.solvers.leaderboard import (
    PARTIAL,
    add_backend_args,
    default_heuristics,
    exit_code,
    format_table,
    load_set,
    run_leaderboard,
    set_mode,
)

DEFAULT_SET = "uniform-n8"
DEFAULT_INSTANCES = 20
# The heuristics finish in well under a second on 8 items; the limit is really the exact solver's.
DEFAULT_TIME_LIMIT = 2.0
# A few of the zoo's learned solvers (not all: the beams and the placement agent add minutes), so
# the main job shows every kind of solver side by side.
LEARNED = ["ptrnet-greedy", "ptrnet-sample128", "sb3-maskppo-n10"]


def default_solvers(mode: str = "free") -> list[str]:
    """The heuristics of ``mode`` (:func:`packzoo.solvers.leaderboard.default_heuristics`), the
    learned solvers above, and every exact solver."""
    return default_heuristics(mode) + [n for n in LEARNED if n in list_solvers(mode=mode)] + list_solvers(kind="exact", mode=mode)


def cli(argv: list[str]) -> int:
    """Run the default leaderboard and print its table."""
    p = argparse.ArgumentParser(prog="packzoo run", description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", default="results", help="output folder")
    p.add_argument("--set", dest="set_name", default=DEFAULT_SET, help="instance set")
    p.add_argument("--instances", type=int, default=DEFAULT_INSTANCES, help="how many instances of the set (the first ones)")
    p.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT, help="seconds per solve")
    p.add_argument("--solvers", default=None, help="comma-separated solvers; none given: every heuristic, three learned solvers and exact")
    p.add_argument("--seed", type=int, default=0, help="the run's seed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_backend_args(p)
    p.add_argument("--report", default="report.html", help="HTML report path")
    p.add_argument("--no-report", action="store_true", help="skip the HTML report")
    args = p.parse_args(argv)
    if args.solvers:
        solvers = args.solvers
    else:  # every solver that packs the set's mode
        insts, _, _ = load_set(args.set_name, args.instances)
        solvers = ",".join(default_solvers(set_mode(insts)))
    board = run_leaderboard(
        args.set_name, args.instances, solvers, args.time_limit, args.out, args.seed, progress=not args.no_progress,
        jobs=args.jobs, backend=args.backend, address=args.address,
    )
    print(f"packzoo main job: {board['set']}, {board['instances']} instances, time limit {board['time_limit']} s, "
          f"seed {board['seed']} ({board['reused']} results reused from {Path(args.out) / PARTIAL})")
    print(format_table(board["summary"], board.get("mode", "free")))
    out = Path(args.out)
    print(f"wrote {out / 'leaderboard.json'} and {out / 'leaderboard.csv'}")
    if not args.no_report:
        from packzoo.viz import report

        logs = sorted(Path("runs").glob("*/metrics.csv")) if Path("runs").is_dir() else []
        print(f"wrote {report(board, args.report, training_logs=logs, zoo=True)}")
    return exit_code(board)
