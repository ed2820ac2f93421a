"""The plumbing every trainer shares: one run folder, one flag vocabulary, one way to stop and resume.

A trainer builds an ``argparse`` parser with :func:`add_common_args` (``--steps --lr --threads
--time-budget --seed --out --resume --ship NAME --no-progress``), then works inside a
:class:`TrainRun`::

    args = parser.parse_args(argv)
    with TrainRun(args.out, family="quant", config=cfg_dict, resume=args.resume,
                  time_budget=args.time_budget, recipe=recipe("quant", argv)) as run:
        step, tensors, state = run.restore() or (0, None, {})
        ...                                   # rebuild model/optimizer/rng from tensors + state
        for step in run.steps(args.steps, start=step):   # progress bar; stops on budget/SIGINT
            ...
            run.log(step, loss=..., val_acc=...)
            if step % 100 == 0:
                run.checkpoint(step, tensors_fn(), state_fn())
        run.checkpoint(...)                   # always leave a resumable run
        if args.ship:
            run.ship(args.ship, tensors, config=..., metrics=..., dataset=..., check=...)

The folder holds ``run.json`` (family, config, recipe), ``metrics.csv``, ``checkpoint.safetensors``
+ ``checkpoint.json`` (written atomically; only safetensors, nothing is ever unpickled). Resuming
checks the config is the same, drops metric rows logged after the checkpoint, and restores the
tensors and RNG states, so an interrupted and resumed run ends bit-identical to an uninterrupted
one (each trainer's tests check it). SIGINT and SIGTERM set a flag: the loop ends after the current
step, the trainer writes its checkpoint and the command exits 130.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shlex
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from packzoo._io import OutputPathError, atomic_write_bytes, atomic_write_text, check_output_dir

CHECKPOINT = "checkpoint"
EXIT_INTERRUPTED = 130


class RunError(ValueError):
    """A run folder that cannot be used as asked (exists without --resume, config mismatch, ...)."""


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (the message names the value)."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def _number(text: str, *, strict: bool) -> float:
    bound = "> 0" if strict else ">= 0"
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number {bound}, got {text!r}") from None
    if not np.isfinite(v) or v < 0 or (strict and v == 0):
        raise argparse.ArgumentTypeError(f"expected a number {bound}, got {text!r}")
    return v


def nonneg_float(text: str) -> float:
    """argparse type: a finite number >= 0."""
    return _number(text, strict=False)


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    return _number(text, strict=True)


def add_common_args(
    parser: argparse.ArgumentParser,
    *,
    steps: int,
    lr: float,
    threads: int = 1,
    time_budget: float = 0.0,
    seed: int = 0,
    out: str | None = None,
) -> argparse.ArgumentParser:
    """Add the flags every trainer shares, with this family's defaults (shown by ``--help``)."""
    g = parser.add_argument_group("common training flags")
    g.add_argument("--steps", type=positive_int, default=steps, help="training steps (default: %(default)s)")
    g.add_argument("--lr", type=positive_float, default=lr, help="learning rate (default: %(default)s)")
    g.add_argument("--threads", type=positive_int, default=threads, help="torch threads (default: %(default)s)")
    g.add_argument("--time-budget", type=nonneg_float, default=time_budget,
                   help="stop after this many wall seconds, 0 = none (default: %(default)s)")
    g.add_argument("--seed", type=int, default=seed, help="seed of every random choice (default: %(default)s)")
    g.add_argument("--out", required=out is None, default=out,
                   help="run folder: config, metrics.csv, checkpoint" + ("" if out is None else " (default: %(default)s)"))
    g.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    g.add_argument("--ship", metavar="NAME", default=None,
                   help="at the end, save the model into the zoo as NAME (weights + card with the recipe)")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def recipe(family: str, argv: list[str]) -> str:
    """The command line that reproduces a run, for the weights card."""
    return " ".join(["packzoo", "train", family, *(shlex.quote(a) for a in argv)])


def _jsonable(value: Any) -> Any:
    """A JSON-compatible copy (tuples -> lists, numpy scalars -> Python) for configs and states."""
    return json.loads(json.dumps(value, default=lambda o: o.item() if hasattr(o, "item") else list(o)))


class TrainRun:
    """A training run's folder and clock.

    Args:
        out: the run folder (created; must be writable).
        family: the zoo family trained (goes into the card).
        config: the run's full config (architecture and training), JSON-compatible. On resume it
            must equal the saved one, except for the keys in ``resumable_keys``.
        resume: continue from the folder's checkpoint (an error when there is none).
        time_budget: wall seconds this invocation may train (0 = no limit).
        recipe: the command that reproduces the run (see :func:`recipe`).
        progress: show a tqdm progress bar.
        resumable_keys: config keys allowed to change on resume (by default the step count and
            budget, so a run can be extended).
    """

    def __init__(
        self,
        out: str | os.PathLike,
        *,
        family: str,
        config: dict[str, Any],
        resume: bool = False,
        time_budget: float = 0.0,
        recipe: str = "",
        progress: bool = True,
        resumable_keys: tuple[str, ...] = ("steps", "time_budget", "threads", "ship", "no_progress", "resume", "out"),
    ) -> None:
        self.out = check_output_dir(out)
        self.family = family
        self.config = _jsonable(config)
        self.resume = bool(resume)
        self.time_budget = float(time_budget or 0.0)
        self.recipe = recipe
        self.progress = progress
        self.stop_requested = False
        self.stopped_by = ""
        self._t0 = time.perf_counter()
        self._cpu0 = time.process_time()
        self._prev_seconds = 0.0
        self._prev_cpu = 0.0
        self._old_handlers: dict[int, Any] = {}
        meta_path = self.out / "run.json"
        ckpt = self.out / f"{CHECKPOINT}.json"
        if resume:
            if not ckpt.exists():
                raise RunError(f"--resume: no checkpoint in {str(self.out)!r}")
            saved = json.loads(meta_path.read_text())
            if saved.get("family") != family:
                raise RunError(f"--resume: {str(self.out)!r} holds a {saved.get('family')!r} run, not {family!r}")
            old = {k: v for k, v in saved["config"].items() if k not in resumable_keys}
            new = {k: v for k, v in self.config.items() if k not in resumable_keys}
            if old != new:
                diff = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
                raise RunError(f"--resume: the config differs from the saved run in {diff}")
        elif ckpt.exists():
            raise RunError(f"{str(self.out)!r} already holds a run; pass --resume to continue it or choose another --out")
        atomic_write_text(meta_path, json.dumps({"family": family, "config": self.config, "recipe": recipe},
                                                indent=2, sort_keys=True) + "\n")

    # -- stopping -----------------------------------------------------------------------------
    def __enter__(self) -> TrainRun:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._old_handlers[sig] = signal.signal(sig, self._on_signal)
            except ValueError:  # not the main thread: signals stay with the caller
                pass
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._old_handlers.items():
            signal.signal(sig, handler)
        self._old_handlers.clear()

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self.stop_requested:  # a second Ctrl-C: stop now, without a checkpoint
            raise KeyboardInterrupt
        self.stop_requested = True
        self.stopped_by = signal.Signals(signum).name

    @property
    def seconds(self) -> float:
        """Wall seconds of training, over every resumed session."""
        return self._prev_seconds + time.perf_counter() - self._t0

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds of this process (all threads), over every resumed session."""
        return self._prev_cpu + time.process_time() - self._cpu0

    def should_stop(self) -> bool:
        """True after SIGINT/SIGTERM, or when this invocation used its time budget."""
        if self.stop_requested:
            return True
        if self.time_budget and time.perf_counter() - self._t0 >= self.time_budget:
            self.stopped_by = "time budget"
            return True
        return False

    @property
    def interrupted(self) -> bool:
        """True when a signal (not the budget) stopped the run: the CLI then exits 130."""
        return self.stop_requested

    def steps(self, total: int, start: int = 0, desc: str | None = None) -> Iterator[int]:
        """Yield step numbers ``start+1 .. total`` with a progress bar, until :meth:`should_stop`."""
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=total, initial=start, desc=desc or self.family, dynamic_ncols=True, leave=True)
        self.bar = bar
        try:
            step = start
            while step < total and not self.should_stop():
                step += 1
                yield step
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
            self.bar = None

    def end_step(self, step: int, total: int, losses: list[float], row: Callable[[int, float], dict[str, Any]],
                 save: Callable[[int], None], *, log_every: int, ckpt_every: int,
                 stop_at: int | None = None) -> bool:
        """The bookkeeping after training step ``step`` of ``total``: every ``log_every`` steps
        (and at the last) log ``row(step, mean of losses)`` to metrics.csv and the progress bar and
        empty ``losses``; every ``ckpt_every`` steps ``save(step)``. Returns True when the loop
        should stop here (``--stop-at``, for tests of resume)."""
        if step % log_every == 0 or step == total:
            values = row(step, sum(losses) / len(losses))
            self.log(step, **values)
            self.postfix(**values)
            losses.clear()
        if step % ckpt_every == 0:
            save(step)
        return stop_at is not None and step >= stop_at

    def stopped_early(self, step: int, total: int, save: Callable[[int], None], unit: str = "step") -> int | None:
        """After the loop: checkpoint ``step``; if it is short of ``total`` (budget, signal or
        ``--stop-at``), say so and return the CLI exit code, else None (go on to evaluate)."""
        save(step)
        if step < total:
            return finish(self, f"stopped at {unit} {step}/{total} ({self.stopped_by}); --resume continues")
        return None

    def postfix(self, **values: Any) -> None:
        """Show ``values`` beside the progress bar (when there is one)."""
        bar = getattr(self, "bar", None)
        if bar is not None:
            bar.set_postfix({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in values.items()}, refresh=False)

    # -- metrics ------------------------------------------------------------------------------
    @property
    def metrics_path(self) -> Path:
        return self.out / "metrics.csv"

    def log(self, step: int, **metrics: Any) -> None:
        """Append a row ``step, seconds, metrics...`` to ``metrics.csv`` (columns fixed by the first row)."""
        row = {"step": int(step), "seconds": round(self.seconds, 3), **metrics}
        path = self.metrics_path
        new = not path.exists() or path.stat().st_size == 0
        if new:
            fields = list(row)
        else:
            with open(path, newline="") as f:
                fields = next(csv.reader(f))
            extra = [k for k in row if k not in fields]
            if extra:
                raise ValueError(f"metrics {extra} were not in the first row of {path}; log every column from the start")
        with open(path, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            if new:
                w.writeheader()
            w.writerow({k: row.get(k, "") for k in fields})

    def read_metrics(self) -> list[dict[str, str]]:
        """The rows of ``metrics.csv`` (strings), [] when there are none."""
        if not self.metrics_path.exists():
            return []
        with open(self.metrics_path, newline="") as f:
            return list(csv.DictReader(f))

    def _truncate_metrics(self, step: int) -> None:
        # Rows logged after the checkpoint will be logged again by the resumed run.
        rows = self.read_metrics()
        if not rows:
            return
        keep = [r for r in rows if int(r["step"]) <= step]
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\r\n")
        w.writeheader()
        w.writerows(keep)
        atomic_write_text(self.metrics_path, buf.getvalue())

    # -- checkpoints --------------------------------------------------------------------------
    def checkpoint(self, step: int, tensors: dict[str, Any], state: dict[str, Any] | None = None) -> None:
        """Save ``tensors`` (str -> torch.Tensor) and a JSON ``state`` atomically (safetensors only)."""
        from safetensors.torch import save

        data = save({k: v.detach().contiguous().cpu() for k, v in tensors.items()})
        meta = {"step": int(step), "seconds": round(self.seconds, 3), "cpu_seconds": round(self.cpu_seconds, 3),
                "state": _jsonable(state or {})}
        # Tensors first, then the JSON that names the step: a crash between them leaves the old JSON,
        # and restore() checks that both agree.
        meta["tensors_bytes"] = len(data)
        atomic_write_bytes(self.out / f"{CHECKPOINT}.safetensors", data)
        atomic_write_text(self.out / f"{CHECKPOINT}.json", json.dumps(meta, indent=1, sort_keys=True) + "\n")

    def restore(self) -> tuple[int, dict[str, Any], dict[str, Any]] | None:
        """``(step, tensors, state)`` of the checkpoint when resuming, else None."""
        if not self.resume:
            return None
        from safetensors.torch import load

        meta = json.loads((self.out / f"{CHECKPOINT}.json").read_text())
        data = (self.out / f"{CHECKPOINT}.safetensors").read_bytes()
        if len(data) != meta.get("tensors_bytes"):
            raise RunError(f"{self.out}: checkpoint tensors and {CHECKPOINT}.json disagree (interrupted write?)")
        self._prev_seconds = float(meta.get("seconds", 0.0))
        self._prev_cpu = float(meta.get("cpu_seconds", 0.0))
        self._truncate_metrics(int(meta["step"]))
        return int(meta["step"]), load(data), meta["state"]

    # -- shipping -----------------------------------------------------------------------------
    def ship(
        self,
        name: str,
        tensors: dict[str, Any],
        *,
        config: dict[str, Any],
        metrics: dict[str, Any],
        dataset: str,
        check: dict[str, Any],
        train_config: dict[str, Any] | None = None,
        training: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        directory: str | os.PathLike | None = None,
    ):
        """Save the model into the zoo as ``name``: weights + a card with the recipe and run facts."""
        from packzoo.zoo.weights import save_weights

        facts = {"seconds": round(self.seconds, 1), "cpu_seconds": round(self.cpu_seconds, 1),
                 "hardware": f"{os.cpu_count()}-core CPU, torch threads {self.config.get('threads', 1)}"}
        facts.update(training or {})
        return save_weights(name, tensors, {
            "family": self.family, "config": _jsonable(config),
            "train_config": _jsonable(train_config if train_config is not None else self.config),
            "metrics": _jsonable(metrics), "dataset": dataset, "recipe": self.recipe,
            "training": _jsonable(facts), "check": _jsonable(check), "extra": _jsonable(extra or {}),
        }, directory)


# -- torch state <-> safetensors + JSON ---------------------------------------------------------
def module_tensors(prefix: str, module: Any) -> dict[str, Any]:
    """``{prefix/name: tensor}`` of a module's state dict."""
    return {f"{prefix}/{k}": v for k, v in module.state_dict().items()}


def load_module_tensors(prefix: str, module: Any, tensors: dict[str, Any]) -> None:
    """Load the ``prefix/...`` tensors into ``module`` (strict)."""
    sd = {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + "/")}
    module.load_state_dict(sd)


def optimizer_state(prefix: str, optimizer: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """An optimizer's state as ``(tensors, json)``: its per-parameter tensors go to safetensors."""
    import torch

    sd = optimizer.state_dict()
    tensors: dict[str, Any] = {}
    scalars: dict[str, Any] = {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            if isinstance(v, torch.Tensor):
                tensors[f"{prefix}/{pid}/{k}"] = v
            else:
                scalars[f"{pid}/{k}"] = v
    return tensors, {"param_groups": _jsonable(sd["param_groups"]), "scalars": _jsonable(scalars)}


def load_optimizer_state(prefix: str, optimizer: Any, tensors: dict[str, Any], meta: dict[str, Any]) -> None:
    """Inverse of :func:`optimizer_state`."""
    state: dict[int, dict[str, Any]] = {}
    for k, v in tensors.items():
        if k.startswith(prefix + "/"):
            pid, key = k[len(prefix) + 1:].split("/", 1)
            state.setdefault(int(pid), {})[key] = v
    for k, v in meta.get("scalars", {}).items():
        pid, key = k.split("/", 1)
        state.setdefault(int(pid), {})[key] = v
    groups = meta["param_groups"]
    for g in groups:
        if "betas" in g and isinstance(g["betas"], list):
            g["betas"] = tuple(g["betas"])
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def rng_tensors() -> dict[str, Any]:
    """torch's global CPU RNG state, as a tensor for the checkpoint."""
    import torch

    return {"rng/torch": torch.get_rng_state()}


def load_rng_tensors(tensors: dict[str, Any]) -> None:
    import torch

    if "rng/torch" in tensors:
        torch.set_rng_state(tensors["rng/torch"])


def numpy_rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """A numpy Generator's bit-generator state (JSON-compatible: Python ints of any size)."""
    return _jsonable(rng.bit_generator.state)


def set_numpy_rng_state(rng: np.random.Generator, state: dict[str, Any]) -> None:
    rng.bit_generator.state = state


def read_run(folder: str | os.PathLike, flag: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(checkpoint tensors, run config)`` of a finished run folder, to start another run from it
    (``flag`` names the argument, for the error: e.g. ``--init``)."""
    from safetensors.torch import load

    path = Path(folder)
    f = path / f"{CHECKPOINT}.safetensors"
    if not f.exists():
        raise RunError(f"{flag} {str(folder)!r}: no checkpoint in that folder")
    return load(f.read_bytes()), json.loads((path / "run.json").read_text())["config"]


def finish(run: TrainRun, message: str = "") -> int:
    """Print why the run stopped and return the CLI exit code (130 when a signal stopped it)."""
    import sys

    if run.interrupted:
        print(f"\ninterrupted ({run.stopped_by}): checkpoint saved in {run.out}; "
              "run the same command with --resume to continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    if message:
        print(message)
    return 0


__all__ = [
    "EXIT_INTERRUPTED",
    "RunError",
    "TrainRun",
    "add_common_args",
    "OutputPathError",
    "check_output_dir",
    "finish",
    "read_run",
    "load_module_tensors",
    "load_optimizer_state",
    "load_rng_tensors",
    "module_tensors",
    "nonneg_float",
    "numpy_rng_state",
    "optimizer_state",
    "positive_float",
    "positive_int",
    "recipe",
    "rng_tensors",
    "set_numpy_rng_state",
]
