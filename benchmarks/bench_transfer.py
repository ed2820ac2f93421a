"""Transfer family: precision@1 / MAP@R / k-NN accuracy of every method against the labels per tag.

For each target (Fashion-MNIST classes 5-9, digits at 28x28), labelled pools of 10 / 50 / 200 /
all images per tag and seeds 0, 1, 2 (the pool's draw and every miner's), on the shipped source CNN
``transfer-cnn-fashion04``'s frozen features:

- ``identity``: W = I on the standardised features;
- ``hard``: the talk's K-NN miner (K = 200, lists refreshed every epoch, hard negatives);
- ``random``: random triplets; ``batch-hard`` / ``batch-semihard``: pytorch-metric-learning's
  in-batch TripletMarginMiner; all with the talk's loss, the same head, Adam, epochs and anchors
  per step;
- ``finetune``: the CNN's last stage and feature layer retrained with cross-entropy.

Prints mean +- std over the seeds and the wall/CPU seconds of each cell. ``--write-card`` stores the
table in the source CNN's card (``extra["sweep"]``) for the report's picture (the weights and their
sha256 are unchanged). Run under the shared lock: ``flock /tmp/packzoo-heavy.lock python
benchmarks/bench_transfer.py --write-card`` (about 15 CPU-minutes with the defaults).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from typing import Any

import numpy as np
import torch

from packzoo.zoo.transfer.fit import FitConfig, TransformTrainer

METHODS: dict[str, dict[str, Any]] = {
    "identity": {"method": "identity"},
    "hard": {"method": "knn", "kind": "hard"},
    "random": {"method": "random"},
    "batch-hard": {"method": "batch-hard"},
    "batch-semihard": {"method": "batch-semihard"},
    "finetune": {},
}


def features_of(target: str, cnn: Any, layer: str = "fc") -> dict[str, Any]:
    from packzoo.zoo.transfer.cnn import extract_features
    from packzoo.zoo.transfer.data import target_domain

    dom = target_domain(target)
    return {"dom": dom, "layer": layer, "pool_x": extract_features(cnn, dom.pool_images, layer),
            "pool_y": torch.from_numpy(dom.pool_labels),
            "test_x": extract_features(cnn, dom.test_images, layer), "test_y": torch.from_numpy(dom.test_labels)}


def run_cell(method: str, feats: dict[str, Any], cnn: Any, per_class: int | None, seed: int, epochs: int,
             fit_overrides: dict[str, Any], ft_max_steps: int, head: dict[str, Any] | None = None) -> dict[str, float]:
    """One method on one labelled pool: held-out metrics and the seconds it took."""
    from packzoo.train.transfer import evaluate_head
    from packzoo.zoo.transfer.cnn import extract_features
    from packzoo.zoo.transfer.data import labelled_subset
    from packzoo.zoo.transfer.finetune import FinetuneConfig, finetune

    sub = torch.from_numpy(labelled_subset(feats["pool_y"].numpy(), per_class, seed))
    x, y = feats["pool_x"][sub], feats["pool_y"][sub]
    t0, c0 = time.perf_counter(), time.process_time()
    extra: dict[str, float] = {}
    if method == "finetune":
        ft = finetune(cnn, feats["dom"].pool_images[sub.numpy()], y.numpy(),
                      FinetuneConfig(epochs=epochs, max_steps=ft_max_steps), seed=seed)
        x = extract_features(ft, feats["dom"].pool_images[sub.numpy()], feats["layer"])
        test_x = extract_features(ft, feats["dom"].test_images, feats["layer"])
        trainer = TransformTrainer(x, y, FitConfig(method="identity"), seed=seed)
        extra["steps"] = float(ft.finetune_steps)
    else:
        test_x = feats["test_x"]
        from packzoo.zoo.transfer.head import TransformConfig

        spec = {**METHODS.get(method, {}), **fit_overrides}
        head_cfg = TransformConfig(**{"in_dim": x.shape[1], "out_dim": x.shape[1], **(head or {})})
        trainer = TransformTrainer(x, y, FitConfig(**spec), head_cfg, seed=seed)
        if spec["method"] != "identity":
            steps = 0.0
            for _ in range(epochs):
                steps += trainer.epoch()["steps"]
            extra["steps"] = steps
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    res = evaluate_head(trainer.head.eval(), x, y, test_x, feats["test_y"])["test"]
    return {**res, **extra, "seconds": seconds, "cpu_seconds": cpu}


def summarise(rows: list[dict[str, float]]) -> dict[str, float]:
    out = {}
    for key in ("p_at_1", "map_at_r", "knn_acc", "seconds", "cpu_seconds", "steps"):
        vals = [r[key] for r in rows if key in r]
        if vals:
            out[key] = float(np.mean(vals))
            out[key + "_std"] = float(np.std(vals))
    out["seeds"] = len(rows)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--targets", default="fashion59,digits,fashion59@stage3-2x2,digits@stage3-2x2",
                   help="targets, each optionally @layer of the CNN's features (default: %(default)s)")
    p.add_argument("--pools", default="10,50,200,all")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--ft-max-steps", type=int, default=600, help="cap on fine-tuning steps (0 = none)")
    p.add_argument("--fit", default="{}", help="JSON overrides of FitConfig for the triplet methods")
    p.add_argument("--write-card", action="store_true", help="store the table in the source CNN's card")
    p.add_argument("--json", default=None, help="also write the results to this file")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    from packzoo.zoo import create_model

    cnn = create_model("transfer-cnn-fashion04", pretrained=True)
    fit_overrides = json.loads(args.fit)
    seeds = [int(s) for s in args.seeds.split(",")]
    pools = [None if s == "all" else int(s) for s in args.pools.split(",")]
    methods = args.methods.split(",")
    table: dict[str, Any] = {}
    for target in args.targets.split(","):
        name, _, layer = target.partition("@")
        feats = features_of(name, cnn, layer or "fc")
        table[target] = {}
        for pc in pools:
            key = "all" if pc is None else str(pc)
            table[target][key] = {}
            for m in methods:
                rows = [run_cell(m, feats, cnn, pc, s, args.epochs, fit_overrides, args.ft_max_steps) for s in seeds]
                table[target][key][m] = s_ = summarise(rows)
                print(f"{target:20s} {key:>4s}/tag {m:15s} P@1 {s_['p_at_1']:.4f}+-{s_['p_at_1_std']:.4f}  "
                      f"MAP@R {s_['map_at_r']:.4f}+-{s_['map_at_r_std']:.4f}  kNN {s_['knn_acc']:.4f}+-{s_['knn_acc_std']:.4f}  "
                      f"{s_['cpu_seconds']:.1f} cpu-s", flush=True)
    result = {"command": "python benchmarks/bench_transfer.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])),
              "epochs": args.epochs, "ft_max_steps": args.ft_max_steps, "fit": fit_overrides, "seeds": seeds,
              "table": table}
    if args.json:
        from packzoo._io import atomic_write_text

        atomic_write_text(args.json, json.dumps(result, indent=1) + "\n")
    if args.write_card:
        from packzoo.zoo.weights import load_card, load_weights, save_weights

        name = "transfer-cnn-fashion04"
        card = load_card(name).to_dict()
        old = card.get("extra", {}).get("sweep")
        if old and old.get("seeds") == seeds and old.get("epochs") == args.epochs:
            # Runs over other targets add their rows; the commands that made the table are kept.
            merged = {**old["table"], **table}
            commands = [c for c in old.get("commands", [old.get("command")]) if c] + [result["command"]]
            result = {**result, "table": merged, "commands": commands}
        card["extra"] = {**card.get("extra", {}), "sweep": result}
        for k in ("name", "sha256", "bytes"):
            card.pop(k)
        save_weights(name, load_weights(name), card)
        print(f"wrote the table into {name}'s card")
    return result


if __name__ == "__main__":
    main()
