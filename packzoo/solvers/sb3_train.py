"""Train Stable-Baselines3 agents on the packzoo environments.

One readable trainer driven by a typed :class:`TrainConfig`::

    packzoo train sb3 --algo maskable-ppo --env packzoo/BinPack3D-v0 --n-items 10 \\
        --timesteps 200000 --out runs/maskppo-n10 [--vec subproc|dummy] [--n-envs 4] [--seed 0]

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

Training instances are drawn with seeds ``(TRAIN_SEED_BASE, k)`` and the validation set with
``(TRAIN_SEED_BASE + 1, n_items, k)``, never the seeds of the named test sets. Every
``eval_every`` steps the agent plays the validation set deterministically; the mean ratio of the
final surface to the lower bound is logged, and the best agent so far is kept.

A run directory holds:

- ``metrics.csv``: one row per evaluation (``timesteps``, ``seconds``, ``episodes``,
  ``train_ratio``, ``val_ratio``, ``val_surface``, ``best_val_ratio``, ``fps``);
- ``best.safetensors`` / ``best.json``: the best agent (policy state dict + a card with the
  config that rebuilds it, its metrics and the recipe command);
- ``checkpoint.safetensors`` / ``checkpoint.json``: the latest policy *and* optimizer state, from
  which ``--resume`` continues;
- ``final.safetensors`` / ``final.json``: the agent at the end of training.

``--max-minutes`` bounds the wall clock, ``--resume`` continues a run, ``--ship NAME`` copies the
best agent into the zoo (``packzoo/zoo/weights``); Ctrl-C or SIGTERM stop cleanly.

Nothing is pickled: SB3's ``.zip`` files contain pickled objects, so agents are saved as
safetensors and rebuilt from their card (:func:`load_agent`).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shlex
import signal
import sys
import time
import warnings
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import packzoo  # noqa: F401  (registers the env ids)
from packzoo._io import atomic_write_text
from packzoo.envs.generators import TRAIN_SEED_BASE, draw
from packzoo.envs.instance import Instance
from packzoo.envs.packing import Packing, lower_bound
from packzoo.zoo.weights import WeightsError, load_card, load_weights, save_weights

ALGOS = ("maskable-ppo", "ppo", "a2c", "dqn")
ENV_IDS = ("packzoo/BinPack3D-v0", "packzoo/BinPack3DPlace-v0")
GENERATORS = ("uniform", "orders", "cube")
CSV_COLUMNS = (
    "timesteps",
    "seconds",
    "episodes",
    "train_ratio",
    "val_ratio",
    "val_surface",
    "best_val_ratio",
    "fps",
)


@dataclass
class TrainConfig:
    """Everything that defines a training run (and rebuilds its agent).

    Attributes:
        algo: "maskable-ppo", "ppo", "a2c" or "dqn".
        policy: "scorer" (one small MLP scores every action; see :func:`scorer_features`) or
            "mlp" (SB3's flat MLP over the whole observation). DQN always uses "mlp".
        env_id: "packzoo/BinPack3D-v0" (pick the next item) or "packzoo/BinPack3DPlace-v0".
        n_items: items per training instance (the most, when ``min_items`` is set).
        max_items: padded size of the observation (default ``n_items``); an agent handles any
            instance with at most this many items.
        min_items: if set, each training instance has a uniform random number of items in
            ``min_items..n_items``.
        generator: instance family: "uniform", "orders" or "cube".
        max_ems: visible EMS slots of BinPack3DPlace-v0 (default 16; ignored by BinPack3D-v0).
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
    n_items: int = 10
    max_items: int | None = None
    min_items: int | None = None
    generator: str = "uniform"
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

    def __post_init__(self) -> None:
        if self.algo not in ALGOS:
            raise ValueError(f"algo must be one of {ALGOS}, got {self.algo!r}")
        if self.env_id not in ENV_IDS:
            raise ValueError(f"env_id must be one of {ENV_IDS}, got {self.env_id!r}")
        if self.generator not in GENERATORS:
            raise ValueError(f"generator must be one of {GENERATORS}, got {self.generator!r}")
        if self.policy not in ("scorer", "mlp"):
            raise ValueError(f"policy must be 'scorer' or 'mlp', got {self.policy!r}")
        if self.algo == "dqn":
            self.policy = "mlp"  # SB3's DQN builds its own Q-network head
        if self.vec not in ("dummy", "subproc"):
            raise ValueError(f"vec must be 'dummy' or 'subproc', got {self.vec!r}")
        for name in ("n_items", "timesteps", "n_envs", "n_steps", "batch_size", "n_epochs", "eval_every",
                     "eval_instances", "checkpoint_every", "torch_threads"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if self.max_items is None:
            self.max_items = int(self.n_items)
        if self.max_items < self.n_items:
            raise ValueError(f"max_items must be >= n_items={self.n_items}, got {self.max_items}")
        if self.min_items is not None and not 1 <= self.min_items <= self.n_items:
            raise ValueError(f"min_items must be in 1..n_items={self.n_items}, got {self.min_items}")
        if self.env_id == "packzoo/BinPack3DPlace-v0" and self.max_ems is None:
            self.max_ems = 16
        if self.max_ems is not None and self.max_ems < 1:
            raise ValueError(f"max_ems must be a positive integer, got {self.max_ems!r}")
        if self.max_minutes is not None and not self.max_minutes > 0:
            raise ValueError(f"max_minutes must be positive, got {self.max_minutes}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        self.net_arch = [int(h) for h in self.net_arch]
        if not self.net_arch or min(self.net_arch) < 1:
            raise ValueError(f"net_arch must be a non-empty list of positive sizes, got {self.net_arch!r}")
        if not 0.0 < self.gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {self.gamma}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")

    @property
    def masked(self) -> bool:
        """Whether the algorithm sees the action mask while training."""
        return self.algo == "maskable-ppo"

    def env_kwargs(self, *, training: bool = True) -> dict[str, Any]:
        """Keyword arguments of the env for training (with a training generator) or for play."""
        kw: dict[str, Any] = {"n_items": self.max_items if not training else self.n_items,
                              "max_items": self.max_items}
        if self.env_id == "packzoo/BinPack3DPlace-v0":
            kw["max_ems"] = self.max_ems
        if training:
            kw["generator"] = TrainingGenerator(self.generator, self.n_items, self.min_items)
            if not self.masked:
                kw["invalid_action"] = "penalize"
                kw["invalid_penalty"] = self.invalid_penalty
        return kw

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

    def __call__(self, rng: np.random.Generator) -> Instance:
        k = int(rng.integers(0, 2**62))
        n = self.n_items if self.min_items is None else int(rng.integers(self.min_items, self.n_items + 1))
        return draw(self.family, n, (TRAIN_SEED_BASE, k))


def validation_set(cfg: TrainConfig) -> list[Instance]:
    """The fixed validation instances: training seeds ``(TRAIN_SEED_BASE + 1, n_items, k)``."""
    return [draw(cfg.generator, cfg.n_items, (TRAIN_SEED_BASE + 1, cfg.n_items, k)) for k in range(cfg.eval_instances)]


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


def make_play_env(cfg: TrainConfig) -> gym.Env:
    """An unwrapped env in which a trained agent plays given instances (invalid actions raise)."""
    return gym.make(cfg.env_id, **cfg.env_kwargs(training=False)).unwrapped


def flat_features():
    """SB3 features extractor: every (1-D) observation entry, concatenated in sorted key order.

    SB3's default CombinedExtractor keeps one sub-module per key in an ``nn.ModuleDict``, which
    refuses the key ``"items"`` (it shadows ``ModuleDict.items``); the entries are flat vectors
    anyway, so concatenating them is all the default would do.
    """
    import torch
    from gymnasium import spaces
    from stable_baselines3.common.preprocessing import get_flattened_obs_dim
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

    class FlatDictExtractor(BaseFeaturesExtractor):
        def __init__(self, observation_space: spaces.Dict) -> None:
            keys = sorted(observation_space.spaces)
            dim = sum(get_flattened_obs_dim(observation_space[k]) for k in keys)
            super().__init__(observation_space, features_dim=dim)
            self.keys = keys

        def forward(self, observations: dict[str, Any]) -> Any:
            return torch.cat([observations[k].float().flatten(1) for k in self.keys], dim=1)

    return FlatDictExtractor


def scorer_features():
    """SB3 features extractor that scores every action with one small MLP shared across actions.

    A flat MLP over the padded item vector must learn the same rule once per item slot (and did
    not learn at all in our runs); a shared scorer is permutation-equivariant, so it learns a rule
    once and applies it to every item, at any padding. Its output is ``[score of every action,
    context]``; :func:`_scorer_policy` feeds the scores straight to the action distribution and
    the context (plus the scores) to the value MLP.

    Per-action inputs, all scale-free (lengths over ``V^(1/3)`` for the total item volume ``V``,
    areas over the lower bound ``6 V^(2/3)``):

    - BinPack3D-v0 (action = item): the item's sorted dims, volume, surface, packed/present flags.
    - BinPack3DPlace-v0 (action = item, orientation, EMS): the oriented dims, the EMS corner and
      extent, the smallest slack, the item's volume, and the growth of the bin's surface if the
      item went there (what LSA minimises), computed from the observation.

    Both get the context: the bin's dims and surface, the volume and count of unpacked items.
    """
    import torch
    from gymnasium import spaces
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
    from torch import nn

    from packzoo.envs.instance import ORIENTATIONS

    def surf(b: Any) -> Any:
        return 2 * (b[..., 0] * b[..., 1] + b[..., 0] * b[..., 2] + b[..., 1] * b[..., 2])

    class ScorerExtractor(BaseFeaturesExtractor):
        n_context = 7

        def __init__(self, observation_space: spaces.Dict, hidden: list[int] | tuple[int, ...] = (64, 64),
                     grow_prior: float = 0.0, volume_prior: float = 0.0) -> None:
            self.n_actions = int(observation_space["action_mask"].n)
            super().__init__(observation_space, features_dim=self.n_actions + self.n_context)
            self.n = int(observation_space["present"].n)
            # "items" clashes with nn.ModuleDict.items in SB3's default extractor; should the env
            # rename the entry, these agents keep reading it.
            self.items_key = next(k for k in ("items", "boxes", "dims") if k in observation_space.spaces)
            self.place = "ems" in observation_space.spaces
            self.n_ems = observation_space["ems"].shape[0] // 6 if self.place else 0
            hidden = [int(h) for h in hidden]
            layers: list[nn.Module] = []
            if self.place:
                # The first layer is split by what each input varies with, so the (item, orientation,
                # EMS) grid only ever sees additions: the same function as one Linear over the
                # concatenation, at a fraction of its memory and time.
                h0 = hidden[0]
                self.first_io = nn.Linear(4, h0)  # oriented dims, volume
                self.first_e = nn.Linear(7, h0, bias=False)  # EMS corner, extent, distance
                self.first_ioe = nn.Linear(2, h0, bias=False)  # surface growth, slack
                self.first_ctx = nn.Linear(self.n_context, h0, bias=False)
                # A prior, not a rule: the logits start as -grow_prior * (surface growth), which is
                # LSA's criterion; the learned scorer adds to it, and the weight itself is learned.
                self.grow_weight = nn.Parameter(torch.tensor(float(grow_prior)))
                # Likewise "larger items first" (the sort-volume rule) as a learnable prior.
                self.volume_weight = nn.Parameter(torch.tensor(float(volume_prior)))
                layers.append(nn.ReLU())
                n_in, rest = h0, hidden[1:]
            else:
                n_in, rest = 7 + self.n_context, hidden
            for h in rest:
                layers += [nn.Linear(n_in, h), nn.ReLU()]
                n_in = h
            layers.append(nn.Linear(n_in, 1))
            self.scorer = nn.Sequential(*layers)
            self.register_buffer("orient", torch.as_tensor(ORIENTATIONS, dtype=torch.long), persistent=False)

        def forward(self, obs: dict[str, Any]) -> Any:
            b = obs["present"].shape[0]
            dims = obs[self.items_key].float().view(b, self.n, 3)
            present = obs["present"].float()
            packed = obs["packed"].float()
            vol = dims.prod(-1) * present
            v = vol.sum(-1, keepdim=True).clamp_min(1e-9)
            unit = v ** (1 / 3)  # (b, 1)
            lb = 6 * unit**2
            left = present * (1 - packed)
            bin_ = obs["bin"].float()
            ctx = torch.cat([bin_ / unit, surf(bin_)[:, None] / lb, (vol * left).sum(-1, keepdim=True) / v,
                             left.mean(-1, keepdim=True), packed.mean(-1, keepdim=True)], dim=1)  # (b, 7)
            if not self.place:
                area = surf(dims)[..., None] / 2 / lb[:, None]
                feats = [dims / unit[:, None], (vol / v)[..., None], area, packed[..., None], present[..., None]]
                x = torch.cat([*feats, ctx[:, None, :].expand(b, self.n, -1)], dim=-1)
                scores = self.scorer(x).squeeze(-1)
            else:
                e = self.n_ems
                od = dims[:, :, self.orient]  # (b, n, 6, 3)
                ems = obs["ems"].float().view(b, e, 6)
                corner, ext = ems[..., :3], ems[..., 3:] - ems[..., :3]
                u = unit[:, :, None, None]  # (b, 1, 1, 1)
                new_bin = torch.maximum(bin_[:, None, None, None, :], corner[:, None, None] + od[:, :, :, None])
                grow = (surf(new_bin) - surf(bin_)[:, None, None, None]) / lb[:, None, None]  # (b, n, 6, e)
                slack = (ext[:, None, None] - od[:, :, :, None]).min(-1).values.clamp(-1, 4)
                x_io = torch.cat([od / unit[:, None, None], (vol / v)[:, :, None, None].expand(b, self.n, 6, 1)], -1)
                x_e = torch.cat([corner / unit[:, None], (ext / unit[:, None]).clamp(max=4),
                                 (corner.sum(-1) / unit)[..., None]], -1)  # (b, e, 7)
                x_ioe = torch.stack([grow, slack / u], -1)  # (b, n, 6, e, 2)
                pre = (self.first_io(x_io)[:, :, :, None] + self.first_e(x_e)[:, None, None]
                       + self.first_ioe(x_ioe) + self.first_ctx(ctx)[:, None, None, None])
                prior = self.volume_weight * (vol / v)[:, :, None, None] - self.grow_weight * grow
                scores = (self.scorer(pre).squeeze(-1) + prior).reshape(b, -1)
            return torch.cat([scores, ctx], dim=1)

    return ScorerExtractor


def _scorer_policy(base: type) -> type:
    """``base`` (an SB3 actor-critic policy class) whose logits are the scorer's action scores."""
    from torch import nn

    class Head(nn.Module):
        def __init__(self, n: int) -> None:
            super().__init__()
            self.n = n

        def forward(self, latent: Any) -> Any:
            return latent[:, : self.n]

    class ScorerPolicy(base):
        def _build(self, lr_schedule: Any) -> None:
            super()._build(lr_schedule)
            self.action_net = Head(self.features_extractor.n_actions)
            # As SB3 does for its action head: start near-uniform, so early rollouts explore.
            nn.init.orthogonal_(self.features_extractor.scorer[-1].weight, gain=0.01)
            nn.init.zeros_(self.features_extractor.scorer[-1].bias)
            # The optimizer was made for the replaced linear head: remake it over the live parameters.
            self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)

    ScorerPolicy.__name__ = ScorerPolicy.__qualname__ = f"Scorer{base.__name__}"
    return ScorerPolicy


def build_model(cfg: TrainConfig, env: Any = None):
    """A freshly initialised SB3 model for ``cfg`` (seeded); ``env`` defaults to a play env."""
    import torch

    torch.set_num_threads(cfg.torch_threads)
    if env is None:
        # A single play env: SB3 would warn that batch_size does not divide n_steps * 1, which
        # only matters for training; the model is built here to act (or to be loaded).
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*mini-batch size.*", category=UserWarning)
            return build_model(cfg, make_play_env(cfg))
    if cfg.policy == "scorer":
        # pi gets the raw scores (the Head slices them out); the value MLP reads scores + context.
        policy_kwargs: dict[str, Any] = {"net_arch": {"pi": [], "vf": [64, 64]},
                                         "features_extractor_class": scorer_features(),
                                         "features_extractor_kwargs": {"hidden": list(cfg.net_arch),
                                                                       "grow_prior": cfg.grow_prior,
                                                                       "volume_prior": cfg.volume_prior}}
    else:
        policy_kwargs = {"net_arch": list(cfg.net_arch), "features_extractor_class": flat_features()}
    common = {"learning_rate": cfg.learning_rate, "gamma": cfg.gamma, "seed": cfg.seed, "device": "cpu",
              "verbose": 0}
    if cfg.algo == "maskable-ppo":
        from sb3_contrib import MaskablePPO

        from sb3_contrib.common.maskable.policies import MaskableMultiInputActorCriticPolicy as P

        policy = _scorer_policy(P) if cfg.policy == "scorer" else "MultiInputPolicy"
        return MaskablePPO(policy, env, n_steps=cfg.n_steps, batch_size=cfg.batch_size,
                           n_epochs=cfg.n_epochs, gae_lambda=cfg.gae_lambda, ent_coef=cfg.ent_coef,
                           policy_kwargs=policy_kwargs, **common)
    if cfg.algo == "ppo":
        from stable_baselines3 import PPO

        from stable_baselines3.common.policies import MultiInputActorCriticPolicy as P

        policy = _scorer_policy(P) if cfg.policy == "scorer" else "MultiInputPolicy"
        return PPO(policy, env, n_steps=cfg.n_steps, batch_size=cfg.batch_size,
                   n_epochs=cfg.n_epochs, gae_lambda=cfg.gae_lambda, ent_coef=cfg.ent_coef,
                   policy_kwargs=policy_kwargs, **common)
    if cfg.algo == "a2c":
        from stable_baselines3 import A2C

        from stable_baselines3.common.policies import MultiInputActorCriticPolicy as P

        policy = _scorer_policy(P) if cfg.policy == "scorer" else "MultiInputPolicy"
        return A2C(policy, env, n_steps=max(1, min(cfg.n_steps, 32)), gae_lambda=cfg.gae_lambda,
                   ent_coef=cfg.ent_coef, policy_kwargs=policy_kwargs, **common)
    from stable_baselines3 import DQN

    return DQN("MultiInputPolicy", env, batch_size=cfg.batch_size, buffer_size=50_000,
               learning_starts=min(1000, cfg.timesteps // 10), exploration_fraction=0.3,
               target_update_interval=1000, policy_kwargs=policy_kwargs, **common)


# -- acting ------------------------------------------------------------------------------------------
def action_scores(model: Any, obs: dict[str, np.ndarray]) -> np.ndarray:
    """The agent's preference over actions for one observation: logits (PPO, A2C) or Q (DQN)."""
    import torch

    obs_t, _ = model.policy.obs_to_tensor(obs)
    with torch.no_grad():
        if hasattr(model, "q_net"):
            scores = model.q_net(obs_t)
        else:
            scores = model.policy.get_distribution(obs_t).distribution.logits
    return scores.cpu().numpy().reshape(-1)


def masked_action(model: Any, obs: dict[str, np.ndarray], mask: np.ndarray) -> int:
    """The agent's best *valid* action: argmax of its scores over the mask (ties: lowest index).

    For MaskablePPO this is exactly ``predict(obs, deterministic=True, action_masks=mask)``; the
    plain agents never saw the mask while training, and this is where they get it.
    """
    scores = action_scores(model, obs).astype(np.float64)
    scores[~np.asarray(mask, dtype=bool)] = -np.inf
    return int(np.argmax(scores))


def play(model: Any, instance: Instance, env: Any) -> Packing:
    """Play ``model`` deterministically on ``instance`` in ``env``; the final packing."""
    from packzoo.solvers.base import rollout

    return rollout(instance, lambda obs, e: masked_action(model, obs, e.action_masks()), env=env)


def evaluate_agent(model: Any, cfg: TrainConfig, instances: list[Instance], env: Any = None) -> dict[str, float]:
    """Mean final surface and mean ratio to the lower bound over ``instances``."""
    env = make_play_env(cfg) if env is None else env
    surfaces, ratios = [], []
    for inst in instances:
        p = play(model, inst, env)
        surfaces.append(p.surface_area)
        ratios.append(p.surface_area / lower_bound(inst))
    return {"mean_surface": float(np.mean(surfaces)), "mean_ratio": float(np.mean(ratios)),
            "instances": len(instances)}


# -- saving and loading (safetensors only) ---------------------------------------------------------
def policy_tensors(model: Any) -> dict[str, Any]:
    """The policy's state dict, each shared tensor once (safetensors refuses aliases).

    With a shared features extractor SB3 registers the same module as ``features_extractor``,
    ``pi_features_extractor`` and ``vf_features_extractor``; only the first name is kept, and
    :func:`load_policy` restores the aliases from the rebuilt model.
    """
    out: dict[str, Any] = {}
    seen: set[int] = set()
    for k, v in model.policy.state_dict().items():
        ptr = v.untyped_storage().data_ptr() if v.numel() else id(v)
        if ptr in seen:
            continue
        seen.add(ptr)
        out[k] = v
    return out


def load_policy(model: Any, tensors: dict[str, Any]) -> None:
    """Load :func:`policy_tensors` output into ``model``'s policy (strictly, aliases restored)."""
    own = model.policy.state_dict()
    keep = policy_tensors(model)
    unexpected = sorted(set(tensors) - set(own))
    missing = sorted(set(keep) - set(tensors))
    if unexpected or missing:
        raise WeightsError(f"the weights do not fit the model: missing {missing[:5]}, unexpected {unexpected[:5]}")
    full = {}
    by_ptr = {(v.untyped_storage().data_ptr() if v.numel() else id(v)): k for k, v in keep.items()}
    for k, v in own.items():
        src = by_ptr.get(v.untyped_storage().data_ptr() if v.numel() else id(v), k)
        full[k] = tensors[src]
    try:
        model.policy.load_state_dict(full, strict=True)
    except RuntimeError as e:
        raise WeightsError(f"the weights do not fit the model: {e}") from None


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


def save_agent(model: Any, cfg: TrainConfig, name: str, directory: str | os.PathLike | None = None,
               **card: Any) -> Path:
    """Save the agent as ``<directory>/<name>.safetensors`` plus a card with its config."""
    return save_weights(name, policy_tensors(model), {"kind": "sb3-agent", "config": cfg.to_dict(), **card},
                        directory=directory)


def load_agent(name: str, directory: str | os.PathLike | None = None, env: Any = None):
    """Rebuild an agent from its card and hash-checked safetensors; returns ``(model, cfg, card)``.

    Raises:
        WeightsError: missing files, a sha256 mismatch, or a card that is not an SB3 agent's.
    """
    tensors = load_weights(name, directory)
    card = load_card(name, directory)
    if "config" not in card:
        raise WeightsError(f"the card of {name!r} has no 'config': not an SB3 agent")
    cfg = TrainConfig.from_dict(card["config"])
    model = build_model(cfg, env)
    try:
        load_policy(model, {k: v for k, v in tensors.items() if not k.startswith("optim/")})
    except WeightsError as e:
        raise WeightsError(f"{name!r}: {e} (the card describes another model)") from None
    model.policy.set_training_mode(False)
    return model, cfg, card


def split_path(path: str | os.PathLike) -> tuple[str, Path]:
    """``runs/x/best.safetensors`` (or ``runs/x/best``) -> (``"best"``, ``runs/x``)."""
    p = Path(path)
    if p.suffix in (".safetensors", ".json"):
        p = p.with_suffix("")
    return p.name, p.parent


# -- training ---------------------------------------------------------------------------------------
def _make_callback(cfg: TrainConfig, out: Path, recipe: str, state: dict[str, Any], progress: bool):
    from stable_baselines3.common.callbacks import BaseCallback

    class EvalCheckpointCallback(BaseCallback):
        """Evaluate on the validation set, keep the best agent, checkpoint, log CSV, show progress."""

        def __init__(self) -> None:
            super().__init__()
            self.val = validation_set(cfg)
            self.play_env = make_play_env(cfg)
            self.returns: deque[float] = deque(maxlen=200)
            self.bar = None

        def _on_training_start(self) -> None:
            if progress:
                from tqdm.auto import tqdm

                self.bar = tqdm(total=cfg.timesteps, initial=self.model.num_timesteps, unit="step",
                                desc=f"{cfg.algo} {cfg.env_id.split('/')[-1]}", dynamic_ncols=True)
            self.t_start = time.perf_counter()
            self.steps_start = self.model.num_timesteps
            if self.model.num_timesteps == 0 and not state["rows"]:
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
            seconds = state["seconds_before"] + time.perf_counter() - state["t0"]
            if cfg.max_minutes is not None and seconds >= 60 * cfg.max_minutes:
                state["stopped_by_time"] = True
                return False  # SB3 stops learn() when a callback returns False
            return True

        def _evaluate(self) -> None:
            n = self.model.num_timesteps
            self.model.policy.set_training_mode(False)
            m = evaluate_agent(self.model, cfg, self.val, env=self.play_env)
            seconds = state["seconds_before"] + time.perf_counter() - state["t0"]
            improved = m["mean_ratio"] < state["best"]
            if improved:
                state["best"] = m["mean_ratio"]
                state["best_at"] = n
                save_agent(self.model, cfg, "best", out, recipe=recipe,
                           metrics={"val_mean_ratio": m["mean_ratio"], "val_mean_surface": m["mean_surface"],
                                    "val_instances": m["instances"]},
                           training={"timesteps": n, "seconds": round(seconds, 1)},
                           dataset=f"{cfg.generator} n={cfg.n_items}, training seeds (TRAIN_SEED_BASE, k)")
            elapsed = time.perf_counter() - self.t_start
            row = {
                "timesteps": n,
                "seconds": round(seconds, 2),
                "episodes": state["episodes"],
                "train_ratio": round(float(np.mean(self.returns)), 5) if self.returns else "",
                "val_ratio": round(m["mean_ratio"], 5),
                "val_surface": round(m["mean_surface"], 1),
                "best_val_ratio": round(state["best"], 5),
                "fps": round((n - self.steps_start) / elapsed, 1) if elapsed > 0 else "",
            }
            state["rows"].append(row)
            state["last_eval"] = n
            _write_csv(out / "metrics.csv", state["rows"])
            if self.bar is not None and not self.bar.disable:
                self.bar.set_postfix(val=f"{m['mean_ratio']:.4f}", best=f"{state['best']:.4f}")

        def _checkpoint(self) -> None:
            state["last_checkpoint"] = self.model.num_timesteps
            _save_checkpoint(self.model, cfg, out, state, recipe)

        def _on_training_end(self) -> None:
            if self.bar is not None:
                self.bar.close()
                self.bar = None

    return EvalCheckpointCallback()


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS))
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def _read_csv(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _save_checkpoint(model: Any, cfg: TrainConfig, out: Path, state: dict[str, Any], recipe: str) -> None:
    opt, groups = _optimizer_tensors(model)
    seconds = state["seconds_before"] + time.perf_counter() - state["t0"]
    save_weights("checkpoint", {**policy_tensors(model), **opt},
                 {"kind": "sb3-checkpoint", "config": cfg.to_dict(), "recipe": recipe,
                  "optimizer_param_groups": groups,
                  "state": {"timesteps": int(model.num_timesteps), "seconds": seconds, "best": state["best"],
                            "best_at": state["best_at"], "episodes": state["episodes"],
                            "last_eval": state["last_eval"]}},
                 directory=out)


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

    Interrupting (Ctrl-C) stops cleanly: the best agent, a checkpoint and the log stay usable.
    """
    import torch

    torch.set_num_threads(cfg.torch_threads)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    recipe = recipe or config_to_command(cfg, out)
    state: dict[str, Any] = {"best": float("inf"), "best_at": None, "episodes": 0, "last_eval": 0,
                             "last_checkpoint": 0, "seconds_before": 0.0, "rows": []}
    env_offset = 0
    ckpt = None
    if resume:
        try:
            ckpt = load_card("checkpoint", out)
        except FileNotFoundError:
            raise ValueError(f"--resume: no checkpoint in {out}") from None
        saved = TrainConfig.from_dict(ckpt["config"])
        if {**saved.to_dict(), "timesteps": 0} != {**cfg.to_dict(), "timesteps": 0}:
            raise ValueError(f"--resume: the checkpoint in {out} was trained with another config; "
                             f"saved: {saved.to_dict()}")
        st = ckpt["state"]
        env_offset = int(st["timesteps"])
        state.update(best=float(st["best"]), best_at=st["best_at"], episodes=int(st["episodes"]),
                     last_eval=int(st["last_eval"]), last_checkpoint=int(st["timesteps"]),
                     seconds_before=float(st["seconds"]))
        state["rows"] = [r for r in _read_csv(out / "metrics.csv") if int(r["timesteps"]) <= env_offset]
    venv = make_vec_env(cfg, seed_offset=env_offset)
    model = build_model(cfg, venv)
    # SB3 reseeds the envs with cfg.seed + i when it builds the model; a resumed run must not
    # replay the instance stream it already trained on.
    venv.seed(cfg.seed * 100_003 + env_offset)
    if ckpt is not None:
        tensors = load_weights("checkpoint", out)
        load_policy(model, {k: v for k, v in tensors.items() if not k.startswith("optim/")})
        _load_optimizer(model, tensors, ckpt["optimizer_param_groups"])
        model.num_timesteps = env_offset
    state["t0"] = time.perf_counter()
    callback = _make_callback(cfg, out, recipe, state, progress)
    interrupted = False
    remaining = cfg.timesteps - model.num_timesteps
    try:
        if remaining > 0:
            model.learn(total_timesteps=remaining, callback=callback, reset_num_timesteps=ckpt is None)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        venv.close()
    if remaining > 0 and model.num_timesteps != state["last_eval"]:
        callback._evaluate()
    _save_checkpoint(model, cfg, out, state, recipe)
    seconds = state["seconds_before"] + time.perf_counter() - state["t0"]
    final = evaluate_agent(model, cfg, callback.val)
    save_agent(model, cfg, "final", out, recipe=recipe,
               metrics={"val_mean_ratio": final["mean_ratio"], "val_mean_surface": final["mean_surface"]},
               training={"timesteps": int(model.num_timesteps), "seconds": round(seconds, 1)})
    summary = {"best_val_ratio": state["best"], "best_at": state["best_at"], "timesteps": int(model.num_timesteps),
               "seconds": round(seconds, 1), "interrupted": interrupted,
               "stopped_by_time": bool(state.get("stopped_by_time")), "out": str(out),
               "best": str(out / "best.safetensors"), "final_val_ratio": final["mean_ratio"]}
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


def ship(run_dir: str | os.PathLike, name: str, directory: str | os.PathLike | None = None,
         **extra: Any) -> Path:
    """Copy a run's best agent into the zoo's weights directory as ``name`` (re-hashed card)."""
    run_dir = Path(run_dir)
    tensors = load_weights("best", run_dir)
    card = load_card("best", run_dir)
    for k in ("name", "sha256", "bytes"):
        card.pop(k, None)
    summary = run_dir / "summary.json"
    if summary.exists():
        s = json.loads(summary.read_text())
        card["run"] = {k: s[k] for k in ("timesteps", "seconds", "best_at", "stopped_by_time") if k in s}
    card.update(extra)
    return save_weights(name, tensors, card, directory=directory)


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
    p = argparse.ArgumentParser(prog="packzoo train sb3", description=__doc__.split("\n\n")[0])
    d = TrainConfig()
    p.add_argument("--algo", default=d.algo, help=f"one of {', '.join(ALGOS)} (default %(default)s)")
    p.add_argument("--policy", default=d.policy, choices=("scorer", "mlp"))
    p.add_argument("--env", dest="env_id", default=d.env_id, help=f"one of {', '.join(ENV_IDS)}")
    p.add_argument("--n-items", type=int, default=d.n_items)
    p.add_argument("--max-items", type=int, default=None)
    p.add_argument("--min-items", type=int, default=None)
    p.add_argument("--generator", default=d.generator, choices=GENERATORS)
    p.add_argument("--max-ems", type=int, default=None)
    p.add_argument("--timesteps", type=int, default=d.timesteps)
    p.add_argument("--n-envs", type=int, default=d.n_envs)
    p.add_argument("--vec", default=d.vec, choices=("dummy", "subproc"))
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--net-arch", default=",".join(map(str, d.net_arch)), help="hidden sizes, e.g. 128,128")
    for name in ("learning_rate", "gamma", "gae_lambda", "ent_coef", "invalid_penalty"):
        p.add_argument("--" + name.replace("_", "-"), type=float, default=getattr(d, name))
    for name in ("n_steps", "batch_size", "n_epochs", "eval_every", "eval_instances", "checkpoint_every",
                 "torch_threads"):
        p.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(d, name))
    p.add_argument("--grow-prior", type=float, default=d.grow_prior)
    p.add_argument("--volume-prior", type=float, default=d.volume_prior)
    p.add_argument("--max-minutes", type=float, default=None, help="wall-clock training budget")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--ship", metavar="NAME", help="copy the best agent into the zoo's weights as NAME")
    return p


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


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
    values["algo"] = _ALGO_ALIASES.get(values["algo"], values["algo"])
    return TrainConfig(**values), args


def cli(argv: list[str]) -> int:
    """``packzoo train sb3 ...``: train, print the summary as JSON; 0 on success, 2 on bad input."""
    try:
        cfg, args = parse_config(argv)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    recipe = shlex.join(["packzoo", "train", "sb3", *argv])
    # `kill PID` (SIGTERM) stops like Ctrl-C: the best agent, a checkpoint and the log stay usable.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    summary = train(cfg, args.out, resume=args.resume, progress=not args.no_progress, recipe=recipe)
    if args.ship:
        summary["shipped"] = str(ship(args.out, args.ship))
    print(json.dumps(summary, indent=2))
    return 0
