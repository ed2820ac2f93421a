"""Held-out metrics of a pointer network against the order rules (and baselines handed in).

Used by the zoo's ``evaluate_model``, by the trainer's ship step (through
:func:`packzoo.train.ptrnet.full_evaluation`, which adds the solvers' lsa-lws and best-order) and
by ``benchmarks/bench_ptrnet.py``. Everything runs on the named sets (uniform-nN, orders-nN),
whose seeds no training run draws.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from packzoo.envs.generators import instance_set
from packzoo.envs.instance import Instance
from packzoo.envs.packing import lower_bound
from packzoo.envs.rules import sort_orders
from packzoo.zoo.ptrnet import decode as D


def evaluate_network(
    model,
    n_items: int,
    *,
    instances: int = 100,
    families: tuple[str, ...] = ("uniform", "orders"),
    samples: int = 128,
    beam: tuple[int, ...] = (3,),
    multistart: bool = True,
    baselines: Mapping[str, Callable[[list[Instance]], np.ndarray]] | None = None,
    per_instance: bool = False,
    seed: int = 0,
) -> dict[str, Any]:
    """Mean surfaces (and ratios) of the network's decodings and the order rules on named sets.

    Returns ``{set_name: {method: mean surface, ...}, ...}``; the method names are the solvers'
    (``ptrnet-greedy``, ``ptrnet-sample128``, ``ptrnet-beam3``, ``sort-volume``, ...), plus
    ``best-sort`` (per instance the best of the three sort rules), ``random`` (one seeded random
    order), the ratios of the network's decodings to them, and seconds per instance of each decoding.

    Args:
        baselines: more methods, ``name -> f(instances) -> surfaces``; the zoo knows no solvers, so
            a caller that wants e.g. the paper's heuristic passes it here.
        per_instance: also return every method's per-instance surfaces under ``"_per_instance"``.
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
        if multistart:
            t0 = time.perf_counter()
            res["ptrnet-multistart"] = D.multistart_greedy(model, dims, n)[1]
            secs["ptrnet-multistart"] = (time.perf_counter() - t0) / len(insts)
        sorts = {f"sort-{k}": D.surfaces(dims, n, o) for k, o in sort_orders(dims).items()}
        res.update(sorts)
        res["best-sort"] = np.min(np.stack(list(sorts.values())), axis=0)
        rng = np.random.default_rng(seed)
        rand = np.stack([rng.permutation(int(k)) for k in n])
        res["random"] = D.surfaces(dims, n, rand)
        for bname, fn in (baselines or {}).items():
            res[bname] = np.asarray(fn(insts))
        m: dict[str, Any] = {k: round(float(v.mean()), 2) for k, v in res.items()}
        m["instances"] = len(insts)
        m["mean_lower_bound"] = round(float(lb.mean()), 2)
        m["seconds_per_instance"] = {k: round(v, 4) for k, v in secs.items()}
        for k in (k for k in res if k.startswith("ptrnet")):
            m[f"{k}/best-sort"] = round(float(res[k].mean() / res["best-sort"].mean()), 4)
            m[f"{k}/sort-volume"] = round(float(res[k].mean() / res["sort-volume"].mean()), 4)
        if per_instance:
            m["_per_instance"] = res
        out[name] = m
    return out
