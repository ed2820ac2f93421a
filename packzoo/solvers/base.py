"""The solver interface: Solution, the Solver protocol, the registry, the env adapter and check_solver.

Every solver answers ``solve(instance, *, seed=None, time_limit=None) -> Solution``. Constructors
only store keyword hyperparameters (sklearn's contract), which ``repr`` and ``get_params`` show.

Solvers that decide an item order (the heuristics, the pointer network, SB3 agents on
BinPack3D-v0) act through the environment: :func:`rollout` plays a policy in the env and takes the
env's packing, so the env's engine places every item for all of them in the same way. Solvers that
compute positions themselves (the exact solver) return a Packing; every result is then refereed by
the independent validator :func:`packzoo.envs.validate`, which shares no code with the engine.
"""

from __future__ import annotations

import abc
import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from packzoo.envs.binpack import BinPack3DEnv, _BinPackBase
from packzoo.envs.generators import bins_cut, container_cut, cube_cut, uniform
from packzoo.envs.instance import MODES, Instance
from packzoo.envs.packing import Packing, bound, validate
from packzoo._checks import nonneg_int
from packzoo.registry import Registry

STATUSES = ("optimal", "feasible", "unknown")


@dataclass
class Solution:
    """What a solver returns.

    Attributes:
        packing: the packing found (None only with status "unknown" and no packing at all).
        status: "optimal" (proven), "feasible" (a packing, optimality not proven) or "unknown".
        bound: the proven bound on the optimum in the mode's objective, if the solver has one: a
            lower bound on the surface (free), height (base) or bins (bins), an upper bound on
            the packed volume (container).
        seconds: wall time of the solve.
        info: solver-specific facts (orders tried, nodes, ...); JSON-serialisable.
    """

    packing: Packing | None
    status: str = "feasible"
    bound: float | None = None
    seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    @property
    def surface_area(self) -> int | None:
        return None if self.packing is None else self.packing.surface_area


@runtime_checkable
class Solver(Protocol):
    """Anything with this ``solve`` method plugs into the leaderboard."""

    def solve(self, instance: Instance, *, seed: int | None = None, time_limit: float | None = None) -> Solution: ...


class UnsupportedMode(ValueError):
    """A solver was given an instance of a mode (or with constraints) it does not handle."""


class BaseSolver(abc.ABC):
    """Base class: stores constructor keywords as attributes, shows them in repr.

    Subclasses declare their hyperparameters as keyword arguments of ``__init__`` and store each
    under the same name; they implement ``_solve(instance, rng, deadline) -> Solution``. They
    declare the container modes they handle in ``modes`` and whether they honour orientation
    limits, support and weights in ``constraints``; :meth:`solve` refuses other instances with
    :class:`UnsupportedMode` rather than return a packing that breaks them.
    """

    name: str = "solver"
    #: The container modes (:data:`packzoo.envs.MODES`) this solver packs.
    modes: tuple[str, ...] = ("free",)
    #: True if it honours orientation limits, a support rule and weights.
    constraints: bool = False

    def get_params(self) -> dict[str, Any]:
        sig = inspect.signature(type(self).__init__)
        return {
            k: getattr(self, k)
            for k, p in sig.parameters.items()
            if k != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        }

    def fingerprint(self) -> str:
        """What else than the parameters fixes this solver's results: the sha256 of the weights a
        learned solver plays ("" for the others). The leaderboard keys reused results by it."""
        return ""

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def solve(self, instance: Instance, *, seed: int | None = None, time_limit: float | None = None) -> Solution:
        """Pack ``instance``. ``seed`` fixes every random choice; ``time_limit`` is in seconds."""
        if not isinstance(instance, Instance):
            instance = Instance(instance)
        if time_limit is not None and (isinstance(time_limit, bool) or not isinstance(time_limit, (int, float))
                                       or not time_limit > 0 or time_limit != time_limit):
            raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
        if seed is not None:
            nonneg_int(seed, "seed")
        check_supported(self, instance)
        t0 = time.perf_counter()
        deadline = None if time_limit is None else t0 + float(time_limit)
        rng = np.random.default_rng(seed)
        sol = self._solve(instance, rng, deadline)
        sol.seconds = time.perf_counter() - t0
        return sol

    @abc.abstractmethod
    def _solve(self, instance: Instance, rng: np.random.Generator, deadline: float | None) -> Solution:
        """Solve with a seeded ``rng`` and a ``time.perf_counter()`` deadline (None: no limit)."""


def check_supported(solver: Any, instance: Instance) -> None:
    """Raise :class:`UnsupportedMode` if ``solver`` (its ``modes`` and ``constraints``) cannot pack
    ``instance``."""
    modes = getattr(solver, "modes", ("free",))
    who = getattr(solver, "name", type(solver).__name__)
    if instance.mode not in modes:
        raise UnsupportedMode(f"solver {who!r} packs modes {list(modes)}, not mode {instance.mode!r}; "
                              f"list_solvers(mode={instance.mode!r}) names the ones that do")
    if instance.is_constrained and not getattr(solver, "constraints", False):
        raise UnsupportedMode(f"solver {who!r} does not honour orientation limits, support or weights, "
                              "which this instance sets")


def rollout(
    instance: Instance,
    policy: Callable[[dict[str, np.ndarray], _BinPackBase], int],
    env: _BinPackBase | None = None,
) -> Packing:
    """Play ``policy(obs, env) -> action`` in ``env`` (default BinPack3D-v0) on ``instance``.

    Returns the env's final packing. The env raises on any invalid action, so a policy cannot
    cheat the mask.
    """
    if env is None:
        env = BinPack3DEnv(n_items=instance.n, invalid_action="raise")
    obs, _ = env.reset(options={"instance": instance})
    done = False
    while not done:
        obs, _, terminated, truncated, _ = env.step(int(policy(obs, env)))
        done = terminated or truncated
    return env.unwrapped.packing if hasattr(env, "unwrapped") else env.packing


def pack_in_order(instance: Instance, order: Sequence[int]) -> Packing:
    """Roll the item-order env out on ``order``: LSA places each item, as in the paper."""
    it = iter(order)
    return rollout(instance, lambda obs, env: next(it))


SOLVERS = Registry("solver")


KINDS = ("heuristic", "exact", "learned")


def register_solver(name: str, factory: Callable[..., Any] | None = None, *, kind: str, summary: str,
                    source: str, keeps_time_limit: bool, modes: Sequence[str] = ("free",),
                    constraints: bool = False, **card: Any):
    """Register a solver factory with its card.

    Args:
        kind: "heuristic", "exact" (proves optima) or "learned" (plays a zoo model).
        summary: one line saying what it does.
        source: the paper or library it follows.
        keeps_time_limit: True for an anytime solver, which returns within ``time_limit`` plus
            :data:`TIME_TOLERANCE` (its best so far when the clock strikes); False for a solver
            that makes a fixed number of constructive passes and ignores the limit (the
            leaderboard marks it). Either way the card says which.
        modes: the container modes it packs (its solver class's ``modes`` must say the same).
        constraints: True if it honours orientation limits, support and weights (its class's
            ``constraints`` must say the same).
        card: more facts (e.g. ``check_params``: parameters for the conformance check).
    """
    modes = tuple(modes)
    if not modes or any(m not in MODES for m in modes):
        raise ValueError(f"solver {name!r}: modes must be a non-empty subset of {MODES}, got {modes!r}")
    if kind not in KINDS:
        raise ValueError(f"solver {name!r}: kind must be one of {KINDS}, got {kind!r}")
    if not isinstance(keeps_time_limit, bool):
        raise ValueError(f"solver {name!r}: keeps_time_limit must be True or False")
    return SOLVERS.register(name, factory, kind=kind, summary=summary, source=source,
                            keeps_time_limit=keeps_time_limit, modes=modes, constraints=bool(constraints), **card)


#: How far past its ``time_limit`` an anytime solver may return: the larger of this many seconds
#: and a few LSA packings of the instance (the last step it takes, and the packing it hands back,
#: are not cut in the middle). See :func:`time_tolerance`.
TIME_TOLERANCE = 1.0


def time_tolerance(pack_seconds: float) -> float:
    """The stated tolerance of an anytime solver, given the time of one LSA packing of the instance."""
    return max(TIME_TOLERANCE, 4.0 * pack_seconds)


def create_solver(name: str, **params: Any) -> Solver:
    """Build the registered solver ``name`` with keyword hyperparameters.

    Raises:
        UnknownNameError: an unknown name (a KeyError listing close names).
        ValueError: a parameter the solver does not take (the message lists the ones it takes), or
            a bad value.
    """
    factory = SOLVERS._entry(name).factory
    try:
        solver = factory(**params)
    except TypeError as e:
        if "unexpected keyword argument" not in str(e):
            raise
        known = sorted(factory().get_params())  # the defaults always build
        unknown = sorted(set(params) - set(known))
        raise ValueError(f"solver {name!r} takes no parameter {', '.join(map(repr, unknown)) or str(e)}; "
                         f"its parameters: {', '.join(known) or 'none'}") from None
    # The registered name, for messages (one class may serve several names).
    try:
        solver.name = name
    except AttributeError:
        pass
    return solver


def list_solvers(pattern: str = "*", kind: str | None = None, mode: str | None = None) -> list[str]:
    """Registered solver names matching the wildcard ``pattern`` (and ``kind`` and ``mode`` when
    given: the solvers of that kind that pack that mode)."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if mode is not None and mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return [n for n in SOLVERS.list(pattern)
            if (kind is None or SOLVERS.card(n)["kind"] == kind)
            and (mode is None or mode in SOLVERS.card(n)["modes"])]


def solver_card(name: str) -> dict[str, Any]:
    """The card of a registered solver: summary, source, and what else it was registered with."""
    return SOLVERS.card(name)


class SolverCheckError(AssertionError):
    """A solver broke the Solver contract; ``rule`` names the broken rule."""

    def __init__(self, message: str, rule: str = "") -> None:
        super().__init__(f"rule {rule!r}: {message}" if rule else message)
        self.rule = rule


#: The rules of :func:`check_solver`, in the order they run.
SOLVER_RULES = ("protocol", "solution", "valid-packing", "bounds", "time-limit", "same-seed", "repr")


def check_solver(solver: Solver, *, n: int = 6, time_limit: float = 2.0, grace: float = 3.0) -> None:
    """Conformance check every registered solver passes, as named rules (:data:`SOLVER_RULES`).

    - ``protocol``: it has ``solve(instance, *, seed, time_limit)``.
    - ``solution``: a well-formed Solution with a known status and a packing.
    - ``valid-packing``: the validator accepts it, for the instance it was given (a cube-cut and a
      uniform instance in free mode, a cut instance of every other mode it packs).
    - ``bounds``: the objective is no better than the mode's bound; a claimed bound does not beat
      its own packing; "optimal" on a cut instance means its known optimum.
    - ``time-limit``: ``seconds`` within ``time_limit + grace``.
    - ``same-seed``: the same seed gives the same packing (unless stopped by its clock).
    - ``repr``: the repr shows every constructor parameter.

    One untimed warm-up solve comes first: loading compiled kernels or weights once per process
    (seconds on a busy machine) is not what a time limit is about.

    Raises:
        SolverCheckError: naming the broken rule (``err.rule``).
    """

    def fail(rule: str, msg: str) -> None:
        raise SolverCheckError(f"{solver!r}: {msg}", rule)

    if not isinstance(solver, Solver):
        fail("protocol", "has no solve(instance, *, seed, time_limit) method")
    cube, _ = cube_cut(n, side=12, seed=7)
    unif = uniform(n, low=2, high=9, seed=11)
    modes = tuple(getattr(solver, "modes", ("free",)))
    # One instance with a known optimum for every mode it packs beyond free.
    extra = {"base": container_cut(n, container=(8, 6, 5), mode="base", seed=5)[0],
             "container": container_cut(n, container=(8, 6, 5), seed=6)[0],
             "bins": bins_cut(n, bin=(6, 6, 6), k=2, seed=8)[0]}
    insts = ((cube, unif) if "free" in modes else ()) + tuple(extra[m] for m in modes if m != "free")
    solver.solve(insts[0], seed=0)  # warm-up: no limit, so every kernel compiles
    for inst in insts:
        sol = solver.solve(inst, seed=3, time_limit=time_limit)
        if not isinstance(sol, Solution):
            fail("solution", f"solve returned {type(sol).__name__}, not Solution")
        if sol.status not in STATUSES:
            fail("solution", f"bad status {sol.status!r}")
        if sol.packing is None:
            fail("solution", "returned no packing")
        errors = validate(sol.packing)
        if errors:
            fail("valid-packing", f"invalid packing: {errors[:3]}")
        if sol.packing.instance != inst:
            fail("valid-packing", "the packing is of another instance")
        if sol.packing.ratio < 1 - 1e-12:  # relative: surfaces reach 1e13
            fail("bounds", f"objective beyond the mode's bound (ratio {sol.packing.ratio}): the bound or the packing is wrong")
        # A claimed bound must not beat the solver's own packing (for the maximising container
        # mode it is an upper bound, so the inequality turns round).
        obj = sol.packing.objective
        if sol.bound is not None and (sol.bound < obj * (1 - 1e-12) if inst.mode == "container"
                                      else sol.bound > obj * (1 + 1e-12)):
            fail("bounds", f"claimed bound {sol.bound} beats its own packing's objective {obj}")
        if sol.status == "optimal" and inst is not unif and sol.packing.ratio > 1 + 1e-12:
            fail("bounds", "claimed optimal on a cut instance but did not reach its known optimum")
        if sol.seconds > time_limit + grace:
            fail("time-limit", f"took {sol.seconds:.2f}s with time_limit={time_limit}")
        again = solver.solve(inst, seed=3, time_limit=time_limit)
        if not isinstance(again, Solution) or again.packing is None:
            fail("same-seed", "a second solve with the same seed returned no packing")
        if [p.to_list() for p in again.packing.placements] != [p.to_list() for p in sol.packing.placements]:
            # A solver stopped by its clock (in either solve) may legitimately differ; only then.
            if sol.info.get("stopped_by_time") is not True and again.info.get("stopped_by_time") is not True:
                fail("same-seed", "the same seed gave a different packing")
    params = solver.get_params() if hasattr(solver, "get_params") else {}
    for k in params:
        if f"{k}=" not in repr(solver):
            fail("repr", f"repr does not show parameter {k}")
