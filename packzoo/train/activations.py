"""Training of the activations family's nets (``packzoo train activations``).

One recipe for every net and task, so comparisons are fair: AdamW with a cosine learning rate
(weight decay on the linear weights only, never on an activation's coefficients), mini-batches that
depend only on ``(seed, step)`` (``--batch-size`` at or above the training set size = full batch),
mean squared error for the function-fitting tasks and cross-entropy for the classifiers.
``--model`` picks the architecture family, ``--params`` the size: the hidden width is chosen so the
net has (nearly) that many parameters (:func:`packzoo.zoo.activations.nets.width_for_params`).

- ``shallow-learned-act``: two hidden layers with a learned activation (``--form``, ``--size``,
  ``--shared``), the form of Pinkus (1999, Theorem 7.1).
- ``shallow-relu``: two hidden ReLU layers, same parameter count.
- ``mlp-relu-deep``: ``--deep-layers`` (default 4) hidden ReLU layers, same parameter count.

The checkpoint holds the model and the optimiser's state, so ``--resume`` ends bit-identical to an
uninterrupted run. Examples::

    packzoo train activations --model shallow-learned-act --shared --task mnist1d --params 15210 --steps 3000 \\
        --lr 0.01 --weight-decay 1.0 --out runs/act-mnist1d --ship shallow-learned-act
    packzoo train activations --model shallow-relu --task fit:exp-sin-sq --params 300 --steps 3000 --lr 0.01 \\
        --batch-size 1000 --out runs/relu-fit
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from packzoo.train.run import (
    TrainRun,
    add_common_args,
    finish,
    load_module_tensors,
    load_optimizer_state,
    module_tensors,
    nonneg_float,
    optimizer_state,
    positive_int,
    recipe,
)
from packzoo.zoo.activations import CHECK_LIMITS, MODEL_NAMES, dataset_text, evaluate_net
from packzoo.zoo.activations.functions import FORMS, INIT_FUNCTIONS, LearnedActivation
from packzoo.zoo.activations.nets import ActNet, NetConfig, count_params, preset_config
from packzoo.zoo.activations.tasks import Task, batch_indices, load_task, score, task_names


@dataclass(frozen=True)
class TrainSettings:
    """The training recipe shared by every net (see the module docstring)."""

    steps: int = 3000
    lr: float = 1e-2
    batch_size: int = 128
    weight_decay: float = 1.0
    act_lr_scale: float = 1.0
    seed: int = 0
    optimizer: str = "adam"

    def __post_init__(self) -> None:
        if self.optimizer not in ("adam", "lbfgs"):
            raise ValueError(f"optimizer must be 'adam' or 'lbfgs', got {self.optimizer!r}")


def net_config(model: str, task: Task, params: int, **kw: Any) -> NetConfig:
    """The :class:`NetConfig` of ``model`` on ``task`` with about ``params`` parameters (see
    :func:`packzoo.zoo.activations.nets.preset_config` for the keywords)."""
    return preset_config(model, task.in_dim, task.out_dim, params, **kw)


class Trainer:
    """One optimiser step at a time on a task; the state a checkpoint needs is the model + optimiser."""

    def __init__(self, model: ActNet, task: Task, settings: TrainSettings) -> None:
        self.model, self.task, self.s = model, task, settings
        act_params = [p for a in model.learned_activations() for p in a.parameters()]
        act_ids = {id(p) for p in act_params}
        decay = [p for n, p in model.named_parameters() if id(p) not in act_ids and n.endswith("weight")]
        rest = [p for n, p in model.named_parameters() if id(p) not in act_ids and not n.endswith("weight")]
        groups = [{"params": decay, "weight_decay": settings.weight_decay, "lr_scale": 1.0},
                  {"params": rest, "weight_decay": 0.0, "lr_scale": 1.0}]
        if act_params:
            groups.append({"params": act_params, "weight_decay": 0.0, "lr_scale": settings.act_lr_scale})
        if settings.optimizer == "lbfgs":
            # Full-batch L-BFGS with pykan's settings (history 10, strong Wolfe line search, up to 20
            # inner iterations per step), so the comparison with KAN uses the same optimiser.
            self.opt: torch.optim.Optimizer = torch.optim.LBFGS(
                [p for g in groups for p in g["params"]], lr=settings.lr, history_size=10, line_search_fn="strong_wolfe",
                tolerance_grad=1e-32, tolerance_change=1e-32)
        else:
            self.opt = torch.optim.AdamW(groups, lr=settings.lr)

    def lr_at(self, step: int) -> float:
        """Cosine schedule from ``lr`` to 0 over ``steps`` (step 0-based)."""
        return self.s.lr * 0.5 * (1.0 + math.cos(math.pi * step / self.s.steps))

    def step(self, step: int) -> float:
        """Optimiser step ``step`` (0-based); returns the batch loss."""
        self.model.train()
        idx = torch.from_numpy(batch_indices(len(self.task.x_train), self.s.batch_size, step, self.s.seed))
        x, y = self.task.x_train[idx], self.task.y_train[idx]
        if self.s.optimizer == "lbfgs":
            def closure() -> torch.Tensor:
                self.opt.zero_grad(set_to_none=True)
                loss = self._loss(x, y)
                loss.backward()
                return loss

            return float(self.opt.step(closure).detach())
        loss = self._loss(x, y)
        lr = self.lr_at(step)
        for g in self.opt.param_groups:
            g["lr"] = lr * g["lr_scale"]
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return float(loss.detach())

    def _loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = self.model(x)
        return F.mse_loss(out, y) if self.task.kind == "regression" else F.cross_entropy(out, y)

    def optimizer_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """The optimiser's state as ``(tensors, json)`` (L-BFGS's lists of tensors are stacked)."""
        if self.s.optimizer != "lbfgs":
            return optimizer_state("opt", self.opt)
        st = self.opt.state_dict()["state"].get(0, {})
        tensors: dict[str, torch.Tensor] = {}
        meta: dict[str, Any] = {}
        for k, v in st.items():
            if k == "al":  # scratch space, rewritten before it is read
                continue
            if isinstance(v, torch.Tensor):
                tensors[f"opt/{k}"] = v
            elif isinstance(v, list):
                meta[f"len/{k}"] = len(v)
                if v:
                    tensors[f"opt/{k}"] = torch.stack(v)
            elif v is not None:
                meta[k] = v
        return tensors, meta

    def load_optimizer_state(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        """Inverse of :meth:`optimizer_state`."""
        if self.s.optimizer != "lbfgs":
            load_optimizer_state("opt", self.opt, tensors, meta)
            return
        st: dict[str, Any] = {}
        for k, v in meta.items():
            if k.startswith("len/"):
                key = k[4:]
                # Separate tensors, not views of the stacked one: a view's memory alignment can change
                # the dot products' rounding, and the resumed run would drift from the straight one.
                st[key] = [e.clone() for e in tensors[f"opt/{key}"].unbind(0)] if v else []
            else:
                st[k] = v
        for k, v in tensors.items():
            key = k[4:]
            if k.startswith("opt/") and f"len/{key}" not in meta:
                st[key] = v
        if st:
            self.opt.load_state_dict({"state": {0: st}, "param_groups": self.opt.state_dict()["param_groups"]})


def train_net(config: NetConfig, task: Task, settings: TrainSettings) -> tuple[ActNet, dict[str, Any]]:
    """Train a fresh net straight through (no run folder: the benchmark's path). Returns it and its facts."""
    torch.manual_seed(settings.seed)
    model = ActNet(config)
    tr = Trainer(model, task, settings)
    t0, c0 = time.perf_counter(), time.process_time()
    loss = float("nan")
    for k in range(settings.steps):
        loss = tr.step(k)
    facts = {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0, "final_loss": loss,
             "params": count_params(config), task.metric: score(model, task.x_test, task.y_test, task.kind)}
    return model, facts


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="packzoo train activations", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=MODEL_NAMES, default="shallow-learned-act", help="(default: %(default)s)")
    p.add_argument("--task", choices=task_names(), default="mnist1d", help="(default: %(default)s)")
    p.add_argument("--params", type=positive_int, default=15210, help="target parameter count (default: %(default)s)")
    p.add_argument("--form", choices=FORMS, default="bspline", help="learned activation form (default: %(default)s)")
    p.add_argument("--size", type=positive_int, default=8, help="pwl knots / bspline intervals (default: %(default)s)")
    p.add_argument("--degrees", type=positive_int, nargs=2, default=(5, 4), metavar=("M", "N"),
                   help="rational numerator/denominator degrees (default: 5 4)")
    p.add_argument("--shared", action="store_true", help="one activation per layer instead of one per unit")
    p.add_argument("--range", type=float, nargs=2, default=(-3.0, 3.0), metavar=("LO", "HI"),
                   help="activation grid range (default: -3 3)")
    p.add_argument("--init", choices=sorted(INIT_FUNCTIONS), default="silu",
                   help="function the activations start as (default: %(default)s)")
    p.add_argument("--deep-layers", type=positive_int, default=4, help="hidden layers of mlp-relu-deep (default: %(default)s)")
    p.add_argument("--optimizer", choices=("adam", "lbfgs"), default="adam",
                   help="AdamW with cosine schedule, or full-batch L-BFGS (default: %(default)s)")
    p.add_argument("--batch-size", type=positive_int, default=128, help="(default: %(default)s)")
    p.add_argument("--weight-decay", type=nonneg_float, default=1.0, help="on linear weights (default: %(default)s)")
    p.add_argument("--act-lr-scale", type=nonneg_float, default=1.0,
                   help="learning-rate factor of activation coefficients (default: %(default)s)")
    p.add_argument("--task-seed", type=int, default=0, help="seed of a fitting task's points (default: %(default)s)")
    p.add_argument("--log-every", type=positive_int, default=200, help="(default: %(default)s)")
    p.add_argument("--ckpt-every", type=positive_int, default=1000, help="(default: %(default)s)")
    p.add_argument("--train-limit", type=positive_int, default=None, help="train on the first N examples (tests)")
    p.add_argument("--test-limit", type=positive_int, default=None, help="score on the first N test examples")
    p.add_argument("--stop-at", type=positive_int, default=None,
                   help="stop after this step as if interrupted (the schedule still spans --steps); --resume continues")
    add_common_args(p, steps=3000, lr=1e-2)
    return p


def cli(argv: list[str]) -> int:
    """``packzoo train activations ...``: see the module docstring."""
    args = parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.range[0] >= args.range[1]:
        print("packzoo train activations: error: --range needs LO < HI", file=sys.stderr)
        return 2
    task = load_task(args.task, seed=args.task_seed, train_limit=args.train_limit, test_limit=args.test_limit)
    config = net_config(args.model, task, args.params, form=args.form, size=args.size, degrees=tuple(args.degrees),
                        shared=args.shared, deep_layers=args.deep_layers, lo=args.range[0], hi=args.range[1], init=args.init)
    settings = TrainSettings(steps=args.steps, lr=args.lr, batch_size=args.batch_size, weight_decay=args.weight_decay,
                             act_lr_scale=args.act_lr_scale, seed=args.seed, optimizer=args.optimizer)
    cfg = {k: v for k, v in vars(args).items() if k != "resume"}
    torch.manual_seed(args.seed)
    model = ActNet(config)
    trainer = Trainer(model, task, settings)
    with TrainRun(args.out, family="activations", config=cfg, resume=args.resume, time_budget=args.time_budget,
                  recipe=recipe("activations", argv), progress=not args.no_progress,
                  resumable_keys=("steps", "time_budget", "threads", "ship", "no_progress", "stop_at")) as run:
        restored = run.restore()
        start = 0
        losses: list[float] = []
        if restored is not None:
            start, tensors, state = restored
            load_module_tensors("model", model, tensors)
            trainer.load_optimizer_state(tensors, state["opt"])
            losses = [float(v) for v in state.get("losses", [])]

        def save(step: int) -> None:
            ot, oj = trainer.optimizer_state()
            run.checkpoint(step, {**module_tensors("model", model), **ot}, {"opt": oj, "losses": list(losses)})

        def row(step: int, loss: float) -> dict[str, Any]:
            values = {"loss": loss, "lr": trainer.lr_at(step - 1),
                      "test_" + task.metric: score(model, task.x_test, task.y_test, task.kind)}
            return {k: round(v, 7) for k, v in values.items()}

        step = start
        for step in run.steps(args.steps, start=start, desc=f"{args.model} {args.task}"):
            losses.append(trainer.step(step - 1))
            if run.end_step(step, args.steps, losses, row, save, log_every=args.log_every,
                            ckpt_every=args.ckpt_every, stop_at=args.stop_at):
                break
        code = run.stopped_early(step, args.steps, save)
        if code is not None:
            return code
        value = score(model, task.x_test, task.y_test, task.kind)
        train_value = score(model, task.x_train, task.y_train, task.kind)
        metrics = {"test_" + task.metric: value, "train_" + task.metric: train_value, "params": count_params(config),
                   "test_examples": len(task.x_test)}
        print(f"{args.model} on {args.task}: test {task.metric} {value:.6g} (train {train_value:.6g}), "
              f"{metrics['params']} parameters, {run.cpu_seconds:.1f} CPU s")
        if args.ship:
            name = args.ship
            arch = {"task": args.task, "task_seed": args.task_seed, "net": config.to_dict()}
            # The check reproduces the metric on a test slice; computed here from the model in hand, the
            # zoo recomputes it from the shipped file and check_model compares.
            check_metrics = evaluate_net(model, args.task, args.task_seed, **CHECK_LIMITS)
            check = {"limits": dict(CHECK_LIMITS), "metrics": check_metrics, "rtol": 1e-9}
            card = run.ship(name, dict(model.state_dict()), config=arch, metrics=metrics, dataset=dataset_text(args.task),
                            check=check, training={"steps": step, "params": metrics["params"]},
                            extra={"model": args.model, "activation": config.activation})
            print(f"shipped {name}: {card.bytes} bytes")
        return finish(run)


def activation_curves(model: ActNet) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Each learned layer's ``(x, y)`` curves (for quick looks; the report uses the viz module)."""
    return [a.curves() for a in model.learned_activations() if isinstance(a, LearnedActivation)]


__all__ = ["TrainSettings", "Trainer", "activation_curves", "cli", "net_config", "parser", "train_net"]
