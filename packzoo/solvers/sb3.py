"""Stable-Baselines3 agents as solvers: a trained agent plays the env deterministically.

``create_solver("sb3", path="runs/x/best.safetensors")`` plays any agent saved by
:mod:`packzoo.train.sb3` (the ``.json`` card beside the weights says how to rebuild it);
``create_solver("sb3-maskppo-n10")`` and ``create_solver("sb3-maskppo-place-n10")`` play the agents
shipped in the zoo (``packzoo/zoo/weights``). Weights are safetensors, hash-checked, never
unpickled. torch and SB3 are imported only when an agent is first loaded.

The agent acts through the env's mask: each step it takes its highest-scoring valid action (for
MaskablePPO exactly ``predict(obs, deterministic=True, action_masks=...)``), so its packing is
always valid and the same for every seed. An agent trained with ``max_items=M`` packs any instance
of at most M items (the rest of the observation is padding).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from packzoo.envs.instance import Instance
from packzoo.solvers.base import BaseSolver, Solution, register_solver
from packzoo.zoo.weights import weights_path

#: The agents shipped in the zoo: registered solver name -> zoo weights name (the same).
SHIPPED = {
    "sb3-maskppo-n10": "MaskablePPO on packzoo/BinPack3D-v0 (agent picks the item order, LSA places), N=10",
    "sb3-maskppo-place-n10": "MaskablePPO on packzoo/BinPack3DPlace-v0 (agent picks item, orientation, EMS), N=10",
    "sb3-maskppo-online-c10": "MaskablePPO on packzoo/BinPack3DOnline-v0 (items arrive; it places the arriving one), "
                              "Zhao et al. 2021's setting",
}
#: What the generic ``sb3`` solver may be given: each agent packs the mode it was trained on.
ANY_MODE = (("free", "base", "container", "bins"), True)


def agent_modes(name: str, directory: str | os.PathLike | None = None) -> tuple[tuple[str, ...], bool]:
    """The modes an agent packs and whether it honours constraints, from its card (no torch): the
    mode it was trained on; constraints when it observes them (any mode but free, and the online
    env, whose masks come from the engine that checks every constraint)."""
    from packzoo.zoo.weights import load_card

    try:
        cfg = load_card(name, directory).config
    except FileNotFoundError:
        raise ValueError(f"no SB3 agent {name!r}" + (f" in {directory}" if directory else "")) from None
    mode = cfg.get("mode", "free")
    return (mode,), mode != "free" or cfg.get("env_id") == "packzoo/BinPack3DOnline-v0"


class SB3Solver(BaseSolver):
    """Play a trained SB3 agent deterministically through its environment.

    Args:
        path: a saved agent: ``DIR/NAME.safetensors`` (or ``DIR/NAME``) with ``DIR/NAME.json``.
        weights: instead of ``path``, the name of agent weights shipped in the zoo.
        env_id: the env the agent must have been trained on; None accepts the card's env. A
            mismatch is a ValueError (an item-order agent cannot play the placement env).

    The agent is loaded once, on the first ``solve`` and before its clock starts: loading
    (importing torch, rebuilding the model) is setup, not solving.
    """

    def __init__(self, *, path: str | os.PathLike | None = None, weights: str | None = None,
                 env_id: str | None = None) -> None:
        if (path is None) == (weights is None):
            raise ValueError("give exactly one of path= (a saved agent) or weights= (a shipped agent's name)")
        self.path = None if path is None else str(path)
        self.weights = weights
        self.env_id = env_id
        self._agent: tuple[Any, Any, Any] | None = None
        self._modes: tuple[tuple[str, ...], bool] | None = None

    def _agent_modes(self) -> tuple[tuple[str, ...], bool]:
        if self._modes is None:
            self._modes = agent_modes(*self._location())
        return self._modes

    @property
    def modes(self) -> tuple[str, ...]:  # type: ignore[override]
        """The mode the agent was trained on (read from its card)."""
        return self._agent_modes()[0]

    @property
    def constraints(self) -> bool:  # type: ignore[override]
        """True when the agent observes the constraints (see :func:`agent_modes`)."""
        return self._agent_modes()[1]

    def _location(self) -> tuple[str, Path | None]:
        if self.weights is not None:
            return self.weights, None
        from packzoo.zoo.sb3.agent import split_path

        name, directory = split_path(self.path)
        return name, directory

    def fingerprint(self) -> str:
        """The sha256 of the agent's weights file: new weights never reuse old results."""
        from packzoo.zoo.weights import sha256_file

        name, directory = self._location()
        try:
            return sha256_file(weights_path(name, directory))
        except FileNotFoundError:
            raise ValueError(f"no SB3 agent at {self.path or self.weights!r}") from None

    def load(self) -> tuple[Any, Any, Any]:
        """``(model, config, play_env)`` of the agent, loaded and hash-checked on first use."""
        if self._agent is None:
            from packzoo.zoo.sb3.agent import load_agent, make_play_env

            name, directory = self._location()
            try:
                model, cfg, _ = load_agent(name, directory)
            except FileNotFoundError as e:
                raise ValueError(f"no SB3 agent at {self.path or self.weights!r}: {e}") from None
            if self.env_id is not None and self.env_id != cfg.env_id:
                raise ValueError(f"the agent {name!r} was trained on {cfg.env_id}, not {self.env_id}")
            self._agent = (model, cfg, make_play_env(cfg))
        return self._agent

    def solve(self, instance: Instance, *, seed: int | None = None, time_limit: float | None = None) -> Solution:
        self.load()
        return super().solve(instance, seed=seed, time_limit=time_limit)

    def _solve(self, instance, rng, deadline):
        from packzoo.zoo.sb3.agent import play

        model, cfg, env = self.load()
        if instance.n > cfg.max_items:
            raise ValueError(f"the instance has {instance.n} items; this agent packs at most {cfg.max_items}")
        packing = play(model, instance, env)
        return Solution(packing, "feasible", info={"algo": cfg.algo, "env_id": cfg.env_id,
                                                   "max_items": cfg.max_items})

    def __getstate__(self) -> dict[str, Any]:
        # A solver may be sent to worker processes: ship the parameters, reload the agent there.
        state = dict(self.__dict__)
        state["_agent"] = None
        return state


register_solver("sb3", SB3Solver, kind="learned", keeps_time_limit=False, summary="a trained Stable-Baselines3 agent (path=...) played deterministically",
                source="Stable-Baselines3 / sb3-contrib", modes=ANY_MODE[0], constraints=ANY_MODE[1],
                check_params={"path": str(weights_path("sb3-maskppo-n10"))})
for _name, _summary in SHIPPED.items():
    register_solver(_name, lambda _n=_name, **kw: SB3Solver(weights=_n, **kw), kind="learned", keeps_time_limit=False, summary=_summary,
                    modes=agent_modes(_name)[0], constraints=agent_modes(_name)[1],
                    source="packzoo zoo (packzoo/zoo/weights), trained with `packzoo train sb3`")
