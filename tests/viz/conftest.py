"""Fixtures for the viz tests: a small leaderboard dict that follows the leaderboard schema.

It is built here from the registered ``random`` and ``sort-volume`` solvers (the leaderboard module
is another issue's), so the report can be tested on real packings.
"""

from __future__ import annotations

import numpy as np
import pytest

from packzoo.envs import Packing, Placement, instance_set, lower_bound, validate
from packzoo.solvers import create_solver


def make_leaderboard(set_name: str = "uniform-n8", count: int = 3, solvers=("random", "sort-volume"),
                     corrupt: tuple[str, int] | None = None) -> dict:
    """A leaderboard dict per the schema; ``corrupt=(solver, instance)`` makes that result invalid."""
    instances = instance_set(set_name, count)
    results = []
    for name in solvers:
        solver = create_solver(name)
        for k, inst in enumerate(instances):
            sol = solver.solve(inst, seed=k)
            placements = [p.to_list() for p in sol.packing.placements]
            if corrupt == (name, k):
                placements[1] = placements[0][:1] + placements[1][1:]  # item placed twice, one missing
            packing = Packing(inst, tuple(Placement(*p) for p in placements))
            errors = validate(packing)
            valid = not errors
            lb = lower_bound(inst)
            results.append({
                "solver": name, "instance": k, "seed": k, "status": sol.status, "valid": valid, "errors": errors,
                "surface": packing.surface_area if valid else None,
                "lower_bound": lb, "ratio_lb": packing.surface_area / lb if valid else None,
                "gap": None, "bound": sol.bound, "seconds": sol.seconds, "placements": placements,
            })
    best = []
    for k in range(count):
        vals = [r["surface"] for r in results if r["instance"] == k and r["valid"]]
        best.append({"instance": k, "value": float(min(vals)), "proven": False, "by": "best"})
    for r in results:
        if r["valid"]:
            r["gap"] = r["surface"] / best[r["instance"]]["value"] - 1
    summary = []
    for name in solvers:
        mine = [r for r in results if r["solver"] == name]
        ok = [r for r in mine if r["valid"]]
        summary.append({
            "solver": name, "n": len(mine),
            "mean_surface": float(np.mean([r["surface"] for r in ok])),
            "mean_ratio_lb": float(np.mean([r["ratio_lb"] for r in ok])),
            "mean_gap": float(np.mean([r["gap"] for r in ok])), "max_gap": float(max(r["gap"] for r in ok)),
            "wins": sum(r["gap"] == 0 for r in ok), "mean_seconds": float(np.mean([r["seconds"] for r in mine])),
            "max_seconds": float(max(r["seconds"] for r in mine)), "invalid": len(mine) - len(ok),
        })
    return {
        "set": set_name, "instances": count, "time_limit": 5.0, "seed": 0,
        "versions": {"packzoo": "test", "numpy": np.__version__},
        "solvers": {s: {"params": {}, "card": {"summary": f"{s} solver", "source": "test"}} for s in solvers},
        "best_known": best, "results": results, "summary": summary,
    }


@pytest.fixture(scope="session")
def small_lb() -> dict:
    """random and sort-volume on the first 3 instances of uniform-n8, one random result corrupted."""
    return make_leaderboard(corrupt=("random", 2))


@pytest.fixture(scope="session")
def leaderboard_factory():
    """:func:`make_leaderboard`, for tests that need another set."""
    return make_leaderboard
