"""Transfer family: what makes hard mining beat random triplets? Variants of the recipe, one at a time.

On Fashion-MNIST classes 5-9 (the shipped source CNN's frozen features), for labelled pools of
``--pools`` images per tag and ``--seeds``, each variant changes one thing of the default recipe
(the talk's K-NN miner: K = 200, hard negatives drawn at random among the qualifying, positives from
the list, 5 triplets per anchor, 10 epochs, Adam 1e-3, W 128x128 from the identity, no output
normalisation) and is run for the K-NN miner and for random triplets under the same change.
Prints P@1 (mean +- std) and the gain of each over the frozen features.

Run: ``flock /tmp/packzoo-heavy.lock python benchmarks/bench_transfer_ablation.py`` (its own
``--json`` keeps the numbers).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np
import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from bench_transfer import features_of, run_cell, summarise  # noqa: E402

VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "hardest": {"fit": {"choice": "hardest"}},
    "semihard": {"fit": {"kind": "semihard"}},
    "violating": {"fit": {"kind": "violating"}},
    "positives=pool": {"fit": {"positives": "pool"}},
    "1 triplet/anchor": {"fit": {"triplets_per_anchor": 1}},
    "20 triplets/anchor": {"fit": {"triplets_per_anchor": 20}},
    "3 epochs": {"epochs": 3},
    "30 epochs": {"epochs": 30},
    "lr 1e-2": {"fit": {"lr": 1e-2}},
    "lr 1e-2 + hardest": {"fit": {"lr": 1e-2, "choice": "hardest"}},
    "lr 1e-2 + semihard": {"fit": {"lr": 1e-2, "kind": "semihard"}},
    "lr 1e-2 + 30 epochs": {"fit": {"lr": 1e-2}, "epochs": 30},
    "normalised f(x)": {"head": {"normalize": True}},
    "W 128->32": {"head": {"out_dim": 32}},
}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--target", default="fashion59")
    p.add_argument("--pools", default="50,all")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--backbone", default="transfer-cnn-fashion04", help="zoo name or source run folder")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    from packzoo.train.transfer import load_backbone

    cnn, _ = load_backbone(args.backbone)
    feats = features_of(args.target, cnn)
    seeds = [int(s) for s in args.seeds.split(",")]
    out: dict[str, Any] = {}
    for pool in args.pools.split(","):
        pc = None if pool == "all" else int(pool)
        base = summarise([run_cell("identity", feats, cnn, pc, s, 0, {}, 0) for s in seeds])
        print(f"{args.target} {pool}/tag identity P@1 {base['p_at_1']:.4f}", flush=True)
        out[pool] = {"identity": base}
        for v in args.variants.split(","):
            spec = VARIANTS[v]
            row = {}
            for method, fit in (("hard", {"method": "knn", "kind": "hard"}), ("random", {"method": "random"})):
                if method == "random" and spec.get("fit") and set(spec["fit"]) & {"choice", "kind", "positives"}:
                    continue  # the change does not concern random triplets
                cells = [run_cell(method, feats, cnn, pc, s, spec.get("epochs", 10), {**fit, **spec.get("fit", {})}, 0,
                                  spec.get("head")) for s in seeds]
                row[method] = summarise(cells)
            out[pool][v] = row
            text = "  ".join(f"{m} {r['p_at_1']:.4f}+-{r['p_at_1_std']:.4f} ({100 * (r['p_at_1'] - base['p_at_1']):+.1f})"
                             for m, r in row.items())
            print(f"{args.target} {pool:>4s}/tag {v:20s} {text}", flush=True)
    if args.json:
        from packzoo._io import atomic_write_text

        atomic_write_text(args.json, json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    main()
