"""The Gymnasium environments of 3D packing: Hu et al. 2017's free bin and the fixed-container modes.

Three decision granularities over one engine:

- ``packzoo/BinPack3D-v0``: the paper's decision. The agent picks the next item; the mode's
  placement rule (``placement=``; LSA for the free bin) places it.
- ``packzoo/BinPack3DPlace-v0``: every decision. The agent picks (item, orientation, EMS).
- ``packzoo/BinPack3DOnline-v0`` (:mod:`packzoo.envs.online`): items arrive one at a time; the
  agent picks only the placement of the arriving one.

## Modes (``Instance.mode``) and their rewards
Every env packs an instance of any mode. ``mode=`` (with ``container=`` and the constraint
arguments) chooses what the generator draws; ``reset(options={"instance": inst})`` packs any
instance. Dense rewards add up to the episode's return; ``reward="sparse"`` gives the same total
at the last step.

- ``free`` (Hu et al. 2017): minus the growth of the bin's surface over the instance's lower
  bound; return = minus the final ratio of the surface to the lower bound.
- ``base`` (fixed L x W, free height): minus the growth of the height over the height bound;
  return = minus the final ratio of the height to its bound.
- ``bins`` (identical L x W x H bins, pack all): minus 1 over the bins bound for every bin
  opened; return = minus the final ratio of the bins used to their bound.
- ``container`` (one L x W x H container, items may stay out): plus the item's volume over the
  container's; return = plus the final utilisation (packed volume / L W H).

A dead end (items left that no feasible action can place; possible in ``base`` mode with support
or orientation limits, never in ``free`` or ``bins``) ends the episode with ``info["stuck"]``
True and an extra reward of minus 1 per item left. In ``container`` mode the episode ends when
no item left fits anywhere: that is its normal end.

## Engine
A free-mode instance without constraints runs on the numba EMS engine and LSA
(:mod:`packzoo.envs.ems`) exactly as before the modes existed: same observations, packings and
rewards, and the same speed. Every other instance (another mode, or any constraint: orientation
limits, support, weights) runs on :class:`packzoo.envs.fixed.PackState`, whose masks respect every
constraint; the independent :func:`packzoo.envs.validate` accepts every packing the envs make.

## Observation of the mode
An env made for the free bin without constraints (the default) keeps today's observation keys.
With ``mode=`` another mode, a constraint argument, or ``observe_mode=True``, the observation
also holds ``mode`` (one-hot over :data:`packzoo.envs.instance.MODES`), ``container`` (the
container's dims over the observation's scale; height 0 in base mode, zeros in free mode),
``constraints`` (share of items with limited orientations, the support fraction, 1 if a weight
limit holds), ``status`` (packed share of the total volume, bins used over ``max_items``, the
heaviest open bin's load over the weight limit) and ``item_weights`` (each item's weight over the
limit; 0 without weights). Such an env packs instances of every mode; an env that does not
observe the mode refuses (ValueError) an instance with another mode or constraints, which it
could not tell from a free one.

Human rendering calls the ``renderer`` the env is given (as Jumanji's envs take a ``viewer``),
on every ``reset()`` and ``step()`` as Gymnasium's human mode does; ``import packzoo`` registers
the ids with the HTML renderer of :mod:`packzoo.viz` as the default, so this module holds no
plotting code and imports nothing of packzoo outside ``envs``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from packzoo._checks import positive_int
from packzoo.envs.ems import EMSState
from packzoo.envs.generators import SeedLike, Stream, draw, instance_set
from packzoo.envs.instance import MODES, ORIENTATIONS, Instance
from packzoo.envs.packing import Packing, Placement, bound, lower_bound, surface_area

GeneratorLike = str | Callable[[np.random.Generator], Instance]


class InvalidActionError(ValueError):
    """An action the env cannot take: not an integer, out of range, or masked out (a packed item,
    padding, or a placement that does not fit or breaks a constraint)."""


class ResetNeededError(gym.error.ResetNeeded, RuntimeError):
    """The env was used before ``reset()``: Gymnasium's ResetNeeded (what its users catch), and a
    RuntimeError as packzoo raised before."""


# The keys reset(options=...) understands.
RESET_OPTIONS = ("instance",)

ENV_IDS = ("packzoo/BinPack3D-v0", "packzoo/BinPack3DPlace-v0", "packzoo/BinPack3DOnline-v0")

#: Instance families the envs draw from: the free-bin items of :mod:`packzoo.envs.generators`
#: ("uniform", "orders", "cube"), the known-optimum cuts ("container_cut": a container cut into
#: boxes; "bins_cut": items cut from ``bins`` bins) and "types" (each edge uniform in
#: side // 5 .. side // 2 of the container's side on its axis: the 64 types {2..5}^3 in a 10^3
#: container, Zhao et al. 2021's setting).
FAMILIES = ("uniform", "orders", "cube", "container_cut", "bins_cut", "types")
#: mode -> (default family, default container) of the envs' generator.
MODE_DEFAULTS: dict[str, tuple[str, tuple[int, int, int] | None]] = {
    "free": ("uniform", None),
    "base": ("container_cut", (10, 10, 10)),
    "container": ("container_cut", (10, 10, 10)),
    "bins": ("bins_cut", (10, 10, 10)),
}
ORIENTATION_WORDS = ("all", "upright", "fixed")


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


def _seed_list(seed: SeedLike) -> list[int] | None:
    if seed is None:
        return None
    return [int(seed)] if isinstance(seed, (int, np.integer)) else [int(s) for s in seed]


@dataclass(frozen=True)
class InstanceGenerator:
    """Seeded instances of one family, mode and constraint set: the envs' ``generator``.

    A picklable callable ``rng -> Instance`` (the seed comes from the env's ``np_random``), and
    :meth:`draw` for a given seed.

    Attributes:
        family: one of :data:`FAMILIES`.
        n_items: items per instance.
        mode: one of ``MODES``.
        container: ``(L, W, H)`` for the fixed modes (default :data:`MODE_DEFAULTS`'s); base mode
            uses ``(L, W)`` as the footprint and H only to cut ("container_cut") or to size the
            "types"; ``(L, W)`` is accepted there and H = L. None in free mode.
        orientations: None (all 6) or "all", "upright", "fixed" for every item.
        support: None or the support fraction in (0, 1].
        max_weight: None, or the weight limit per container/bin (container and bins modes only);
            every item then gets a weight of its volume times U[0.5, 1.5) (capped at the limit
            in bins mode, where every item must fit a bin).
        bins: the number of bins "bins_cut" cuts the items from (its known optimum).
    """

    family: str = "uniform"
    n_items: int = 10
    mode: str = "free"
    container: tuple[int, ...] | None = None
    orientations: str | None = None
    support: float | None = None
    max_weight: float | None = None
    bins: int = 3

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"generator must be one of {FAMILIES} or a callable, got {self.family!r}")
        positive_int(self.n_items, "n_items")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        box = self.container
        if self.mode == "free":
            if box is not None:
                raise ValueError(f"mode 'free' has no container, got container={box!r}")
        else:
            if box is None:
                box = MODE_DEFAULTS[self.mode][1]
            try:
                box = tuple(int(positive_int(v, "container side")) for v in box)
            except TypeError:
                raise ValueError(f"container must be a tuple of positive integers, got {box!r}") from None
            if len(box) == 2 and self.mode == "base":
                box = (box[0], box[1], box[0])
            if len(box) != 3:
                raise ValueError(f"container of mode {self.mode!r} must be (L, W, H), got {self.container!r}")
        object.__setattr__(self, "container", box)
        if self.family == "container_cut" and self.mode not in ("container", "base"):
            raise ValueError(f"generator 'container_cut' makes container or base instances, not {self.mode!r}")
        if self.family == "bins_cut" and self.mode != "bins":
            raise ValueError(f"generator 'bins_cut' makes bins instances, not {self.mode!r}")
        if self.family == "types" and self.mode == "free":
            raise ValueError("generator 'types' sizes items from a container: use a fixed mode")
        if self.orientations is not None and self.orientations not in ORIENTATION_WORDS:
            raise ValueError(f"orientations must be None or one of {ORIENTATION_WORDS}, got {self.orientations!r}")
        if self.support is not None and (isinstance(self.support, bool) or not 0 < float(self.support) <= 1):
            raise ValueError(f"support must be None or a fraction in (0, 1], got {self.support!r}")
        if self.max_weight is not None:
            if self.mode not in ("container", "bins"):
                raise ValueError(f"max_weight applies to the container and bins modes, not {self.mode!r}")
            if isinstance(self.max_weight, bool) or not float(self.max_weight) > 0:
                raise ValueError(f"max_weight must be a positive number, got {self.max_weight!r}")
        positive_int(self.bins, "bins")

    @property
    def constrained(self) -> bool:
        """Whether the instances carry a constraint (orientation limits, support or weights)."""
        return self.orientations not in (None, "all") or self.support is not None or self.max_weight is not None

    def draw(self, seed: SeedLike) -> Instance:
        """The instance of ``seed`` (an int or a tuple of ints)."""
        from packzoo.envs.generators import bins_cut, container_cut

        n, fam, box = self.n_items, self.family, self.container
        if fam in ("uniform", "orders", "cube"):
            inst = draw(fam, n, seed)
        elif fam in ("container_cut", "bins_cut"):
            # The cuts list each item in an allowed orientation and keep the support rule, so
            # their known optimum stays feasible under the constraints.
            cut = {"orientations": None if self.orientations in (None, "all") else self.orientations,
                   "support": None if self.support is None else float(self.support), "seed": seed}
            if fam == "container_cut":
                inst = container_cut(n, container=box, mode=self.mode, **cut)[0]
            else:
                inst = bins_cut(n, bin=box, k=self.bins, **cut)[0]
        else:
            s = Stream(seed)
            lo = [max(1, side // 5) for side in box]
            hi = [max(1, side // 2) for side in box]
            dims = np.stack([s.integers(lo[j], hi[j], n) for j in range(3)], axis=1)
            inst = Instance(dims)
        kw: dict[str, Any] = {}
        if self.mode != inst.mode:
            kw["mode"] = self.mode
        want = None if self.mode == "free" else (box[:2] if self.mode == "base" else box)
        if inst.container != want:
            kw["container"] = want
        if self.orientations not in (None, "all"):
            kw["orientations"] = self.orientations
        if self.support is not None:
            kw["support"] = float(self.support)
        if self.max_weight is not None:
            sl = _seed_list(seed)
            w = inst.item_volumes * (0.5 + Stream(None if sl is None else [*sl, 7]).uniform(n))
            if self.mode == "bins":
                w = np.minimum(w, float(self.max_weight))
            kw["weights"] = tuple(round(float(v), 3) or 0.001 for v in w)
            kw["max_weight"] = float(self.max_weight)
        return replace(inst, **kw) if kw else inst

    def __call__(self, rng: np.random.Generator) -> Instance:
        return self.draw(int(rng.integers(0, 2**62)))


def observes_mode(mode: str, generator: Any, **constraints: Any) -> bool:
    """The default of ``observe_mode``: True unless the env is for the unconstrained free bin."""
    if mode != "free" or any(v not in (None, "all") for v in constraints.values()):
        return True
    return isinstance(generator, InstanceGenerator) and generator.constrained


def needs_state(instance: Instance, rule: str = "lsa") -> bool:
    """Whether ``instance`` runs on PackState (any mode or constraint, or a rule other than LSA)
    rather than the numba LSA engine of the unconstrained free bin."""
    return instance.mode != "free" or instance.is_constrained or rule != "lsa"


class _Progress:
    """What the rewards and the observation need, updated one placement at a time (any mode)."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.extent = np.zeros(3, dtype=np.int64)
        self.bins: set[int] = set()
        self.volume = 0
        self.loads: dict[int, float] = {}

    def add(self, p: Placement) -> None:
        d = self.inst.oriented(p.item, p.orientation)
        self.extent = np.maximum(self.extent, (p.x + d[0], p.y + d[1], p.z + d[2]))
        b = getattr(p, "bin", 0)
        self.bins.add(b)
        self.volume += d[0] * d[1] * d[2]
        if self.inst.weights is not None:
            self.loads[b] = self.loads.get(b, 0.0) + float(self.inst.weights[p.item])

    def objective(self) -> float:
        mode = self.inst.mode
        if mode == "free":
            return float(surface_area(self.extent))
        if mode == "base":
            return float(self.extent[2])
        if mode == "container":
            return float(self.volume)
        return float(len(self.bins))


class _ModeInfo:
    """The per-instance constants of the rewards and the mode's observation entries."""

    def __init__(self, inst: Instance) -> None:
        self.mode = inst.mode
        box = inst.container
        self.capacity = float(np.prod(box)) if inst.mode == "container" else None
        # min modes: the return is minus objective / bound; container: plus volume / capacity.
        self.norm = self.capacity if inst.mode == "container" else float(bound(inst))
        self.sign = 1.0 if inst.mode == "container" else -1.0
        big = int(inst.dims.max())
        self.scale = float(big if box is None else max(big, max(box)))
        c = np.zeros(3, np.float32)
        if box is not None:
            c[: len(box)] = np.asarray(box, np.float32) / self.scale
        self.container = c
        limited = 0.0 if inst.allowed is None else float((np.asarray(inst.allowed).sum(axis=1) < 6).mean())
        self.constraints = np.array([limited, inst.support or 0.0, 1.0 if inst.max_weight else 0.0], np.float32)
        self.mode_onehot = np.array([m == inst.mode for m in MODES], np.int8)
        self.total_volume = float(inst.item_volumes.sum())
        self.weights = None
        if inst.weights is not None and inst.max_weight:
            self.weights = np.minimum(np.asarray(inst.weights, np.float64) / inst.max_weight, 1.0).astype(np.float32)


def mode_spaces(max_items: int, n_weights: int) -> dict[str, spaces.Space]:
    """The observation entries that say which mode and constraints hold (see the module doc)."""
    return {
        "mode": spaces.MultiBinary(len(MODES)),
        "container": spaces.Box(0.0, 1.0, (3,), np.float32),
        "constraints": spaces.Box(0.0, 1.0, (3,), np.float32),
        "status": spaces.Box(0.0, 1.0, (3,), np.float32),
        "item_weights": spaces.Box(0.0, 1.0, (n_weights,), np.float32),
    }


def mode_obs(info: _ModeInfo, progress: _Progress, max_items: int, weight_rows: np.ndarray | None) -> dict[str, np.ndarray]:
    """The values of :func:`mode_spaces` (``weight_rows``: the items whose weights are shown)."""
    n_w = max_items if weight_rows is None else len(weight_rows)
    w = np.zeros(n_w, np.float32)
    if info.weights is not None:
        if weight_rows is None:
            w[: len(info.weights)] = info.weights
        else:
            ok = weight_rows >= 0
            w[ok] = info.weights[weight_rows[ok]]
    load = 0.0
    if progress.loads and progress.inst.max_weight:
        load = min(max(progress.loads.values()) / progress.inst.max_weight, 1.0)
    status = np.array([min(progress.volume / info.total_volume, 1.0), min(len(progress.bins) / max_items, 1.0), load],
                      np.float32)
    return {"mode": info.mode_onehot.copy(), "container": info.container.copy(), "constraints": info.constraints.copy(),
            "status": status, "item_weights": w}


def visible_spaces(sp: np.ndarray, useful: np.ndarray, max_ems: int, fresh: int | None) -> np.ndarray:
    """Indices of the spaces shown in the observation, at most ``max_ems``: those where some action
    is feasible (``useful``), by bin then corner distance from the origin (x + y + z, then z, y, x);
    the fresh bin's space (``fresh``, bins mode) is always kept, so opening a bin stays possible."""
    idx = np.flatnonzero(useful)
    s = sp[idx]
    key = idx[np.lexsort((s[:, 0], s[:, 1], s[:, 2], s[:, :3].sum(axis=1), s[:, 6]))]
    vis = key[:max_ems]
    if fresh is not None and len(key) > max_ems and useful[fresh] and fresh not in vis:
        vis = np.concatenate([vis[:-1], [fresh]])
    return vis


def fresh_space(state: Any) -> int | None:
    """The row of ``state.spaces`` that is an unopened bin (bins mode), else None."""
    if state.instance.mode != "bins":
        return None
    sp = state.spaces
    rows = np.flatnonzero(sp[:, 6] == state.n_bins)
    return int(rows[0]) if len(rows) else None


def resolve_instance_set(instance_set: str | None, n_items: int | None, default_n: int,
                         hint: str = "") -> tuple[list[Instance] | None, int]:
    """(the named set's instances or None, the env's n_items): the set's size with ``instance_set``,
    else ``n_items`` or ``default_n``. An explicit ``n_items`` that disagrees with the set is a
    ValueError (``hint`` ends its message): silently taking the set's size would hide a mistake."""
    if instance_set is None:
        return None, default_n if n_items is None else n_items
    insts = _load_set(instance_set)
    set_n = max(i.n for i in insts)
    if n_items is not None and n_items != set_n:
        raise ValueError(
            f"n_items={n_items} conflicts with instance_set={instance_set!r}, whose instances have "
            f"{set_n} items; leave n_items out{hint}"
        )
    return insts, set_n


def make_generator(generator: GeneratorLike | None, default_family: str, n_items: int, mode: str,
                   container: Sequence[int] | None, orientations: str | None, support: float | None,
                   max_weight: float | None, bins: int) -> Callable[[np.random.Generator], Instance]:
    """The env's ``rng -> Instance``: ``generator`` itself if callable, else the
    :class:`InstanceGenerator` of the named family (``default_family`` for None)."""
    if callable(generator):
        return generator
    family = default_family if generator is None else generator
    if not isinstance(family, str) or family not in FAMILIES:
        raise ValueError(f"generator must be one of {FAMILIES} or a callable, got {generator!r}")
    return InstanceGenerator(family, int(n_items), mode, None if container is None else tuple(container),
                             orientations, support, max_weight, bins)


class _PackEnv(gym.Env):
    """What every packzoo env shares: argument checks, drawing an instance, the step protocol
    (dead start, invalid actions, rewards on PackState), masks and rendering.

    A subclass sets ``_state``, ``_mask``, ``_minfo``, ``_progress``, ``_invalid`` and ``_ended``
    in ``reset()`` and defines ``_done``, ``_items_left``, ``_decode``, ``_apply``, ``_describe``,
    ``_obs``, ``_info``, ``_ansi`` and ``packing``.
    """

    metadata = {"render_modes": ["human", "ansi"], "render_fps": 2}

    def _take_args(self, reward: str, invalid_action: str, invalid_penalty: float, render_mode: str | None,
                   renderer: Callable[[Packing], Any] | None) -> None:
        """Check and keep the reward, invalid-action and rendering arguments."""
        if reward not in ("dense", "sparse"):
            raise ValueError(f"reward must be 'dense' or 'sparse', got {reward!r}")
        if invalid_action not in ("raise", "penalize"):
            raise ValueError(f"invalid_action must be 'raise' or 'penalize', got {invalid_action!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        if renderer is not None and not callable(renderer):
            raise ValueError(f"renderer must be a callable packing -> anything, got {renderer!r}")
        if render_mode == "human" and renderer is None:
            raise ValueError("render_mode='human' needs a renderer= (gym.make gives packzoo.viz's by default)")
        self.reward_mode = reward
        self.invalid_action = invalid_action
        self.invalid_penalty = float(invalid_penalty)
        self.render_mode = render_mode
        self.renderer = renderer

    # -- episode ---------------------------------------------------------------------------------
    def _draw_instance(self) -> Instance:
        if self._set_instances is not None:
            return self._set_instances[int(self.np_random.integers(len(self._set_instances)))]
        inst = self._generator(self.np_random)
        if not isinstance(inst, Instance):
            raise ValueError(f"the generator returned {type(inst).__name__}, not an Instance")
        return inst

    def _begin(self, seed: int | None, options: dict[str, Any] | None) -> Instance:
        """Seed the env and return the episode's instance: ``options["instance"]`` or a drawn one."""
        super().reset(seed=seed)
        if options is not None and not isinstance(options, dict):
            raise ValueError(f"options must be a dict or None, got {type(options).__name__}")
        unknown = sorted(set(options or {}) - set(RESET_OPTIONS), key=str)
        if unknown:
            raise ValueError(f"unknown reset option(s) {unknown}; the known keys are {list(RESET_OPTIONS)}")
        inst = (options or {}).get("instance")
        if inst is None:
            return self._draw_instance()
        return inst if isinstance(inst, Instance) else Instance(inst)

    def _started(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """End ``reset()`` once the episode's state is set: clear the counters, compute the masks,
        render; reset()'s (obs, info)."""
        self._invalid = 0
        self._ended = False
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
            if self._ended:
                raise ResetNeededError("the episode has ended; call reset()")
            # No feasible action from the start (e.g. a container no item fits): any action ends it.
            self._ended = True
            info = self._info(None)
            info["invalid_action"] = False
            return self._obs(), self._stuck_penalty(), True, False, info
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
        placement, reward, terminated = self._apply(decoded)
        self._ended = terminated
        info = self._info(placement)
        info["invalid_action"] = False
        if self.render_mode == "human":
            self.render()
        return self._obs(), float(reward), terminated, False, info

    def _place_on_state(self, item: int, orientation: int, space: int) -> tuple[Placement, float, bool]:
        """Place on the PackState, refresh the masks; (placement, the mode's reward, terminated)."""
        before = self._progress.objective()
        placement = self._state.place(item, orientation, space)
        self._progress.add(placement)
        self._cache_masks()
        terminated = self._done()
        m = self._minfo
        if self.reward_mode == "dense":
            reward = m.sign * (self._progress.objective() - before) / m.norm
        else:
            reward = m.sign * self._progress.objective() / m.norm if terminated else 0.0
        if terminated:
            reward += self._stuck_penalty()
        return placement, reward, terminated

    def _stuck_penalty(self) -> float:
        """Minus 1 per item left at a dead end (0 in container mode, where items may stay out)."""
        return 0.0 if self.instance.mode == "container" else -float(self._items_left())

    def _why_invalid(self, a: int) -> str:
        if not 0 <= a < self.action_space.n:
            return f"action {a} is outside 0..{self.action_space.n - 1}"
        return f"action {a} is masked out ({self._describe(a)})"

    def action_masks(self) -> np.ndarray:
        """Boolean mask of valid actions (sb3-contrib's MaskablePPO calls this).

        Raises:
            ResetNeededError (Gymnasium's ResetNeeded): before the first ``reset()``.
        """
        if self._state is None:
            raise ResetNeededError("call reset() before action_masks(): there is no episode yet")
        return self._mask.copy()

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


class _BinPackBase(_PackEnv):
    def __init__(
        self,
        n_items: int | None = None,
        max_items: int | None = None,
        generator: GeneratorLike | None = None,
        instance_set: str | None = None,
        reward: str = "dense",
        invalid_action: str = "penalize",
        invalid_penalty: float = 0.1,
        max_invalid: int | None = None,
        render_mode: str | None = None,
        renderer: Callable[[Packing], Any] | None = None,
        *,
        mode: str = "free",
        container: Sequence[int] | None = None,
        orientations: str | None = None,
        support: float | None = None,
        max_weight: float | None = None,
        bins: int = 3,
        observe_mode: bool | None = None,
    ) -> None:
        if n_items is not None:
            positive_int(n_items, "n_items")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        # padding is max_items' job, not n_items'
        self._set_instances, n_items = resolve_instance_set(instance_set, n_items, 10,
                                                            f" (or pad with max_items={n_items})")
        max_items = int(n_items) if max_items is None else max_items
        if isinstance(max_items, bool) or not isinstance(max_items, (int, np.integer)) or max_items < n_items:
            raise ValueError(f"max_items must be an integer >= n_items={n_items}, got {max_items!r}")
        self._generator = make_generator(generator, MODE_DEFAULTS[mode][0], n_items, mode, container, orientations,
                                         support, max_weight, bins)
        self._take_args(reward, invalid_action, invalid_penalty, render_mode, renderer)
        self.n_items = int(n_items)
        self.max_items = int(max_items)
        self.generator = generator
        self.instance_set = instance_set
        self.mode = mode
        # With penalties an agent could repeat a bad action forever: cut the episode off.
        self.max_invalid = 10 * self.max_items if max_invalid is None else int(max_invalid)
        if observe_mode is None:
            observe_mode = observes_mode(mode, self._generator, orientations=orientations, support=support,
                                         max_weight=max_weight)
            if self._set_instances is not None:
                observe_mode = observe_mode or any(needs_state(i) for i in self._set_instances)
        self.observe_mode = bool(observe_mode)
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
                **(mode_spaces(n, n) if self.observe_mode else {}),
            }
        )
        self.instance: Instance | None = None
        self._state: Any = None

    # -- subclass hooks (each env also defines _n_actions, _cache_masks and _decode) -------------
    def _configure(self) -> None:
        """Set subclass sizes that depend on max_items, before the spaces are built."""

    def _extra_spaces(self) -> dict[str, spaces.Space]:
        return {}

    def _extra_obs(self) -> dict[str, np.ndarray]:
        return {}

    def _rule(self) -> str:
        """The placement rule of the item env ("lsa" keeps the free bin on the numba engine)."""
        return "lsa"

    # -- episode ---------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start an episode: a drawn instance, or ``options={"instance": inst}`` (an Instance of any
        mode, or its dims). An unknown option key is a ValueError listing the known ones."""
        inst = self._begin(seed, options)
        if inst.n > self.max_items:
            raise ValueError(f"the instance has {inst.n} items, more than max_items={self.max_items}")
        if not self.observe_mode and needs_state(inst):
            raise ValueError(
                f"this env observes unconstrained free-bin instances only, and the instance is of mode "
                f"{inst.mode!r}{' with constraints' if inst.is_constrained else ''}: make the env with "
                "mode=... or observe_mode=True"
            )
        self.instance = inst
        self._fast = not needs_state(inst, self._rule())
        self._minfo = _ModeInfo(inst)
        self._progress = _Progress(inst)
        if self._fast:
            self._state = EMSState(inst.dims)
            self._lb = lower_bound(inst)
            self._scale = float(inst.dims.max())
        else:
            from packzoo.envs.fixed import PackState

            self._state = PackState(inst)
            self._scale = self._minfo.scale
        return self._started()

    def _apply(self, decoded: tuple[int, int, int]) -> tuple[Placement, float, bool]:
        item, orientation, space = decoded
        if not self._fast:
            return self._place_on_state(item, orientation, space)
        before = self._state.surface_area
        placement = Placement(*self._state.place(item, orientation, space))
        self._progress.add(placement)
        self._cache_masks()
        terminated = self._done()
        if self.reward_mode == "dense":
            reward = -(self._state.surface_area - before) / self._lb
        else:
            reward = -self._state.surface_area / self._lb if terminated else 0.0
        return placement, reward, terminated

    def _items_left(self) -> int:
        return int((~self._state.placed).sum())

    def _done(self) -> bool:
        return bool(self._state.placed.all()) or not self._mask.any()

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
        extent = self._state.bin if self._fast else self._progress.extent
        b = np.minimum(extent / self._scale, float(n)).astype(np.float32)
        obs = {
            "boxes": items.reshape(-1),
            "present": present,
            "packed": packed,
            "bin": b,
            "action_mask": self._mask.astype(np.int8),
            **self._extra_obs(),
        }
        if self.observe_mode:
            obs.update(mode_obs(self._minfo, self._progress, n, None))
        return obs

    def _info(self, placement: Placement | None) -> dict[str, Any]:
        if self._fast:
            s = self._state.surface_area
            return {
                "surface_area": s,
                "bin": tuple(int(v) for v in self._state.bin),
                "lower_bound": self._lb,
                "ratio": s / self._lb,
                "placement": placement,
            }
        return progress_info(self._minfo, self._progress, placement, self._items_left(), self._done())

    @property
    def packing(self) -> Packing:
        """The current (possibly partial) packing."""
        if self._state is None:
            raise ResetNeededError("call reset() first")
        if not self._fast:
            return self._state.packing()
        return Packing(self.instance, tuple(Placement(*r) for r in self._state.placements))

    # -- rendering -------------------------------------------------------------------------------
    def _ansi(self) -> str:
        if self._fast:
            st = self._state
            lines = [
                f"{type(self).__name__}: {int(st.placed.sum())}/{self.instance.n} items packed, "
                f"bin {tuple(int(v) for v in st.bin)}, surface {st.surface_area}, "
                f"ratio to lower bound {st.surface_area / self._lb:.4f}"
            ]
        else:
            lines = [ansi_header(type(self).__name__, self._progress, self.instance, int(self._state.placed.sum()))]
        lines += ansi_rows(self.packing)
        return "\n".join(lines) + "\n"


def progress_info(m: _ModeInfo, p: _Progress, placement: Placement | None, left: int, done: bool) -> dict[str, Any]:
    """The step info of an instance on PackState: the mode's objective, bound, ratio, utilisation."""
    inst = p.inst
    obj = p.objective()
    bnd = float(bound(inst))
    if inst.mode == "container":
        ratio = bnd / p.volume if p.volume else float("inf")
        space = m.capacity
    else:
        ratio = obj / bnd
        box = inst.container
        if inst.mode == "free":
            space = float(np.prod(p.extent))
        elif inst.mode == "base":
            space = float(box[0] * box[1] * p.extent[2])
        else:
            space = float(np.prod(box)) * len(p.bins)
    return {
        "mode": inst.mode,
        "objective": obj,
        "bound": bnd,
        "ratio": ratio,
        "utilisation": p.volume / space if space else 0.0,
        "surface_area": int(surface_area(p.extent)),
        "bin": tuple(int(v) for v in p.extent),
        "bins_used": len(p.bins),
        "packed_volume": int(p.volume),
        "items_left": left,
        "stuck": bool(done and left > 0 and inst.mode != "container"),
        "placement": placement,
    }


def ansi_header(name: str, p: _Progress, inst: Instance, packed: int) -> str:
    """The first line of the "ansi" rendering of a PackState episode."""
    box = "" if inst.container is None else f" container {tuple(inst.container)}"
    return (f"{name}: {packed}/{inst.n} items packed, mode {inst.mode}{box}, packed volume {p.volume}, "
            f"extent {tuple(int(v) for v in p.extent)}, bins used {len(p.bins)}, objective {p.objective():g}")


def ansi_rows(packing: Packing) -> list[str]:
    """One line per placement of the "ansi" rendering."""
    lines = []
    for q in packing.placements:
        dx, dy, dz = packing.instance.oriented(q.item, q.orientation)
        where = f" bin {q.bin}" if getattr(q, "bin", 0) else ""
        lines.append(f"  item {q.item:3d} orient {q.orientation} at ({q.x}, {q.y}, {q.z}){where} size ({dx}, {dy}, {dz})")
    return lines


def _load_set(name: str) -> list[Instance]:
    return instance_set(name)


class BinPack3DEnv(_BinPackBase):
    """Pack items of any mode; the agent chooses the item order, a placement rule places each item.

    The paper's decision (Hu et al. 2017): each step the agent picks the next item and the
    placement rule puts it: least surface area over empty maximal spaces (LSA) for the free bin,
    the mode's default rule of :class:`packzoo.envs.fixed.PackState` otherwise, or the rule named
    by ``placement=``.

    ## Action Space
    ``Discrete(max_items)``: the index of the next item. Packed items, padding and items the rule
    cannot place (container mode: no room left for them) are masked out (``action_masks()`` and
    ``obs["action_mask"]``).

    ## Observation Space
    A ``Dict``:
    - ``boxes`` ``Box(0, 1, (3 * max_items,))``: each item's dims sorted descending, divided by the
      instance's largest dim (the largest of the items' and the container's dims in the fixed
      modes; orientation does not matter here: the rule chooses it), flattened item by item
      (SB3's MultiInputPolicy wants 1-D vectors; the key is not "items", which would shadow
      ``nn.ModuleDict.items`` in SB3's default extractor); 0 for padding.
    - ``present`` ``MultiBinary(max_items)``: 1 for real items, 0 for padding.
    - ``packed`` ``MultiBinary(max_items)``: 1 for packed items.
    - ``bin`` ``Box(0, max_items, (3,))``: the extent of the packing (L, W, H) in the same scale.
    - ``action_mask`` ``MultiBinary(max_items)``.
    - with the mode observed (see the module doc): ``mode``, ``container``, ``constraints``,
      ``status``, ``item_weights``.

    ## Rewards
    Free bin, dense (default): minus the growth of the bin's surface divided by the instance's
    lower bound, so an episode's return is minus the final ratio to the lower bound. Sparse: 0
    until the last step, then minus that ratio. The other modes: see the module doc (minus the
    ratio of height or bins to their bound; plus the utilisation in container mode). An invalid
    (masked) action changes nothing and gives ``-invalid_penalty`` (the default,
    ``invalid_action="penalize"``: Gymnasium's and SB3's checkers step unmasked random actions and
    pass), or raises :class:`InvalidActionError` with ``invalid_action="raise"`` (for debugging a
    policy, and what the solvers use: a policy cannot cheat the mask).

    ## Episode End
    Terminates when every item is packed, or when no item left can be placed (the normal end in
    container mode; a dead end, ``info["stuck"]``, in the others). Truncates after
    ``max_invalid`` invalid actions (only possible with ``invalid_action="penalize"``).

    ## Arguments
    ``n_items`` (10; with ``instance_set``, the set's size, and a different explicit value is a
    ValueError), ``max_items`` (padding, default n_items), ``generator`` (one of :data:`FAMILIES`,
    default the mode's (:data:`MODE_DEFAULTS`: "uniform" for the free bin, "container_cut" for
    base and container, "bins_cut" for bins), or a callable ``rng -> Instance``),
    ``instance_set`` (a named set to draw from instead), ``reward`` ("dense" or "sparse"),
    ``invalid_action`` ("penalize", default, or "raise"), ``invalid_penalty``, ``max_invalid``,
    ``render_mode`` ("ansi" or "human"), ``renderer`` (what "human" calls with the current
    Packing on every reset and step; ``gym.make`` passes :func:`packzoo.render_packing`, which
    writes ``packzoo-render.html`` in the working folder; pass
    ``renderer=packzoo.viz.HTMLRenderer("my.html")`` to choose the file); keyword-only: ``mode``
    ("free", "base", "container", "bins"), ``container`` ((L, W, H); default (10, 10, 10) in the
    fixed modes), ``orientations`` (None, "all", "upright", "fixed"), ``support`` (a fraction in
    (0, 1]), ``max_weight`` (weights are drawn as the items' volume times U[0.5, 1.5)),
    ``bins`` (the bins "bins_cut" cuts from, 3), ``observe_mode`` (see the module doc), and
    ``placement`` ("auto": LSA for the free bin, the mode's default rule otherwise; or a name of
    :data:`packzoo.envs.fixed.PLACEMENT_RULES`).
    ``reset(options={"instance": inst})`` packs a given instance; other keys are a ValueError.
    A non-integer action (1.5) is an :class:`InvalidActionError`; numpy integers are fine.

    Example:
        >>> import gymnasium as gym, packzoo
        >>> env = gym.make("packzoo/BinPack3D-v0", n_items=5)
        >>> obs, info = env.reset(seed=0)
        >>> env = gym.make("packzoo/BinPack3D-v0", n_items=8, mode="bins", placement="first-fit")
    """

    def __init__(self, *args: Any, placement: str = "auto", **kwargs: Any) -> None:
        if placement not in ("auto", "lsa"):
            from packzoo.envs.fixed import PLACEMENT_RULES

            if not isinstance(placement, str) or placement.partition(":")[0] not in PLACEMENT_RULES:
                raise ValueError(f"placement must be 'auto' or one of {sorted(PLACEMENT_RULES)}, got {placement!r}")
        self.placement = placement
        super().__init__(*args, **kwargs)

    def _rule(self) -> str:
        return "lsa" if self.placement == "auto" else self.placement

    def _n_actions(self) -> int:
        return self.max_items

    def _cache_masks(self) -> None:
        m = np.zeros(self.max_items, dtype=bool)
        if self._fast:
            m[: self.instance.n] = ~self._state.placed
        else:
            rule = self.placement  # "auto": the mode's default rule (fixed.DEFAULT_RULES)
            self._choices: dict[int, tuple[int, int]] = {}
            for i in np.flatnonzero(~self._state.placed):
                c = self._state.choose(int(i), rule)
                if c is not None:
                    self._choices[int(i)] = (int(c[0]), int(c[1]))
                    m[i] = True
        self._mask = m

    def _decode(self, action: int) -> tuple[int, int, int]:
        if not self._fast:
            return (action, *self._choices[action])
        _, e, o = self._state.lsa(action)
        return action, o, e

    def _items_obs(self) -> np.ndarray:
        return np.sort(self.instance.dims, axis=1)[:, ::-1] / self._scale

    def _describe(self, a: int) -> str:
        if a >= self.instance.n:
            return f"item {a} is padding: the instance has {self.instance.n} items"
        if self._state.placed[a]:
            return f"item {a} is already packed"
        return f"item {a} has no feasible placement left"


class BinPack3DPlaceEnv(_BinPackBase):
    """Pack items of any mode; the agent makes every decision.

    Each step the agent picks an item, one of its 6 orientations and an empty maximal space; the
    item goes to that space's corner nearest the origin (in that space's bin, in bins mode).

    ## Action Space
    ``Discrete(max_items * 6 * max_ems)``: ``action = (item * 6 + orientation) * max_ems + ems``.
    The mask allows unpacked items, each distinct allowed orientation once, and EMSs where the
    oriented item fits and breaks no constraint (support, weight limit). For the unconstrained
    free bin, ``max_ems`` EMSs are visible, sorted by corner distance (x + y + z) from the origin;
    if more exist, the rest are hidden, but the free space beyond the bin (which takes any item)
    is always kept visible, so some action is always valid. For every other instance the visible
    EMSs are those where some action is feasible, by bin and then corner distance, and the fresh
    bin of bins mode is always kept visible.

    ## Observation Space
    As :class:`BinPack3DEnv`, but ``boxes`` holds the dims as listed (orientations index into
    them), plus ``ems`` ``Box(0, max_items + 1, (6 * max_ems,))``: the visible EMSs (x1, y1, z1,
    x2, y2, z2) divided by the observation's scale, capped at max_items + 1 (the open space
    beyond the bin), flattened, with zero rows for padding; with the mode observed, also
    ``ems_bin`` ``Box(0, 1, (max_ems,))``: each visible EMS's bin index over ``max_items``.

    ## Rewards, Episode End
    As :class:`BinPack3DEnv`.

    ## Arguments
    As :class:`BinPack3DEnv` (but no ``placement``), plus ``max_ems`` (default ``8 * max_items``).
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
        out: dict[str, spaces.Space] = {"ems": spaces.Box(0.0, float(self.max_items + 1), (6 * self.max_ems,), np.float32)}
        if self.observe_mode:
            out["ems_bin"] = spaces.Box(0.0, 1.0, (self.max_ems,), np.float32)
        return out

    def _extra_obs(self) -> dict[str, np.ndarray]:
        out = np.zeros((self.max_ems, 6), np.float32)
        vis = self._state.spaces[self._visible]
        out[: len(vis)] = np.minimum(vis[:, :6] / self._scale, float(self.max_items + 1))
        obs = {"ems": out.reshape(-1)}
        if self.observe_mode:
            b = np.zeros(self.max_ems, np.float32)
            if not self._fast:
                b[: len(vis)] = np.minimum(vis[:, 6] / self.max_items, 1.0)
            obs["ems_bin"] = b
        return obs

    def _cache_masks(self) -> None:
        st = self._state
        sp = st.spaces
        n = self.instance.n
        if self._fast:
            key = np.lexsort((sp[:, 0], sp[:, 1], sp[:, 2], sp[:, :3].sum(axis=1)))
            vis = key[: self.max_ems]
            if len(key) > self.max_ems:
                roomy = int(np.argmax((sp[:, 3:] - sp[:, :3]).min(axis=1)))
                if roomy not in vis:
                    vis = np.concatenate([vis[:-1], [roomy]])
            ext = sp[vis, 3:] - sp[vis, :3]  # (k, 3)
            od = self.instance.dims[:, ORIENTATIONS]  # (n, 6, 3)
            fits = (ext[None, None, :, :] >= od[:, :, None, :]).all(axis=3)  # (n, 6, k)
            first = np.ones((n, 6), dtype=bool)
            for o in range(1, 6):
                for p in range(o):
                    first[:, o] &= ~(od[:, o] == od[:, p]).all(axis=1)
            fits &= first[:, :, None] & ~st.placed[:, None, None]
        else:
            full = np.asarray(st.mask(), dtype=bool)  # one orientation per allowed shape
            vis = visible_spaces(sp, full.any(axis=(0, 1)), self.max_ems, fresh_space(st))
            fits = full[:, :, vis]
        self._visible = vis
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
