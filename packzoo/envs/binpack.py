"""The Gymnasium environments of the new 3D bin packing problem (Hu et al. 2017).

Two decision granularities over the same EMS engine (:mod:`packzoo.envs.ems`):

- ``packzoo/BinPack3D-v0``: the paper's decision. The agent picks the next item; LSA places it.
- ``packzoo/BinPack3DPlace-v0``: every decision. The agent picks (item, orientation, EMS).

Human rendering calls the ``renderer`` the env is given (as Jumanji's envs take a ``viewer``),
on every ``reset()`` and ``step()`` as Gymnasium's human mode does; ``import packzoo`` registers
both ids with the HTML renderer of :mod:`packzoo.viz` as the default, so this module holds no
plotting code and imports nothing of packzoo outside ``envs``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from packzoo._checks import positive_int
from packzoo.envs.ems import EMSState
from packzoo.envs.generators import draw, instance_set
from packzoo.envs.instance import ORIENTATIONS, Instance
from packzoo.envs.packing import Packing, Placement, lower_bound

GeneratorLike = str | Callable[[np.random.Generator], Instance]


class InvalidActionError(ValueError):
    """An action the env cannot take: not an integer, out of range, or masked out (a packed item,
    padding, or a placement that does not fit)."""


class ResetNeededError(gym.error.ResetNeeded, RuntimeError):
    """The env was used before ``reset()``: Gymnasium's ResetNeeded (what its users catch), and a
    RuntimeError as packzoo raised before."""


# The keys reset(options=...) understands.
RESET_OPTIONS = ("instance",)


def _as_action(action: Any) -> int:
    """``action`` as an int if it is an integer (Python or numpy, or a 0-d integer array), else an
    InvalidActionError naming it. A float such as 1.5 is refused, not truncated to 1; so is a bool,
    which is an int to Python but never a sensible item index."""
    if isinstance(action, np.ndarray) and action.ndim == 0:
        action = action[()]
    if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)):
        raise InvalidActionError(
            f"action {action!r} ({type(action).__name__}) is not an integer; actions are integer indices"
        )
    return int(action)


ENV_IDS = ("packzoo/BinPack3D-v0", "packzoo/BinPack3DPlace-v0")


class _BinPackBase(gym.Env):
    metadata = {"render_modes": ["human", "ansi"], "render_fps": 2}

    def __init__(
        self,
        n_items: int | None = None,
        max_items: int | None = None,
        generator: GeneratorLike = "uniform",
        instance_set: str | None = None,
        reward: str = "dense",
        invalid_action: str = "penalize",
        invalid_penalty: float = 0.1,
        max_invalid: int | None = None,
        render_mode: str | None = None,
        renderer: Callable[[Packing], Any] | None = None,
    ) -> None:
        if n_items is not None:
            positive_int(n_items, "n_items")
        self._set_instances: list[Instance] | None = None
        if instance_set is not None:
            self._set_instances = _load_set(instance_set)
            set_n = max(i.n for i in self._set_instances)
            # n_items given explicitly (not None) must agree with the set: silently taking the
            # set's size would hide a mistake; padding is max_items' job.
            if n_items is not None and n_items != set_n:
                raise ValueError(
                    f"n_items={n_items} conflicts with instance_set={instance_set!r}, whose instances have "
                    f"{set_n} items; leave n_items out (or pad with max_items={n_items})"
                )
            n_items = set_n
        elif n_items is None:
            n_items = 10
        max_items = int(n_items) if max_items is None else max_items
        if isinstance(max_items, bool) or not isinstance(max_items, (int, np.integer)) or max_items < n_items:
            raise ValueError(f"max_items must be an integer >= n_items={n_items}, got {max_items!r}")
        if not (callable(generator) or generator in ("uniform", "orders", "cube")):
            raise ValueError(f"generator must be 'uniform', 'orders', 'cube' or a callable, got {generator!r}")
        if reward not in ("dense", "sparse"):
            raise ValueError(f"reward must be 'dense' or 'sparse', got {reward!r}")
        if invalid_action not in ("raise", "penalize"):
            raise ValueError(f"invalid_action must be 'raise' or 'penalize', got {invalid_action!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        self.n_items = int(n_items)
        self.max_items = int(max_items)
        self.generator = generator
        self.instance_set = instance_set
        self.reward_mode = reward
        self.invalid_action = invalid_action
        self.invalid_penalty = float(invalid_penalty)
        # With penalties an agent could repeat a bad action forever: cut the episode off.
        self.max_invalid = 10 * self.max_items if max_invalid is None else int(max_invalid)
        if renderer is not None and not callable(renderer):
            raise ValueError(f"renderer must be a callable packing -> anything, got {renderer!r}")
        if render_mode == "human" and renderer is None:
            raise ValueError("render_mode='human' needs a renderer= (gym.make gives packzoo.viz's by default)")
        self.render_mode = render_mode
        self.renderer = renderer
        self._configure()

        self.action_space = spaces.Discrete(self._n_actions())
        n = self.max_items
        self.observation_space = spaces.Dict(
            {
                "boxes": spaces.Box(0.0, 1.0, (3 * n,), np.float32),
                "present": spaces.MultiBinary(n),
                "packed": spaces.MultiBinary(n),
                "bin": spaces.Box(0.0, float(n), (3,), np.float32),
                "action_mask": spaces.MultiBinary(self._n_actions()),
                **self._extra_spaces(),
            }
        )
        self.instance: Instance | None = None
        self._state: EMSState | None = None

    # -- subclass hooks (each env also defines _n_actions, _cache_masks and _decode) -------------
    def _configure(self) -> None:
        """Set subclass sizes that depend on max_items, before the spaces are built."""

    def _extra_spaces(self) -> dict[str, spaces.Space]:
        return {}

    def _extra_obs(self) -> dict[str, np.ndarray]:
        return {}

    # -- episode ---------------------------------------------------------------------------------
    def _draw_instance(self) -> Instance:
        if self._set_instances is not None:
            return self._set_instances[int(self.np_random.integers(len(self._set_instances)))]
        if callable(self.generator):
            inst = self.generator(self.np_random)
            if not isinstance(inst, Instance):
                raise ValueError(f"the generator returned {type(inst).__name__}, not an Instance")
            return inst
        seed = int(self.np_random.integers(0, 2**62))
        return draw(self.generator, self.n_items, seed)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start an episode: a drawn instance, or ``options={"instance": inst}`` (an Instance or its
        dims). An unknown option key is a ValueError listing the known ones."""
        super().reset(seed=seed)
        if options is not None and not isinstance(options, dict):
            raise ValueError(f"options must be a dict or None, got {type(options).__name__}")
        unknown = sorted(set(options or {}) - set(RESET_OPTIONS), key=str)
        if unknown:
            raise ValueError(f"unknown reset option(s) {unknown}; the known keys are {list(RESET_OPTIONS)}")
        inst = (options or {}).get("instance")
        if inst is None:
            inst = self._draw_instance()
        elif not isinstance(inst, Instance):
            inst = Instance(inst)
        if inst.n > self.max_items:
            raise ValueError(f"the instance has {inst.n} items, more than max_items={self.max_items}")
        self.instance = inst
        self._state = EMSState(inst.dims)
        self._lb = lower_bound(inst)
        self._scale = float(inst.dims.max())
        self._invalid = 0
        self._cache_masks()
        if self.render_mode == "human":
            self.render()
        return self._obs(), self._info(None)

    def step(self, action):
        """Take ``action`` (an integer); returns Gymnasium's 5-tuple (obs, reward, terminated,
        truncated, info). A non-integer action is always an :class:`InvalidActionError`."""
        if self._state is None:
            raise ResetNeededError("call reset() before step()")
        if self._done():
            raise ResetNeededError("the episode has ended; call reset()")
        a = _as_action(action)
        decoded = self._decode(a) if 0 <= a < self.action_space.n and self._mask[a] else None
        if decoded is None:
            if self.invalid_action == "raise":
                raise InvalidActionError(self._why_invalid(a))
            self._invalid += 1
            info = self._info(None)
            info["invalid_action"] = True
            truncated = self._invalid >= self.max_invalid
            if self.render_mode == "human":
                self.render()
            return self._obs(), -self.invalid_penalty, False, truncated, info
        before = self._state.surface_area
        item, orientation, ems_index = decoded
        row = self._state.place(item, orientation, ems_index)
        self._cache_masks()
        terminated = self._done()
        if self.reward_mode == "dense":
            reward = -(self._state.surface_area - before) / self._lb
        else:
            reward = -self._state.surface_area / self._lb if terminated else 0.0
        info = self._info(Placement(*row))
        info["invalid_action"] = False
        if self.render_mode == "human":
            self.render()
        return self._obs(), float(reward), terminated, False, info

    def _done(self) -> bool:
        return bool(self._state.placed.all())

    def _why_invalid(self, a: int) -> str:
        if not 0 <= a < self.action_space.n:
            return f"action {a} is outside 0..{self.action_space.n - 1}"
        return f"action {a} is masked out ({self._describe(a)})"

    def _describe(self, a: int) -> str:
        return f"item {a}"

    # -- observation -----------------------------------------------------------------------------
    def _items_obs(self) -> np.ndarray:
        return self.instance.dims / self._scale

    def _obs(self) -> dict[str, np.ndarray]:
        n, k = self.max_items, self.instance.n
        items = np.zeros((n, 3), np.float32)
        items[:k] = self._items_obs()
        present = np.zeros(n, np.int8)
        present[:k] = 1
        packed = np.zeros(n, np.int8)
        packed[:k] = self._state.placed
        b = np.minimum(self._state.bin / self._scale, float(n)).astype(np.float32)
        return {
            "boxes": items.reshape(-1),
            "present": present,
            "packed": packed,
            "bin": b,
            "action_mask": self._mask.astype(np.int8),
            **self._extra_obs(),
        }

    def _info(self, placement: Placement | None) -> dict[str, Any]:
        s = self._state.surface_area
        return {
            "surface_area": s,
            "bin": tuple(int(v) for v in self._state.bin),
            "lower_bound": self._lb,
            "ratio": s / self._lb,
            "placement": placement,
        }

    def action_masks(self) -> np.ndarray:
        """Boolean mask of valid actions (sb3-contrib's MaskablePPO calls this).

        Raises:
            ResetNeededError (Gymnasium's ResetNeeded): before the first ``reset()``.
        """
        if self._state is None:
            raise ResetNeededError("call reset() before action_masks(): there is no episode yet")
        return self._mask.copy()

    @property
    def packing(self) -> Packing:
        """The current (possibly partial) packing."""
        if self._state is None:
            raise ResetNeededError("call reset() first")
        return Packing(self.instance, tuple(Placement(*r) for r in self._state.placements))

    # -- rendering -------------------------------------------------------------------------------
    def render(self):
        """"ansi": the packing as text. "human": hand the current Packing to the ``renderer`` (reset()
        and step() already do, as Gymnasium's human mode wants) and return None; what the renderer
        returned (e.g. the HTML file's path) is kept as ``last_render``."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='ansi' or 'human'")
            return None
        if self._state is None:
            raise ResetNeededError("call reset() before render()")
        if self.render_mode == "ansi":
            return self._ansi()
        self.last_render = self.renderer(self.packing)
        return None

    def _ansi(self) -> str:
        st = self._state
        lines = [
            f"{type(self).__name__}: {int(st.placed.sum())}/{self.instance.n} items packed, "
            f"bin {tuple(int(v) for v in st.bin)}, surface {st.surface_area}, "
            f"ratio to lower bound {st.surface_area / self._lb:.4f}"
        ]
        for item, o, x, y, z in st.placements:
            dx, dy, dz = self.instance.oriented(item, o)
            lines.append(f"  item {item:3d} orient {o} at ({x}, {y}, {z}) size ({dx}, {dy}, {dz})")
        return "\n".join(lines) + "\n"


def _load_set(name: str) -> list[Instance]:
    return instance_set(name)


class BinPack3DEnv(_BinPackBase):
    """Pack items into one free-size bin with least surface; the agent chooses the item order.

    The paper's decision (Hu et al. 2017): each step the agent picks the next item and the
    least-surface-area rule (LSA over empty maximal spaces) places it.

    ## Action Space
    ``Discrete(max_items)``: the index of the next item. Packed items and padding are masked out
    (``action_masks()`` and ``obs["action_mask"]``).

    ## Observation Space
    A ``Dict``:
    - ``boxes`` ``Box(0, 1, (3 * max_items,))``: each item's dims sorted descending, divided by the
      instance's largest dim (orientation does not matter here: LSA chooses it), flattened item by
      item (SB3's MultiInputPolicy wants 1-D vectors; the key is not "items", which would
      shadow ``nn.ModuleDict.items`` in SB3's default extractor); 0 for padding.
    - ``present`` ``MultiBinary(max_items)``: 1 for real items, 0 for padding.
    - ``packed`` ``MultiBinary(max_items)``: 1 for packed items.
    - ``bin`` ``Box(0, max_items, (3,))``: the current bin (L, W, H) in the same scale.
    - ``action_mask`` ``MultiBinary(max_items)``.

    ## Rewards
    Dense (default): minus the growth of the bin's surface divided by the instance's lower bound,
    so an episode's return is minus the final ratio to the lower bound. Sparse: 0 until the last
    step, then minus that ratio. An invalid (masked) action changes nothing and gives
    ``-invalid_penalty`` (the default, ``invalid_action="penalize"``: Gymnasium's and SB3's
    checkers step unmasked random actions and pass), or raises :class:`InvalidActionError` with
    ``invalid_action="raise"`` (for debugging a policy, and what the solvers use: a policy cannot
    cheat the mask).

    ## Episode End
    Terminates when every item is packed. Truncates after ``max_invalid`` invalid actions (only
    possible with ``invalid_action="penalize"``).

    ## Arguments
    ``n_items`` (10; with ``instance_set``, the set's size, and a different explicit value is a
    ValueError), ``max_items`` (padding, default n_items), ``generator`` ("uniform",
    "orders", "cube" or a callable ``rng -> Instance``), ``instance_set`` (a named set to draw from
    instead), ``reward`` ("dense" or "sparse"), ``invalid_action`` ("penalize", default, or "raise"),
    ``invalid_penalty``, ``max_invalid``, ``render_mode`` ("ansi" or "human"), ``renderer`` (what
    "human" calls with the current Packing on every reset and step; ``gym.make`` passes
    :func:`packzoo.render_packing`, which writes ``packzoo-render.html`` in the working folder;
    pass ``renderer=packzoo.viz.HTMLRenderer("my.html")`` to choose the file).
    ``reset(options={"instance": inst})`` packs a given instance; other keys are a ValueError.
    A non-integer action (1.5) is an :class:`InvalidActionError`; numpy integers are fine.

    Example:
        >>> import gymnasium as gym, packzoo
        >>> env = gym.make("packzoo/BinPack3D-v0", n_items=5)
        >>> obs, info = env.reset(seed=0)
    """

    def _n_actions(self) -> int:
        return self.max_items

    def _cache_masks(self) -> None:
        m = np.zeros(self.max_items, dtype=bool)
        m[: self.instance.n] = ~self._state.placed
        self._mask = m

    def _decode(self, action: int) -> tuple[int, int, int]:
        _, e, o = self._state.lsa(action)
        return action, o, e

    def _items_obs(self) -> np.ndarray:
        return np.sort(self.instance.dims, axis=1)[:, ::-1] / self._scale

    def _describe(self, a: int) -> str:
        if a >= self.instance.n:
            return f"item {a} is padding: the instance has {self.instance.n} items"
        return f"item {a} is already packed"


class BinPack3DPlaceEnv(_BinPackBase):
    """Pack items into one free-size bin with least surface; the agent makes every decision.

    Each step the agent picks an item, one of its 6 orientations and an empty maximal space; the
    item goes to that space's corner nearest the origin.

    ## Action Space
    ``Discrete(max_items * 6 * max_ems)``: ``action = (item * 6 + orientation) * max_ems + ems``.
    The mask allows unpacked items, each distinct orientation once, and EMSs the oriented item
    fits. ``max_ems`` EMSs are visible, sorted by corner distance (x + y + z) from the origin; if
    more exist, the rest are hidden, but the free space beyond the bin (which takes any item) is
    always kept visible, so some action is always valid.

    ## Observation Space
    As :class:`BinPack3DEnv`, but ``boxes`` holds the dims as listed (orientations index into
    them), plus ``ems`` ``Box(0, max_items + 1, (6 * max_ems,))``: the visible EMSs (x1, y1, z1,
    x2, y2, z2) divided by the instance's largest dim, capped at max_items + 1 (the open space
    beyond the bin), flattened, with zero rows for padding.

    ## Rewards, Episode End
    As :class:`BinPack3DEnv`.

    ## Arguments
    As :class:`BinPack3DEnv`, plus ``max_ems`` (default ``8 * max_items``).
    """

    def __init__(self, *args: Any, max_ems: int | None = None, **kwargs: Any) -> None:
        if max_ems is not None:
            positive_int(max_ems, "max_ems")
        self._max_ems_arg = max_ems
        super().__init__(*args, **kwargs)

    def _configure(self) -> None:
        self.max_ems = int(self._max_ems_arg) if self._max_ems_arg is not None else 8 * self.max_items

    def _n_actions(self) -> int:
        return self.max_items * 6 * self.max_ems

    def _extra_spaces(self) -> dict[str, spaces.Space]:
        return {"ems": spaces.Box(0.0, float(self.max_items + 1), (6 * self.max_ems,), np.float32)}

    def _extra_obs(self) -> dict[str, np.ndarray]:
        out = np.zeros((self.max_ems, 6), np.float32)
        vis = self._state.spaces[self._visible]
        out[: len(vis)] = np.minimum(vis / self._scale, float(self.max_items + 1))
        return {"ems": out.reshape(-1)}

    def _cache_masks(self) -> None:
        st = self._state
        sp = st.spaces
        key = np.lexsort((sp[:, 0], sp[:, 1], sp[:, 2], sp[:, :3].sum(axis=1)))
        vis = key[: self.max_ems]
        if len(key) > self.max_ems:
            roomy = int(np.argmax((sp[:, 3:] - sp[:, :3]).min(axis=1)))
            if roomy not in vis:
                vis = np.concatenate([vis[:-1], [roomy]])
        self._visible = vis
        ext = sp[vis, 3:] - sp[vis, :3]  # (k, 3)
        n = self.instance.n
        od = self.instance.dims[:, ORIENTATIONS]  # (n, 6, 3)
        fits = (ext[None, None, :, :] >= od[:, :, None, :]).all(axis=3)  # (n, 6, k)
        first = np.ones((n, 6), dtype=bool)
        for o in range(1, 6):
            for p in range(o):
                first[:, o] &= ~(od[:, o] == od[:, p]).all(axis=1)
        fits &= first[:, :, None] & ~st.placed[:, None, None]
        m = np.zeros((self.max_items, 6, self.max_ems), dtype=bool)
        m[:n, :, : len(vis)] = fits
        self._mask = m.reshape(-1)

    def _decode(self, action: int) -> tuple[int, int, int]:
        item, rest = divmod(action, 6 * self.max_ems)
        orientation, slot = divmod(rest, self.max_ems)
        return item, orientation, int(self._visible[slot])

    def _describe(self, a: int) -> str:
        item, rest = divmod(a, 6 * self.max_ems)
        orientation, slot = divmod(rest, self.max_ems)
        return f"item {item}, orientation {orientation}, EMS slot {slot}: not a feasible placement"

    def decode_action(self, action: int) -> tuple[int, int, int]:
        """(item, orientation, ems_slot) of a flattened action."""
        item, rest = divmod(int(action), 6 * self.max_ems)
        orientation, slot = divmod(rest, self.max_ems)
        return item, orientation, slot

    def encode_action(self, item: int, orientation: int, slot: int) -> int:
        """The flattened action of (item, orientation, ems_slot)."""
        return (int(item) * 6 + int(orientation)) * self.max_ems + int(slot)
