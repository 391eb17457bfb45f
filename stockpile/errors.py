"""Errors a planner can act on.

Every problem with a file a planner wrote (a scenario, a data CSV, a saved plan) is raised as
:class:`InputError`, which names the file, the key path or line/column, and the reason.
The CLI turns it into a one-paragraph message and exit code 2, never a traceback.
"""

from __future__ import annotations

from pathlib import Path


class StockpileError(Exception):
    """Base class of every error stockpile reports to its user without a traceback."""

    exit_code = 1


class InputError(StockpileError):
    """A bad input file: which file, where in it, and why.

    ``where`` is a key path such as ``supply[3].capacity.2029`` for TOML files, or
    ``line 12, column tonnes`` for CSV files.
    """

    exit_code = 2

    def __init__(self, file: str | Path | None, where: str | None, reason: str):
        self.file = str(file) if file is not None else None
        self.where = where or None
        self.reason = reason
        super().__init__(self.message)

    @property
    def message(self) -> str:
        head = self.file or "<input>"
        if self.where:
            head = f"{head}: {self.where}"
        return f"{head}: {self.reason}"


class InputErrors(InputError):
    """Several problems found in one file, reported together so a planner fixes them in one pass."""

    def __init__(self, errors: list[InputError]):
        self.errors = errors
        first = errors[0]
        super().__init__(first.file, first.where, first.reason)

    @property
    def message(self) -> str:
        return "\n".join(e.message for e in self.errors)


class SolveError(StockpileError):
    """The solver did not return an optimal plan (time limit, infeasible, numerical trouble)."""

    exit_code = 1


class AuditError(StockpileError):
    """A solved plan failed its independent audit: a defect in stockpile, never the planner's fault."""

    exit_code = 3
