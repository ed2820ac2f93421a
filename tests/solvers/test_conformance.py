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


def test_check_solver_catches_broken_solvers():
    with pytest.raises(SolverCheckError, match="invalid packing"):
        check_solver(_Stacker())
    with pytest.raises(SolverCheckError, match="same seed"):
        check_solver(_Stacker(valid=True, flaky=True))
    check_solver(_Stacker(valid=True))
