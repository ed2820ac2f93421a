"""packzoo: the new 3D bin packing problem (Hu et al. 2017) as Gymnasium environments, with
heuristic, exact and learned solvers, leaderboards, and a small model zoo behind one registry.

Importing packzoo registers ``packzoo/BinPack3D-v0``, ``packzoo/BinPack3DPlace-v0`` and
``packzoo/BinPack3DOnline-v0``, with
:func:`render_packing` (a :class:`packzoo.viz.HTMLRenderer` writing ``packzoo-render.html`` in the
working folder) as their default human renderer; pass ``renderer=HTMLRenderer("my.html")`` to
``gym.make`` to choose the file. This file is where the envs and the pictures meet: the env module
never imports viz.
"""

from typing import Any as _Any

import gymnasium as _gym

from packzoo.envs.binpack import ENV_IDS

__version__ = "0.1.0"


_default_renderer: _Any = None


def render_packing(packing: _Any) -> _Any:
    """The envs' default ``render_mode="human"`` renderer: one :class:`packzoo.viz.HTMLRenderer`
    per process, made on the first call, rewriting ``packzoo-render.html`` in the working folder
    (its path printed once per folder), or drawing inline in a notebook.

    A module-level function (picklable by reference, for vectorised envs) that imports plotly only
    when called, so ``import packzoo`` stays light. Returns the file's path (None when inline).
    """
    global _default_renderer
    if _default_renderer is None:
        from packzoo.viz import HTMLRenderer

        _default_renderer = HTMLRenderer()
    return _default_renderer(packing)


def _register_envs() -> None:
    entry = dict(zip(ENV_IDS, ("packzoo.envs.binpack:BinPack3DEnv", "packzoo.envs.binpack:BinPack3DPlaceEnv",
                               "packzoo.envs.online:BinPack3DOnlineEnv")))
    for env_id, entry_point in entry.items():
        if env_id not in _gym.registry:
            # No TimeLimit: episodes end by themselves after at most N placements.
            _gym.register(id=env_id, entry_point=entry_point, disable_env_checker=False,
                          kwargs={"renderer": render_packing})


_register_envs()

from packzoo import envs  # noqa: E402

__all__ = ["ENV_IDS", "__version__", "envs", "render_packing"]
