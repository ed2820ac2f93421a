"""Training of the transfer family (``packzoo train transfer``): the source CNN, then transforms.

``--stage source`` trains :class:`~packzoo.zoo.transfer.cnn.SourceCNN` on Fashion-MNIST classes 0-4
(SGD with momentum, cosine learning rate; ``--steps`` optimiser steps of ``--batch-size`` images;
batches depend only on ``(seed, step)``). ``--stage transform`` learns a transform head on the
frozen features of ``--backbone`` (a zoo name or a source run folder) from ``--per-class`` labelled
images of every tag of ``--target``, with ``--method`` (the talk's K-NN miner ``knn``, ``random``
triplets, pytorch-metric-learning's ``batch-hard``/``batch-semihard``); there ``--steps`` counts
epochs (the K-NN lists are refreshed at each). A checkpoint holds every tensor, optimiser moment
and generator state, so a run resumed with ``--resume`` ends bit-identical.

Examples::

    packzoo train transfer --stage source --steps 940 --lr 0.05 --out runs/transfer-cnn --ship transfer-cnn-fashion04
    packzoo train transfer --stage transform --target fashion59 --method knn --per-class all --steps 10 \\
        --out runs/transfer-w-fashion59-hard --ship transfer-w-fashion59-hard
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from packzoo.train.run import (
    RunError,
    TrainRun,
    add_common_args,
    finish,
    read_run,
    load_module_tensors,
    load_optimizer_state,
    module_tensors,
    optimizer_state,
    positive_float,
    positive_int,
    recipe,
)
from packzoo.zoo.transfer import CHECK_LIMITS, CNN_DATASET, CNN_NAME, TARGET_DATASETS, evaluate_cnn
from packzoo.zoo.transfer.cnn import LAYERS, CNNConfig, SourceCNN, as_float_images, extract_features
from packzoo.zoo.transfer.data import TARGETS, labelled_subset, source_domain, target_domain
from packzoo.zoo.transfer.fit import METHODS, FitConfig, TransformTrainer
from packzoo.zoo.transfer.head import TransformConfig
from packzoo.zoo.transfer.metrics import knn_accuracy, retrieval_metrics
from packzoo.zoo.transfer.mining import CHOICES, KINDS, POSITIVES


def per_class_arg(text: str) -> int | None:
    """argparse type: a positive integer or ``all``."""
    if text == "all":
        return None
    return positive_int(text)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="packzoo train transfer", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stage", choices=("source", "transform"), default="source", help="(default: %(default)s)")
    g = p.add_argument_group("source CNN (--stage source)")
    g.add_argument("--widths", type=positive_int, nargs=3, default=list(CNNConfig.widths), help="(default: %(default)s)")
    g.add_argument("--feature-dim", type=positive_int, default=CNNConfig.feature_dim, help="(default: %(default)s)")
    g.add_argument("--batch-size", type=positive_int, default=128, help="(default: %(default)s)")
    g.add_argument("--momentum", type=float, default=0.9, help="(default: %(default)s)")
    g.add_argument("--weight-decay", type=float, default=5e-4, help="(default: %(default)s)")
    g.add_argument("--train-limit", type=positive_int, default=None, help="train on the first N source images (tests)")
    t = p.add_argument_group("transform (--stage transform)")
    t.add_argument("--target", choices=TARGETS, default="fashion59", help="(default: %(default)s)")
    t.add_argument("--backbone", default=CNN_NAME, help="zoo name or source run folder (default: %(default)s)")
    t.add_argument("--layer", choices=LAYERS, default="fc", help="which frozen features x (default: %(default)s)")
    t.add_argument("--per-class", type=per_class_arg, default=None, help="labelled images per tag, or 'all' (default: all)")
    t.add_argument("--method", choices=METHODS, default="knn", help="(default: %(default)s)")
    t.add_argument("--k", type=positive_int, default=FitConfig.k, help="neighbours per query (default: %(default)s)")
    t.add_argument("--triplets-per-anchor", type=positive_int, default=FitConfig.triplets_per_anchor, help="(default: %(default)s)")
    t.add_argument("--kind", choices=KINDS, default=FitConfig.kind, help="(default: %(default)s)")
    t.add_argument("--choice", choices=CHOICES, default=FitConfig.choice, help="(default: %(default)s)")
    t.add_argument("--positives", choices=POSITIVES, default=FitConfig.positives, help="(default: %(default)s)")
    t.add_argument("--anchors-per-step", type=positive_int, default=FitConfig.anchors_per_step, help="(default: %(default)s)")
    t.add_argument("--out-dim", type=positive_int, default=None, help="size of f(x) (default: the feature size)")
    t.add_argument("--normalize", action="store_true", help="L2-normalise f(x)")
    t.add_argument("--pool-limit", type=positive_int, default=None, help="use the first N pool images (tests)")
    t.add_argument("--eval-limit", type=positive_int, default=None, help="evaluate on the first N held-out images")
    p.add_argument("--log-every", type=positive_int, default=50, help="source: steps per metrics row (default: %(default)s)")
    p.add_argument("--ckpt-every", type=positive_int, default=100, help="source: steps per checkpoint (default: %(default)s)")
    p.add_argument("--stop-at", type=positive_int, default=None,
                   help="stop after this step as if interrupted (the schedule still spans --steps); --resume continues")
    add_common_args(p, steps=940, lr=0.05)
    for action in p._actions:
        if action.dest == "lr":
            action.help = "learning rate (default: 0.05, SGD, for --stage source; 0.01, Adam, for --stage transform)"
        elif action.dest == "steps":
            action.help = "optimiser steps (--stage source, default 940) or epochs (--stage transform, default 10)"
    return p


TRANSFORM_LR = 0.01
TRANSFORM_EPOCHS = 10
RESUMABLE = ("steps", "time_budget", "threads", "ship", "no_progress", "stop_at", "eval_limit")


# -- source -------------------------------------------------------------------------------------
def batch_indices(n: int, batch_size: int, step: int, seed: int) -> np.ndarray:
    """Indices of the images of optimiser step ``step`` (0-based): one seeded permutation per epoch."""
    per_epoch = max(1, n // batch_size)
    epoch, i = divmod(step, per_epoch)
    perm = np.random.default_rng([seed, epoch]).permutation(n)
    return perm[i * batch_size:(i + 1) * batch_size]


def target_identity_metrics(cnn: SourceCNN, eval_limit: int | None = None) -> dict[str, Any]:
    """Frozen-feature (standardised, W = I) retrieval on both targets' held-out images (the first
    ``eval_limit`` of them, standardised with the first ``eval_limit`` pool images' statistics)."""
    out: dict[str, Any] = {}
    for target in TARGETS:
        dom = target_domain(target)
        out[target] = {}
        for layer in LAYERS:
            pool = extract_features(cnn, dom.pool_images[:eval_limit], layer)
            mean, std = pool.mean(0), pool.std(0).clamp(min=1e-6)
            x = (extract_features(cnn, dom.test_images[:eval_limit], layer) - mean) / std
            prefix = "identity" if layer == "fc" else f"identity-{layer}"
            m = retrieval_metrics(x, torch.from_numpy(dom.test_labels[:eval_limit]))
            out[target].update({f"{prefix}.{k}": v for k, v in m.items()})
    return out


def train_source(args: argparse.Namespace, argv: list[str]) -> int:
    cfg = {k: v for k, v in vars(args).items() if k != "resume" and k in (
        "stage", "widths", "feature_dim", "batch_size", "momentum", "weight_decay", "train_limit", "lr", "steps",
        "seed", "threads", "time_budget", "ship", "no_progress", "stop_at", "log_every", "ckpt_every")}
    arch = CNNConfig(widths=tuple(args.widths), feature_dim=args.feature_dim, classes=5)
    dom = source_domain()
    xtr = as_float_images(dom.pool_images[:args.train_limit])
    ytr = torch.from_numpy(dom.pool_labels[:args.train_limit])
    torch.manual_seed(args.seed)
    model = SourceCNN(arch)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, args.steps) / args.steps)))
    with TrainRun(args.out, family="transfer", config=cfg, resume=args.resume, time_budget=args.time_budget,
                  recipe=recipe("transfer", argv), progress=not args.no_progress, resumable_keys=RESUMABLE) as run:
        restored = run.restore()
        start, losses = 0, []
        if restored is not None:
            start, tensors, state = restored
            load_module_tensors("model", model, tensors)
            load_optimizer_state("opt", opt, tensors, state["opt"])
            sched.load_state_dict(state["sched"])
            losses = [float(v) for v in state.get("losses", [])]

        def save(step: int) -> None:
            ot, oj = optimizer_state("opt", opt)
            run.checkpoint(step, {**module_tensors("model", model), **ot},
                           {"opt": oj, "sched": sched.state_dict(), "losses": list(losses)})

        model.train()

        def row(step: int, loss: float) -> dict[str, Any]:
            return {"loss": round(loss, 5), "lr": round(sched.get_last_lr()[0], 6)}

        step = start
        for step in run.steps(args.steps, start=start, desc="transfer source CNN"):
            idx = torch.from_numpy(batch_indices(len(xtr), args.batch_size, step - 1, args.seed))
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
            if run.end_step(step, args.steps, losses, row, save, log_every=args.log_every,
                            ckpt_every=args.ckpt_every, stop_at=args.stop_at):
                break
        code = run.stopped_early(step, args.steps, save)
        if code is not None:
            return code
        model.eval()
        with torch.no_grad():
            xt = as_float_images(dom.test_images[:args.eval_limit])
            pred = torch.cat([model(xt[i:i + 1000]).argmax(1) for i in range(0, len(xt), 1000)])
        metrics: dict[str, Any] = {"test": {"source_top1": float((pred.numpy() == dom.test_labels[:args.eval_limit]).mean()),
                                            "images": len(xt)}}
        metrics.update(target_identity_metrics(model, args.eval_limit))
        print(json.dumps(metrics, indent=1))
        if args.ship:
            check = {"limits": dict(CHECK_LIMITS), "metrics": {}, "rtol": 1e-9}
            card = run.ship(args.ship, dict(model.state_dict()), config=arch.to_dict(), metrics=metrics,
                            dataset=CNN_DATASET, check=check, training={"steps": step})
            check["metrics"] = {"source_top1": evaluate_cnn(**CHECK_LIMITS)["source_top1"]}
            _reship(run, args.ship, card, check)
        return finish(run)


def _reship(run: TrainRun, name: str, card: Any, check: dict[str, Any]) -> None:
    """Write the card again with ``check`` filled in (measured on the shipped file itself)."""
    from packzoo.zoo.weights import load_weights

    full = run.ship(name, load_weights(name), config=card.config, metrics=card.metrics, dataset=card.dataset,
                    check=check, train_config=card.train_config, training=card.training, extra=card.extra)
    print(f"shipped {name}: {full.bytes} bytes")


# -- transform ----------------------------------------------------------------------------------
def load_backbone(spec: str) -> tuple[SourceCNN, str]:
    """The frozen CNN named by ``--backbone``: a zoo name or a source run folder (its checkpoint)."""
    if Path(spec).is_dir():
        tensors, cfg = read_run(spec, "--backbone")
        model = SourceCNN(CNNConfig(widths=tuple(cfg["widths"]), feature_dim=cfg["feature_dim"], classes=5))
        load_module_tensors("model", model, tensors)
        model.eval()
        return model, str(Path(spec))
    from packzoo.zoo import create_model, model_card

    card = model_card(spec)
    if card.family != "transfer" or card.weights is None or not spec.startswith("transfer-cnn"):
        raise RunError(f"--backbone {spec!r}: not a transfer CNN with shipped weights")
    return create_model(spec, pretrained=True), spec


def train_transform(args: argparse.Namespace, argv: list[str]) -> int:
    fit = FitConfig(method=args.method, k=args.k, triplets_per_anchor=args.triplets_per_anchor, kind=args.kind,
                    choice=args.choice, positives=args.positives, anchors_per_step=args.anchors_per_step, lr=args.lr)
    cfg = {"stage": "transform", "target": args.target, "backbone": args.backbone, "layer": args.layer,
           "per_class": args.per_class,
           "fit": fit.to_dict(), "out_dim": args.out_dim, "normalize": args.normalize, "pool_limit": args.pool_limit,
           "seed": args.seed, "steps": args.steps, "threads": args.threads, "time_budget": args.time_budget,
           "ship": args.ship, "no_progress": args.no_progress, "stop_at": args.stop_at, "eval_limit": args.eval_limit}
    cnn, backbone = load_backbone(args.backbone)
    dom = target_domain(args.target)
    pool_x = extract_features(cnn, dom.pool_images[:args.pool_limit], args.layer)
    pool_y = torch.from_numpy(dom.pool_labels[:args.pool_limit])
    sub = torch.from_numpy(labelled_subset(pool_y.numpy(), args.per_class, args.seed))
    x, y = pool_x[sub], pool_y[sub]
    test_x = extract_features(cnn, dom.test_images[:args.eval_limit], args.layer)
    test_y = torch.from_numpy(dom.test_labels[:args.eval_limit])
    head_cfg = TransformConfig(in_dim=x.shape[1], out_dim=args.out_dim or x.shape[1], normalize=args.normalize)
    trainer = TransformTrainer(x, y, fit, head_cfg, seed=args.seed)
    with TrainRun(args.out, family="transfer", config=cfg, resume=args.resume, time_budget=args.time_budget,
                  recipe=recipe("transfer", argv), progress=not args.no_progress, resumable_keys=RESUMABLE) as run:
        restored = run.restore()
        start = 0
        if restored is not None:
            start, tensors, _ = restored
            trainer.load_tensors(tensors)
        step = start
        steps = 0 if args.method == "identity" else args.steps
        for step in run.steps(steps, start=start, desc=f"transfer {args.target} {args.method}"):
            row = trainer.epoch()
            run.log(step, **{k: round(v, 6) for k, v in row.items()})
            run.postfix(**row)
            run.checkpoint(step, trainer.tensors())
            if args.stop_at is not None and step >= args.stop_at:
                break
        code = run.stopped_early(step, steps, lambda k: run.checkpoint(k, trainer.tensors()), unit="epoch")
        if code is not None:
            return code
        head = trainer.head.eval()
        metrics = evaluate_head(head, x, y, test_x, test_y)
        metrics["labelled"] = {"per_class": args.per_class or "all", "images": len(y)}
        print(json.dumps(metrics, indent=1))
        if args.ship:
            from packzoo.zoo import evaluate_model

            check = {"limits": dict(CHECK_LIMITS), "metrics": {}, "rtol": 1e-9}
            card = run.ship(args.ship, dict(head.state_dict()), config={**head_cfg.to_dict(), "backbone": backbone, "layer": args.layer},
                            metrics=metrics, dataset=TARGET_DATASETS[args.target], check=check,
                            training={"epochs": step})
            got = evaluate_model(args.ship, **CHECK_LIMITS)
            check["metrics"] = {k: got[k] for k in ("p_at_1", "map_at_r", "identity.p_at_1")}
            _reship(run, args.ship, card, check)
        return finish(run)


def evaluate_head(head: Any, x: torch.Tensor, y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
                  knn_k: int = 5) -> dict[str, Any]:
    """Held-out metrics of ``head`` (``test``) and of W = I on the same standardisation (``identity``)."""
    out = {}
    with torch.no_grad():
        for key, fn in (("test", head), ("identity", head.standardise)):
            q, r = fn(test_x), fn(x)
            m = retrieval_metrics(q, test_y)
            m["knn_acc"] = knn_accuracy(q, test_y, r, y, k=knn_k)
            out[key] = m
    return out


def cli(argv: list[str]) -> int:
    """``packzoo train transfer ...``: see the module docstring."""
    args = parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.stage == "transform" and not any(a == "--lr" or a.startswith("--lr=") for a in argv):
        args.lr = TRANSFORM_LR  # the common default (0.05) is the CNN's SGD rate, too high for Adam on W
    if args.stage == "transform" and not any(a == "--steps" or a.startswith("--steps=") for a in argv):
        args.steps = TRANSFORM_EPOCHS
    if args.stage == "source":
        return train_source(args, argv)
    return train_transform(args, argv)


__all__ = ["batch_indices", "cli", "evaluate_head", "load_backbone", "parser", "per_class_arg"]
