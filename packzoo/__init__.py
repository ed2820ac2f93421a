"""packzoo: the new 3D bin packing problem (Hu et al. 2017) as Gymnasium environments, with
heuristic, exact and learned solvers, leaderboards, and a small model zoo behind one registry.

Importing packzoo registers ``packzoo/BinPack3D-v0`` and ``packzoo/BinPack3DPlace-v0``, with
:func:`packzoo.viz.show_packing` as their default human renderer. This file is where the envs
and the pictures meet: the env module never imports viz.
"""

from typing import Any as _Any

import gymnasium as _gym

from packzoo.envs.binpack import ENV_IDS

__version__ = "0.1.0"


def render_packing(packing: _Any) -> _Any:
    """The envs' default ``render_mode="human"`` renderer: :func:`packzoo.viz.show_packing`.

    A module-level function (picklable, for vectorised envs) that imports plotly only when called.
    """
    from packzoo.viz import show_packing

    return show_packing(packing)


def _register_envs() -> None:
    entry = dict(zip(ENV_IDS, ("packzoo.envs.binpack:BinPack3DEnv", "packzoo.envs.binpack:BinPack3DPlaceEnv")))
    for env_id, entry_point in entry.items():
        if env_id not in _gym.registry:
            # No TimeLimit: episodes end by themselves after N placements.
            _gym.register(id=env_id, entry_point=entry_point, disable_env_checker=False,
                          kwargs={"renderer": render_packing})


_register_envs()

from packzoo import envs  # noqa: E402

__all__ = ["ENV_IDS", "__version__", "envs", "render_packing"]
