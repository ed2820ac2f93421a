"""Pointer-network figures: quality on the held-out sets and speed. Prints; asserts nothing.

    .venv/bin/python benchmarks/bench_ptrnet.py --instances 100           # the README table
    .venv/bin/python benchmarks/bench_ptrnet.py --sizes 8 --instances 20  # quick
    .venv/bin/python benchmarks/bench_ptrnet.py --speed                   # evaluator / decoder speed
    .venv/bin/python benchmarks/bench_ptrnet.py --run runs/ptrnet-n8-imitate  # a training run's model

The table has, per set: random, lsa-lws, the sort rules, local-search given the same time per
instance as ptrnet-sample128, best-order (N=8 and, with --best-order-n10, N=10), and the network's
greedy, sampling, beam and multi-start decodings; ratios are to best-order where known, else to the
best sort rule. Best-order results are cached in runs/best-order-cache.json.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def speed() -> None:
    import torch

    from packzoo.envs import evaluate_orders
    from packzoo.envs.generators import uniform
    from packzoo.zoo import create_model
    from packzoo.zoo.ptrnet import decode as D

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    for n, B in ((10, 128), (10, 1024), (10, 4096)):
        dims = np.stack([uniform(n, seed=(1, i)).dims for i in range(B)])
        orders = np.stack([rng.permutation(n) for _ in range(B)])
        for par in (False, True):
            evaluate_orders(dims, orders, parallel=par)
            t0 = time.perf_counter()
            reps = 5
            for _ in range(reps):
                evaluate_orders(dims, orders, parallel=par)
            dt = (time.perf_counter() - t0) / reps
            print(f"evaluate_orders N={n} B={B} parallel={par}: {B / dt:,.0f} orders/s")
    net = create_model("ptrnet-binpack-n10", pretrained=True)
    dims, n = D.pad([uniform(10, seed=(2, i)) for i in range(128)])
    for name, fn in (
        ("greedy", lambda: D.greedy(net, dims, n)),
        ("beam3", lambda: D.beam_search(net, dims, n, 3)),
        ("sample16", lambda: D.sample_best(net, dims, n, 16)),
    ):
        fn()
        t0 = time.perf_counter()
        fn()
        print(f"decode {name}: {(time.perf_counter() - t0) / 128 * 1e3:.2f} ms per N=10 instance (batch 128)")


def table(sizes: list[int], instances: int, best_order_n10: int, out_json: str | None, runs: list[str] | None = None) -> None:
    import json

    from packzoo.envs.generators import instance_set
    from packzoo.solvers import create_solver
    from packzoo.zoo import create_model
    from packzoo.train.ptrnet import full_evaluation, load_run_model

    nets = []
    for r in runs or []:
        net, meta = load_run_model(r)
        nets.append((int(meta["train"]["n_items"]), net))
    if not runs:
        nets = [(n, create_model(f"ptrnet-binpack-n{n}", pretrained=True)) for n in sizes]
    rows = []
    for n, net in nets:
        bo = True if n == 8 else (best_order_n10 if n == 10 and best_order_n10 else False)
        m = full_evaluation(net, n, instances=instances, beam=(3, 16), best_order=bo, best_order_cache="runs/best-order-cache.json")
        for set_name, r in m.items():
            # local-search with the same wall time per instance as best-of-128 sampling.
            per = r["seconds_per_instance"]["ptrnet-sample128"]
            ls = create_solver("local-search", iterations=10**9)
            insts = instance_set(set_name, instances)
            r["local-search"] = round(float(np.mean([ls.solve(i, seed=0, time_limit=per).packing.surface_area for i in insts])), 2)
            r["local-search_seconds"] = round(per, 4)
            rows.append((set_name, r))
    cols = ["random", "lsa-lws", "sort-volume", "best-sort", "local-search", "best-order",
            "ptrnet-greedy", "ptrnet-sample128", "ptrnet-beam3", "ptrnet-beam16", "ptrnet-multistart"]
    print("mean surface area (lower is better); in brackets: ratio to best-order where known, else to best-sort")
    print("set".ljust(12) + "".join(c.rjust(18) for c in cols))
    for set_name, r in rows:
        ref_key = "best-order" if "best-order" in r and r.get("best-order_instances") == r["instances"] else "best-sort"
        line = set_name.ljust(12)
        for c in cols:
            v = r.get(c)
            line += ("-" if v is None else f"{v:.0f} ({v / r[ref_key]:.3f})").rjust(18)
        print(line)
    if out_json:
        with open(out_json, "w") as f:
            json.dump(dict(rows), f, indent=1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[8, 10, 12])
    p.add_argument("--instances", type=int, default=100)
    p.add_argument("--best-order-n10", type=int, default=0, help="also compute best-order on this many N=10 instances")
    p.add_argument("--speed", action="store_true")
    p.add_argument("--json", help="also write the table's numbers here")
    p.add_argument("--run", action="append", help="evaluate this training run's model (run folder) instead of the zoo's; repeatable")
    a = p.parse_args()
    if a.speed:
        speed()
    else:
        table(a.sizes, a.instances, a.best_order_n10, a.json, a.run)


if __name__ == "__main__":
    main()
