"""Training of the CTR family (``packzoo train ctr``), on one process or data-parallel.

Models (``--model``): ``ctr-lr`` (logistic regression on hashed one-hot features), ``ctr-rc-mlp``
(random coding per field -> per-field layers -> user / item (/ context) towers -> linear CTR and
CVR heads), ``ctr-embedding-mlp`` (hashed embedding tables, same towers). Data (``--data``):
``movielens-100k`` (``--split random|time``), ``synthetic``, ``criteo:PATH``, ``csv:PATH`` or
``parquet:PATH`` with ``--spec FILE`` (see :mod:`packzoo.zoo.ctr.sources`).

Loss: binary cross-entropy of the click on every row, plus ``--cvr-weight`` times the conversion
loss. ``--cvr clicked`` (default) trains the CVR head on the clicked rows only (the rows where a
conversion label exists); ``--cvr esmm`` trains it as ESMM does (Ma et al. 2018): the loss is on
``pCTR * pCVR`` against ``click * conversion`` over every row. AdamW, constant learning rate.

Batches depend on (seed, step) only and the checkpoint holds the model, the optimiser and the torch
RNG, so ``--resume`` ends bit-identical to an uninterrupted run.

Data-parallel: under ``torchrun --nproc-per-node N`` (or any launcher setting ``WORLD_SIZE``,
``RANK``, ``MASTER_ADDR``), every process builds the same model, takes rows ``rank::N`` of each
global batch of ``--batch-size`` rows, and ``DistributedDataParallel`` (gloo, CPU) averages the
gradients; rank 0 alone writes the run folder, metrics, checkpoints and shipped weights, and a stop
(time budget, Ctrl-C) on rank 0 is broadcast so every process stops at the same step. The same
command runs on one machine or a cluster::

    torchrun --nproc-per-node 2 -m packzoo.train.ctr --model ctr-rc-mlp --data synthetic --out runs/ddp
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from packzoo.train.run import (
    TrainRun,
    add_common_args,
    finish,
    load_module_tensors,
    load_optimizer_state,
    load_rng_tensors,
    module_tensors,
    nonneg_float,
    optimizer_state,
    positive_int,
    recipe,
    rng_tensors,
)
from packzoo.zoo.ctr import CHECK_LIMITS, MODEL_KINDS, default_config, evaluate_on
from packzoo.zoo.ctr.models import CTRConfig, build_model, count_params, field_params
from packzoo.zoo.ctr.sources import Source, load_source
from packzoo.zoo.data.clicklog import ClickTable


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="packzoo train ctr", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=sorted(MODEL_KINDS), default="ctr-rc-mlp", help="(default: %(default)s)")
    p.add_argument("--data", default="movielens-100k",
                   help="movielens-100k | synthetic | criteo:PATH | csv:PATH | parquet:PATH (default: %(default)s)")
    p.add_argument("--split", choices=("random", "time", "user-time", "random-val", "time-val"), default="random", help="MovieLens split (default: %(default)s)")
    p.add_argument("--spec", default=None, help="column spec (JSON) of csv:/parquet: data")
    p.add_argument("--movielens-dir", default=None, help="folder with the GroupLens ml-100k files (default: recbole's)")
    p.add_argument("--test-rows", type=positive_int, default=None, help="held-out rows of synthetic/file data")
    p.add_argument("--skip-bad", action="store_true", help="skip malformed rows of a file (default: stop with an error)")
    p.add_argument("--users", type=positive_int, default=10_000_000, help="synthetic: user id space (default: %(default)s)")
    p.add_argument("--items", type=positive_int, default=100_000_000, help="synthetic: item id space (default: %(default)s)")
    p.add_argument("--batch-size", type=positive_int, default=1024, help="global batch (default: %(default)s)")
    p.add_argument("--weight-decay", type=nonneg_float, default=0.0, help="AdamW weight decay (default: %(default)s)")
    p.add_argument("--cvr", choices=("clicked", "esmm"), default="clicked", help="CVR training (default: %(default)s)")
    p.add_argument("--cvr-weight", type=nonneg_float, default=1.0, help="weight of the CVR loss (default: %(default)s)")
    p.add_argument("--reg", type=nonneg_float, default=0.0,
                   help="L2 penalty on the batch's field vectors (tower models) (default: %(default)s)")
    p.add_argument("--schedule", choices=("constant", "cosine"), default="constant",
                   help="learning-rate schedule over --steps (default: %(default)s)")
    p.add_argument("--eval-every", type=positive_int, default=500, help="test metrics every N steps (default: %(default)s)")
    p.add_argument("--arch", default=None, help="JSON object of architecture overrides (CTRConfig fields)")
    add_common_args(p, steps=3000, lr=2e-3)
    return p


def _dist() -> tuple[int, int]:
    """(rank, world size), initialising gloo when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("gloo")
    return dist.get_rank(), world


def _loss(model: torch.nn.Module, batch: ClickTable, cvr: str, cvr_weight: float, reg: float = 0.0) -> torch.Tensor:
    a, b = model(batch)
    click = torch.from_numpy(batch.click)
    loss = F.binary_cross_entropy_with_logits(a, click)
    inner = getattr(model, "module", model)
    if reg and hasattr(inner, "penalty"):
        loss = loss + reg * inner.penalty
    if cvr_weight:
        conv = batch.conversion
        if cvr == "esmm":
            target = torch.from_numpy(np.nan_to_num(conv, nan=0.0) * batch.click)
            p = (torch.sigmoid(a) * torch.sigmoid(b)).clamp(1e-7, 1 - 1e-7)
            loss = loss + cvr_weight * F.binary_cross_entropy(p, target)
        else:
            known = torch.from_numpy(~np.isnan(conv))
            if bool(known.any()):
                loss = loss + cvr_weight * F.binary_cross_entropy_with_logits(
                    b[known], torch.from_numpy(np.nan_to_num(conv))[known])
            else:  # keep the graph the same on every rank (DDP needs every parameter used)
                loss = loss + 0.0 * b.sum()
    return loss


def train(args: argparse.Namespace, argv: list[str]) -> int:
    rank, world = _dist()
    torch.set_num_threads(args.threads)
    if args.batch_size % world:
        raise ValueError(f"--batch-size {args.batch_size} must be divisible by the {world} processes")
    src = load_source(args.data, split=args.split, seed=args.seed, spec=args.spec, test_rows=args.test_rows,
                      movielens_dir=args.movielens_dir, skip_bad=args.skip_bad, users=args.users, items=args.items)
    arch = json.loads(args.arch) if args.arch else {}
    if not isinstance(arch, dict):
        raise ValueError(f"--arch must be a JSON object, got {args.arch!r}")
    cfg = default_config(args.model, list(src.groups.items()), data=args.data, **arch)
    config = {"model": args.model, "arch": cfg.to_dict(), **{k: v for k, v in vars(args).items() if k not in ("arch", "resume", "out")}}
    torch.manual_seed(args.seed)
    model = build_model(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    net: torch.nn.Module = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model)  # broadcasts rank 0's initial weights

    run = None
    if rank == 0:
        run = TrainRun(args.out, family="ctr", config=config, resume=args.resume, time_budget=args.time_budget,
                       recipe=recipe("ctr", argv), progress=not args.no_progress)
    start = 0
    if args.resume:
        from packzoo.train.run import CHECKPOINT

        from safetensors.torch import load

        meta = json.loads(open(os.path.join(args.out, f"{CHECKPOINT}.json")).read())
        if run is not None:
            start, tensors, state = run.restore()  # type: ignore[misc]
        else:
            tensors = load(open(os.path.join(args.out, f"{CHECKPOINT}.safetensors"), "rb").read())
            start, state = int(meta["step"]), meta["state"]
        load_module_tensors("model", model, tensors)
        load_optimizer_state("opt", opt, tensors, state["opt"])
        load_rng_tensors(tensors)

    def checkpoint(step: int) -> None:
        if run is None:
            return
        ot, oj = optimizer_state("opt", opt)
        run.checkpoint(step, {**module_tensors("model", model), **ot, **rng_tensors()}, {"opt": oj})

    def stop_now() -> bool:
        flag = bool(run.should_stop()) if run is not None else False
        if world > 1:
            import torch.distributed as dist

            t = torch.tensor([1.0 if flag else 0.0])
            dist.broadcast(t, 0)
            flag = bool(t.item())
        return flag

    step = start
    t0, rows = time.perf_counter(), 0
    if run is not None:
        run.__enter__()
    try:
        if world == 1:
            it = run.steps(args.steps, start=start)  # type: ignore[union-attr]
        else:
            # every rank walks the same range; stopping is decided on rank 0 and broadcast below,
            # so no rank ever waits in an all-reduce the others have left
            it = iter(range(start + 1, args.steps + 1))
        for step in it:
            batch = src.train_batch(step, args.batch_size)
            if world > 1:
                batch = batch.take(slice(rank, None, world))
            net.train()
            loss = _loss(net, batch, args.cvr, args.cvr_weight, args.reg)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if args.schedule == "cosine":  # a function of the step alone: nothing to checkpoint
                for g in opt.param_groups:
                    g["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * (step - 1) / args.steps))
            opt.step()
            rows += len(batch) * world
            if run is not None:
                run.postfix(loss=float(loss.detach()))
            if step % args.eval_every == 0 or step == args.steps:
                if run is not None:
                    m = evaluate_on(model, src, limit=None)
                    run.log(step, loss=round(float(loss.detach()), 6), ctr_auc=m["ctr_auc"], ctr_logloss=m["ctr_logloss"],
                            cvr_auc=m["cvr_auc"], rows_per_s=round(rows / (time.perf_counter() - t0), 1))
                    checkpoint(step)
            if world > 1 and stop_now():
                break
        if run is not None:
            checkpoint(step)
    finally:
        if run is not None:
            run.__exit__(None, None, None)
    if run is None:
        return 0
    if run.interrupted or step < args.steps:
        return finish(run, f"stopped at step {step} ({run.stopped_by}); --resume continues")
    metrics = evaluate_on(model, src, limit=None)
    facts = {"steps": step, "rows_per_s": round(rows / max(time.perf_counter() - t0, 1e-9), 1),
             "params": count_params(model), "field_params": field_params(model), "world_size": world}
    print(json.dumps({"model": args.model, "data": args.data, "split": args.split, "test": metrics, **facts}))
    if args.ship:
        check = {"limits": dict(CHECK_LIMITS), "metrics": evaluate_on(model, src, limit=CHECK_LIMITS["rows"]),
                 "rtol": 1e-6}
        check["metrics"] = {k: v for k, v in check["metrics"].items() if k in ("ctr_auc", "ctr_logloss", "cvr_auc", "rows")}
        run.ship(args.ship, module_tensors_plain(model),
                 config={"model": args.model, "arch": cfg.to_dict(), "data": args.data, "split": args.split,
                         "seed": args.seed},
                 metrics={"test": metrics, "params": count_params(model), "field_params": field_params(model)},
                 dataset=src.description, check=check, training=facts)
        print(f"shipped {args.ship}")
    return finish(run)


def module_tensors_plain(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return dict(model.state_dict())


def cli(argv: list[str]) -> int:
    """``packzoo train ctr ...``"""
    args = parser().parse_args(argv)
    try:
        return train(args, argv)
    finally:
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
