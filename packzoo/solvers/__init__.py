"""Everything that packs: heuristics, the exact CP-SAT solver, the pointer network, SB3 agents.

Importing this package registers every solver; ``list_solvers()`` names them.
"""

from packzoo.solvers.base import (
    KINDS,
    SOLVER_RULES,
    SOLVERS,
    BaseSolver,
    Solution,
    Solver,
    SolverCheckError,
    UnsupportedMode,
    check_solver,
    check_supported,
    create_solver,
    list_solvers,
    pack_in_order,
    register_solver,
    rollout,
    solver_card,
)

# Each plug-in module registers its solvers on import (heavy libraries are imported lazily inside
# the solvers, so this stays fast).
from packzoo.solvers import exact as _exact  # noqa: E402,F401
from packzoo.solvers import heuristics as _heuristics  # noqa: E402,F401
from packzoo.solvers import modes as _modes  # noqa: E402,F401
from packzoo.solvers import ptrnet as _ptrnet  # noqa: E402,F401
from packzoo.solvers import sb3 as _sb3  # noqa: E402,F401

__all__ = [
    "KINDS",
    "SOLVER_RULES",
    "SOLVERS",
    "BaseSolver",
    "Solution",
    "Solver",
    "SolverCheckError",
    "UnsupportedMode",
    "check_solver",
    "check_supported",
    "create_solver",
    "list_solvers",
    "pack_in_order",
    "register_solver",
    "rollout",
    "solver_card",
]
