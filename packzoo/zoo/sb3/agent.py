"""Stable-Baselines3 agents for the packzoo envs: their architecture, how they act, how they load.

:class:`AgentConfig` is the architecture (what rebuilds an agent's tensors and the env it plays);
the training run's config lives with the trainer (:mod:`packzoo.train.sb3`). The default policy,
``"scorer"`` (:func:`scorer_features`), scores every action with one small MLP shared across
actions; SB3's flat MLP over the whole observation (``"mlp"``) did not learn in our runs.

Nothing is pickled: SB3's ``.zip`` files contain pickled objects, so agents are saved as
safetensors and rebuilt from their card (:func:`load_agent`).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import packzoo.envs  # noqa: F401  (the env classes; ids are registered by `import packzoo`)
from packzoo._checks import positive_int
from packzoo.envs import ENV_IDS
from packzoo.envs.instance import DEFAULT_MAX_ITEMS, MODES, Instance
from packzoo.envs.packing import Packing, lower_bound, validate
from packzoo.zoo.weights import WeightsError, load_card, load_weights

FAMILY = "sb3"
ONLINE_ENV_ID = "packzoo/BinPack3DOnline-v0"
ALGOS = ("maskable-ppo", "ppo", "a2c", "dqn")
# The algorithms' hyperparameters when an agent is rebuilt only to act (training passes its own).
HYPER_DEFAULTS: dict[str, Any] = {"learning_rate": 3e-4, "gamma": 1.0, "n_steps": 256, "batch_size": 256,
                                  "n_epochs": 4, "gae_lambda": 0.95, "ent_coef": 0.01, "learning_starts": 1000}


@dataclass
class AgentConfig:
    """What rebuilds an agent: algorithm, policy network and the env it plays.

    Attributes:
        algo: "maskable-ppo", "ppo", "a2c" or "dqn".
        policy: "scorer" (one small MLP scores every action) or "mlp" (SB3's flat MLP). DQN: "mlp".
        env_id: "packzoo/BinPack3D-v0" (pick the next item), "packzoo/BinPack3DPlace-v0" (item,
            orientation, EMS) or "packzoo/BinPack3DOnline-v0" (items arrive; orientation, EMS).
        n_items: items per training instance (the online env: the arrival sequence's length).
        max_items: padded size of the observation; the agent packs any instance of at most this many
            (the online env has no padding: default 1000, the Instance limit).
        max_ems: visible EMS slots of BinPack3DPlace-v0 (default 16) and BinPack3DOnline-v0
            (default 64); None for BinPack3D-v0.
        mode: the container mode the agent was trained on. "free" keeps the free-bin envs'
            observation as it always was; any other mode (and the online env, whatever its mode)
            observes the mode, container and constraints (``observe_mode``).
        lookahead: BinPack3DOnline-v0: how many arrivals the agent sees (1 = strictly online).
        net_arch: hidden sizes of the scorer ("scorer") or of the policy and value MLPs ("mlp").
        grow_prior: BinPack3DPlace-v0 "scorer": initial weight of minus the surface growth (LSA's
            criterion as a learnable prior; 0 = none).
        volume_prior: BinPack3DPlace-v0 "scorer": initial weight of the item's volume share.
    """

    algo: str = "maskable-ppo"
    policy: str = "scorer"
    env_id: str = "packzoo/BinPack3D-v0"
    n_items: int = 10
    max_items: int | None = None
    max_ems: int | None = None
    net_arch: list[int] = field(default_factory=lambda: [64, 64])
    grow_prior: float = 0.0
    volume_prior: float = 0.0
    mode: str = "free"
    lookahead: int = 1

    @property
    def online(self) -> bool:
        """Whether the agent plays the online env (items arrive; it places only the arriving one)."""
        return self.env_id == ONLINE_ENV_ID

    def __post_init__(self) -> None:
        if self.algo not in ALGOS:
            raise ValueError(f"algo must be one of {ALGOS}, got {self.algo!r}")
        if self.env_id not in ENV_IDS:
            raise ValueError(f"env_id must be one of {ENV_IDS}, got {self.env_id!r}")
        if self.policy not in ("scorer", "mlp"):
            raise ValueError(f"policy must be 'scorer' or 'mlp', got {self.policy!r}")
        if self.algo == "dqn":
            self.policy = "mlp"  # SB3's DQN builds its own Q-network head
        positive_int(self.n_items, "n_items")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        positive_int(self.lookahead, "lookahead")
        if self.lookahead != 1 and not self.online:
            raise ValueError(f"lookahead is the online env's ({ONLINE_ENV_ID}), not {self.env_id}'s")
        if self.max_items is None:
            self.max_items = DEFAULT_MAX_ITEMS if self.online else int(self.n_items)
        if self.max_items < self.n_items:
            raise ValueError(f"max_items must be >= n_items={self.n_items}, got {self.max_items}")
        if self.env_id == "packzoo/BinPack3DPlace-v0" and self.max_ems is None:
            self.max_ems = 16
        if self.online and self.max_ems is None:
            self.max_ems = 64
        if self.max_ems is not None:
            positive_int(self.max_ems, "max_ems")
        self.net_arch = [int(h) for h in self.net_arch]
        if not self.net_arch or min(self.net_arch) < 1:
            raise ValueError(f"net_arch must be a non-empty list of positive sizes, got {self.net_arch!r}")

    def play_env_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the env the agent plays in."""
        # "raise": a trained agent acts through the mask; an invalid action would be a bug.
        if self.online:
            # n_items scales the observation's caps and counts: the training env's value.
            return {"n_items": self.n_items, "lookahead": self.lookahead, "max_ems": self.max_ems,
                    "mode": self.mode, "invalid_action": "raise"}
        kw: dict[str, Any] = {"n_items": self.max_items, "max_items": self.max_items, "invalid_action": "raise"}
        if self.env_id == "packzoo/BinPack3DPlace-v0":
            kw["max_ems"] = self.max_ems
        if self.mode != "free":
            kw["observe_mode"] = True
        return kw

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AgentConfig:
        """Rebuild from :meth:`to_dict` output; unknown keys are an error (a card from elsewhere)."""
        extra = set(d) - {f.name for f in fields(cls)}
        if extra:
            raise ValueError(f"unknown AgentConfig keys: {sorted(extra)}")
        return cls(**d)


def make_play_env(agent: AgentConfig) -> gym.Env:
    """An unwrapped env in which a trained agent plays given instances (invalid actions raise)."""
    return gym.make(agent.env_id, **agent.play_env_kwargs()).unwrapped


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

    - BinPack3DOnline-v0 (action = orientation, EMS of the arriving item): the oriented dims and
      the item's volume; the EMS corner, extent and distance; the growth of the packing's
      bounding-box surface, the height the item would reach, the smallest slack and the share of
      the space the item fills. Lengths are the observation's (over the container's largest
      side). The context: container, extent, status, constraints, mode, the arriving item's and
      the look-ahead items' volumes. ``grow_prior`` starts the logits at minus the surface growth
      (compactness: LSA's criterion) as in the place env.
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
            self.online = "visible" in observation_space.spaces
            if self.online:
                self.n_context = 19
            super().__init__(observation_space, features_dim=self.n_actions + self.n_context)
            if self.online:
                self._init_online(observation_space, [int(h) for h in hidden], grow_prior)
                return
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

        def _init_online(self, observation_space: spaces.Dict, hidden: list[int], grow_prior: float) -> None:
            self.n_ems = observation_space["ems"].shape[0] // 6
            self.lookahead = int(observation_space["visible"].n)
            h0 = hidden[0]
            # Split first layer, as the place env's: the (orientation, EMS) grid only adds.
            self.first_io = nn.Linear(4, h0)  # oriented dims, volume
            self.first_e = nn.Linear(7, h0, bias=False)  # EMS corner, extent, distance
            self.first_ioe = nn.Linear(4, h0, bias=False)  # surface growth, height, slack, fill
            self.first_ctx = nn.Linear(self.n_context, h0, bias=False)
            self.grow_weight = nn.Parameter(torch.tensor(float(grow_prior)))
            layers: list[nn.Module] = [nn.ReLU()]
            n_in = h0
            for h in hidden[1:]:
                layers += [nn.Linear(n_in, h), nn.ReLU()]
                n_in = h
            layers.append(nn.Linear(n_in, 1))
            self.scorer = nn.Sequential(*layers)
            self.register_buffer("orient", torch.as_tensor(ORIENTATIONS, dtype=torch.long), persistent=False)

        def _forward_online(self, obs: dict[str, Any]) -> Any:
            boxes = obs["boxes"].float()
            b = boxes.shape[0]
            look = boxes.view(b, self.lookahead, 3)
            item = look[:, 0]  # the arriving item, (b, 3)
            vol = item.prod(-1, keepdim=True)  # (b, 1)
            e = self.n_ems
            od = item[:, self.orient]  # (b, 6, 3)
            ems = obs["ems"].float().view(b, e, 6)
            corner, ext = ems[..., :3], ems[..., 3:] - ems[..., :3]
            bin_ = obs["bin"].float()
            ctx = torch.cat([obs["container"].float(), bin_, obs["status"].float(), obs["constraints"].float(),
                             obs["mode"].float(), vol, look[:, 1:].prod(-1).sum(-1, keepdim=True),
                             surf(bin_)[:, None]], dim=1)  # (b, 19)
            far = corner[:, None] + od[:, :, None]  # (b, 6, e, 3)
            new_bin = torch.maximum(bin_[:, None, None, :], far)
            grow = surf(new_bin) - surf(bin_)[:, None, None]  # (b, 6, e)
            height = far[..., 2]
            slack = (ext[:, None] - od[:, :, None]).min(-1).values.clamp(-1, 4)
            fill = vol[:, :, None] / ext.prod(-1).clamp_min(1e-6)[:, None]
            x_io = torch.cat([od, vol[:, None, :].expand(b, 6, 1)], -1)  # (b, 6, 4)
            x_e = torch.cat([corner, ext.clamp(max=4), corner.sum(-1, keepdim=True)], -1)  # (b, e, 7)
            x_ioe = torch.stack([grow, height, slack, fill.clamp(max=1).expand(b, 6, e)], -1)  # (b, 6, e, 4)
            pre = (self.first_io(x_io)[:, :, None] + self.first_e(x_e)[:, None] + self.first_ioe(x_ioe)
                   + self.first_ctx(ctx)[:, None, None])
            scores = (self.scorer(pre).squeeze(-1) - self.grow_weight * grow).reshape(b, -1)
            return torch.cat([scores, ctx], dim=1)

        def forward(self, obs: dict[str, Any]) -> Any:
            if self.online:
                return self._forward_online(obs)
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


def build_model(agent: AgentConfig, env: Any = None, *, seed: int = 0, threads: int = 1, **hyper: Any):
    """A freshly initialised SB3 model for ``agent`` (seeded); ``env`` defaults to a play env.

    ``hyper`` are the algorithm's training hyperparameters (``learning_rate``, ``gamma``,
    ``n_steps``, ``batch_size``, ``n_epochs``, ``gae_lambda``, ``ent_coef``, ``learning_starts``);
    they do not change the tensors, so an agent rebuilt only to act leaves them at their defaults.
    """
    import torch

    unknown = set(hyper) - set(HYPER_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown SB3 hyperparameters {sorted(unknown)}; known: {sorted(HYPER_DEFAULTS)}")
    h = {**HYPER_DEFAULTS, **hyper}
    torch.set_num_threads(threads)
    if env is None:
        # A single play env: SB3 would warn that batch_size does not divide n_steps * 1, which
        # only matters for training; the model is built here to act (or to be loaded).
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*mini-batch size.*", category=UserWarning)
            return build_model(agent, make_play_env(agent), seed=seed, threads=threads, **hyper)
    if agent.policy == "scorer":
        # pi gets the raw scores (the Head slices them out); the value MLP reads scores + context.
        policy_kwargs: dict[str, Any] = {"net_arch": {"pi": [], "vf": [64, 64]},
                                         "features_extractor_class": scorer_features(),
                                         "features_extractor_kwargs": {"hidden": list(agent.net_arch),
                                                                       "grow_prior": agent.grow_prior,
                                                                       "volume_prior": agent.volume_prior}}
    else:
        policy_kwargs = {"net_arch": list(agent.net_arch), "features_extractor_class": flat_features()}
    common = {"learning_rate": h["learning_rate"], "gamma": h["gamma"], "seed": seed, "device": "cpu", "verbose": 0}
    ppo_kw = {"n_steps": h["n_steps"], "batch_size": h["batch_size"], "n_epochs": h["n_epochs"],
              "gae_lambda": h["gae_lambda"], "ent_coef": h["ent_coef"]}
    if agent.algo == "maskable-ppo":
        from sb3_contrib import MaskablePPO

        from sb3_contrib.common.maskable.policies import MaskableMultiInputActorCriticPolicy as P

        policy = _scorer_policy(P) if agent.policy == "scorer" else "MultiInputPolicy"
        return MaskablePPO(policy, env, policy_kwargs=policy_kwargs, **ppo_kw, **common)
    if agent.algo == "ppo":
        from stable_baselines3 import PPO

        from stable_baselines3.common.policies import MultiInputActorCriticPolicy as P

        policy = _scorer_policy(P) if agent.policy == "scorer" else "MultiInputPolicy"
        return PPO(policy, env, policy_kwargs=policy_kwargs, **ppo_kw, **common)
    if agent.algo == "a2c":
        from stable_baselines3 import A2C

        from stable_baselines3.common.policies import MultiInputActorCriticPolicy as P

        policy = _scorer_policy(P) if agent.policy == "scorer" else "MultiInputPolicy"
        return A2C(policy, env, n_steps=max(1, min(h["n_steps"], 32)), gae_lambda=h["gae_lambda"],
                   ent_coef=h["ent_coef"], policy_kwargs=policy_kwargs, **common)
    from stable_baselines3 import DQN

    return DQN("MultiInputPolicy", env, batch_size=h["batch_size"], buffer_size=50_000,
               learning_starts=h["learning_starts"], exploration_fraction=0.3,
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
    """Play ``model`` deterministically on ``instance`` in ``env``; the final packing.

    The env raises on any invalid action, so the agent cannot cheat its mask.
    """
    obs, _ = env.reset(options={"instance": instance})
    done = False
    while not done:
        obs, _, done, _, _ = env.step(masked_action(model, obs, env.action_masks()))
    return env.packing


def evaluate_agent(model: Any, agent: AgentConfig, instances: list[Instance], env: Any = None) -> dict[str, float]:
    """The agent's packings of ``instances``, measured by the mode's figures.

    Free-bin instances: mean final surface and mean ratio to the lower bound (``mean_surface``,
    ``mean_ratio``). Any other mode: ``mean_ratio`` (the packing's ratio to the mode's bound,
    :attr:`packzoo.envs.Packing.ratio`: >= 1, lower is better; in container mode the volume bound
    over the packed volume), ``mean_utilisation``, ``mean_objective``, and ``stuck`` (episodes
    that reached a dead end; their packings miss items and count with the ratio of what they hold).

    Raises:
        AssertionError: the validator found anything wrong in a packing but missing items of a
            dead end (the env's engine placed them; the independent validator referees).
    """
    env = make_play_env(agent) if env is None else env
    if all(i.mode == "free" and not i.is_constrained for i in instances) and not agent.online:
        surfaces, ratios = [], []
        for inst in instances:
            p = play(model, inst, env)
            errors = validate(p)
            if errors:
                raise AssertionError(f"the agent produced an invalid packing: {errors[:3]}")
            surfaces.append(p.surface_area)
            ratios.append(p.surface_area / lower_bound(inst))
        return {"mean_surface": float(np.mean(surfaces)), "mean_ratio": float(np.mean(ratios)),
                "instances": len(instances)}
    ratios, utils, objectives, stuck = [], [], [], 0
    for inst in instances:
        p = play(model, inst, env)
        errors = validate(p)
        if any(not e.startswith("items never placed") for e in errors):
            raise AssertionError(f"the agent produced an invalid packing: {errors[:3]}")
        stuck += bool(errors)
        ratios.append(p.ratio)
        utils.append(p.utilisation)
        objectives.append(p.objective)
    return {"mean_ratio": float(np.mean(ratios)), "mean_utilisation": float(np.mean(utils)),
            "mean_objective": float(np.mean(objectives)), "stuck": stuck, "instances": len(instances)}


#: Held-out instances of an agent trained outside the named sets' families: instance k is drawn
#: with seed (TEST_SEED_BASE, k) from the run's generator (training uses seeds >= 1e9, the named
#: sets 20_170_xxx).
TEST_SEED_BASE = 20_210_000


def held_out_instances(train_config: dict[str, Any], count: int) -> list[Instance]:
    """``count`` held-out instances of the generator a run trained on (its card's train_config):
    family, items, mode, container and constraints, drawn with seeds ``(TEST_SEED_BASE, k)``."""
    from packzoo.envs.binpack import InstanceGenerator

    gen = InstanceGenerator(**generator_spec(train_config))
    return [gen.draw((TEST_SEED_BASE, k)) for k in range(int(count))]


def generator_spec(train_config: dict[str, Any]) -> dict[str, Any]:
    """The :class:`~packzoo.envs.binpack.InstanceGenerator` arguments of a run's config dict,
    with the online env's defaults (Zhao et al. 2021's setting) filled in."""
    from packzoo.envs.binpack import MODE_DEFAULTS
    from packzoo.envs.online import DEFAULT_SUPPORT

    c = train_config
    online = c.get("env_id") == ONLINE_ENV_ID
    mode = c.get("mode") or ("container" if online else "free")
    support = c.get("support")
    if support is None and online:
        support = DEFAULT_SUPPORT
    family = c.get("generator") or ("types" if online and mode == "container" else MODE_DEFAULTS[mode][0])
    container = c.get("container")
    return {"family": family, "n_items": int(c["n_items"]), "mode": mode,
            "container": None if container is None else tuple(container), "orientations": c.get("orientations"),
            "support": None if not support else float(support), "max_weight": c.get("max_weight")}


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


def load_agent(name: str, directory: str | os.PathLike | None = None, env: Any = None):
    """Rebuild an agent from its card and hash-checked safetensors; returns ``(model, agent_config, card)``.

    Raises:
        WeightsError: missing files, a sha256 mismatch, or a card that is not an SB3 agent's.
    """
    tensors = load_weights(name, directory)
    card = load_card(name, directory)
    if card.family != FAMILY:
        raise WeightsError(f"the card of {name!r} is of family {card.family!r}: not an SB3 agent")
    try:
        agent = AgentConfig.from_dict(card.config)
    except (TypeError, ValueError) as e:
        raise WeightsError(f"the card of {name!r} has a bad agent config: {e}") from None
    model = build_model(agent, env)
    try:
        load_policy(model, {k: v for k, v in tensors.items() if not k.startswith("optim/")})
    except WeightsError as e:
        raise WeightsError(f"{name!r}: {e} (the card describes another model)") from None
    model.policy.set_training_mode(False)
    return model, agent, card


def split_path(path: str | os.PathLike) -> tuple[str, Path]:
    """``runs/x/best.safetensors`` (or ``runs/x/best``) -> (``"best"``, ``runs/x``)."""
    p = Path(path)
    if p.suffix in (".safetensors", ".json"):
        p = p.with_suffix("")
    return p.name, p.parent


