"""Shallow nets with learned activations against ReLU MLPs and pykan's KAN, at equal parameter count.

Prints test error, parameters and training time (CPU seconds, one torch thread) per task and model:

- ``fit``: the seeded function-fitting suite (:data:`packzoo.zoo.activations.tasks.FUNCTIONS`).
  Every model trains full-batch with L-BFGS for ``--fit-steps`` steps (pykan's optimiser and
  settings: history 10, strong Wolfe, up to 20 inner iterations), and the ReLU nets also with
  AdamW (``--fit-adam-steps``) since L-BFGS suits them less; the KAN is ``[d, h, 1]``, grid 5,
  cubic, with ``h`` chosen so it has about ``--fit-params`` parameters, and every other net is
  sized to the KAN's count. Metric: test RMSE.
- ``mnist1d``: MNIST-1D, ``--seeds`` seeds, all nets at the reference MLP's 15,210 parameters,
  trained with the shipped models' recipe (AdamW lr 0.01, weight decay 1.0 on linear weights,
  cosine, batch 128, 3,000 steps); the KAN ``[40, 30, 10]`` (15,000 parameters) with pykan's own
  ``fit`` (Adam, same steps, batch and learning rate). Metric: test accuracy.
- ``fashion``: Fashion-MNIST, nets at the 784-128-128-10 ReLU MLP's 118,282 parameters, AdamW lr
  0.002, weight decay 0.05, batch 128, 4,690 steps (10 epochs). Metric: test accuracy.

pykan (``pip install -e ".[bench-activations]"``) is optional: without it the KAN rows are skipped.
KAN parameters count what its numeric path trains (spline coefficients and the two scales of every
edge), not the symbolic branch's affine parameters, which it does not use here.

    python benchmarks/bench_activations.py                  # all parts
    python benchmarks/bench_activations.py --part fit --functions exp-sin-sq,product
    python benchmarks/bench_activations.py --part mnist1d --seeds 3 --out results/activations
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

from packzoo._io import atomic_write_text
from packzoo.train.activations import TrainSettings, net_config, train_net
from packzoo.zoo.activations import count_params
from packzoo.zoo.activations.tasks import FUNCTIONS, load_task

# The learned-activation variants compared; "shallow-learned-act" rows name their form.
FIT_VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("shallow-learned-act", {"form": "bspline", "size": 5, "lo": -2.0, "hi": 2.0}),
    ("shallow-learned-act", {"form": "rational", "shared": True}),
    ("shallow-relu", {}),
    ("mlp-relu-deep", {}),
]
CLASS_VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("shallow-learned-act", {"form": "bspline", "shared": True}),
    ("shallow-learned-act", {"form": "bspline"}),
    ("shallow-learned-act", {"form": "rational", "shared": True}),
    ("shallow-learned-act", {"form": "pwl", "shared": True}),
    ("shallow-relu", {}),
    ("mlp-relu-deep", {}),
]


def label(model: str, kw: dict[str, Any]) -> str:
    if model != "shallow-learned-act":
        return model
    return f"learned-{kw['form']}-{'layer' if kw.get('shared') else 'unit'}"


def kan_available() -> bool:
    try:
        import kan  # noqa: F401
    except Exception as e:  # pykan missing, or an import of its own missing (it imports yaml, sympy, ...)
        print(f"(pykan not usable: {type(e).__name__}: {e}; KAN rows skipped; pip install -e '.[bench-activations]')",
              file=sys.stderr)
        return False
    return True


def kan_params(model: Any) -> int:
    return sum(p.numel() for n, p in model.named_parameters() if p.requires_grad and "symbolic" not in n)


def train_kan(task: Any, width: list[int], *, opt: str, steps: int, lr: float, batch: int, seed: int) -> dict[str, Any]:
    """pykan's KAN (grid 5, cubic) trained by its own ``fit``; returns the metric, params and CPU time."""
    from kan import KAN

    torch.manual_seed(seed)
    model = KAN(width=width, grid=5, k=3, seed=seed, auto_save=False)
    ds = {"train_input": task.x_train, "train_label": task.y_train, "test_input": task.x_test, "test_label": task.y_test}
    kw: dict[str, Any] = {}
    if task.kind == "classification":
        kw["loss_fn"] = torch.nn.CrossEntropyLoss()
    c0, t0 = time.process_time(), time.perf_counter()
    model.fit(ds, opt=opt, steps=steps, lr=lr, batch=batch, log=10**9, lamb=0.0, **kw)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    with torch.no_grad():
        out = model(task.x_test)
        if task.kind == "regression":
            metric = float((out.double() - task.y_test.double()).pow(2).mean().sqrt())
        else:
            metric = float((out.argmax(1) == task.y_test).float().mean())
    return {"params": kan_params(model), task.metric: metric, "cpu_seconds": cpu, "seconds": wall}


def kan_hidden_for(d_in: int, d_out: int, params: int) -> int:
    # Each edge of [d_in, h, d_out] has G + k = 8 coefficients and 2 scales.
    return max(1, round(params / (10 * (d_in + d_out))))


def run_fit(args: argparse.Namespace, use_kan: bool) -> list[dict[str, Any]]:
    rows = []
    names = args.functions.split(",") if args.functions else list(FUNCTIONS)
    for fname in names:
        task = load_task(f"fit:{fname}", seed=args.task_seed)
        d = task.in_dim
        h = kan_hidden_for(d, 1, args.fit_params)
        target = 10 * (d + 1) * h
        results = []
        if use_kan:
            r = train_kan(task, [d, h, 1], opt="LBFGS", steps=args.fit_steps, lr=1.0, batch=-1, seed=args.seed)
            target = r["params"]
            results.append({"model": f"kan[{d},{h},1]", **r})
        for model, kw in FIT_VARIANTS:
            cfg = net_config(model, task, target, **kw)
            s = TrainSettings(steps=args.fit_steps, lr=1.0, batch_size=10**9, weight_decay=0.0, seed=args.seed, optimizer="lbfgs")
            _, f = train_net(cfg, task, s)
            results.append({"model": label(model, kw) + "/lbfgs", **f})
            if model != "shallow-learned-act":
                s = TrainSettings(steps=args.fit_adam_steps, lr=1e-2, batch_size=10**9, weight_decay=0.0, seed=args.seed)
                _, f = train_net(cfg, task, s)
                results.append({"model": label(model, kw) + "/adam", **f})
        relu = min(r["rmse"] for r in results if r["model"].startswith("shallow-relu"))
        kan = next((r["rmse"] for r in results if r["model"].startswith("kan")), None)
        for r in results:
            r.update(task=f"fit:{fname}", kind=FUNCTIONS[fname].kind, vs_relu=r["rmse"] / relu,
                     vs_kan=None if kan is None else r["rmse"] / kan)
            rows.append(r)
            vs_kan = "" if r["vs_kan"] is None else f"x{r['vs_kan']:.2f} of KAN  "
            print(f"{fname:16s} {FUNCTIONS[fname].kind:11s} {r['model']:28s} {r['params']:6d} params  "
                  f"rmse {r['rmse']:.3e}  x{r['vs_relu']:.3f} of best ReLU  {vs_kan}{r['cpu_seconds']:6.1f} CPU s", flush=True)
    return rows


def run_classification(task_name: str, args: argparse.Namespace, use_kan: bool) -> list[dict[str, Any]]:
    task = load_task(task_name)
    if task_name == "mnist1d":
        params, recipe = 15210, dict(steps=3000, lr=1e-2, batch_size=128, weight_decay=1.0)
    else:
        params, recipe = 118282, dict(steps=4690, lr=2e-3, batch_size=128, weight_decay=0.05)
    variants = [(label(m, kw), m, kw) for m, kw in CLASS_VARIANTS]
    per_model: dict[str, list[dict[str, Any]]] = {}
    for seed in range(args.seeds):
        for name, model, kw in variants:
            cfg = net_config(model, task, params, **kw)
            _, f = train_net(cfg, task, TrainSettings(seed=seed, **recipe))
            per_model.setdefault(name, []).append(f)
            print(f"{task_name} seed {seed} {name:24s} {f['params']:7d} params  acc {f['accuracy']:.4f}  "
                  f"{f['cpu_seconds']:6.1f} CPU s", flush=True)
        if use_kan and (task_name == "mnist1d" or args.kan_fashion):
            h = kan_hidden_for(task.in_dim, task.out_dim, params)
            r = train_kan(task, [task.in_dim, h, task.out_dim], opt="Adam", steps=recipe["steps"], lr=recipe["lr"],
                          batch=recipe["batch_size"], seed=seed)
            per_model.setdefault(f"kan[{task.in_dim},{h},{task.out_dim}]", []).append(r)
            print(f"{task_name} seed {seed} kan[{task.in_dim},{h},{task.out_dim}] {r['params']:7d} params  "
                  f"acc {r['accuracy']:.4f}  {r['cpu_seconds']:6.1f} CPU s", flush=True)
    rows = []
    relu = statistics.mean(f["accuracy"] for f in per_model["shallow-relu"])
    print(f"\n{task_name}: mean over {args.seeds} seeds")
    for name, fs in per_model.items():
        accs = [f["accuracy"] for f in fs]
        row = {"task": task_name, "model": name, "params": fs[0]["params"], "seeds": len(fs), "accuracy": statistics.mean(accs),
               "accuracy_min": min(accs), "accuracy_max": max(accs), "accuracies": accs,
               "cpu_seconds": statistics.mean(f["cpu_seconds"] for f in fs), "points_vs_relu": 100 * (statistics.mean(accs) - relu)}
        rows.append(row)
        print(f"  {name:24s} {row['params']:7d} params  acc {row['accuracy']:.4f} (min {row['accuracy_min']:.4f}, "
              f"max {row['accuracy_max']:.4f})  {row['points_vs_relu']:+.2f} points vs shallow-relu  "
              f"{row['cpu_seconds']:6.1f} CPU s", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--part", choices=("all", "fit", "mnist1d", "fashion"), default="all")
    p.add_argument("--functions", default="", help="comma-separated fitting functions (default: all)")
    p.add_argument("--fit-params", type=int, default=400, help="about this many parameters per fitting net")
    p.add_argument("--fit-steps", type=int, default=200, help="L-BFGS steps for fitting (pykan's usual 200)")
    p.add_argument("--fit-adam-steps", type=int, default=5000, help="AdamW steps for the ReLU nets' second try")
    p.add_argument("--seeds", type=int, default=3, help="seeds of the classification runs")
    p.add_argument("--seed", type=int, default=0, help="seed of the fitting runs")
    p.add_argument("--task-seed", type=int, default=0, help="seed of the fitting points")
    p.add_argument("--no-kan", action="store_true", help="skip pykan's KAN")
    p.add_argument("--kan-fashion", action="store_true", help="also train a KAN on Fashion-MNIST (slow)")
    p.add_argument("--out", default="results/activations", help="folder for the JSON results")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    use_kan = not args.no_kan and kan_available()
    rows: list[dict[str, Any]] = []
    if args.part in ("all", "fit"):
        rows += run_fit(args, use_kan)
    if args.part in ("all", "mnist1d"):
        rows += run_classification("mnist1d", args, use_kan)
    if args.part in ("all", "fashion"):
        rows += run_classification("fashion", args, use_kan)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench-{args.part}.json"
    atomic_write_text(path, json.dumps({"argv": sys.argv[1:], "rows": rows}, indent=1) + "\n")
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
