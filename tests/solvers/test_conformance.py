"""Every registered solver passes the conformance check (sklearn's check_estimator, for solvers).

Parametrised from the registry, so solvers registered by plug-ins (exact, ptrnet, sb3, ...) are
checked as soon as they exist; none is skipped. A solver that cannot be built without arguments
(say, an agent loaded from a path) names the ones to check it with in its card, as
``check_params={...}``.
"""

import numpy as np
import pytest

from packzoo.envs import Packing, Placement
from packzoo.solvers import (
    BaseSolver,
    Solution,
    SolverCheckError,
    check_solver,
    create_solver,
    list_solvers,
    pack_in_order,
    solver_card,
)


@pytest.mark.parametrize("name", list_solvers())
def test_registered_solver_conforms(name):
    params = solver_card(name).get("check_params", {})
    check_solver(create_solver(name, **params))


@pytest.mark.parametrize("name", list_solvers())
def test_card_modes_are_the_solvers_modes(name):
    card = solver_card(name)
    solver = create_solver(name, **card.get("check_params", {}))
    # The card lists every mode the solver may be given (the generic sb3 solver: any; each
    # agent it loads packs its own), and never promises constraints the solver does not keep.
    assert set(getattr(solver, "modes", ("free",))) <= set(card["modes"])
    assert bool(getattr(solver, "constraints", False)) <= card["constraints"]
    if name != "sb3":
        assert tuple(card["modes"]) == tuple(solver.modes) and card["constraints"] == solver.constraints


def test_a_free_only_solver_refuses_other_modes_and_constraints_by_name():
    from packzoo.envs import Instance, bins_cut
    from packzoo.solvers import UnsupportedMode

    inst, _ = bins_cut(4, bin=(4, 4, 4), k=1, seed=0)
    with pytest.raises(UnsupportedMode, match="lsa-lws.*mode 'bins'"):
        create_solver("lsa-lws").solve(inst)
    with pytest.raises(UnsupportedMode, match="orientation limits"):
        create_solver("lsa-lws").solve(Instance([[1, 2, 3], [2, 2, 2]], orientations="upright"))
    assert "lsa-lws" in list_solvers(mode="free") and "lsa-lws" not in list_solvers(mode="bins")
    with pytest.raises(ValueError, match="mode must be one of"):
        list_solvers(mode="pallet")


def test_the_registry_holds_the_heuristics():
    for name in ("random", "sort-volume", "sort-longest", "sort-surface", "lsa-lws", "best-order",
                 "extreme-points", "local-search"):
        assert name in list_solvers()
    assert list_solvers("sort-*") == ["sort-longest", "sort-surface", "sort-volume"]


class _Stacker(BaseSolver):
    """Puts every item at the origin (invalid) unless ``valid``; random seeds if ``flaky``."""

    def __init__(self, *, valid: bool = False, flaky: bool = False) -> None:
        self.valid = valid
        self.flaky = flaky

    def _solve(self, instance, rng, deadline):
        if self.valid:
            order = list(range(instance.n))
            if self.flaky:  # ignores the seed: unseeded randomness
                order = np.random.default_rng().permutation(instance.n).tolist()
            return Solution(pack_in_order(instance, order))
        return Solution(Packing(instance, [Placement(i, 0, 0, 0, 0) for i in range(instance.n)]))


def test_check_solver_catches_broken_solvers_and_names_the_rule():
    with pytest.raises(SolverCheckError, match="invalid packing") as e:
        check_solver(_Stacker())
    assert e.value.rule == "valid-packing"
    with pytest.raises(SolverCheckError, match="same seed") as e:
        check_solver(_Stacker(valid=True, flaky=True))
    assert e.value.rule == "same-seed"
    with pytest.raises(SolverCheckError) as e:
        check_solver(object())
    assert e.value.rule == "protocol"
    check_solver(_Stacker(valid=True))


def test_solvers_are_listed_by_kind():
    from packzoo.solvers import KINDS

    assert set(list_solvers(kind="heuristic")) >= {"random", "lsa-lws", "best-order", "local-search"}
    assert list_solvers(kind="exact") == ["exact"]
    assert "ptrnet-greedy" in list_solvers(kind="learned")
    assert sorted(sum((list_solvers(kind=k) for k in KINDS), [])) == list_solvers()
    with pytest.raises(ValueError, match="kind"):
        list_solvers(kind="magic")
