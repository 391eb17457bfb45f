"""How a solver call ended: typed statuses, one run's outcome, and the error a failed stage raises.

Every backend normalises its solver's own status into a :class:`SolveStatus` (PuLP reports a HiGHS
time limit or interrupt as "Optimal": the backends read the solver's model status instead). A
``StrEnum`` compares equal to its string, so ``run.status == "optimal"`` keeps working; code tests
the enum (``run.status.is_ok``), never the solver's message text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from stockpile.errors import SolveError


class SolveStatus(StrEnum):
    """The outcome of one solver call, whatever the solver."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"
    INTERRUPTED = "interrupted"
    ERROR = "error"

    @property
    def is_ok(self) -> bool:
        """True when the run proved an optimum (its values and duals can be read)."""
        return self is SolveStatus.OPTIMAL

    @property
    def stopped_early(self) -> bool:
        """True when the solver was stopped (time limit, Ctrl-C) before it could say anything
        about the model: nothing is known about its feasibility."""
        return self in (SolveStatus.TIME_LIMIT, SolveStatus.INTERRUPTED)


@dataclass
class SolverRun:
    """One solver call, normalised."""

    status: SolveStatus
    objective: float | None = None
    x: list[float] | None = None
    duals: list[float] | None = None
    seconds: float = 0.0
    detail: str = ""
    basis: Any = None


class StageFailed(SolveError):
    """A stage of the solve ended without an optimal plan; ``status`` says how."""

    def __init__(self, message: str, stage: str, status: SolveStatus):
        super().__init__(message)
        self.stage = stage
        self.status = status
