"""Held-out metrics of a pointer network against the order heuristics and the best order.

Used by the zoo's ``evaluate_model``, by the export step of the trainer (the numbers in the weights
cards) and by ``benchmarks/bench_ptrnet.py``. Everything runs on the named sets (uniform-nN,
orders-nN), whose seeds no training run draws.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from packzoo.envs.generators import instance_set
from packzoo.envs.packing import lower_bound
from packzoo.zoo.ptrnet import decode as D

SORT_RULES = ("volume", "longest", "surface")


def small_slice_metric(model, n_items: int, count: int = 10) -> float:
    """Greedy mean surface on the first ``count`` instances of ``uniform-n{n_items}``.

    The weights card stores this number; the test recomputes it the same way and must match.
    """
    insts = instance_set(f"uniform-n{n_items}", count)
    dims, n = D.pad(insts)
    return float(D.surfaces(dims, n, D.greedy(model, dims, n)).mean())


def _sort_surfaces(dims: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
    from packzoo.zoo.ptrnet.train import _sort_rule_orders

    return {f"sort-{k}": D.surfaces(dims, n, o) for k, o in _sort_rule_orders(dims).items()}


def best_order_surfaces(
    set_name: str, count: int, cache: str | os.PathLike | None = None, time_limit: float = 120.0
) -> tuple[np.ndarray, bool]:
    """The best-order (all orders under LSA) surface of the first ``count`` instances of a set.

    Uses the registered ``best-order`` solver; results are cached in the JSON file ``cache`` (it is
    slow: about a second per instance at N=8, much more at N=10). Entries that hit the time limit
    are stored with their surface and flagged, and reported as such.

    Returns:
        (surfaces (count,), True if every one is the proven best order).
    """
    from packzoo.envs.instance import Instance
    from packzoo.solvers import create_solver

    data: dict[str, Any] = {}
    if cache is not None and Path(cache).exists():
        data = json.loads(Path(cache).read_text())
    rows = data.setdefault(set_name, {})
    insts = instance_set(set_name, count)
    solver = create_solver("best-order")
    changed = False
    for k, inst in enumerate(insts):
        if str(k) in rows:
            continue
        sol = solver.solve(Instance(inst.dims), seed=0, time_limit=time_limit)
        rows[str(k)] = {"surface": int(sol.packing.surface_area), "optimal": bool(sol.info.get("order_optimal", False)), "seconds": round(sol.seconds, 2)}
        changed = True
        if cache is not None:  # after every instance: at N=10 one can take minutes
            from packzoo._io import atomic_write_text

            atomic_write_text(cache, json.dumps(data, indent=1, sort_keys=True))
    if cache is not None and changed:
        from packzoo._io import atomic_write_text

        atomic_write_text(cache, json.dumps(data, indent=1, sort_keys=True))
    return np.array([rows[str(k)]["surface"] for k in range(count)], dtype=np.int64), all(rows[str(k)]["optimal"] for k in range(count))


def cached_best_order_count(sets: list[str], cache: str | os.PathLike) -> int:
    """How many leading instances of every set in ``sets`` have a best-order result in ``cache``."""
    if not Path(cache).exists():
        return 0
    data = json.loads(Path(cache).read_text())
    counts = []
    for name in sets:
        rows = data.get(name, {})
        k = 0
        while str(k) in rows:
            k += 1
        counts.append(k)
    return min(counts) if counts else 0


def evaluate_network(
    model,
    n_items: int,
    *,
    instances: int = 100,
    families: tuple[str, ...] = ("uniform", "orders"),
    samples: int = 128,
    beam: tuple[int, ...] = (3,),
    best_order: bool | int = False,
    best_order_cache: str | os.PathLike | None = None,
    lsa_lws: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """Mean surfaces (and ratios) of the network's decodings and the baselines on named sets.

    Returns ``{set_name: {method: mean surface, ...}, ...}``; the method names are the solvers'
    (``ptrnet-greedy``, ``ptrnet-sample128``, ``ptrnet-beam3``, ``sort-volume``, ...), plus
    ``best-sort`` (per instance the best of the three sort rules), ``best-order`` when asked for
    (``best_order`` = True, or a count of instances to compute it on), the ratios of the network's
    decodings to them, and seconds per instance of each decoding.
    """
    out: dict[str, Any] = {}
    for fam in families:
        name = f"{fam}-n{n_items}"
        insts = instance_set(name, instances)
        dims, n = D.pad(insts)
        lb = np.array([lower_bound(i) for i in insts])
        res: dict[str, np.ndarray] = {}
        secs: dict[str, float] = {}
        D.greedy(model, dims[:1], n[:1])  # warm-up (numba, torch), so the timings are steady-state
        t0 = time.perf_counter()
        res["ptrnet-greedy"] = D.surfaces(dims, n, D.greedy(model, dims, n))
        secs["ptrnet-greedy"] = (time.perf_counter() - t0) / len(insts)
        if samples:
            t0 = time.perf_counter()
            res[f"ptrnet-sample{samples}"] = np.concatenate(
                [D.sample_best(model, dims[i : i + 8], n[i : i + 8], samples, seed=seed)[1] for i in range(0, len(insts), 8)]
            )
            secs[f"ptrnet-sample{samples}"] = (time.perf_counter() - t0) / len(insts)
        for w in beam:
            t0 = time.perf_counter()
            res[f"ptrnet-beam{w}"] = D.beam_search(model, dims, n, w)[1]
            secs[f"ptrnet-beam{w}"] = (time.perf_counter() - t0) / len(insts)
        t0 = time.perf_counter()
        res["ptrnet-multistart"] = D.multistart_greedy(model, dims, n)[1]
        secs["ptrnet-multistart"] = (time.perf_counter() - t0) / len(insts)
        sorts = _sort_surfaces(dims, n)
        res.update(sorts)
        res["best-sort"] = np.min(np.stack(list(sorts.values())), axis=0)
        rng = np.random.default_rng(seed)
        rand = np.stack([rng.permutation(int(k)) for k in n])
        res["random"] = D.surfaces(dims, n, rand)
        if lsa_lws:
            try:
                from packzoo.solvers import create_solver

                s = create_solver("lsa-lws")
                res["lsa-lws"] = np.array([s.solve(i, seed=0).packing.surface_area for i in insts])
            except KeyError:
                pass
        m: dict[str, Any] = {k: round(float(v.mean()), 2) for k, v in res.items()}
        m["instances"] = len(insts)
        m["mean_lower_bound"] = round(float(lb.mean()), 2)
        m["seconds_per_instance"] = {k: round(v, 4) for k, v in secs.items()}
        nets = [k for k in res if k.startswith("ptrnet")]
        for k in nets:
            m[f"{k}/best-sort"] = round(float(res[k].mean() / res["best-sort"].mean()), 4)
            m[f"{k}/sort-volume"] = round(float(res[k].mean() / res["sort-volume"].mean()), 4)
        if best_order:
            cnt = len(insts) if best_order is True else min(int(best_order), len(insts))
            bo, exact = best_order_surfaces(name, cnt, best_order_cache)
            m["best-order"] = round(float(bo.mean()), 2)
            m["best-order_instances"] = cnt
            m["best-order_complete"] = exact
            for k in nets + ["sort-volume", "best-sort", "random"] + (["lsa-lws"] if "lsa-lws" in res else []):
                m[f"{k}/best-order"] = round(float(res[k][:cnt].mean() / bo.mean()), 4)
        out[name] = m
    return out
