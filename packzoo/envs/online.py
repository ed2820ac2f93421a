"""``packzoo/BinPack3DOnline-v0``: items arrive one at a time; the agent places each as it comes.

Online 3D bin packing as Zhao et al. 2021 ("Online 3D bin packing with constrained deep
reinforcement learning", AAAI) pose it: the items of an instance arrive in their listed order,
the agent sees the arriving item and the ``lookahead - 1`` after it, and chooses only where the
arriving item goes (orientation x empty maximal space); it cannot reorder, skip or come back.

Why an id of its own rather than ``packzoo/BinPack3DPlace-v0`` with the order imposed: the
decision is a different one, and so are the spaces and the end. The place env's action space is
``max_items * 6 * max_ems`` with every item but one masked out (a policy would spend its capacity
on masked actions, and the check_env of Gymnasium and SB3 would step almost only invalid ones);
its observation lists every item of the instance, which an online agent must not see; and in
container mode the place env skips an item that fits nowhere and goes on, where the online
setting ends the episode at the first arriving item that fits nowhere. A separate id keeps each
env's contract simple and lets ``check_env`` test the online one as it is.

The engine is :class:`packzoo.envs.fixed.PackState` in every mode, so the masks respect every
constraint of the instance (allowed orientations, support, weight limit) and
:func:`packzoo.envs.validate` accepts every packing the env makes. Rewards are the other envs'
(see :mod:`packzoo.envs.binpack`): in the default container mode, the placed item's volume over
the container's, so the return is the final utilisation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces

from packzoo._checks import positive_int
from packzoo.envs.binpack import (
    MODE_DEFAULTS,
    GeneratorLike,
    ResetNeededError,
    _ModeInfo,
    _PackEnv,
    _Progress,
    ansi_header,
    ansi_rows,
    fresh_space,
    instance_set,
    make_generator,
    mode_obs,
    mode_spaces,
    progress_info,
    resolve_instance_set,
    visible_spaces,
)
from packzoo.envs.fixed import PackState
from packzoo.envs.instance import MODES, Instance
from packzoo.envs.packing import Packing, Placement

#: The default support fraction: an item above the floor rests on at least 80 % of its base
#: (Zhao et al. 2021 ask 60 % with four supported corners, 80 % with three, or 95 %; packzoo's
#: support rule is the area alone, and 80 % is the middle of their three thresholds).
DEFAULT_SUPPORT = 0.8


class BinPack3DOnlineEnv(_PackEnv):
    """Online packing: items arrive in order; the agent chooses each one's orientation and space.

    The default is Zhao et al. 2021's setting: a 10 x 10 x 10 container (``mode="container"``),
    items drawn uniformly from the 64 types {2..5}^3 (``generator="types"``), the support rule on
    (:data:`DEFAULT_SUPPORT`), one item visible at a time; the episode ends when the arriving item
    fits nowhere.

    ## Action Space
    ``Discrete(6 * max_ems)``: ``action = orientation * max_ems + ems``: the arriving item in
    ``orientation`` (0..5, the paper's order) at the corner nearest the origin of visible EMS slot
    ``ems``. The mask allows each distinct allowed orientation once and the spaces where the item
    fits and breaks no constraint. The visible EMSs are those where the arriving item can go, by
    bin, then corner distance from the origin (x + y + z, then z, y, x), at most ``max_ems`` (the
    fresh bin of bins mode always kept); ``info["hidden"]`` counts feasible placements beyond
    them (none in the default setting, where 64 slots hold every feasible space seen).

    ## Observation Space
    A ``Dict``:
    - ``boxes`` ``Box(0, 1, (3 * lookahead,))``: the arriving item and the next ``lookahead - 1``
      (dims as listed, over the observation's scale: the largest of the container's and the
      items' dims), 0 past the end of the sequence; ``visible`` ``MultiBinary(lookahead)``.
    - ``bin`` ``Box(0, cap, (3,))``: the packing's extent; ``ems`` ``Box(0, cap, (6 * max_ems,))``:
      the visible EMSs (x1, y1, z1, x2, y2, z2) in the same scale, capped at ``cap`` = n_items + 1
      (the free height of base mode); ``ems_bin`` ``Box(0, 1, (max_ems,))``: their bin over n_items.
    - ``mode``, ``container``, ``constraints``, ``status``, ``item_weights`` (the visible items'):
      as :mod:`packzoo.envs.binpack` describes them.
    - ``action_mask`` ``MultiBinary(6 * max_ems)``.

    ## Rewards
    As the other envs (:mod:`packzoo.envs.binpack`): container mode, plus the item's volume over
    the container's (return = final utilisation); free, base, bins: minus the growth of the
    surface, height or bins over their bound (return = minus the final ratio to the bound). An
    invalid action changes nothing and gives ``-invalid_penalty`` (``invalid_action="penalize"``,
    the default, which Gymnasium's and SB3's checkers pass) or raises :class:`InvalidActionError`
    (``"raise"``).

    ## Episode End
    Terminates when every item has arrived and been placed, or when the arriving item fits
    nowhere: the normal end in container mode; a dead end in the other modes (possible only in
    base mode with support or orientation limits), with ``info["stuck"]`` and minus 1 per item not
    placed. Truncates after ``max_invalid`` invalid actions.

    ## Arguments
    ``n_items`` (the sequence length; 100 in container mode, where the episode ends long before,
    else 20), ``lookahead`` (items visible, the arriving one included; 1), ``generator`` (one of
    :data:`packzoo.envs.binpack.FAMILIES` or a callable ``rng -> Instance``; default "types" in
    container mode, else the mode's default), ``instance_set`` (a named set to draw from),
    ``reward`` ("dense" or "sparse"), ``invalid_action``, ``invalid_penalty``, ``max_invalid``,
    ``render_mode`` ("ansi", "human"), ``renderer``; keyword-only ``mode`` ("container"),
    ``container`` ((10, 10, 10)), ``orientations`` (None, "all", "upright", "fixed"),
    ``support`` (:data:`DEFAULT_SUPPORT`; None turns it off), ``max_weight``, ``bins`` (for
    "bins_cut"), ``max_ems`` (64). ``reset(options={"instance": inst})`` packs a given instance
    (any mode) in its listed order.

    Example:
        >>> import gymnasium as gym, packzoo
        >>> env = gym.make("packzoo/BinPack3DOnline-v0", lookahead=3)
        >>> obs, info = env.reset(seed=0)
        >>> obs["boxes"].shape, int(env.action_space.n)
        ((9,), 384)
    """

    def __init__(
        self,
        n_items: int | None = None,
        lookahead: int = 1,
        generator: GeneratorLike | None = None,
        instance_set: str | None = None,
        reward: str = "dense",
        invalid_action: str = "penalize",
        invalid_penalty: float = 0.1,
        max_invalid: int | None = None,
        render_mode: str | None = None,
        renderer: Callable[[Packing], Any] | None = None,
        *,
        mode: str = "container",
        container: Sequence[int] | None = None,
        orientations: str | None = None,
        support: float | None = DEFAULT_SUPPORT,
        max_weight: float | None = None,
        bins: int = 3,
        max_ems: int | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self._set_instances, n_items = resolve_instance_set(instance_set, n_items, 100 if mode == "container" else 20)
        positive_int(n_items, "n_items")
        positive_int(lookahead, "lookahead")
        max_ems = 64 if max_ems is None else positive_int(max_ems, "max_ems")
        family = "types" if mode == "container" else MODE_DEFAULTS[mode][0]
        self._generator = make_generator(generator, family, n_items, mode, container, orientations, support,
                                         max_weight, bins)
        self._take_args(reward, invalid_action, invalid_penalty, render_mode, renderer)
        self.n_items = int(n_items)
        self.lookahead = int(lookahead)
        self.max_ems = int(max_ems)
        self.generator = generator
        self.instance_set = instance_set
        self.mode = mode
        self.max_invalid = 10 * self.n_items if max_invalid is None else int(max_invalid)
        self._cap = float(self.n_items + 1)
        k, e = self.lookahead, self.max_ems
        self.action_space = spaces.Discrete(6 * e)
        self.observation_space = spaces.Dict(
            {
                "boxes": spaces.Box(0.0, 1.0, (3 * k,), np.float32),
                "visible": spaces.MultiBinary(k),
                "bin": spaces.Box(0.0, self._cap, (3,), np.float32),
                "ems": spaces.Box(0.0, self._cap, (6 * e,), np.float32),
                "ems_bin": spaces.Box(0.0, 1.0, (e,), np.float32),
                "action_mask": spaces.MultiBinary(6 * e),
                **mode_spaces(self.n_items, k),
            }
        )
        self.instance: Instance | None = None
        self._state: PackState | None = None

    # -- episode ---------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start an episode: a drawn instance, or ``options={"instance": inst}`` (any mode; the
        items arrive in their listed order). An unknown option key is a ValueError."""
        inst = self._begin(seed, options)
        self.instance = inst
        self._state = PackState(inst)
        self._minfo = _ModeInfo(inst)
        self._progress = _Progress(inst)
        self._scale = self._minfo.scale
        self._t = 0
        return self._started()

    def _cache_masks(self) -> None:
        st = self._state
        m = np.zeros((6, self.max_ems), dtype=bool)
        self._visible = np.zeros(0, dtype=np.int64)
        self._hidden = 0
        if self._t < self.instance.n:
            pairs = st.feasible(self._t)
            sp = st.spaces
            useful = np.zeros(len(sp), dtype=bool)
            useful[pairs[:, 1]] = True
            vis = visible_spaces(sp, useful, self.max_ems, fresh_space(st))
            slot = np.full(len(sp), -1, dtype=np.int64)
            slot[vis] = np.arange(len(vis))
            s = slot[pairs[:, 1]]
            m[pairs[s >= 0, 0], s[s >= 0]] = True
            self._hidden = int((s < 0).sum())
            self._visible = vis
        self._mask = m.reshape(-1)

    def _done(self) -> bool:
        return self._t >= self.instance.n or not self._mask.any()

    def _items_left(self) -> int:
        return self.instance.n - self._t

    def _decode(self, action: int) -> tuple[int, int]:
        return divmod(action, self.max_ems)

    def _apply(self, decoded: tuple[int, int]) -> tuple[Placement, float, bool]:
        orientation, slot = decoded
        item = self._t
        self._t += 1  # before the masks are refreshed: they are the next arriving item's
        return self._place_on_state(item, orientation, int(self._visible[slot]))

    def _describe(self, a: int) -> str:
        o, slot = divmod(a, self.max_ems)
        return f"item {self._t}, orientation {o}, EMS slot {slot}: not a feasible placement"

    # -- observation -----------------------------------------------------------------------------
    def _obs(self) -> dict[str, np.ndarray]:
        k, e, n = self.lookahead, self.max_ems, self.instance.n
        rows = np.arange(self._t, self._t + k)
        rows[rows >= n] = -1
        boxes = np.zeros((k, 3), np.float32)
        ok = rows >= 0
        boxes[ok] = self.instance.dims[rows[ok]] / self._scale
        ems = np.zeros((e, 6), np.float32)
        ems_bin = np.zeros(e, np.float32)
        vis = self._state.spaces[self._visible]
        ems[: len(vis)] = np.minimum(vis[:, :6] / self._scale, self._cap)
        ems_bin[: len(vis)] = np.minimum(vis[:, 6] / self.n_items, 1.0)
        return {
            "boxes": boxes.reshape(-1),
            "visible": ok.astype(np.int8),
            "bin": np.minimum(self._progress.extent / self._scale, self._cap).astype(np.float32),
            "ems": ems.reshape(-1),
            "ems_bin": ems_bin,
            "action_mask": self._mask.astype(np.int8),
            **mode_obs(self._minfo, self._progress, self.n_items, rows),
        }

    def _info(self, placement: Placement | None) -> dict[str, Any]:
        info = progress_info(self._minfo, self._progress, placement, self._items_left(), self._done())
        info["arrived"] = min(self._t + 1, self.instance.n)
        info["hidden"] = self._hidden
        return info

    def decode_action(self, action: int) -> tuple[int, int]:
        """(orientation, ems_slot) of a flattened action."""
        return divmod(int(action), self.max_ems)

    def encode_action(self, orientation: int, slot: int) -> int:
        """The flattened action of (orientation, ems_slot)."""
        return int(orientation) * self.max_ems + int(slot)

    @property
    def packing(self) -> Packing:
        """The current (possibly partial) packing."""
        if self._state is None:
            raise ResetNeededError("call reset() first")
        return self._state.packing()

    def _ansi(self) -> str:
        head = ansi_header(type(self).__name__, self._progress, self.instance, int(self._state.placed.sum()))
        return "\n".join([head, *ansi_rows(self.packing)]) + "\n"


def instance_set_instances(name: str) -> list[Instance]:
    """The instances of a named set (:func:`packzoo.envs.instance_set`)."""
    return instance_set(name)
