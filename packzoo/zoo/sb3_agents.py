"""Shipped Stable-Baselines3 agents in the zoo.

Two small MaskablePPO agents trained with ``packzoo train sb3`` (the exact command is in each
card's ``recipe``):

- ``sb3-maskppo-n10``: ``packzoo/BinPack3D-v0``, N=10: the agent picks the item order, LSA places.
- ``sb3-maskppo-place-n10``: ``packzoo/BinPack3DPlace-v0``, N=10: the agent picks the item, its
  orientation and the empty maximal space.

``create_model(name, pretrained=True)`` rebuilds the SB3 model from the card's config and loads the
hash-checked safetensors (never a pickle); ``pretrained=False`` gives the same architecture freshly
initialised (``overrides`` change its :class:`~packzoo.solvers.sb3_train.TrainConfig` fields).
``evaluate_model(name, instances=100)`` plays the agent on the held-out named set ``uniform-n10``.
torch and SB3 are imported only when a model is built.
"""

from __future__ import annotations

from typing import Any

from packzoo.zoo import register_model
from packzoo.zoo.weights import load_card

#: name -> (summary, the TrainConfig fields of the shipped agent)
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


def _config(name: str, overrides: dict[str, Any]):
    from packzoo.solvers.sb3_train import TrainConfig

    try:
        base = load_card(name)["config"]
    except FileNotFoundError:
        base = AGENTS[name][1]
    return TrainConfig.from_dict({**base, **overrides})


def _make_factory(name: str):
    def factory(pretrained: bool = False, **overrides: Any) -> Any:
        """The SB3 model of ``name`` (MaskablePPO), with its shipped weights if ``pretrained``."""
        from packzoo.solvers.sb3_train import build_model, load_agent

        if pretrained:
            if overrides:
                raise ValueError(f"pretrained {name!r} cannot take overrides {sorted(overrides)}: "
                                 "its architecture is fixed by the shipped weights")
            model, _, _ = load_agent(name)
            return model
        return build_model(_config(name, overrides))

    return factory


def _make_evaluate(name: str):
    def evaluate(instances: int = 100, set: str = "uniform-n10") -> dict[str, Any]:
        """Mean surface and mean ratio to the lower bound of the agent on a named set."""
        import numpy as np

        from packzoo.envs.generators import instance_set
        from packzoo.envs.packing import lower_bound, validate
        from packzoo.solvers.sb3 import SB3Solver

        solver = SB3Solver(weights=name)
        insts = instance_set(set, instances)
        surfaces, ratios = [], []
        for inst in insts:
            p = solver.solve(inst, seed=0).packing
            errors = validate(p)
            if errors:
                raise AssertionError(f"{name} produced an invalid packing: {errors[:3]}")
            surfaces.append(p.surface_area)
            ratios.append(p.surface_area / lower_bound(inst))
        return {"set": set, "instances": len(insts), "mean_surface": float(np.mean(surfaces)),
                "mean_ratio": float(np.mean(ratios))}

    return evaluate


for _name, (_summary, _cfg) in AGENTS.items():
    register_model(_name, _make_factory(_name), evaluate=_make_evaluate(_name), summary=_summary,
                   source="packzoo `packzoo train sb3` (Stable-Baselines3 / sb3-contrib MaskablePPO)",
                   env_id=_cfg["env_id"], solver=_name, framework="stable-baselines3")
