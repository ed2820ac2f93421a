"""Stable-Baselines3 agents in the zoo (family ``sb3``).

Two small MaskablePPO agents trained with ``packzoo train sb3`` (the exact command is in each
card's ``recipe``):

- ``sb3-maskppo-n10``: ``packzoo/BinPack3D-v0``, N=10: the agent picks the item order, LSA places.
- ``sb3-maskppo-place-n10``: ``packzoo/BinPack3DPlace-v0``, N=10: the agent picks the item, its
  orientation and the empty maximal space.

``create_model(name, pretrained=True)`` rebuilds the SB3 model from the card's
:class:`~packzoo.zoo.sb3.agent.AgentConfig` and loads the hash-checked safetensors (never a
pickle); ``pretrained=False`` gives the same architecture freshly initialised (``overrides``
change AgentConfig fields). ``evaluate_model(name, instances=100)`` plays the agent on the
held-out named set ``uniform-n10``. torch and SB3 are imported only when a model is built.
"""

from __future__ import annotations

from typing import Any

from packzoo.zoo import register_model
from packzoo.zoo.sb3.agent import AgentConfig, build_model, load_agent, play, scorer_features
from packzoo.zoo.weights import has_weights, load_card

FAMILY = "sb3"

#: name -> (summary, the AgentConfig fields of the shipped agent)
AGENTS: dict[str, tuple[str, dict[str, Any]]] = {
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
    register_model(_name, _make_factory(_name), family=FAMILY, evaluate=_make_evaluate(_name), summary=_summary,
                   source="packzoo `packzoo train sb3` (Stable-Baselines3 / sb3-contrib MaskablePPO)",
                   task=f"{_cfg['env_id']}: mean surface and ratio to the lower bound on uniform-n10",
                   env_id=_cfg["env_id"], solver=_name, framework="stable-baselines3",
                   headline=("test.mean_surface", "test.mean_ratio", "val_mean_ratio"))


__all__ = ["AGENTS", "FAMILY", "AgentConfig", "build_model", "load_agent", "play", "scorer_features"]
