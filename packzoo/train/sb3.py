"""Train Stable-Baselines3 agents on the packzoo environments.

One readable trainer driven by a typed :class:`TrainConfig`::

    packzoo train sb3 --algo maskable-ppo --env packzoo/BinPack3D-v0 --n-items 10 \\
        --steps 200000 --out runs/maskppo-n10 [--vec subproc|dummy] [--n-envs 4] [--seed 0]

Algorithms: ``maskable-ppo`` (sb3-contrib's MaskablePPO, fed the env's ``action_masks()``) and the
plain ``ppo``, ``a2c`` and ``dqn``. The plain ones cannot see the mask, so they train on the env with
``invalid_action="penalize"`` (an invalid action costs ``invalid_penalty`` and changes nothing);
they are weaker, which is the point of keeping them: it shows why masks matter. In 20k-step runs at
N=10 (seed 0) PPO spent about half its steps on invalid actions (1033 episodes against
MaskablePPO's 2048) and A2C and DQN most of theirs; on the validation set MaskablePPO reached a
ratio of 1.270, PPO 1.276, A2C 1.274 and DQN 1.332. At inference every agent acts through the mask
(its best *valid* action), so any agent yields a full, valid packing.

The default policy (``--policy scorer``, :func:`scorer_features`) scores every action with one
small MLP shared across actions (permutation-equivariant, so it learns a rule once for all items);
SB3's flat MLP over the whole observation (``--policy mlp``) did not learn in our runs. For
BinPack3D-v0 the per-action inputs are the item's features; for BinPack3DPlace-v0 they include the
bin's surface growth if the item went there, and ``--grow-prior`` / ``--volume-prior`` start the
logits at LSA's criterion and "larger items first", learnable weights the agent then corrects.

Every mode and the online env train the same way::

    packzoo train sb3 --env packzoo/BinPack3DPlace-v0 --mode bins --n-items 12 --out runs/bins
    packzoo train sb3 --env packzoo/BinPack3DOnline-v0 --steps 400000 --n-envs 4 \
        --time-budget 840 --eval-every 25000 --eval-instances 64 --seed 0 --out runs/online-c10

``--mode``, ``--container``, ``--orientations``, ``--support``, ``--max-weight`` and
``--generator`` choose the training instances; the online env (``--lookahead``) defaults to Zhao
et al. 2021's setting (container mode, 10^3, 100 arrivals of the 64 types {2..5}^3, support 0.8).
Its scorer (:func:`~packzoo.zoo.sb3.agent.scorer_features`) scores each (orientation, space) of
the arriving item. The second command above, 211,632 steps in 14 minutes on one thread, gave the
shipped ``sb3-maskppo-online-c10``: a mean utilisation of 0.669 on 200 held-out sequences, against
0.489 for random placement, 0.577 for online-bph, 0.573 for LSAH and 0.687 for the contact rule
under the same protocol (``benchmarks/bench_sb3_online.py`` prints the table).

Training instances are drawn with seeds ``(TRAIN_SEED_BASE, k)`` and the validation set with
``(TRAIN_SEED_BASE + 1, n_items, k)``, never the seeds of the named test sets. Every
``eval_every`` steps the agent plays the validation set deterministically; the mean ratio of the
final objective to the mode's bound is logged (free bin: surface over the lower bound; container:
the volume bound over the packed volume, so lower is better in every mode), with the mean
utilisation in the other modes, and the best agent so far is kept. ``train_ratio`` is minus the
mean training return: the ratio in the minimising modes, minus the utilisation in container mode.

A run directory (the shared :class:`~packzoo.train.run.TrainRun`) holds:

- ``run.json``: the family, the config and the recipe;
- ``metrics.csv``: one row per evaluation (``step`` = environment steps, ``seconds``, ``episodes``,
  ``train_ratio``, ``val_ratio``, ``val_surface`` (free bin), ``val_utilisation`` (other modes),
  ``best_val_ratio``, ``fps``);
- ``best.safetensors`` / ``best.json``: the best agent (policy state dict + a card with the
  config that rebuilds it, its metrics and the recipe command);
- ``checkpoint.safetensors`` / ``checkpoint.json``: the latest policy *and* optimizer state, from
  which ``--resume`` continues;
- ``final.safetensors`` / ``final.json``: the agent at the end of training.

``--time-budget`` (seconds; ``--max-minutes`` in older recipes) bounds the wall clock over every
resumed session, ``--resume`` continues a run (policy, optimizer and counters; the training
instance stream restarts at an offset, so a resumed run is not bit-identical to an uninterrupted
one), ``--ship NAME`` copies the best agent into the zoo (``packzoo/zoo/weights``); Ctrl-C or
SIGTERM stop after the current step and exit 130.

Nothing is pickled: SB3's ``.zip`` files contain pickled objects, so agents are saved as
safetensors and rebuilt from their card (:func:`load_agent`).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
import warnings
from collections import deque
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import packzoo  # noqa: F401  (registers the env ids)
from packzoo._checks import positive_int as check_positive_int
from packzoo._io import atomic_write_text
from packzoo.envs import ENV_IDS
from packzoo.envs.binpack import FAMILIES, InstanceGenerator
from packzoo.envs.generators import TRAIN_SEED_BASE
from packzoo.envs.instance import MODES, Instance
from packzoo.train.run import EXIT_INTERRUPTED, TrainRun, check_output_dir, nonneg_float, positive_float, positive_int
from packzoo.zoo.sb3.agent import (
    ALGOS,
    FAMILY,
    ONLINE_ENV_ID,
    generator_spec,
    held_out_instances,
    AgentConfig,
    build_model,
    evaluate_agent,
    load_agent,
    load_policy,
    make_play_env,
    policy_tensors,
    scorer_features,
)
from packzoo.zoo.weights import load_card, load_weights, save_weights

GENERATORS = FAMILIES


@dataclass
class TrainConfig:
    """Everything that defines a training run: one flat record, as the command line is.

    Its first fields repeat :class:`~packzoo.zoo.sb3.agent.AgentConfig`'s (checked there once):
    :meth:`agent` hands them over, and the weights card stores that architecture part apart.

    Attributes:
        algo: "maskable-ppo", "ppo", "a2c" or "dqn".
        policy: "scorer" (one small MLP scores every action; see :func:`scorer_features`) or
            "mlp" (SB3's flat MLP over the whole observation). DQN always uses "mlp".
        env_id: "packzoo/BinPack3D-v0" (pick the next item), "packzoo/BinPack3DPlace-v0" or
            "packzoo/BinPack3DOnline-v0" (items arrive; the agent places the arriving one).
        n_items: items per training instance (the most, when ``min_items`` is set); None: 10, or
            100 arrivals for the online env in container mode (its episodes end long before).
        max_items: padded size of the observation (default ``n_items``); an agent handles any
            instance with at most this many items.
        min_items: if set, each training instance has a uniform random number of items in
            ``min_items..n_items``.
        generator: instance family (:data:`packzoo.envs.binpack.FAMILIES`); None: the mode's
            default ("uniform" for the free bin, "types" for the online container, else
            :data:`packzoo.envs.binpack.MODE_DEFAULTS`).
        max_ems: visible EMS slots of BinPack3DPlace-v0 (default 16) and BinPack3DOnline-v0 (64).
        mode: container mode of the training instances (None: "free", or "container" for the
            online env).
        container: (L, W, H) of the fixed modes (None: (10, 10, 10)).
        orientations: None, "all", "upright" or "fixed" for every training item.
        support: support fraction of the training instances; None: none (the online env: 0.8,
            its default); 0 turns the online env's default off.
        max_weight: weight limit (container and bins modes; weights are volume x U[0.5, 1.5)).
        lookahead: BinPack3DOnline-v0: arrivals the agent sees.
        timesteps: environment steps to train for (in total, counting resumed steps).
        n_envs: parallel environments.
        vec: "dummy" (one process) or "subproc" (one process per env).
        seed: seeds the model, the envs and the training instance stream.
        net_arch: hidden layer sizes of the scorer ("scorer") or of the policy and value MLPs ("mlp").
        learning_rate: optimiser step size.
        n_steps: rollout length per env (PPO, A2C).
        batch_size: minibatch size (PPO, DQN).
        n_epochs: passes over each rollout (PPO).
        gamma: discount; 1.0 makes the return exactly minus the final ratio to the lower bound.
        gae_lambda: GAE parameter (PPO, A2C).
        ent_coef: entropy bonus (PPO, A2C).
        invalid_penalty: reward of an invalid action for the plain algorithms.
        eval_every: environment steps between evaluations.
        eval_instances: size of the validation set.
        checkpoint_every: environment steps between checkpoints.
        torch_threads: torch intra-op threads (1 on a shared machine).
        grow_prior: BinPack3DPlace-v0 "scorer" only: the initial weight of minus the bin's surface
            growth in the logits (LSA's criterion as a learnable prior; 0 = no prior).
        volume_prior: BinPack3DPlace-v0 "scorer" only: the initial weight of the item's share of the
            total volume in the logits ("larger items first" as a learnable prior; 0 = none).
        max_minutes: stop after this much wall-clock training (None: run all ``timesteps``).
    """

    algo: str = "maskable-ppo"
    policy: str = "scorer"
    env_id: str = "packzoo/BinPack3D-v0"
    n_items: int | None = None
    max_items: int | None = None
    min_items: int | None = None
    generator: str | None = None
    max_ems: int | None = None
    timesteps: int = 100_000
    n_envs: int = 4
    vec: str = "dummy"
    seed: int = 0
    net_arch: list[int] = field(default_factory=lambda: [64, 64])
    learning_rate: float = 3e-4
    n_steps: int = 256
    batch_size: int = 256
    n_epochs: int = 4
    gamma: float = 1.0
    gae_lambda: float = 0.95
    ent_coef: float = 0.01
    invalid_penalty: float = 0.1
    eval_every: int = 10_000
    eval_instances: int = 64
    checkpoint_every: int = 50_000
    torch_threads: int = 1
    max_minutes: float | None = None
    grow_prior: float = 0.0
    volume_prior: float = 0.0
    mode: str | None = None
    container: list[int] | None = None
    orientations: str | None = None
    support: float | None = None
    max_weight: float | None = None
    lookahead: int = 1

    def __post_init__(self) -> None:
        online = self.env_id == ONLINE_ENV_ID
        if self.mode is None:
            self.mode = "container" if online else "free"
        if self.n_items is None:
            self.n_items = 100 if online and self.mode == "container" else 10
        if self.container is not None:
            self.container = [int(v) for v in self.container]
        spec = generator_spec(self.to_dict())
        if self.generator is None:
            self.generator = spec["family"]
        self.generator_spec()  # checks mode, container, constraints against the family
        # The agent's own fields are checked (and completed: max_items, max_ems, DQN's policy) once,
        # by AgentConfig; the training fields here.
        agent = self.agent()
        for f in fields(AgentConfig):
            setattr(self, f.name, getattr(agent, f.name))
        if self.vec not in ("dummy", "subproc"):
            raise ValueError(f"vec must be 'dummy' or 'subproc', got {self.vec!r}")
        for name in ("timesteps", "n_envs", "n_steps", "batch_size", "n_epochs", "eval_every",
                     "eval_instances", "checkpoint_every", "torch_threads"):
            check_positive_int(getattr(self, name), name)
        if self.min_items is not None and not 1 <= self.min_items <= self.n_items:
            raise ValueError(f"min_items must be in 1..n_items={self.n_items}, got {self.min_items}")
        if self.max_minutes is not None and not self.max_minutes > 0:
            raise ValueError(f"max_minutes must be positive, got {self.max_minutes}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        if not 0.0 < self.gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {self.gamma}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")

    def generator_spec(self) -> InstanceGenerator:
        """The training instances' family, mode, container and constraints (any seed)."""
        return InstanceGenerator(**generator_spec(self.to_dict()))

    @property
    def masked(self) -> bool:
        """Whether the algorithm sees the action mask while training."""
        return self.algo == "maskable-ppo"

    def env_kwargs(self, *, training: bool = True) -> dict[str, Any]:
        """Keyword arguments of the env for training (with a training generator) or for play."""
        if self.env_id == ONLINE_ENV_ID:
            kw: dict[str, Any] = {"n_items": self.n_items, "lookahead": self.lookahead, "max_ems": self.max_ems,
                                  "mode": self.mode}
        else:
            kw = {"n_items": self.max_items if not training else self.n_items, "max_items": self.max_items}
            if self.env_id == "packzoo/BinPack3DPlace-v0":
                kw["max_ems"] = self.max_ems
            if self.mode != "free":
                kw["observe_mode"] = True
        # Masked training never takes an invalid action (one would be a bug: raise); the plain
        # algorithms cannot see the mask and learn from the penalty.
        kw["invalid_action"] = "raise"
        if training:
            kw["generator"] = TrainingGenerator(self.generator, self.n_items, self.min_items, self.generator_spec())
            if not self.masked:
                kw["invalid_action"] = "penalize"
                kw["invalid_penalty"] = self.invalid_penalty
        return kw

    def agent(self) -> AgentConfig:
        """The architecture part: what rebuilds the trained agent (goes into the weights card)."""
        return AgentConfig(**{f.name: getattr(self, f.name) for f in fields(AgentConfig)})  # checks them

    def hyper(self) -> dict[str, Any]:
        """The algorithm's hyperparameters, for :func:`~packzoo.zoo.sb3.agent.build_model`."""
        return {"learning_rate": self.learning_rate, "gamma": self.gamma, "n_steps": self.n_steps,
                "batch_size": self.batch_size, "n_epochs": self.n_epochs, "gae_lambda": self.gae_lambda,
                "ent_coef": self.ent_coef, "learning_starts": min(1000, self.timesteps // 10)}

    def build(self, env: Any = None):
        """A fresh SB3 model for this run (seeded)."""
        return build_model(self.agent(), env, seed=self.seed, threads=self.torch_threads, **self.hyper())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Rebuild from :meth:`to_dict` output; unknown keys are an error (a card from elsewhere)."""
        names = {f.name for f in fields(cls)}
        extra = set(d) - names
        if extra:
            raise ValueError(f"unknown TrainConfig keys: {sorted(extra)}")
        return cls(**d)


@dataclass(frozen=True)
class TrainingGenerator:
    """Draws training instances with seeds ``(TRAIN_SEED_BASE, k)``: never a named set's seeds.

    A picklable callable ``rng -> Instance`` for the env's ``generator`` argument; ``k`` comes from
    the env's own ``np_random``, so a seeded env gives a reproducible stream.
    """

    family: str
    n_items: int
    min_items: int | None = None
    spec: InstanceGenerator | None = None

    def __call__(self, rng: np.random.Generator) -> Instance:
        k = int(rng.integers(0, 2**62))
        n = self.n_items if self.min_items is None else int(rng.integers(self.min_items, self.n_items + 1))
        spec = self.spec if self.spec is not None else InstanceGenerator(self.family, n)
        return replace(spec, family=self.family, n_items=n).draw((TRAIN_SEED_BASE, k))


def validation_set(cfg: TrainConfig) -> list[Instance]:
    """The fixed validation instances: training seeds ``(TRAIN_SEED_BASE + 1, n_items, k)``."""
    gen = cfg.generator_spec()
    return [gen.draw((TRAIN_SEED_BASE + 1, cfg.n_items, k)) for k in range(cfg.eval_instances)]


class EnvFactory:
    """A picklable ``() -> env`` for SB3's vectorised envs: ``gym.make`` by id, then ``Monitor``."""

    def __init__(self, env_id: str, env_kwargs: dict[str, Any], seed: int | None = None, monitor: bool = True) -> None:
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs)
        self.seed = seed
        self.monitor = monitor

    def __call__(self) -> gym.Env:
        env = gym.make(self.env_id, **self.env_kwargs)
        if self.monitor:
            from stable_baselines3.common.monitor import Monitor

            env = Monitor(env)
        if self.seed is not None:
            env.reset(seed=self.seed)
            env.action_space.seed(self.seed)
        return env


def make_vec_env(cfg: TrainConfig, *, seed_offset: int = 0):
    """The vectorised training envs of ``cfg`` (DummyVecEnv or SubprocVecEnv)."""
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    base = cfg.seed * 100_003 + seed_offset
    fns = [EnvFactory(cfg.env_id, cfg.env_kwargs(), seed=base + i) for i in range(cfg.n_envs)]
    if cfg.vec == "subproc":
        return SubprocVecEnv(fns)
    return DummyVecEnv(fns)


# -- saving runs (safetensors only) --------------------------------------------------------
def _optimizer_tensors(model: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The policy optimizer's state as flat tensors plus its JSON-able param groups."""
    import torch

    sd = model.policy.optimizer.state_dict()
    tensors: dict[str, Any] = {}
    for idx, st in sd["state"].items():
        for key, val in st.items():
            t = val if torch.is_tensor(val) else torch.tensor(val)
            tensors[f"optim/{idx}/{key}"] = t
    return tensors, sd["param_groups"]


def _load_optimizer(model: Any, tensors: dict[str, Any], groups: list[dict[str, Any]]) -> None:
    state: dict[int, dict[str, Any]] = {}
    for name, t in tensors.items():
        if not name.startswith("optim/"):
            continue
        _, idx, key = name.split("/", 2)
        state.setdefault(int(idx), {})[key] = t
    model.policy.optimizer.load_state_dict({"state": state, "param_groups": groups})


def save_agent(model: Any, cfg: TrainConfig, name: str, directory: str | os.PathLike | None = None, *,
               recipe: str = "", metrics: dict[str, Any] | None = None, training: dict[str, Any] | None = None,
               dataset: str = "", tensors: dict[str, Any] | None = None, extra: dict[str, Any] | None = None):
    """Save the agent as ``<directory>/<name>.safetensors`` plus a weights card: the agent's
    architecture (``config``), the run's config (``train_config``), metrics and recipe."""
    return save_weights(name, {**policy_tensors(model), **(tensors or {})}, {
        "family": FAMILY, "config": cfg.agent().to_dict(), "train_config": cfg.to_dict(),
        "metrics": metrics or {}, "dataset": dataset or dataset_text(cfg),
        "recipe": recipe, "training": training or {}, "extra": extra or {},
    }, directory=directory)



def dataset_text(cfg: TrainConfig) -> str:
    """What the agent trained on, for its card."""
    text = f"{cfg.generator} n={cfg.n_items}"
    if cfg.mode != "free" or cfg.env_id == ONLINE_ENV_ID:
        g = cfg.generator_spec()
        text += f", mode {g.mode}, container {g.container}"
        text += "".join(f", {k} {v}" for k, v in (("orientations", g.orientations), ("support", g.support),
                                                  ("max_weight", g.max_weight)) if v is not None)
    if cfg.env_id == ONLINE_ENV_ID:
        text += f", online (lookahead {cfg.lookahead})"
    return text + ", training seeds (TRAIN_SEED_BASE, k)"


def val_metrics(m: dict[str, Any]) -> dict[str, Any]:
    """The card metrics of a validation evaluation (``val_`` + the free bin's or the mode's figures)."""
    keys = ("mean_ratio", "mean_surface") if "mean_surface" in m else ("mean_ratio", "mean_utilisation", "stuck")
    return {f"val_{k}": m[k] for k in keys}


# -- training ---------------------------------------------------------------------------------------
def _make_callback(cfg: TrainConfig, run: TrainRun, state: dict[str, Any], progress: bool):
    from stable_baselines3.common.callbacks import BaseCallback

    class EvalCheckpointCallback(BaseCallback):
        """Evaluate on the validation set, keep the best agent, checkpoint, log CSV, show progress."""

        def __init__(self) -> None:
            super().__init__()
            self.val = validation_set(cfg)
            self.play_env = make_play_env(cfg.agent())
            self.returns: deque[float] = deque(maxlen=200)
            self.bar = None

        def _on_training_start(self) -> None:
            if progress:
                from tqdm.auto import tqdm

                self.bar = tqdm(total=cfg.timesteps, initial=self.model.num_timesteps, unit="step",
                                desc=f"{cfg.algo} {cfg.env_id.split('/')[-1]}", dynamic_ncols=True)
            self.t_start = time.perf_counter()
            self.steps_start = self.model.num_timesteps
            if self.model.num_timesteps == 0 and not run.read_metrics():
                self._evaluate()

        def _on_step(self) -> bool:
            for info in self.locals.get("infos", []):
                if "episode" in info:
                    state["episodes"] += 1
                    self.returns.append(-float(info["episode"]["r"]))
            n = self.model.num_timesteps
            if self.bar is not None:
                # SB3 steps all envs at once, so it can pass the target by a few steps.
                self.bar.update(min(n, cfg.timesteps) - self.bar.n)
            if n - state["last_eval"] >= cfg.eval_every:
                self._evaluate()
            if n - state["last_checkpoint"] >= cfg.checkpoint_every:
                self._checkpoint()
            if run.should_stop():  # SIGINT/SIGTERM: stop after this step, leave a resumable run
                return False  # SB3 stops learn() when a callback returns False
            if cfg.max_minutes is not None and run.seconds >= 60 * cfg.max_minutes:
                state["stopped_by_time"] = True
                return False
            return True

        def _evaluate(self) -> None:
            n = self.model.num_timesteps
            self.model.policy.set_training_mode(False)
            m = evaluate_agent(self.model, cfg.agent(), self.val, env=self.play_env)
            seconds = run.seconds
            improved = m["mean_ratio"] < state["best"]
            if improved:
                state["best"] = m["mean_ratio"]
                state["best_at"] = n
                save_agent(self.model, cfg, "best", run.out, recipe=run.recipe,
                           metrics={**val_metrics(m), "val_instances": m["instances"]},
                           training={"timesteps": n, "seconds": round(seconds, 1)})
            elapsed = time.perf_counter() - self.t_start
            run.log(
                n,
                episodes=state["episodes"],
                train_ratio=round(float(np.mean(self.returns)), 5) if self.returns else "",
                val_ratio=round(m["mean_ratio"], 5),
                val_surface=round(m["mean_surface"], 1) if "mean_surface" in m else "",
                val_utilisation=round(m["mean_utilisation"], 5) if "mean_utilisation" in m else "",
                best_val_ratio=round(state["best"], 5),
                fps=round((n - self.steps_start) / elapsed, 1) if elapsed > 0 else "",
            )
            state["last_eval"] = n
            if self.bar is not None and not self.bar.disable:
                self.bar.set_postfix(val=f"{m['mean_ratio']:.4f}", best=f"{state['best']:.4f}")

        def _checkpoint(self) -> None:
            state["last_checkpoint"] = self.model.num_timesteps
            _save_checkpoint(self.model, run, state)

        def _on_training_end(self) -> None:
            if self.bar is not None:
                self.bar.close()
                self.bar = None

    return EvalCheckpointCallback()


def _save_checkpoint(model: Any, run: TrainRun, state: dict[str, Any]) -> None:
    """Policy and optimizer tensors and the counters, through the shared plumbing (safetensors)."""
    opt, groups = _optimizer_tensors(model)
    keep = {k: state[k] for k in ("best", "best_at", "episodes", "last_eval")}
    run.checkpoint(int(model.num_timesteps), {**policy_tensors(model), **opt},
                   {"optimizer_param_groups": groups, **keep})


def train(cfg: TrainConfig, out: str | os.PathLike, *, resume: bool = False, progress: bool = True,
          recipe: str | None = None) -> dict[str, Any]:
    """Train an agent as ``cfg`` says, writing the run directory ``out``.

    Args:
        cfg: the run's configuration.
        out: run directory (created).
        resume: continue from ``out/checkpoint`` (policy, optimizer, counters and the metrics log);
            the training instance stream restarts with a seed offset by the steps done.
        progress: show a tqdm progress bar.
        recipe: the command line recorded in the cards (default: the equivalent CLI command).

    Returns:
        A summary: best validation ratio and when it was reached, timesteps, seconds, paths.

    The run folder is the shared plumbing's (:class:`~packzoo.train.run.TrainRun`): ``run.json``,
    ``metrics.csv`` (one row per evaluation, x column ``step`` = environment steps), a safetensors
    checkpoint. Ctrl-C or SIGTERM stop cleanly after the current step: the best agent, a checkpoint
    and the log stay usable, and ``summary["interrupted"]`` is True.
    """
    import torch

    torch.set_num_threads(cfg.torch_threads)
    out = Path(out)
    run = TrainRun(out, family=FAMILY, config=cfg.to_dict(), resume=resume, progress=progress,
                   recipe=recipe or config_to_command(cfg, out),
                   resumable_keys=("timesteps", "max_minutes", "torch_threads"))
    state: dict[str, Any] = {"best": float("inf"), "best_at": None, "episodes": 0, "last_eval": 0, "last_checkpoint": 0}
    restored = run.restore()
    env_offset = 0
    if restored is not None:
        env_offset, tensors, st = restored
        state.update(best=float(st["best"]), best_at=st["best_at"], episodes=int(st["episodes"]),
                     last_eval=int(st["last_eval"]), last_checkpoint=env_offset)
    venv = make_vec_env(cfg, seed_offset=env_offset)
    model = cfg.build(venv)
    # SB3 reseeds the envs with cfg.seed + i when it builds the model; a resumed run must not
    # replay the instance stream it already trained on.
    venv.seed(cfg.seed * 100_003 + env_offset)
    if restored is not None:
        load_policy(model, {k: v for k, v in tensors.items() if not k.startswith("optim/")})
        _load_optimizer(model, tensors, st["optimizer_param_groups"])
        model.num_timesteps = env_offset
    callback = _make_callback(cfg, run, state, progress)
    remaining = cfg.timesteps - model.num_timesteps
    with run:  # SIGINT/SIGTERM raise a flag; the callback stops learn() at the next step
        try:
            if remaining > 0:
                model.learn(total_timesteps=remaining, callback=callback, reset_num_timesteps=restored is None)
        finally:
            venv.close()
    if remaining > 0 and model.num_timesteps != state["last_eval"] and not run.interrupted:
        callback._evaluate()
    _save_checkpoint(model, run, state)
    seconds = run.seconds
    final = evaluate_agent(model, cfg.agent(), callback.val)
    save_agent(model, cfg, "final", out, recipe=run.recipe, metrics=val_metrics(final),
               training={"timesteps": int(model.num_timesteps), "seconds": round(seconds, 1)})
    summary = {"best_val_ratio": state["best"], "best_at": state["best_at"], "timesteps": int(model.num_timesteps),
               "seconds": round(seconds, 1), "interrupted": run.interrupted,
               "stopped_by_time": bool(state.get("stopped_by_time")), "out": str(out),
               "best": str(out / "best.safetensors"), "final_val_ratio": final["mean_ratio"]}
    if "mean_utilisation" in final:
        summary["final_val_utilisation"] = final["mean_utilisation"]
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


#: The small evaluation every shipped agent's card records and the conformance check repeats.
CHECK_LIMITS: dict[str, Any] = {"instances": 10, "set": "uniform-n10"}
#: Held-out instances of the test figures ``ship`` records for agents of the other modes and online.
TEST_INSTANCES = 200


def ship(run_dir: str | os.PathLike, name: str, directory: str | os.PathLike | None = None) -> Path:
    """Copy a run's best agent into the zoo's weights directory as ``name``, with its check."""
    from packzoo.envs.generators import instance_set

    run_dir = Path(run_dir)
    tensors = load_weights("best", run_dir)
    card = load_card("best", run_dir)
    model, agent, _ = load_agent("best", run_dir)
    extra_metrics: dict[str, Any] = {}
    if agent.mode == "free" and not agent.online:
        limits: dict[str, Any] = CHECK_LIMITS
        check = evaluate_agent(model, agent, instance_set(CHECK_LIMITS["set"], CHECK_LIMITS["instances"]))
        metric = "mean_surface"
    else:  # no named set of this mode: the run's generator at held-out seeds (TEST_SEED_BASE, k)
        limits = {"instances": CHECK_LIMITS["instances"]}
        check = evaluate_agent(model, agent, held_out_instances(card.train_config, limits["instances"]))
        metric = "mean_utilisation" if agent.mode == "container" else "mean_ratio"
        test = evaluate_agent(model, agent, held_out_instances(card.train_config, TEST_INSTANCES))
        command = (f"python benchmarks/bench_sb3_online.py --agent packzoo/zoo/weights/{name} --episodes {TEST_INSTANCES}"
                   if agent.online else
                   f"python -c \"from packzoo.zoo import evaluate_model; print(evaluate_model('{name}', instances={TEST_INSTANCES}))\"")
        extra_metrics = {"test": {"set": "held-out (TEST_SEED_BASE, k)", "command": command, **test}}
    training = dict(card.training)
    summary = run_dir / "summary.json"
    if summary.exists():
        s = json.loads(summary.read_text())
        training["run"] = {k: s[k] for k in ("timesteps", "seconds", "best_at", "stopped_by_time") if k in s}
    fields_ = {**card.to_dict(), "training": training, "metrics": {**card.metrics, **extra_metrics},
               "check": {"limits": limits, "metrics": {metric: check[metric]}, "rtol": 1e-9}}
    for k in ("name", "sha256", "bytes"):
        fields_.pop(k)
    save_weights(name, tensors, fields_, directory=directory)
    from packzoo.zoo.weights import weights_path

    return weights_path(name, directory)


# -- command line -----------------------------------------------------------------------------------
_ALGO_ALIASES = {"maskppo": "maskable-ppo", "maskable_ppo": "maskable-ppo"}


def config_to_command(cfg: TrainConfig, out: str | os.PathLike) -> str:
    """The ``packzoo train sb3 ...`` command that reproduces ``cfg``."""
    # Defaults that depend on these fields (max_items, max_ems, DQN's policy) come out right.
    d = TrainConfig(algo=cfg.algo, env_id=cfg.env_id, n_items=cfg.n_items).to_dict()
    args = ["packzoo", "train", "sb3", "--algo", cfg.algo, "--env", cfg.env_id, "--n-items", str(cfg.n_items),
            "--timesteps", str(cfg.timesteps), "--out", str(out)]
    for f in fields(TrainConfig):
        if f.name in ("algo", "env_id", "n_items", "timesteps"):
            continue
        v = getattr(cfg, f.name)
        if v == d[f.name]:
            continue
        flag = "--" + f.name.replace("_", "-")
        args += [flag, ",".join(map(str, v)) if isinstance(v, list) else str(v)]
    return shlex.join(args)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="packzoo train sb3", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    d = TrainConfig()
    p.add_argument("--algo", default=d.algo, help=f"one of {', '.join(ALGOS)} (default %(default)s)")
    p.add_argument("--policy", default=d.policy, choices=("scorer", "mlp"))
    p.add_argument("--env", dest="env_id", default=d.env_id, help=f"one of {', '.join(ENV_IDS)}")
    p.add_argument("--n-items", type=int, default=None, help="items per instance (default 10; online container 100)")
    p.add_argument("--max-items", type=int, default=None)
    p.add_argument("--min-items", type=int, default=None)
    p.add_argument("--generator", default=None, choices=GENERATORS,
                   help="instance family (default: the mode's: uniform for the free bin, types online)")
    p.add_argument("--max-ems", type=int, default=None)
    p.add_argument("--mode", default=None, choices=MODES, help="container mode (default: free; online: container)")
    p.add_argument("--container", default=None, help="L,W,H of the fixed modes (default 10,10,10)")
    p.add_argument("--orientations", default=None, choices=("all", "upright", "fixed"))
    p.add_argument("--support", type=float, default=None,
                   help="support fraction (default: none; online: 0.8; 0 turns it off)")
    p.add_argument("--max-weight", type=float, default=None, help="weight limit per container/bin")
    p.add_argument("--lookahead", type=positive_int, default=1, help="online env: arrivals visible (default 1)")
    p.add_argument("--steps", "--timesteps", dest="timesteps", type=positive_int, default=d.timesteps,
                   help="environment steps in total (default: %(default)s)")
    p.add_argument("--n-envs", type=int, default=d.n_envs)
    p.add_argument("--vec", default=d.vec, choices=("dummy", "subproc"))
    p.add_argument("--seed", type=int, default=d.seed, help="seed (default: %(default)s)")
    p.add_argument("--net-arch", default=",".join(map(str, d.net_arch)), help="hidden sizes, e.g. 128,128")
    p.add_argument("--lr", "--learning-rate", dest="learning_rate", type=positive_float, default=d.learning_rate,
                   help="learning rate (default: %(default)s)")
    p.add_argument("--threads", "--torch-threads", dest="torch_threads", type=positive_int, default=d.torch_threads,
                   help="torch threads (default: %(default)s)")
    for name in ("gamma", "gae_lambda", "ent_coef", "invalid_penalty"):
        p.add_argument("--" + name.replace("_", "-"), type=float, default=getattr(d, name), help="(default: %(default)s)")
    for name in ("n_steps", "batch_size", "n_epochs", "eval_every", "eval_instances", "checkpoint_every"):
        p.add_argument("--" + name.replace("_", "-"), type=positive_int, default=getattr(d, name), help="(default: %(default)s)")
    p.add_argument("--grow-prior", type=float, default=d.grow_prior)
    p.add_argument("--volume-prior", type=float, default=d.volume_prior)
    p.add_argument("--time-budget", type=nonneg_float, default=0.0,
                   help="stop after this many wall seconds, 0 = none (default: %(default)s)")
    p.add_argument("--max-minutes", type=positive_float, default=None, help="the same budget in minutes (older recipes)")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--ship", metavar="NAME", help="copy the best agent into the zoo's weights as NAME")
    return p


def parse_config(argv: list[str]) -> tuple[TrainConfig, argparse.Namespace]:
    """The :class:`TrainConfig` and the other options of a ``packzoo train sb3`` command line.

    Raises:
        ValueError: a bad value (naming it).
    """
    args = _parser().parse_args(argv)
    try:
        net_arch = [int(h) for h in str(args.net_arch).split(",") if h.strip()]
    except ValueError:
        raise ValueError(f"--net-arch must be comma-separated integers, got {args.net_arch!r}") from None
    values = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if hasattr(args, f.name)}
    values["net_arch"] = net_arch
    if args.container is not None:
        try:
            values["container"] = [int(v) for v in str(args.container).split(",") if v.strip()]
        except ValueError:
            raise ValueError(f"--container must be comma-separated integers, got {args.container!r}") from None
    values["algo"] = _ALGO_ALIASES.get(values["algo"], values["algo"])
    if args.time_budget:
        values["max_minutes"] = args.time_budget / 60
    return TrainConfig(**values), args


def cli(argv: list[str]) -> int:
    """``packzoo train sb3 ...``: train, print the summary as JSON; 0 on success, 2 on bad input."""
    try:
        cfg, args = parse_config(argv)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    check_output_dir(args.out)
    recipe = shlex.join(["packzoo", "train", "sb3", *argv])
    summary = train(cfg, args.out, resume=args.resume, progress=not args.no_progress, recipe=recipe)
    if summary["interrupted"]:
        print(f"interrupted: checkpoint saved in {args.out}; run the same command with --resume to continue",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.ship:
        summary["shipped"] = str(ship(args.out, args.ship))
    print(json.dumps(summary, indent=2))
    return 0
