"""Heuristics for the fixed-container modes (base, container, bins) and online arrival.

All of them run the one engine, :class:`packzoo.envs.fixed.PackState`, and its placement rules
(:data:`packzoo.envs.fixed.PLACEMENT_RULES`); the validator then referees their packings.

Naming scheme, ``<placement>-<order>`` for the offline ones: the order is one of the classical
sort rules (:data:`packzoo.envs.rules.SORT_KEYS`: ``volume``, ``longest`` edge, ``surface``;
descending, ties by index) and the placement is the mode's rule:

- ``ffd-<key>`` (bins): first-fit decreasing, each item into the first open bin where it fits
  (deepest-bottom-left-fill inside the bin), a new bin if none;
- ``bfd-<key>`` (bins): best-fit decreasing, the open bin left fullest;
- ``dblf-<key>`` (base, container): deepest-bottom-left-fill;
- ``ems-<key>`` (base, container, bins): best-fit EMS (least residual volume; bins: first-fit);
- ``minheight-<key>`` (base): least resulting height, ties deepest-bottom-left;
- ``contact-<key>`` (container, bins): most touching area with the walls, the floor and the
  placed boxes (bins: first-fit), the best constructive rule on the cut sets of
  ``benchmarks/bench_modes.py``.
- ``order-search`` (every mode): local search on the item order under the mode's rule, the
  fixed modes' counterpart of ``local-search``; anytime (it keeps its time limit).

The online ones pack the items in the instance's order (item 0 arrives first), never reordering
beyond a look-ahead buffer: ``online-bph`` (Ha et al. 2017; base, container, bins), ``boundary``
(the boundary rule baseline of Zhao et al. 2021; container, bins), ``lsah`` (LSA in arrival
order, Hu et al. 2017's rule as the online papers use it; every mode), ``online-contact`` (most
touching area; container, bins). The modes left out are those where a rule has nothing to lean
on (no walls, or a free height that its score rewards). ``buffer=k`` lets each choose among the
next k arrivals (Ha et al.'s look-ahead).

In the container mode an item that fits nowhere stays out. With a support rule in the base mode
an order can reach a dead end (no supported corner left for an item): the offline solvers then
repair the order (:func:`pack_repaired`: the stuck item moves to the front and the order is
packed again), and if that fails try the other rules and sort orders (:func:`pack_fallback`,
recorded in ``info["fallback"]``); status "unknown" with no packing if nothing works (which
happens: such an instance may have no packing at all). The online ones cannot reorder, and
return the packing so far with status "unknown".
"""

from __future__ import annotations

import time

import numpy as np
from packzoo._checks import positive_int
from packzoo.envs import rules
from packzoo.envs.fixed import NoPlacementError, PackState, pack_order, parse_rule
from packzoo.envs.instance import Instance
from packzoo.envs.packing import Packing, validate
from packzoo.solvers.base import BaseSolver, Solution, register_solver

ALL_MODES = ("free", "base", "container", "bins")


def _status(packing: Packing) -> str:
    """"optimal" when the packing meets the mode's proven bound (ratio 1), else "feasible"."""
    try:
        r = packing.ratio
    except ValueError:
        return "feasible"
    return "optimal" if r <= 1.0 and not validate(packing) else "feasible"


#: Packings a repair may try before giving up (a dead end needs a support rule in base mode).
REPAIR_BUDGET = 200


def pack_repaired(instance: Instance, order: list[int], rule: str, seed: int = 0,
                  budget: int = REPAIR_BUDGET) -> tuple[Packing, int]:
    """Pack ``order`` by ``rule``, repairing dead ends (base mode with a support rule).

    At a dead end the stuck item moves to the front of the order and the order is packed again.
    When an item gets stuck a second time (items that strand each other), two random items of
    the order swap (a generator seeded by ``seed``) and the move-to-front repairs start afresh.
    At most ``budget`` packings.

    Returns:
        (packing, repairs made).

    Raises:
        NoPlacementError: still stuck after ``budget`` packings.
    """
    order = list(order)
    stuck: set[int] = set()
    rng = np.random.default_rng(seed)
    for repairs in range(budget):
        try:
            return pack_order(instance, order, rule), repairs
        except NoPlacementError as e:
            if repairs == budget - 1:
                raise
            if e.item not in stuck:
                stuck.add(e.item)
                order.remove(e.item)
                order.insert(0, e.item)
            else:
                stuck.clear()
                i, j = rng.choice(len(order), size=2, replace=False)
                order[i], order[j] = order[j], order[i]
    raise AssertionError("unreachable")


#: The (rule, sort key) pairs :func:`pack_fallback` tries, in order.
FALLBACK_RULES = ("min-height", "dblf", "contact", "bph", "ems-fit", "dftrc")


def pack_fallback(instance: Instance, budget: int = 30) -> tuple[Packing, list[str]] | None:
    """A packing by any rule of :data:`FALLBACK_RULES` x sort key (each order repaired at most
    ``budget`` times), for the orders a solver's own rule leaves at a dead end (base mode with a
    support rule: on 20 cut instances of 20 items, this side up, 80 % support, the dead ends of
    dblf-volume fell from 4 to 1). Returns (packing, [rule, key]) or None."""
    for rule in FALLBACK_RULES:
        for key in rules.SORT_KEYS:
            try:
                packing, _ = pack_repaired(instance, _sort_order(instance, key), rule, budget=budget)
            except NoPlacementError:
                continue
            return packing, [rule, key]
    return None


def mode_score(packing: Packing) -> tuple[float, ...]:
    """What the fixed-mode searches minimise: the mode's objective, then a tie-break that rewards
    progress on a plateau (bins: fuller bins, by minus the sum of squared bin volumes; container:
    nothing; base and free: nothing)."""
    mode = packing.instance.mode
    if mode == "container":
        return (-packing.packed_volume,)
    if mode == "bins":
        fill: dict[int, int] = {}
        for p, v in zip(packing.placements, packing.boxes[:, 3:].prod(axis=1).tolist()):
            fill[p.bin] = fill.get(p.bin, 0) + v
        return (packing.bins_used, -sum(v * v for v in fill.values()))
    return (packing.objective,)


def _sort_order(instance: Instance, key: str) -> list[int]:
    return rules.sort_order(instance.dims, key).tolist()


def _check_rule(rule: str) -> str:
    """``rule`` if some mode knows it (so a typo fails at construction, not at solve time)."""
    errors = []
    for mode in ALL_MODES:
        try:
            parse_rule(rule, mode)
            return rule
        except ValueError as e:
            errors.append(str(e))
    raise ValueError(errors[0])


class _ModesSolver(BaseSolver):
    """Base of this module's solvers: they honour every constraint the engine knows."""

    modes: tuple[str, ...] = ALL_MODES
    constraints = True


class RuleOrder(_ModesSolver):
    """Items by a sort key, descending (ties by index), then a placement rule of the engine.

    Args:
        key: "volume", "longest" (longest edge) or "surface".
        rule: a placement rule name (:data:`packzoo.envs.fixed.PLACEMENT_RULES`), "auto" for the
            mode's default.
    """

    def __init__(self, key: str = "volume", *, rule: str = "auto") -> None:
        if key not in rules.SORT_KEYS:
            raise ValueError(f"key must be one of {rules.SORT_KEYS}, got {key!r}")
        _check_rule(rule)
        self.key = key
        self.rule = rule

    def _solve(self, instance, rng, deadline):
        order = _sort_order(instance, self.key)
        try:
            packing, repairs = pack_repaired(instance, order, self.rule)
        except NoPlacementError as e:
            found = pack_fallback(instance)
            if found is None:
                return Solution(None, "unknown", info={"error": str(e), "fallback": None})
            packing, fallback = found
            return Solution(packing, _status(packing), info={"order": packing.order, "rule": self.rule,
                                                             "error": str(e), "fallback": fallback})
        return Solution(packing, _status(packing), info={"order": order, "rule": self.rule, "repairs": repairs})


#: The placement rule "best" stands for in :class:`OrderSearch`: per mode, the rule of
#: :data:`packzoo.envs.fixed.PLACEMENT_RULES` whose packings of the three sort orders had the best
#: mean ratio to the optimum in a sweep of every rule over the first 10 instances of base-n20,
#: container-n20 and bins-n50: base min-height (1.29; dblf 1.52), container contact (1.19; dblf
#: 1.25), bins first-fit:contact (1.26; first-fit 1.32). Free: LSA, the paper's rule.
SEARCH_RULES = {"free": "lsa", "base": "min-height", "container": "contact", "bins": "first-fit:contact"}


class OrderSearch(_ModesSolver):
    """Local search on the item order under a placement rule, for every mode.

    Starts from the best of the three sort orders (volume, longest edge, surface); each step
    draws a neighbour (swap two items, or move one to another position), packs it, and moves to
    it if it is no worse under :func:`mode_score` (sideways moves cross plateaus). Stops after
    ``iterations`` packings or at the time limit (the clock is read before every packing).

    Args:
        iterations: neighbours to pack.
        rule: the placement rule; "best" (default): the mode's best constructive rule on the cut
            sets of ``benchmarks/bench_modes.py`` (:data:`SEARCH_RULES`); "auto": the mode's
            default rule (:data:`packzoo.envs.fixed.DEFAULT_RULES`).
    """

    def __init__(self, *, iterations: int = 300, rule: str = "best") -> None:
        positive_int(iterations, "iterations")
        self.iterations = int(iterations)
        self.rule = rule if rule == "best" else _check_rule(rule)

    def _solve(self, instance, rng, deadline):
        n = instance.n
        rule = SEARCH_RULES[instance.mode] if self.rule == "best" else self.rule
        best_p, best_s, best_o, start_by = None, None, None, None
        stopped = False
        for key in rules.SORT_KEYS:
            order = _sort_order(instance, key)
            try:
                p, _ = pack_repaired(instance, order, rule)
            except NoPlacementError:
                continue
            s = mode_score(p)
            if best_s is None or s < best_s:
                best_p, best_s, best_o, start_by = p, s, p.order, key
        if best_p is None:
            found = pack_fallback(instance)
            if found is None:
                return Solution(None, "unknown", info={"error": "every start order reached a dead end"})
            best_p, fallback = found
            best_s, best_o, start_by = mode_score(best_p), best_p.order, "fallback " + ":".join(fallback)
        start_s = best_s
        # Items that stayed out (container mode) sit at the end of the order, so a move can bring
        # them in.
        cur = best_o + [i for i in range(n) if i not in set(best_o)]
        cur_s = best_s
        evaluated = 0
        t_pack = 0.0
        reached = _status(best_p) == "optimal"
        if n >= 2:
            while evaluated < self.iterations:
                if deadline is not None and time.perf_counter() + t_pack > deadline:
                    stopped = True
                    break
                if reached:
                    break
                i = int(rng.integers(n))
                j = int((i + rng.integers(1, n)) % n)
                cand = list(cur)
                if rng.integers(2) == 0:
                    cand[i], cand[j] = cand[j], cand[i]
                else:
                    cand.insert(j, cand.pop(i))
                t0 = time.perf_counter()
                try:
                    p = pack_order(instance, cand, rule)
                except NoPlacementError:
                    p = None
                t_pack = max(t_pack, time.perf_counter() - t0)
                evaluated += 1
                if p is None:
                    continue
                s = mode_score(p)
                if s <= cur_s:
                    cur, cur_s = cand, s
                    if s < best_s:
                        best_p, best_s = p, s
                        reached = _status(p) == "optimal"  # the bound costs: only on a new best
        info = {"evaluated": evaluated, "start": start_by, "start_score": list(start_s),
                "score": list(best_s), "stopped_by_time": stopped, "rule": rule}
        return Solution(best_p, _status(best_p), info=info)


class Online(_ModesSolver):
    """Online packing: items arrive in the instance's order; each is placed by a rule at once.

    With ``buffer`` k > 1 the packer holds the next k arrivals and places whichever (with its
    placement) the rule ranks best (ties: the earlier arrival), Ha et al. 2017's look-ahead; k = 1
    is strictly online. (The online env's ``lookahead`` only shows the next items: the arriving
    one must be placed.) An item that fits nowhere is left out in the container mode, or ends the
    packing there with ``until_misfit=True`` (Zhao et al. 2021's episode end); in the base mode
    with a support rule it is a dead end (the packing so far comes back, status "unknown").

    Args:
        buffer: how many arrivals the packer holds and chooses from (>= 1).
        until_misfit: container mode: stop at the first item that fits nowhere.
    """

    rule = "bph"

    def __init__(self, *, buffer: int = 1, until_misfit: bool = False) -> None:
        positive_int(buffer, "buffer")
        if not isinstance(until_misfit, bool):
            raise ValueError(f"until_misfit must be True or False, got {until_misfit!r}")
        self.buffer = int(buffer)
        self.until_misfit = until_misfit

    def _solve(self, instance, rng, deadline):
        rule = self.rule
        state = PackState(instance)
        arrivals = list(range(instance.n))
        held: list[int] = []
        left_out: list[int] = []
        info: dict = {"rule": rule, "buffer": self.buffer}
        while arrivals or held:
            while arrivals and len(held) < self.buffer:
                held.append(arrivals.pop(0))
            best = None
            for pos, i in enumerate(held):
                r = state.rank(i, rule)
                if r is not None and (best is None or (r[0], pos) < best[0]):
                    best = ((r[0], pos), i, r[1], r[2])
            if best is None:
                if instance.mode == "container" and not self.until_misfit:
                    # Spaces only shrink: what fits nowhere now never will.
                    left_out.extend(held)
                    held.clear()
                    continue
                if instance.mode == "container":
                    info["stopped_at"] = held[0]
                    break
                info["stuck_item"] = held[0]
                return Solution(state.packing(), "unknown", info=info)
            _, i, o, e = best
            state.place(i, o, e)
            held.remove(i)
            if instance.mode == "container":
                # Held items that fit nowhere any more leave (room for new arrivals), or end it.
                for j in list(held):
                    if state.choose(j, rule) is None:
                        if self.until_misfit:
                            info["stopped_at"] = j
                            arrivals, held = [], []
                            break
                        held.remove(j)
                        left_out.append(j)
        packing = state.packing()
        info["left_out"] = sorted(set(range(instance.n)) - set(packing.order))
        return Solution(packing, _status(packing), info=info)


class OnlineBPH(Online):
    """Ha et al. 2017's online heuristic (OnlineBPH) on empty maximal spaces.

    Ha, Nguyen, Bui and Wang, "An online packing heuristic for the three-dimensional container
    loading problem in dynamic environments and the Physical Internet" (EvoApplications 2017):
    the spaces are taken in deepest-bottom-left order of their corner (z, then y, then x, as the
    PCT authors' reference implementation sorts them); the first space that holds an item of the
    look-ahead receives the item and orientation of least margin (the smallest min slack between
    space and box, their "best match first"). In the bins mode the bins are tried first-fit.

    Args:
        buffer: how many arrivals the packer holds and chooses from (their k; 1 = strictly
            online).
        until_misfit: container mode: stop at the first item that fits nowhere.
    """

    rule = "bph"
    # Free mode has no walls: its deepest-bottom-left corner is a line along the floor.
    modes = ("base", "container", "bins")


class Boundary(Online):
    """The boundary rule, a baseline of Zhao et al. 2021 ("Online 3D bin packing with
    constrained deep reinforcement learning", AAAI), as their follow-up's reference code scores it
    (Online-3D-BPP-PCT, heuristic.py, ``BR``): the space with the largest volume plus the number of
    item shapes that fit it (+10 when all do), the first orientation that fits; placed at the
    space's corner.

    Args:
        buffer: how many arrivals the packer holds and chooses from (1 = strictly online, as in
            the paper).
        until_misfit: container mode: stop at the first item that fits nowhere (the paper's end).
    """

    rule = "boundary"
    # It scores a space by its volume: with a free height (free, base) the tallest space wins.
    modes = ("container", "bins")


class LSAH(Online):
    """LSAH: Hu et al. 2017's least-surface-area placement with items in arrival order, the
    baseline the online papers (Zhao et al. 2021, 2022) run. In the bins mode the bins are tried
    first-fit.

    Args:
        buffer: how many arrivals the packer holds and chooses from (1 = strictly online).
        until_misfit: container mode: stop at the first item that fits nowhere.
    """

    rule = "lsa"


class ContactOnline(Online):
    """Online placement maximising the contact area of the item with the floor, the walls and the
    placed boxes (the touching-area idea of Lodi, Martello and Vigo's 2D 'touching perimeter'
    heuristic, in 3D); ties deepest-bottom-left.

    Args:
        buffer: how many arrivals the packer holds and chooses from (1 = strictly online).
        until_misfit: container mode: stop at the first item that fits nowhere.
    """

    rule = "contact"
    # Free and base modes have no far walls: the contact rule builds towers there.
    modes = ("container", "bins")


# --- registration ------------------------------------------------------------------------------
_PLACEMENTS: dict[str, tuple[str, tuple[str, ...], str, str]] = {
    # prefix: (rule, modes, summary phrase, source)
    "ffd": ("first-fit", ("bins",), "first-fit over bins (deepest-bottom-left-fill in a bin)",
            "first-fit decreasing (Johnson 1973) on EMS, as in Martello, Pisinger and Vigo 2000"),
    "bfd": ("best-fit", ("bins",), "best-fit over bins (the fullest bin; deepest-bottom-left-fill in it)",
            "best-fit decreasing on EMS"),
    "dblf": ("dblf", ("base", "container"), "deepest-bottom-left-fill on EMS",
             "Karabulut and Inceoglu 2004"),
    "ems": ("ems-fit", ("base", "container", "bins"), "best-fit EMS (least residual volume)",
            "EMS best fit (Lai and Chan 1997; Ha et al. 2017)"),
    "minheight": ("min-height", ("base",), "least resulting height, ties deepest-bottom-left",
                  "least-height rule for pallets (base mode)"),
    "contact": ("contact", ("container", "bins"),
                "most touching area with walls, floor and placed boxes (bins: first-fit)",
                "touching-area rule (after Lodi, Martello and Vigo 1999's touching perimeter)"),
}

def _with_modes(solver: RuleOrder, modes: tuple[str, ...]) -> RuleOrder:
    solver.modes = modes  # one class serves several names, each for its own modes
    return solver


for _prefix, (_rule, _modes, _phrase, _src) in _PLACEMENTS.items():
    for _key in rules.SORT_KEYS:
        register_solver(
            f"{_prefix}-{_key}",
            lambda _k=_key, _r=_rule, _m=_modes, **kw: _with_modes(RuleOrder(_k, **{"rule": _r, **kw}), _m),
            kind="heuristic",
            constraints=True,
            keeps_time_limit=False,
            modes=_modes,
            summary=f"items by {_key}, descending + {_phrase}",
            source=_src,
        )

register_solver(
    "order-search",
    OrderSearch,
    kind="heuristic",
    constraints=True,
    keeps_time_limit=True,
    modes=ALL_MODES,
    summary="swap/insertion local search on the item order under the mode's best rule "
            "(lsa, min-height, contact, first-fit:contact) from the best sort order",
    source="packzoo (the fixed modes' local-search)",
)
register_solver(
    "online-bph",
    OnlineBPH,
    kind="heuristic",
    constraints=True,
    keeps_time_limit=False,
    modes=OnlineBPH.modes,
    summary="online: EMS in deepest-bottom-left order, best-match orientation (buffer=k: choose among the next k arrivals)",
    source="Ha, Nguyen, Bui and Wang 2017 (OnlineBPH)",
)
register_solver(
    "boundary",
    Boundary,
    kind="heuristic",
    constraints=True,
    keeps_time_limit=False,
    modes=Boundary.modes,
    summary="online: the space of largest volume + number of item shapes it fits (boundary rule)",
    source="Zhao et al. 2021 (AAAI) baseline, as scored in Online-3D-BPP-PCT heuristic.py (BR)",
)
register_solver(
    "lsah",
    LSAH,
    kind="heuristic",
    constraints=True,
    keeps_time_limit=False,
    modes=ALL_MODES,
    summary="online: least-surface-area placement in arrival order",
    source="Hu et al. 2017's LSA, the online papers' LSAH baseline",
)
register_solver(
    "online-contact",
    ContactOnline,
    kind="heuristic",
    constraints=True,
    keeps_time_limit=False,
    modes=ContactOnline.modes,
    summary="online: the placement touching the most area of walls, floor and placed boxes",
    source="touching-area rule (after Lodi, Martello and Vigo 1999's touching perimeter)",
)

__all__ = ["ALL_MODES", "FALLBACK_RULES", "SEARCH_RULES", "Boundary", "ContactOnline", "LSAH", "Online",
           "OnlineBPH", "OrderSearch", "RuleOrder", "mode_score", "pack_fallback", "pack_repaired"]
