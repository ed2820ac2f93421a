"""REINFORCE training of the pointer network (``packzoo train ptrnet``).

One readable trainer with a typed config. The cost of an order is its LSA surface (computed by
:func:`packzoo.envs.evaluate_orders`, the env's engine) divided by the instance's lower bound, so
instances of different scale weigh the same. Baselines:

- ``memory``: the paper's per-sample memory b <- b + 0.7 (cost - b), started from the sort-volume
  heuristic, over a finite pool of training instances (``--pool``).
- ``ema``: one exponential moving average of the batch's mean cost.
- ``rollout``: Kool et al. 2019, the greedy decode of a frozen copy of the policy, replaced when
  the policy is better on a fixed set (one-sided paired t-test); EMA during the first period.
- ``pomo``: shared multi-start (POMO-like): every instance is decoded N times, each forced to start
  with a different item, and the mean of those N costs is the baseline. POMO never trains the
  first pick, which plain greedy decoding needs, so a cross-entropy term pulls the first pick
  toward the best start of each instance.
- ``multi``: K sampled orders per instance, each one's baseline the mean cost of the other K-1
  (Kool et al. 2019, "Buy 4 REINFORCE samples"). The shipped models use this one, with an entropy
  bonus annealed to zero: it learned fastest per CPU second in our short comparisons (the
  rollout baseline settled on the sort-volume order within 100 steps and stayed there).

Beyond the paper, ``mode="imitate"`` (``--mode imitate``) is expert iteration: on every batch of
fresh training instances an expert finds a good order per instance, and the network is trained by
cross-entropy (teacher forcing) to reproduce it. Experts (``--expert``):

- ``best-order``: the exhaustive best order under LSA (the ``best-order`` solver; ~0.1 s per item
  at N=8, so only practical up to N=8 or 9).
- ``sampleK`` (e.g. ``sample64``): self-imitation; the best of K orders sampled from the current
  policy (at ``--expert-temperature``), its greedy order and the three sort rules. As the policy
  improves so does its expert.
- ``local-search``: the registered ``local-search`` solver, started from sort-volume.

Each instance's expert order is the best of the expert's order, the sort rules and the policy's
greedy order (ties to greedy), so the target is never worse than what greedy already does. ``--init`` starts from a
zoo model's (or a run folder's) weights, e.g. to fine-tune the REINFORCE-trained ones.

Training instances use seeds ``(TRAIN_SEED_BASE + family, n, k)``; the validation set uses
``(TRAIN_SEED_BASE + 10 + family, n, k)``; neither meets the named sets' seeds.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from packzoo._io import atomic_write_bytes, atomic_write_text
from packzoo.envs.generators import TRAIN_SEED_BASE, draw
from packzoo.envs.packing import lower_bound
from packzoo.envs.rules import sort_orders
from packzoo.train.run import (
    TrainRun,
    add_common_args,
    finish,
    load_module_tensors,
    load_optimizer_state,
    module_tensors,
    optimizer_state,
    positive_int,
    recipe,
)

BASELINES = ("memory", "ema", "rollout", "pomo", "multi")
MODES = ("reinforce", "imitate")


def _check_expert(expert: str) -> None:
    if expert in ("best-order", "local-search"):
        return
    if expert.startswith("sample") and expert[6:].isdigit() and int(expert[6:]) >= 1:
        return
    raise ValueError(f"expert must be 'best-order', 'local-search' or 'sampleK' (K >= 1), got {expert!r}")
FAMILIES = ("uniform", "orders", "mix")


@dataclass
class TrainConfig:
    """Everything that defines a training run (the paper's settings are the defaults).

    One flat record, as the command line is: the network's fields (hidden, clip, n_glimpses,
    init_range, dynamic, canonical) sit beside the training ones, and :meth:`model_config` hands
    them to :class:`~packzoo.zoo.ptrnet.model.PtrNetConfig`, the architecture config that the
    weights card stores apart from this one.
    """

    n_items: int = 10
    steps: int = 10000
    batch_size: int = 128
    hidden: int = 128
    lr: float = 1e-3
    lr_decay: float = 0.96
    lr_decay_every: int = 5000
    grad_clip: float = 1.0
    init_range: float = 0.08
    clip: float = 10.0
    n_glimpses: int = 1
    dynamic: bool = True
    canonical: bool = True
    entropy: float = 0.0
    entropy_anneal: bool = True
    normalize_adv: bool = False
    baseline: str = "rollout"
    ema_beta: float = 0.9
    memory_alpha: float = 0.7
    samples: int = 8
    rollout_every: int = 250
    rollout_set: int = 512
    family: str = "mix"
    pool: int = 0
    val_size: int = 256
    log_every: int = 50
    ckpt_every: int = 250
    seed: int = 0
    threads: int = 1
    time_budget: float = 0.0
    mode: str = "reinforce"
    expert: str = "sample64"
    expert_temperature: float = 1.0
    init: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def model_config(self):
        """The architecture part, as the zoo's :class:`PtrNetConfig`."""
        from packzoo.zoo.ptrnet.model import PtrNetConfig

        return PtrNetConfig(hidden=self.hidden, clip=self.clip, n_glimpses=self.n_glimpses,
                            init_range=self.init_range, dynamic=self.dynamic, canonical=self.canonical)

    def __post_init__(self) -> None:
        if self.baseline not in BASELINES:
            raise ValueError(f"baseline must be one of {BASELINES}, got {self.baseline!r}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        _check_expert(self.expert)
        if not self.expert_temperature > 0:
            raise ValueError(f"expert_temperature must be > 0, got {self.expert_temperature}")
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, got {self.family!r}")
        if self.n_items < 2:
            raise ValueError(f"n_items must be >= 2, got {self.n_items}")
        if self.steps < 0 or self.batch_size < 1:
            raise ValueError("steps must be >= 0 and batch_size >= 1")
        if self.baseline == "memory" and self.pool < 1:
            raise ValueError("the memory baseline needs a finite training pool (--pool K)")


_FAMILY_ID = {"uniform": 0, "orders": 1}


def _family_of(cfg: TrainConfig, k: int) -> str:
    return cfg.family if cfg.family != "mix" else ("uniform", "orders")[k % 2]


def make_batch(cfg: TrainConfig, keys: np.ndarray, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Dims (B, n, 3) and lower bounds (B,) of training instances ``keys`` (seed space ``offset``)."""
    dims = np.empty((len(keys), cfg.n_items, 3), dtype=np.int64)
    lb = np.empty(len(keys), dtype=np.float64)
    for i, k in enumerate(keys.tolist()):
        fam = _family_of(cfg, k)
        inst = draw(fam, cfg.n_items, (TRAIN_SEED_BASE + offset + _FAMILY_ID[fam], cfg.n_items, k))
        dims[i] = inst.dims
        lb[i] = lower_bound(inst)
    return dims, lb


def reference_surfaces(dims: np.ndarray) -> tuple[str, np.ndarray]:
    """Surfaces of the reference heuristic: lsa-lws when registered, else sort-volume."""
    from packzoo.envs.ems import evaluate_orders
    from packzoo.envs.instance import Instance

    try:
        from packzoo.solvers import create_solver

        solver = create_solver("lsa-lws")
    except Exception:  # lsa-lws not there (yet): the sort rule is the bar
        return "sort-volume", evaluate_orders(dims, sort_orders(dims)["volume"])
    return "lsa-lws", np.array([solver.solve(Instance(d), seed=0).packing.surface_area for d in dims])


class Trainer:
    """REINFORCE trainer; ``run()`` trains to ``cfg.steps`` with logs and checkpoints in ``out``."""

    def __init__(self, cfg: TrainConfig, out: str | os.PathLike, *, resume: bool = False, progress: bool = True,
                 run: TrainRun | None = None):
        import torch

        from packzoo.zoo.ptrnet.model import PointerNet

        # The run folder, checkpoints and signals are the shared plumbing's; the time budget stays
        # the trainer's own (training seconds over every resumed session, validation excluded).
        self.run_dir = run or TrainRun(out, family="ptrnet", config=asdict(cfg), resume=resume, progress=progress,
                                       resumable_keys=("steps", "time_budget", "threads"))
        self.torch = torch
        self.cfg = cfg
        self.out = self.run_dir.out
        self.progress = progress
        torch.set_num_threads(max(1, cfg.threads))
        torch.manual_seed(cfg.seed)
        self.rng = np.random.default_rng(cfg.seed)
        self.model = PointerNet(cfg.model_config())
        self.opt = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)
        self.sched = torch.optim.lr_scheduler.StepLR(self.opt, step_size=cfg.lr_decay_every, gamma=cfg.lr_decay)
        self.step = 0
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.ema: float | None = None
        self.memory: np.ndarray | None = None
        self.baseline_model = None
        self.baseline_updates = 0
        self.val_dims, self.val_lb = make_batch(cfg, np.arange(cfg.val_size), offset=10)
        self.ref_name, self.val_ref = None, None
        if cfg.baseline == "rollout":
            self.bl_dims, self.bl_lb = make_batch(cfg, np.arange(cfg.rollout_set), offset=20)
        if cfg.baseline == "memory":
            pool_dims, pool_lb = make_batch(cfg, np.arange(cfg.pool))
            self.pool_dims, self.pool_lb = pool_dims, pool_lb
            from packzoo.envs.ems import evaluate_orders

            self.memory = evaluate_orders(pool_dims, sort_orders(pool_dims)["volume"]) / pool_lb
        if cfg.init:
            self._init_weights(cfg.init)
        restored = self.run_dir.restore()
        if restored is not None:
            self._load(*restored)

    def _init_weights(self, source: str) -> None:
        """Start from a zoo model's weights (a name) or a run folder's ``model.safetensors``."""
        if Path(source).is_dir():
            from safetensors.torch import load_file

            tensors = load_file(str(Path(source) / "model.safetensors"))
        else:
            from packzoo.zoo.weights import load_weights

            tensors = load_weights(source)
        try:
            self.model.load_state_dict(tensors)
        except RuntimeError as exc:
            raise ValueError(f"--init {source!r} does not fit this network: {exc}") from None

    # ---------------------------------------------------------------- state
    def _state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The checkpoint: (tensors for safetensors, JSON state). Nothing is pickled."""
        t = self.torch
        tensors = {**module_tensors("model", self.model), "rng/torch": t.get_rng_state()}
        opt_tensors, opt_meta = optimizer_state("opt", self.opt)
        tensors.update(opt_tensors)
        if self.memory is not None:
            tensors["memory"] = t.as_tensor(self.memory)
        if self.baseline_model is not None:
            tensors.update(module_tensors("baseline_model", self.baseline_model))
        state = {
            "opt": opt_meta,
            "sched": self.sched.state_dict(),
            "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds,
            "ema": self.ema,
            "baseline_updates": self.baseline_updates,
            "rng": self.rng.bit_generator.state,
        }
        return tensors, state

    def save_checkpoint(self) -> None:
        self.run_dir.checkpoint(self.step, *self._state())

    def _load(self, step: int, tensors: dict[str, Any], state: dict[str, Any]) -> None:
        load_module_tensors("model", self.model, tensors)
        load_optimizer_state("opt", self.opt, tensors, state["opt"])
        self.sched.load_state_dict(state["sched"])
        self.step = int(step)
        self.seconds = float(state["seconds"])
        self.cpu_seconds = float(state["cpu_seconds"])
        self.ema = None if state["ema"] is None else float(state["ema"])
        self.baseline_updates = int(state["baseline_updates"])
        self.rng.bit_generator.state = state["rng"]
        self.torch.set_rng_state(tensors["rng/torch"])
        if "memory" in tensors:
            self.memory = tensors["memory"].numpy().copy()
        if any(k.startswith("baseline_model/") for k in tensors):
            self.baseline_model = copy.deepcopy(self.model)
            load_module_tensors("baseline_model", self.baseline_model, tensors)

    # ---------------------------------------------------------------- pieces
    def validate(self) -> tuple[float, float]:
        """(mean greedy cost on the validation set, mean greedy surface / mean reference surface)."""
        from packzoo.zoo.ptrnet.decode import greedy, surfaces

        n = np.full(len(self.val_dims), self.cfg.n_items)
        s = surfaces(self.val_dims, n, greedy(self.model, self.val_dims, n))
        if self.val_ref is None:
            self.ref_name, self.val_ref = reference_surfaces(self.val_dims)
        self.model.train()
        return float(np.mean(s / self.val_lb)), float(s.mean() / self.val_ref.mean())

    def _greedy_costs(self, model, dims, lb) -> np.ndarray:
        from packzoo.zoo.ptrnet.decode import greedy, surfaces

        n = np.full(len(dims), self.cfg.n_items)
        costs = surfaces(dims, n, greedy(model, dims, n)) / lb
        self.model.train()
        return costs

    def _maybe_update_rollout_baseline(self) -> None:
        """Kool et al.: replace the frozen baseline when the policy is significantly better."""
        if self.baseline_model is None:
            self.baseline_model = copy.deepcopy(self.model)
            self.baseline_updates += 1
            return
        cur = self._greedy_costs(self.model, self.bl_dims, self.bl_lb)
        old = self._greedy_costs(self.baseline_model, self.bl_dims, self.bl_lb)
        diff = cur - old
        sd = diff.std(ddof=1)
        tstat = diff.mean() / (sd / math.sqrt(len(diff))) if sd > 0 else (0.0 if diff.mean() == 0 else -np.inf * np.sign(-diff.mean()))
        if diff.mean() < 0 and tstat < -1.645:  # one-sided, 5%
            self.baseline_model.load_state_dict(self.model.state_dict())
            self.baseline_updates += 1

    def entropy_weight(self) -> float:
        """The entropy bonus now: ``cfg.entropy`` annealed linearly to 0 over the run (steps or time)."""
        cfg = self.cfg
        if not cfg.entropy_anneal:
            return cfg.entropy
        frac = self.step / max(cfg.steps, 1)
        if cfg.time_budget:
            frac = max(frac, self.seconds / cfg.time_budget)
        return cfg.entropy * max(0.0, 1.0 - frac)

    def expert_orders(self, dims: np.ndarray) -> np.ndarray:
        """The expert's order (B, N item indices) per instance: the best of the expert's order, the
        sort rules' and the current policy's greedy order (so the target is never worse than greedy)."""
        from packzoo.zoo.ptrnet.decode import greedy, sample_best, surfaces

        cfg = self.cfg
        B, N = len(dims), cfg.n_items
        nvec = np.full(B, N)
        cands = [greedy(self.model, dims, nvec)[:, None], np.stack(list(sort_orders(dims).values()), axis=1)]
        if cfg.expert.startswith("sample"):
            # Seeded per step, so a resumed run draws the same samples.
            cands.append(sample_best(self.model, dims, nvec, int(cfg.expert[6:]), temperature=cfg.expert_temperature, seed=cfg.seed * 1_000_003 + self.step, include_greedy=False)[0][:, None])
        else:
            from packzoo.envs.instance import Instance
            from packzoo.solvers import create_solver

            solver = create_solver(cfg.expert)
            cands.append(np.array([solver.solve(Instance(d), seed=cfg.seed + self.step).packing.order for d in dims])[:, None])
        orders = np.concatenate(cands, axis=1)  # (B, C, N)
        C = orders.shape[1]
        s = surfaces(np.repeat(dims, C, axis=0), np.repeat(nvec, C), orders.reshape(B * C, N)).reshape(B, C)
        # Ties go to the policy's greedy order: many orders tie under LSA, and relabelling an
        # instance with an equally good but different order only adds noise to the target.
        best = s.argmin(1)
        self.model.train()
        return orders[np.arange(B), best]

    def imitate_step(self) -> dict[str, float]:
        """One expert-iteration step: cross-entropy of the expert's orders under teacher forcing."""
        t = self.torch
        from packzoo.zoo.ptrnet.decode import run, surfaces, to_canonical

        cfg = self.cfg
        B, N = cfg.batch_size, cfg.n_items
        keys = np.arange(self.step * B, (self.step + 1) * B)
        dims, lb = make_batch(cfg, keys)
        target = self.expert_orders(dims)
        cost = surfaces(dims, np.full(B, N), target) / lb
        self.model.train()
        e = self.model.encode(t.as_tensor(dims), t.as_tensor(np.full(B, N)))
        _, logp = run(self.model, e, greedy=False, forced=to_canonical(e, target))
        loss = -logp.mean() / N  # mean cross-entropy per decision
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = float(t.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip))
        self.opt.step()
        self.sched.step()
        self.step += 1
        return {"entropy": math.nan, "cost": float(cost.mean()), "baseline": math.nan, "loss": float(loss.detach()), "grad_norm": gn}

    def train_step(self) -> dict[str, float]:
        """One training step (REINFORCE, or imitation when ``cfg.mode == "imitate"``); returns its scalars."""
        if self.cfg.mode == "imitate":
            return self.imitate_step()
        t = self.torch
        from packzoo.zoo.ptrnet.decode import _dyn, _expand, _packer, run, surfaces, to_items

        cfg = self.cfg
        B, N = cfg.batch_size, cfg.n_items
        if cfg.baseline == "memory":
            keys = self.rng.integers(0, cfg.pool, B)
            dims, lb = self.pool_dims[keys], self.pool_lb[keys]
        else:
            keys = np.arange(self.step * B, (self.step + 1) * B)
            dims, lb = make_batch(cfg, keys)
        nvec = np.full(B, N)
        d = t.as_tensor(dims)
        nt = t.as_tensor(nvec)
        self.model.train()
        e = self.model.encode(d, nt)
        extra = t.zeros(())
        if cfg.baseline == "pomo":
            ek = _expand(e, N)
            first = t.arange(N).repeat(B)
            picks, logp = run(self.model, ek, greedy=False, first=first)
            orders = to_items(ek, picks)
            cost = surfaces(np.repeat(dims, N, axis=0), np.repeat(nvec, N), orders) / np.repeat(lb, N)
            c2 = cost.reshape(B, N)
            base = np.repeat(c2.mean(1), N)
            # Train the first pick toward the best start of each instance (POMO leaves it untrained).
            logits, _ = self.model.step(e, self.model.start_input(B), e.state, ~e.valid, _dyn(_packer(self.model, e), d.device))
            best = t.as_tensor(c2.argmin(1))
            extra = t.nn.functional.cross_entropy(logits, best)
        elif cfg.baseline == "multi":
            # K samples per instance; each one's baseline is the mean of the other K-1 (Kool et al.
            # 2019, "Buy 4 REINFORCE samples"): no extra network, low variance, unbiased.
            K = cfg.samples
            ek = _expand(e, K)
            ent = []
            picks, logp = run(self.model, ek, greedy=False, entropy=ent)
            orders = to_items(ek, picks)
            cost = surfaces(np.repeat(dims, K, axis=0), np.repeat(nvec, K), orders) / np.repeat(lb, K)
            c2 = cost.reshape(B, K)
            base = ((c2.sum(1, keepdims=True) - c2) / (K - 1)).reshape(-1)
            if cfg.entropy:
                extra = extra - self.entropy_weight() * ent[0].mean()
        else:
            ent: list = []
            picks, logp = run(self.model, e, greedy=False, entropy=ent)
            if cfg.entropy:
                extra = extra - self.entropy_weight() * ent[0].mean()
            orders = to_items(e, picks)
            cost = surfaces(dims, nvec, orders) / lb
            if cfg.baseline == "memory":
                base = self.memory[keys].copy()
                # Sequential per-sample update, so a key drawn twice in a batch sees both results.
                for k, c_ in zip(keys.tolist(), cost.tolist()):
                    self.memory[k] += cfg.memory_alpha * (c_ - self.memory[k])
            elif cfg.baseline == "ema" or (cfg.baseline == "rollout" and self.baseline_model is None):
                m = float(cost.mean())
                self.ema = m if self.ema is None else cfg.ema_beta * self.ema + (1 - cfg.ema_beta) * m
                base = np.full(B, self.ema)
            else:
                base = self._greedy_costs(self.baseline_model, dims, lb)
        adv = t.as_tensor(cost - base, dtype=t.float32)
        if cfg.normalize_adv:
            # Advantages in units of their batch std: the policy-gradient term is O(1) whatever
            # the spread of costs, so the entropy bonus keeps the same relative weight.
            adv = adv / adv.std().clamp_min(1e-8)
        loss = (adv * logp).mean() + extra
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = float(t.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip))
        self.opt.step()
        self.sched.step()
        self.step += 1
        if cfg.baseline == "rollout" and self.step % cfg.rollout_every == 0:
            self._maybe_update_rollout_baseline()
        return {"entropy": float(ent[0].mean().detach()) if cfg.baseline != "pomo" else math.nan, "cost": float(cost.mean()), "baseline": float(np.mean(base)), "loss": float(loss.detach()), "grad_norm": gn}

    # ---------------------------------------------------------------- loop
    def run(self) -> dict[str, Any]:
        """Train to ``cfg.steps`` (or the time budget); writes metrics.csv, checkpoints, model.safetensors."""
        from tqdm import tqdm

        cfg = self.cfg
        if self.step == 0:
            vc, vr = self.validate()
            self._log({"entropy": math.nan, "cost": math.nan, "baseline": math.nan, "loss": math.nan, "grad_norm": math.nan}, vc, vr)
        run_mean: float | None = None
        vc, vr = math.nan, math.nan
        bar = tqdm(total=cfg.steps, initial=self.step, disable=not self.progress, desc=f"ptrnet n{cfg.n_items}", dynamic_ncols=True)
        t_last = time.perf_counter()
        c_last = time.process_time()
        try:
            while self.step < cfg.steps and not self.run_dir.should_stop():
                if cfg.time_budget and self.seconds >= cfg.time_budget:
                    break
                r = self.train_step()
                now = time.perf_counter()
                self.seconds += now - t_last
                t_last = now
                cnow = time.process_time()
                self.cpu_seconds += cnow - c_last
                c_last = cnow
                run_mean = r["cost"] if run_mean is None else 0.98 * run_mean + 0.02 * r["cost"]
                if self.step % cfg.log_every == 0:
                    vc, vr = self.validate()
                    self._log(r, vc, vr)
                    t_last = time.perf_counter()  # validation time is not training time
                    c_last = time.process_time()
                if self.step % cfg.ckpt_every == 0:
                    self.save_checkpoint()
                bar.update(1)
                bar.set_postfix(cost=f"{run_mean:.4f}", val=f"{vc:.4f}", vs_ref=f"{vr:.4f}", refresh=False)
        finally:
            bar.close()
            self.save_checkpoint()
            self.save_model()
        return {"step": self.step, "seconds": self.seconds, "cpu_seconds": self.cpu_seconds, "val_cost": vc, "val_vs_ref": vr, "ref": self.ref_name}

    def _log(self, r: dict[str, float], vc: float, vr: float) -> None:
        self.run_dir.log(
            self.step,
            lr=self.sched.get_last_lr()[0],
            **{k: (round(v, 6) if isinstance(v, float) and not math.isnan(v) else v) for k, v in r.items()},
            val_cost=round(vc, 6),
            val_vs_ref=round(vr, 6),
            ref=self.ref_name,
            baseline_updates=self.baseline_updates,
        )

    def save_model(self) -> None:
        """``model.safetensors`` + ``model.json`` (config, steps, seconds) in the run folder."""
        from safetensors.torch import save

        atomic_write_bytes(self.out / "model.safetensors", save(self.model.tensors()))
        meta = {"model": self.model.config.to_dict(), "train": asdict(self.cfg), "step": self.step, "seconds": round(self.seconds, 1), "cpu_seconds": round(self.cpu_seconds, 1)}
        atomic_write_text(self.out / "model.json", json.dumps(meta, indent=2) + "\n")


def load_run_model(run_dir: str | os.PathLike):
    """The PointerNet saved by a run (``model.safetensors`` + ``model.json``)."""
    from safetensors.torch import load_file

    from packzoo.zoo.ptrnet.model import PointerNet, PtrNetConfig

    run_dir = Path(run_dir)
    meta = json.loads((run_dir / "model.json").read_text())
    model = PointerNet(PtrNetConfig.from_dict(meta["model"]))
    model.load_state_dict(load_file(str(run_dir / "model.safetensors")))
    model.eval()
    return model, meta


def best_order_surfaces(
    set_name: str, count: int, cache: str | os.PathLike | None = None, time_limit: float = 120.0
) -> tuple[np.ndarray, bool]:
    """The best-order (all orders under LSA) surface of the first ``count`` instances of a set.

    Uses the registered ``best-order`` solver; results are cached in the JSON file ``cache`` (it is
    slow: about a second per instance at N=8, much more at N=10). Entries that hit the time limit
    are stored with their surface and flagged, and reported as such.

    Returns:
        (surfaces (count,), True if every one is the proven best order).
    """
    from packzoo.envs.generators import instance_set
    from packzoo.solvers import create_solver

    data: dict[str, Any] = {}
    if cache is not None and Path(cache).exists():
        data = json.loads(Path(cache).read_text())
    rows = data.setdefault(set_name, {})
    solver = create_solver("best-order")
    for k, inst in enumerate(instance_set(set_name, count)):
        if str(k) in rows:
            continue
        sol = solver.solve(inst, seed=0, time_limit=time_limit)
        rows[str(k)] = {"surface": int(sol.packing.surface_area), "optimal": bool(sol.info.get("order_optimal", False)),
                        "seconds": round(sol.seconds, 2)}
        if cache is not None:  # after every instance: at N=10 one can take minutes
            atomic_write_text(cache, json.dumps(data, indent=1, sort_keys=True))
    return (np.array([rows[str(k)]["surface"] for k in range(count)], dtype=np.int64),
            all(rows[str(k)]["optimal"] for k in range(count)))


def cached_best_order_count(sets: list[str], cache: str | os.PathLike) -> int:
    """How many leading instances of every set in ``sets`` have a best-order result in ``cache``."""
    if not Path(cache).exists():
        return 0
    data = json.loads(Path(cache).read_text())
    counts = []
    for name in sets:
        rows = data.get(name, {})
        k = 0
        while str(k) in rows:
            k += 1
        counts.append(k)
    return min(counts) if counts else 0


def lsa_lws_baseline(instances: list) -> np.ndarray:
    """Surfaces of the paper's heuristic (the ``lsa-lws`` solver), a baseline for :func:`evaluate_network`."""
    from packzoo.solvers import create_solver

    s = create_solver("lsa-lws")
    return np.array([s.solve(i, seed=0).packing.surface_area for i in instances])


def full_evaluation(model, n_items: int, *, instances: int = 100, best_order: bool | int = False,
                    best_order_cache: str | os.PathLike | None = None, **kw: Any) -> dict[str, Any]:
    """:func:`~packzoo.zoo.ptrnet.evaluate.evaluate_network` with the solvers' baselines: lsa-lws
    and, when asked for, best-order (``True`` or a count of instances)."""
    from packzoo.zoo.ptrnet.evaluate import evaluate_network

    res = evaluate_network(model, n_items, instances=instances, baselines={"lsa-lws": lsa_lws_baseline},
                           per_instance=bool(best_order), **kw)
    if best_order:
        for name, m in res.items():
            cnt = m["instances"] if best_order is True else min(int(best_order), m["instances"])
            bo, exact = best_order_surfaces(name, cnt, best_order_cache)
            per = m.pop("_per_instance")
            m["best-order"] = round(float(bo.mean()), 2)
            m["best-order_instances"] = cnt
            m["best-order_complete"] = exact
            for k in [k for k in per if k.startswith("ptrnet")] + ["sort-volume", "best-sort", "random", "lsa-lws"]:
                m[f"{k}/best-order"] = round(float(np.mean(per[k][:cnt]) / bo.mean()), 4)
    for m in res.values():
        m.pop("_per_instance", None)
    return res


def export_to_zoo(
    run_dir: str | os.PathLike,
    name: str,
    *,
    recipe: str,
    instances: int = 100,
    best_order: bool | int = True,
    directory: str | os.PathLike | None = None,
):
    """Evaluate a run's model on the held-out sets and ship it to the zoo as ``name``.

    The card holds the network config (``config``), the training config, the metrics, the data
    description, the exact recipe, the training time, and the ``check`` that the tests repeat: the
    greedy mean surface on the first 10 instances of uniform-nN.
    """
    from packzoo.zoo.ptrnet import CHECK_LIMITS
    from packzoo.zoo.ptrnet.evaluate import evaluate_network
    from packzoo.zoo.weights import save_weights

    model, meta = load_run_model(run_dir)
    tc = meta["train"]
    n_items = int(tc["n_items"])
    cache = Path(run_dir).parent / "best-order-cache.json"
    metrics = full_evaluation(model, n_items, instances=instances, best_order=best_order, best_order_cache=cache)
    key = f"uniform-n{n_items}.ptrnet-greedy"
    check_value = evaluate_network(model, n_items, **CHECK_LIMITS)[f"uniform-n{n_items}"]["ptrnet-greedy"]
    training = {"steps": meta["step"], "seconds": meta["seconds"], "cpu_seconds": meta.get("cpu_seconds"),
                "hardware": f"2-core CPU shared with other jobs (wall seconds include waiting); torch.set_num_threads({tc.get('threads', 1)})"}
    init = tc.get("init")
    if init and (Path(init) / "model.json").exists():
        # Fine-tuned from another run: its training time counts too.
        prev = json.loads((Path(init) / "model.json").read_text())
        training["init_run"] = {"folder": str(init), "steps": prev.get("step"), "seconds": prev.get("seconds"),
                                "cpu_seconds": prev.get("cpu_seconds")}
        training["seconds_total"] = round(float(meta["seconds"]) + float(prev.get("seconds") or 0.0), 1)
    dataset = (
        (f"expert iteration (--mode imitate, expert {tc.get('expert')}): cross-entropy toward the best of the "
         "expert's order, the sort rules' and the policy's greedy order, "
         + (f"starting from {init}, " if init else "")
         if tc.get("mode") == "imitate" else "REINFORCE ")
        + f"on fresh instances drawn with seeds (TRAIN_SEED_BASE + family, {n_items}, k); "
        f"family={tc['family']} (mix: uniform and orders alternately); validation and "
        "rollout-baseline sets on other seed ranges; metrics on the named held-out sets"
    )
    return save_weights(name, model.tensors(), {
        "family": "ptrnet", "config": meta["model"], "train_config": tc, "metrics": metrics, "dataset": dataset,
        "recipe": recipe, "training": training,
        "check": {"limits": CHECK_LIMITS, "metrics": {key: check_value}, "rtol": 1e-9},
    }, directory)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="packzoo train ptrnet", description="Train the pointer network with REINFORCE "
                                "(or expert iteration) and optionally ship it to the zoo.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    d = TrainConfig()
    add_common_args(p, steps=d.steps, lr=d.lr, threads=d.threads, time_budget=d.time_budget, seed=d.seed)
    p.add_argument("--n-items", type=positive_int, default=d.n_items)
    p.add_argument("--mode", choices=MODES, default=d.mode, help="reinforce (the paper) or imitate (expert iteration)")
    p.add_argument("--expert", default=d.expert, help="--mode imitate: best-order, local-search or sampleK (e.g. sample64)")
    p.add_argument("--expert-temperature", type=float, default=d.expert_temperature, help="sampling temperature of the sampleK expert (below 1: improvements near the greedy order)")
    p.add_argument("--init", default=d.init, help="start from these weights: a zoo model name or a run folder")
    p.add_argument("--baseline", choices=BASELINES, default=d.baseline)
    p.add_argument("--family", choices=FAMILIES, default=d.family)
    p.add_argument("--batch-size", type=positive_int, default=d.batch_size)
    p.add_argument("--hidden", type=positive_int, default=d.hidden)
    p.add_argument("--no-dynamic", action="store_true", help="the paper's network: no packing features in the decoder")
    p.add_argument("--no-canonical", action="store_true", help="feed the items in their given order, not by volume")
    p.add_argument("--entropy", type=float, default=d.entropy, help="entropy bonus weight")
    p.add_argument("--normalize-adv", action="store_true", help="divide the advantages by their batch std")
    p.add_argument("--no-entropy-anneal", action="store_true", help="keep the entropy bonus constant (default: linear to 0)")
    p.add_argument("--lr-decay", type=float, default=d.lr_decay)
    p.add_argument("--lr-decay-every", type=positive_int, default=d.lr_decay_every)
    p.add_argument("--grad-clip", type=float, default=d.grad_clip)
    p.add_argument("--pool", type=int, default=d.pool, help="finite training pool (needed by --baseline memory)")
    p.add_argument("--rollout-every", type=positive_int, default=d.rollout_every)
    p.add_argument("--samples", type=positive_int, default=d.samples, help="samples per instance (--baseline multi)")
    p.add_argument("--val-size", type=positive_int, default=d.val_size)
    p.add_argument("--log-every", type=positive_int, default=d.log_every)
    p.add_argument("--ckpt-every", type=positive_int, default=d.ckpt_every)
    p.add_argument("--eval-instances", type=positive_int, default=100, help="held-out instances per set for --ship")
    p.add_argument(
        "--eval-best-order", type=int, default=-1,
        help="instances per set to compare with best-order at --ship (-1: all at N<=8, the cached ones above)",
    )
    return p


def cli(argv: list[str] | None = None) -> int:
    """``packzoo train ptrnet --n-items 10 --steps ... --out runs/NAME [--baseline ...] [--resume] [--ship NAME]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    cfg = TrainConfig(
        n_items=args.n_items, steps=args.steps, batch_size=args.batch_size, hidden=args.hidden, lr=args.lr,
        lr_decay=args.lr_decay, lr_decay_every=args.lr_decay_every, grad_clip=args.grad_clip,
        dynamic=not args.no_dynamic, canonical=not args.no_canonical, entropy=args.entropy, entropy_anneal=not args.no_entropy_anneal, normalize_adv=args.normalize_adv, baseline=args.baseline, family=args.family, pool=args.pool, samples=args.samples, rollout_every=args.rollout_every,
        val_size=args.val_size, log_every=args.log_every, ckpt_every=args.ckpt_every, seed=args.seed,
        threads=args.threads, time_budget=args.time_budget, mode=args.mode, expert=args.expert, expert_temperature=args.expert_temperature, init=args.init,
    )
    run = TrainRun(args.out, family="ptrnet", config=asdict(cfg), resume=args.resume, progress=not args.no_progress,
                   recipe=recipe("ptrnet", argv), resumable_keys=("steps", "time_budget", "threads"))
    with run:
        trainer = Trainer(cfg, args.out, run=run, progress=not args.no_progress)
        res = trainer.run()
    if run.interrupted:
        return finish(run)
    print(json.dumps(res))
    if args.ship:
        bo = args.eval_best_order
        if bo < 0:
            # best-order takes seconds per instance at N=8 but minutes at N=10: above N=8 only the
            # results already cached (runs/best-order-cache.json, e.g. by the benchmark) are used.
            cache = Path(args.out).parent / "best-order-cache.json"
            sets = [f"{f}-n{cfg.n_items}" for f in ("uniform", "orders")]
            bo = args.eval_instances if cfg.n_items <= 8 else cached_best_order_count(sets, cache)
        card = export_to_zoo(args.out, args.ship, recipe=run.recipe, instances=args.eval_instances,
                             best_order=min(bo, args.eval_instances))
        print(json.dumps(card.metrics, indent=1))
    return 0
