"""The LP as a PuLP problem, solved by HiGHS (``highs-pulp``) or CBC through PuLP.

PuLP reports a HiGHS time limit or interrupt as "Optimal"; the solver's own model status is read
instead (:func:`stockpile.solve.backends.highs.highs_status`).
"""

from __future__ import annotations

import shutil
import struct
import tempfile
import time
from pathlib import Path

import pulp

from stockpile.errors import SolveError
from stockpile.model.lp import INF, LinearProgram
from stockpile.solve.backends.highs import Basis, highs_status
from stockpile.solve.backends.solver_output import new_highs, solver_stdout_diverted, solver_talks
from stockpile.solve.backends.names import UniqueFileNames
from stockpile.solve.status import SolverRun, SolveStatus

PULP_REWRITES = "/"
"""Characters of the file names (stockpile.solve.backends.names) that PuLP itself turns into ``_``."""


def cbc_path() -> str:
    """The CBC program: on the PATH, or the one PuLP bundles."""
    found = shutil.which("cbc")
    if found:
        return found
    bundled = Path(pulp.__file__).parent / "solverdir" / "cbc" / "linux" / "i64" / "cbc"
    if bundled.exists():
        return str(bundled)
    raise SolveError("CBC was not found: install it (apt-get install coinor-cbc) or use --solver highs")


class PulpBackend:
    """The LP as a PuLP problem, solved by HiGHS or CBC through PuLP."""

    can_warm_start = False
    """``start_basis`` and ``from_previous`` are ignored: every solve starts from scratch."""
    can_patch = False
    """No ``patch``: a changed LP is a new PuLP problem."""

    def __init__(self, lp: LinearProgram, solver: str):
        self.lp = lp
        self.solver = solver
        self.problem = pulp.LpProblem(lp.name, pulp.LpMinimize)
        self._col_names = UniqueFileNames(also=PULP_REWRITES)
        self._row_names = UniqueFileNames(also=PULP_REWRITES)
        self.columns = [self._add_column(lp, c) for c in range(lp.n_cols)]
        self.rows: dict[int, pulp.LpConstraint] = {}
        self._added_rows = 0
        self.sync_rows()

    def version(self) -> str:
        """The solver and how it is reached, for the workbook's Summary and the JSON summary."""
        if self.solver == "highs":
            h = new_highs()
            return f"HiGHS {h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()} (through PuLP {pulp.__version__})"
        return f"CBC at {cbc_path()} (PuLP {pulp.__version__})"

    def _add_column(self, lp: LinearProgram, col: int) -> pulp.LpVariable:
        lower, upper = lp.col_lower[col], lp.col_upper[col]
        return self.problem.add_variable(
            self._col_names(lp.col_name(col)),
            lowBound=None if lower == -INF else lower,
            upBound=None if upper == INF else upper,
        )

    def sync_rows(self) -> None:
        """Add to the PuLP problem the rows added to the LP since the last call.

        A row with an infinite right-hand side constrains nothing; it is left out until
        :meth:`set_rhs` gives it a finite one (LP and MPS files cannot carry it). So is a row with
        no terms that 0 satisfies (``partner_share[m,y]`` at a floor of 100% with only trusted
        options): PuLP would write it with a dummy column, and some readers stop on it. One that
        0 does not satisfy is kept: the model is infeasible, and the solver must say so.
        """
        for row in range(self._added_rows, self.lp.n_rows):
            if abs(self.lp.row_rhs[row]) != INF and not self._empty_and_satisfied(row):
                self._add_row(row)
        self._added_rows = self.lp.n_rows

    def _empty_and_satisfied(self, row: int) -> bool:
        lp = self.lp
        if lp.row_cols[row]:
            return False
        rhs, sense = lp.row_rhs[row], lp.row_sense[row]
        return rhs == 0 if sense == "=" else (rhs <= 0 if sense == ">=" else rhs >= 0)

    def _add_row(self, row: int) -> None:
        lp = self.lp
        senses = {"=": pulp.LpConstraintEQ, ">=": pulp.LpConstraintGE, "<=": pulp.LpConstraintLE}
        expr = pulp.LpAffineExpression([(self.columns[c], a) for c, a in zip(lp.row_cols[row], lp.row_coefs[row])])
        constraint = pulp.LpConstraint(expr, senses[lp.row_sense[row]], rhs=lp.row_rhs[row])
        self.problem.addConstraint(constraint, self._row_names(lp.row_name(row)))
        self.rows[row] = constraint

    def set_rhs(self, row: int, rhs: float) -> None:
        self.sync_rows()
        self.lp.row_rhs[row] = rhs
        if row in self.rows:
            if abs(rhs) == INF:
                raise ValueError("a row already passed to PuLP cannot be made inactive")
            self.rows[row].changeRHS(rhs)
        elif abs(rhs) != INF:
            self._add_row(row)

    def set_coefficient(self, row: int, col: int, value: float) -> None:
        """Set the coefficient of column ``col`` in ``row`` (adding the entry if the row has none),
        in the PuLP problem and in the LP."""
        self.sync_rows()
        self.lp.set_coefficient(row, col, value)
        if row in self.rows:  # else added, from the LP, when the row gets a finite right-hand side
            self.rows[row].expr[self.columns[col]] = value

    def set_bounds(self, col: int, lower: float, upper: float) -> None:
        """Change a column's bounds."""
        self.lp.col_lower[col], self.lp.col_upper[col] = lower, upper
        self.columns[col].lowBound = None if lower == -INF else lower
        self.columns[col].upBound = None if upper == INF else upper

    def clear_solver(self) -> None:
        """Nothing to forget: every solve starts from scratch."""

    def solve(self, objective: dict[int, float], time_limit: float, start_basis: Basis | None = None,
              values: bool = True, from_previous: bool = False) -> SolverRun:
        """One solve (``start_basis`` and ``from_previous`` are ignored; values are always read back)."""
        self.sync_rows()
        self.problem.setObjective(pulp.LpAffineExpression(
            [(self.columns[c], a) for c, a in sorted(objective.items())]))
        started = time.perf_counter()
        try:
            if self.solver == "highs":
                run = self._solve_highs(time_limit)
            else:
                run = self._solve_cbc(time_limit)
        except KeyboardInterrupt:
            return SolverRun(SolveStatus.INTERRUPTED, seconds=time.perf_counter() - started,
                             detail="interrupted (Ctrl-C)")
        except pulp.PulpSolverError as exc:
            return SolverRun(SolveStatus.ERROR, seconds=time.perf_counter() - started, detail=str(exc))
        run.seconds = time.perf_counter() - started
        if run.status.is_ok:
            run.x = [v.varValue if v.varValue is not None else 0.0 for v in self.columns]
            run.duals = [self.rows[r].pi if r in self.rows and self.rows[r].pi is not None else 0.0
                         for r in range(self.lp.n_rows)]
            run.objective = sum(a * run.x[c] for c, a in objective.items())
        return run

    def _solve_highs(self, time_limit: float) -> SolverRun:
        with solver_stdout_diverted():
            self.problem.solve(pulp.HiGHS(msg=solver_talks(), timeLimit=time_limit, mip=False))
        status = self.problem.solverModel.getModelStatus()
        return SolverRun(highs_status(status), detail=self.problem.solverModel.modelStatusToString(status))

    def _solve_cbc(self, time_limit: float) -> SolverRun:
        """CBC through PuLP, its values read back at full precision.

        PuLP reads CBC's text solution, which prints 8 significant digits: a 24,000 t goal's
        shortfall comes back 5e-4 t off, and a stage optimum 2e-8 relative below the true one
        (the next stage, holding it, is then infeasible). CBC is asked to also save its solution
        in binary (``saveSolution``, after the solve), and the values and duals are taken from
        there; PuLP's reading still gives the status.
        """
        with tempfile.TemporaryDirectory(prefix="stockpile-cbc-") as tmp:
            binary = Path(tmp) / "solution.bin"
            solver = pulp.COIN_CMD(path=cbc_path(), msg=solver_talks(), mip=False,
                                   timeLimit=max(1, int(time_limit)), keepFiles=False,
                                   options=["initialSolve", f"saveSolution {binary}"])
            solver.tmpDir = tmp
            with solver_stdout_diverted():
                self.problem.solve(solver)
            full = read_cbc_solution(binary) if binary.exists() else None
        status, sol_status = self.problem.status, self.problem.sol_status
        if status == pulp.LpStatusOptimal and sol_status == pulp.LpSolutionOptimal:
            constraints = list(self.rows.values())  # in the order added, as PuLP writes them
            if full is None or len(full[1]) != len(constraints) or len(full[2]) != len(self.problem.variables()):
                return SolverRun(SolveStatus.ERROR, detail="CBC wrote no full-precision solution")
            duals, values = full[1], full[2]
            for variable, value in zip(self.problem.variables(), values):
                variable.varValue = value
            for constraint, dual in zip(constraints, duals):
                constraint.pi = dual
            return SolverRun(SolveStatus.OPTIMAL, detail="Optimal")
        if status == pulp.LpStatusInfeasible:
            return SolverRun(SolveStatus.INFEASIBLE, detail="Infeasible")
        if status == pulp.LpStatusUnbounded:
            return SolverRun(SolveStatus.UNBOUNDED, detail="Unbounded")
        if status == pulp.LpStatusOptimal:
            return SolverRun(SolveStatus.TIME_LIMIT, detail="stopped before proving optimality")
        return SolverRun(SolveStatus.ERROR, detail=pulp.LpStatus.get(status, str(status)))

    def write(self, path: Path, objective: dict[int, float] | None = None) -> None:
        """Write the current problem as an LP or MPS file (by suffix)."""
        self.sync_rows()
        if objective is not None:
            self.problem.setObjective(pulp.LpAffineExpression(
                [(self.columns[c], a) for c, a in sorted(objective.items())]))
        if path.suffix.lower() == ".mps":
            self.problem.writeMPS(str(path))
        else:
            self.problem.writeLP(str(path))


def read_cbc_solution(path: Path) -> tuple[float, list[float], list[float]]:
    """(objective, row duals, column values) from CBC's ``saveSolution`` file.

    Its layout (CbcOrClpParam.cpp, saveSolution): two ints, the numbers of rows and columns; the
    objective (a double); then doubles: row activities, row duals, column values, reduced costs,
    rows and columns in the order of the MPS file PuLP wrote (its constraints and variables).
    """
    data = path.read_bytes()
    rows, cols = struct.unpack_from("=ii", data, 0)
    offset = struct.calcsize("=ii")
    (objective,) = struct.unpack_from("=d", data, offset)
    doubles = struct.unpack_from(f"={2 * rows + 2 * cols}d", data, offset + 8)
    return objective, list(doubles[rows:2 * rows]), list(doubles[2 * rows:2 * rows + cols])

