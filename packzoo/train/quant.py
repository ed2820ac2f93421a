"""Training of the quant family's ResNets on Fashion-MNIST (``packzoo train quant``).

``--method fp`` trains the full-precision network from scratch; ``--method admm|ste`` starts from
``--init`` (a zoo model such as ``quant-resnet-fashion-fp`` or a run folder) and trains
``--levels`` weights with ADMM (extragradient W-step, iterative-quantization G-step, dual step)
or the straight-through estimator, on the same optimiser, schedule and batches
(:class:`packzoo.zoo.quant.QuantTrainer`). ``--method round`` only projects ``--init``.
Batches depend only on ``(seed, step)`` and the checkpoint holds the model, the optimiser's state
and ADMM's G, lambda and rho, so an interrupted run resumed with ``--resume`` ends bit-identical.

Examples::

    packzoo train quant --method fp --width 8 --steps 2340 --lr 0.05 --out runs/quant-fp --ship quant-resnet-fashion-fp
    packzoo train quant --method admm --levels ternary --init quant-resnet-fashion-fp --steps 940 \\
        --lr 0.01 --out runs/quant-admm-ternary --ship quant-resnet-fashion-admm-ternary
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import torch

from packzoo.train.run import (
    RunError,
    TrainRun,
    add_common_args,
    finish,
    read_run,
    load_optimizer_state,
    optimizer_state,
    positive_float,
    positive_int,
    recipe,
)
from packzoo.zoo.quant import CHECK_LIMITS, DATASET
from packzoo.zoo.quant import data as D
from packzoo.zoo.quant.core import QuantTrainer, TrainSettings, quantize, select_params
from packzoo.zoo.quant.export import compact_tensors
from packzoo.zoo.quant.levels import NAMED_LEVELS, QuantError
from packzoo.zoo.quant.resnet import ResNetConfig, SmallResNet


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="packzoo train quant", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--method", choices=("fp", "admm", "ste", "round"), default="fp", help="(default: %(default)s)")
    p.add_argument("--levels", choices=tuple(NAMED_LEVELS), default="ternary", help="(default: %(default)s)")
    p.add_argument("--width", type=positive_int, default=8, help="first-stage channels (default: %(default)s)")
    p.add_argument("--init", default=None, help="zoo model name or run folder to start admm/ste/round from")
    p.add_argument("--batch-size", type=positive_int, default=128, help="(default: %(default)s)")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default: %(default)s)")
    p.add_argument("--weight-decay", type=float, default=5e-4, help="on unquantized weights (default: %(default)s)")
    p.add_argument("--rho", type=positive_float, default=TrainSettings.rho, help="ADMM starting penalty (default: %(default)s)")
    p.add_argument("--rho-growth", type=float, default=TrainSettings.rho_growth, help="(default: %(default)s)")
    p.add_argument("--rho-max", type=positive_float, default=TrainSettings.rho_max, help="(default: %(default)s)")
    p.add_argument("--admm-every", type=positive_int, default=TrainSettings.admm_every, help="(default: %(default)s)")
    p.add_argument("--no-extragradient", action="store_true", help="plain gradient W-step (ablation)")
    p.add_argument("--log-every", type=positive_int, default=50, help="(default: %(default)s)")
    p.add_argument("--ckpt-every", type=positive_int, default=200, help="(default: %(default)s)")
    p.add_argument("--train-limit", type=positive_int, default=None, help="train on the first N images (tests)")
    p.add_argument("--stop-at", type=positive_int, default=None,
                   help="stop after this step as if interrupted (the cosine schedule still spans --steps); --resume continues")
    p.add_argument("--eval-limit", type=positive_int, default=None, help="evaluate on the first N test images")
    add_common_args(p, steps=2340, lr=0.05)
    return p


def _init_tensors(init: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """State dict and architecture config of ``--init``: a zoo model or a run folder."""
    if Path(init).is_dir():
        t, cfg = read_run(init, "--init")
        return {k[6:]: v for k, v in t.items() if k.startswith("model/")}, {"width": cfg["width"]}
    from packzoo.zoo import create_model, model_card

    card = model_card(init)
    if card.family != "quant" or card.weights is None:
        raise RunError(f"--init {init!r}: not a quant model with shipped weights")
    m = create_model(init, pretrained=True)
    return m.state_dict(), {"width": m.config.width}


def cli(argv: list[str]) -> int:
    """``packzoo train quant ...``: see the module docstring."""
    args = parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.method != "fp" and not args.init:
        print("packzoo train quant: error: --method admm/ste/round needs --init (e.g. quant-resnet-fashion-fp)", file=sys.stderr)
        return 2
    cfg = {k: v for k, v in vars(args).items() if k != "resume"}
    arch = ResNetConfig(width=args.width)
    init_sd = None
    if args.init:
        init_sd, init_arch = _init_tensors(args.init)
        if init_arch["width"] != args.width:
            raise RunError(f"--init {args.init!r} has width {init_arch['width']}, --width is {args.width}")
    settings = TrainSettings(lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay, rho=args.rho,
                             rho_growth=args.rho_growth, rho_max=args.rho_max, admm_every=args.admm_every,
                             extragradient=not args.no_extragradient)
    torch.manual_seed(args.seed)
    model = SmallResNet(arch)
    if init_sd is not None:
        model.load_state_dict(init_sd)
    xte, yte = D.load("test", args.eval_limit)
    if args.method == "round":
        q = quantize(model, args.levels, "round")
        metrics = D.accuracy(q, xte, yte)
        print(f"round {args.levels}: top1 {metrics['top1']:.4f} top2 {metrics['top2']:.4f}")
        return 0
    xtr, ytr = D.load("train", args.train_limit)
    names = select_params(model) if args.method != "fp" else []
    trainer = QuantTrainer(model, args.method, args.levels if args.method != "fp" else None, names, args.steps, settings)
    with TrainRun(args.out, family="quant", config=cfg, resume=args.resume, time_budget=args.time_budget,
                  recipe=recipe("quant", argv), progress=not args.no_progress,
                  resumable_keys=("steps", "time_budget", "threads", "ship", "no_progress", "stop_at")) as run:
        restored = run.restore()
        start = 0
        losses: list[float] = []  # task losses since the last metrics row (checkpointed with the rest)
        if restored is not None:
            start, tensors, state = restored
            trainer.load_state(tensors, state["trainer"])
            load_optimizer_state("opt", trainer.opt, tensors, state["opt"])
            losses = [float(v) for v in state.get("losses", [])]

        def save(step: int) -> None:
            ot, oj = optimizer_state("opt", trainer.opt)
            run.checkpoint(step, {**trainer.state_tensors(), **ot}, {"trainer": trainer.state_json(), "opt": oj,
                                                                  "losses": list(losses)})

        def row(step: int, loss: float) -> dict[str, Any]:
            return {"loss": round(loss, 5), "lr": round(trainer.lr_at(step - 1), 6),
                    "rho": round(trainer.rho, 6), "residual": round(trainer.residual(), 6)}

        step = start
        for step in run.steps(args.steps, start=start, desc=f"quant {args.method}"):
            idx = torch.from_numpy(D.batch_indices(len(xtr), args.batch_size, step - 1, args.seed))
            losses.append(trainer.step(xtr[idx], ytr[idx]))
            if run.end_step(step, args.steps, losses, row, save, log_every=args.log_every,
                            ckpt_every=args.ckpt_every, stop_at=args.stop_at):
                break
        code = run.stopped_early(step, args.steps, save)
        if code is not None:
            return code
        spec = trainer.finish()
        t0 = time.perf_counter()
        metrics = D.accuracy(model, xte, yte)
        metrics["test_images"] = len(xte)
        print(f"{args.method} {args.levels if spec else ''}: test top1 {metrics['top1']:.4f} top2 {metrics['top2']:.4f} "
              f"({time.perf_counter() - t0:.1f} s to evaluate)")
        if spec is not None:
            metrics["residual_before_snap"] = spec.history.get("residual_before_snap")
            metrics["bits"] = spec.levels.bits
            # The post-training baseline on the same start: the projection of --init, no training.
            start_model = SmallResNet(arch)
            start_model.load_state_dict(init_sd)
            metrics["baseline_round"] = D.accuracy(quantize(start_model, args.levels, "round"), xte, yte)
            metrics["init_fp"] = D.accuracy(start_model, xte, yte)
        if args.ship:
            name = args.ship
            if spec is not None:
                tensors = compact_tensors(model, spec)
                quant_cfg = {"levels": spec.levels.name, "method": spec.method, "params": list(spec.params)}
            else:
                tensors = dict(model.state_dict())
                quant_cfg = {}
                metrics["bits"] = 32
            from packzoo.zoo.quant import evaluate_pretrained

            # The check reproduces the model's accuracy on a slice; computed from the model in hand
            # (the zoo recomputes it from the shipped file, and check_model compares).
            xs, ys = D.load("test", CHECK_LIMITS["images"])
            check = {"limits": dict(CHECK_LIMITS), "metrics": D.accuracy(model, xs, ys), "rtol": 1e-9}
            card = run.ship(name, tensors, config={**arch.to_dict(), "quant": quant_cfg}, metrics=metrics,
                            dataset=DATASET, check=check, training={"steps": step})
            got = evaluate_pretrained(name, **CHECK_LIMITS)
            if {k: got[k] for k in check["metrics"]} != check["metrics"]:
                raise QuantError(f"shipped {name} evaluates to {got}, the model in hand to {check['metrics']}")
            print(f"shipped {name}: {card.bytes} bytes")
        return finish(run)


def main() -> None:  # pragma: no cover
    raise SystemExit(cli(sys.argv[1:]))


__all__ = ["cli", "parser"]
