"""packzoo: the new 3D bin packing problem (Hu et al. 2017) as Gymnasium environments, with
heuristic, exact and learned solvers, leaderboards, and a small model zoo behind one registry.

Importing packzoo registers ``packzoo/BinPack3D-v0`` and ``packzoo/BinPack3DPlace-v0``.
"""

import gymnasium as _gym

__version__ = "0.1.0"

ENV_IDS = ("packzoo/BinPack3D-v0", "packzoo/BinPack3DPlace-v0")


def _register_envs() -> None:
    entry = {
        "packzoo/BinPack3D-v0": "packzoo.envs.binpack:BinPack3DEnv",
        "packzoo/BinPack3DPlace-v0": "packzoo.envs.binpack:BinPack3DPlaceEnv",
    }
    for env_id, entry_point in entry.items():
        if env_id not in _gym.registry:
            # No TimeLimit: episodes end by themselves after N placements.
            _gym.register(id=env_id, entry_point=entry_point, disable_env_checker=False)


_register_envs()

from packzoo import envs  # noqa: E402  (after registration, so env ids resolve on import)

__all__ = ["ENV_IDS", "__version__", "envs"]
