"""Stable-Baselines3 agents in the zoo (family ``sb3``).

Three small MaskablePPO agents trained with ``packzoo train sb3`` (the exact command is in each
card's ``recipe``):

- ``sb3-maskppo-n10``: ``packzoo/BinPack3D-v0``, N=10: the agent picks the item order, LSA places.
- ``sb3-maskppo-place-n10``: ``packzoo/BinPack3DPlace-v0``, N=10: the agent picks the item, its
  orientation and the empty maximal space.
- ``sb3-maskppo-online-c10``: ``packzoo/BinPack3DOnline-v0`` in Zhao et al. 2021's setting (a
  10^3 container, the 64 item types {2..5}^3, support 0.8): items arrive one by one and the
  agent places each (orientation, space); evaluated by its utilisation on held-out sequences.

``create_model(name, pretrained=True)`` rebuilds the SB3 model from the card's
:class:`~packzoo.zoo.sb3.agent.AgentConfig` and loads the hash-checked safetensors (never a
pickle); ``pretrained=False`` gives the same architecture freshly initialised (``overrides``
change AgentConfig fields). ``evaluate_model(name, instances=100)`` plays the agent on the
held-out named set ``uniform-n10`` (the online agent: held-out sequences of its generator,
:func:`~packzoo.zoo.sb3.agent.held_out_instances`). torch and SB3 are imported only when a model is built.
"""

from __future__ import annotations

from typing import Any

from packzoo.zoo import register_model
from packzoo.zoo.sb3.agent import AgentConfig, build_model, load_agent, play, scorer_features
from packzoo.zoo.weights import has_weights, load_card

FAMILY = "sb3"

#: name -> (summary, the AgentConfig fields of the shipped agent)
AGENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "sb3-maskppo-online-c10": (
        "MaskablePPO agent for packzoo/BinPack3DOnline-v0: places each arriving item (10^3 container, "
        "64 item types, support 0.8)",
        {"algo": "maskable-ppo", "env_id": "packzoo/BinPack3DOnline-v0", "n_items": 100, "mode": "container"},
    ),
    "sb3-maskppo-n10": (
        "MaskablePPO item-order agent for packzoo/BinPack3D-v0 (LSA places), N=10",
        {"algo": "maskable-ppo", "env_id": "packzoo/BinPack3D-v0", "n_items": 10},
    ),
    "sb3-maskppo-place-n10": (
        "MaskablePPO agent for packzoo/BinPack3DPlace-v0 (item, orientation and EMS), N=10",
        {"algo": "maskable-ppo", "env_id": "packzoo/BinPack3DPlace-v0", "n_items": 10},
    ),
}


def _make_factory(name: str):
    def factory(pretrained: bool = False, **overrides: Any) -> Any:
        """The SB3 model of ``name`` (MaskablePPO), with its shipped weights if ``pretrained``."""
        if pretrained:
            if overrides:
                raise ValueError(f"pretrained {name!r} cannot take overrides {sorted(overrides)}: "
                                 "its architecture is fixed by the shipped weights")
            return load_agent(name)[0]
        base = load_card(name).config if has_weights(name) else AGENTS[name][1]
        return build_model(AgentConfig.from_dict({**base, **overrides}))

    return factory


def _make_evaluate(name: str):
    def evaluate(instances: int = 100, set: str | None = None) -> dict[str, Any]:
        """The agent's figures on held-out instances: a named set (free-bin agents: mean surface
        and ratio to the lower bound on ``uniform-n10`` by default), or, for agents of another
        mode or the online env, its training generator at the held-out seeds
        (:func:`~packzoo.zoo.sb3.agent.held_out_instances`: mean ratio to the mode's bound and
        mean utilisation)."""
        from packzoo.envs.generators import instance_set
        from packzoo.zoo.sb3.agent import evaluate_agent, held_out_instances

        model, agent, card = load_agent(name)
        if set is None and (agent.mode != "free" or agent.online):
            return {"set": "held-out", **evaluate_agent(model, agent, held_out_instances(card.train_config, instances))}
        set = set or "uniform-n10"
        m = evaluate_agent(model, agent, instance_set(set, instances))
        return {"set": set, **m}

    return evaluate


for _name, (_summary, _cfg) in AGENTS.items():
    if _cfg["env_id"] == "packzoo/BinPack3DOnline-v0":
        _more: dict[str, Any] = {"task": f"{_cfg['env_id']}: mean utilisation on 200 held-out arrival sequences",
                                 "headline": ("test.mean_utilisation", "val_mean_utilisation")}
    else:
        _more = {"task": f"{_cfg['env_id']}: mean surface and ratio to the lower bound on uniform-n10",
                 "solver": _name, "headline": ("test.mean_surface", "test.mean_ratio", "val_mean_ratio")}
    register_model(_name, _make_factory(_name), family=FAMILY, evaluate=_make_evaluate(_name), summary=_summary,
                   source="packzoo `packzoo train sb3` (Stable-Baselines3 / sb3-contrib MaskablePPO)",
                   env_id=_cfg["env_id"], framework="stable-baselines3", **_more)


__all__ = ["AGENTS", "FAMILY", "AgentConfig", "build_model", "load_agent", "play", "scorer_features"]
