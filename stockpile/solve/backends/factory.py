"""The one place a solver name meets a backend class.

Everything else asks the backend what it can do (``can_warm_start``, ``can_patch``) and what it
is (``version()``), never compares solver names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stockpile.model.lp import LinearProgram
from stockpile.scenario.schema import check_solver_name
from stockpile.solve.backends.highs import HighsBackend

if TYPE_CHECKING:  # imported by make_backend only for a PuLP solver: 20 ms a HiGHS solve need not pay
    from stockpile.solve.backends.pulp import PulpBackend


def make_backend(lp: LinearProgram, solver: str) -> HighsBackend | PulpBackend:
    """``highs``: HiGHS simplex through highspy; ``highs-ipm``: its interior point; ``highs-pulp``
    and ``cbc``: through PuLP. An unknown name is an :class:`InputError` naming the known ones."""
    match solver:
        case "highs":
            return HighsBackend(lp)
        case "highs-ipm":
            return HighsBackend(lp, method="ipm")
        case "highs-pulp" | "cbc":
            from stockpile.solve.backends.pulp import PulpBackend

            return PulpBackend(lp, "highs" if solver == "highs-pulp" else "cbc")
    check_solver_name(solver, "solver")
    raise AssertionError(f"solver {solver!r} is in SOLVERS but has no backend")


def solver_for_large_models(solver: str) -> str:
    """The solver to use instead of ``solver`` on a very large LP (a hedge's tree of futures):
    HiGHS's interior point for its simplex, any other solver as it is."""
    return "highs-ipm" if solver == "highs" else solver
