"""The LP passed straight to HiGHS (highspy) as sparse arrays: the default backend.

It warm-starts from a basis and changes bounds, right-hand sides and coefficients in place
(:meth:`HighsBackend.patch`), which sweeps and ``min-budget`` use instead of rebuilding.
"""

from __future__ import annotations

import time
from pathlib import Path

from stockpile.model.lp import LinearProgram
from stockpile.solve.backends.names import file_names
from stockpile.solve.backends.solver_output import new_highs
from stockpile.solve.status import SolverRun, SolveStatus

PRIMAL_SIMPLEX, DEFAULT_SIMPLEX = 4, 1
"""HiGHS's simplex_strategy values: 4 primal, 1 dual (its default)."""

Basis = tuple[tuple[int, ...], tuple[int, ...]]
"""A simplex basis as plain ints (column statuses, row statuses): picklable (see basis_ints).
Within one process, runs keep HiGHS's own basis object, which warm-starts without converting."""


class HighsBackend:
    """The LP passed straight to HiGHS (highspy) as sparse arrays.

    The matrix is built once; later stages change only the objective (and add the
    lexicographic rows), so HiGHS starts each stage from the previous basis.
    """

    can_warm_start = True
    """``solve`` starts from a basis given (``start_basis``) or left by the previous run."""
    can_patch = True
    """``patch`` turns the loaded LP into another of the same shape in place."""

    def __init__(self, lp: LinearProgram, method: str = "simplex"):
        import highspy
        import numpy as np

        self.lp = lp
        self.highs = new_highs()  # nothing on stdout (see solver_output)
        self.highs.setOptionValue("solver", method)
        self.method = method
        self.inf = highspy.kHighsInf
        model = highspy.HighsLp()
        model.num_col_ = lp.n_cols
        model.num_row_ = lp.n_rows
        model.col_cost_ = np.zeros(lp.n_cols)
        model.col_lower_ = np.array(lp.col_lower, dtype=float).clip(-self.inf, self.inf)
        model.col_upper_ = np.array(lp.col_upper, dtype=float).clip(-self.inf, self.inf)
        lower, upper = self._row_bounds(0, lp.n_rows)
        model.row_lower_, model.row_upper_ = lower, upper
        starts, index, value = self._rows_csr(0, lp.n_rows)
        model.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        model.a_matrix_.start_ = starts
        model.a_matrix_.index_ = index
        model.a_matrix_.value_ = value
        model.a_matrix_.num_col_ = lp.n_cols
        model.a_matrix_.num_row_ = lp.n_rows
        self.highs.passModel(model)
        self._added_rows = lp.n_rows
        self._cost_cols = np.zeros(0, dtype=np.int32)  # columns with a nonzero cost in HiGHS

    def version(self) -> str:
        """The solver and how it is reached, for the workbook's Summary and the JSON summary."""
        h = self.highs
        method = "interior point" if self.method == "ipm" else "simplex"
        return f"HiGHS {h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()} (highspy, {method})"

    def _row_bounds(self, first: int, last: int):
        import numpy as np

        senses = self.lp.row_sense[first:last]
        rhs = np.array(self.lp.row_rhs[first:last], dtype=float)
        lower = np.where([s == "<=" for s in senses], -self.inf, rhs) if senses else np.zeros(0)
        upper = np.where([s == ">=" for s in senses], self.inf, rhs) if senses else np.zeros(0)
        return lower, upper

    def _rows_csr(self, first: int, last: int):
        import numpy as np

        lengths = [len(cols) for cols in self.lp.row_cols[first:last]]
        starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
        index = np.fromiter((c for cols in self.lp.row_cols[first:last] for c in cols), dtype=np.int32,
                            count=int(starts[-1]))
        value = np.fromiter((a for coefs in self.lp.row_coefs[first:last] for a in coefs), dtype=float,
                            count=int(starts[-1]))
        return starts, index, value

    def sync_rows(self) -> None:
        first, last = self._added_rows, self.lp.n_rows
        if last > first:
            lower, upper = self._row_bounds(first, last)
            starts, index, value = self._rows_csr(first, last)
            self.highs.addRows(last - first, lower, upper, len(index), starts[:-1], index, value)
        self._added_rows = last

    def set_rhs(self, row: int, rhs: float) -> None:
        """Change a row's right-hand side (``<=`` rows: upper bound; ``>=``: lower; ``=``: both)."""
        self.sync_rows()
        self.lp.row_rhs[row] = rhs
        sense = self.lp.row_sense[row]
        bound = max(min(rhs, self.inf), -self.inf)
        lower = -self.inf if sense == "<=" else bound
        upper = self.inf if sense == ">=" else bound
        self.highs.changeRowBounds(row, lower, upper)

    def set_coefficient(self, row: int, col: int, value: float) -> None:
        """Set the coefficient of column ``col`` in ``row`` (adding the entry if the row has none),
        in HiGHS and in the LP."""
        self.sync_rows()
        self.lp.set_coefficient(row, col, value)
        self.highs.changeCoeff(row, col, value)

    def set_bounds(self, col: int, lower: float, upper: float) -> None:
        """Change a column's bounds."""
        self.lp.col_lower[col], self.lp.col_upper[col] = lower, upper
        self.highs.changeColBounds(col, max(lower, -self.inf), min(upper, self.inf))

    def patch(self, old: LinearProgram, new: LinearProgram) -> None:
        """Change in HiGHS every bound, right-hand side and coefficient where ``new`` differs from
        ``old`` (the LP loaded, of the same shape: :meth:`LinearProgram.same_shape`);
        ``new`` is then the LP this backend solves.

        Whole lists are compared first (in C): a sweep point usually changes only right-hand sides.
        """
        highs, inf = self.highs, self.inf
        if old.col_lower != new.col_lower or old.col_upper != new.col_upper:
            for col, (lo_old, up_old, lo, up) in enumerate(zip(old.col_lower, old.col_upper, new.col_lower,
                                                               new.col_upper)):
                if lo_old != lo or up_old != up:
                    highs.changeColBounds(col, max(lo, -inf), min(up, inf))
        if old.row_coefs != new.row_coefs:
            for row, (before_row, after_row) in enumerate(zip(old.row_coefs, new.row_coefs)):
                if before_row != after_row:
                    for col, before, after in zip(new.row_cols[row], before_row, after_row):
                        if before != after:
                            highs.changeCoeff(row, col, after)
        self.lp = new
        if old.row_rhs != new.row_rhs:
            for row, (before, after) in enumerate(zip(old.row_rhs, new.row_rhs)):
                if before != after:
                    self.set_rhs(row, after)

    def clear_solver(self) -> None:
        """Forget the basis and factorisation (the model stays): the next run starts cold."""
        self.highs.clearSolver()

    def _set_costs(self, objective: dict[int, float]):
        """Make ``objective`` the model's costs, touching only the columns whose cost changes
        (objectives are sparse: a stage's few hundred columns, not the whole model)."""
        import numpy as np

        cols = np.fromiter(objective.keys(), dtype=np.int32, count=len(objective))
        values = np.fromiter(objective.values(), dtype=float, count=len(objective))
        stale = np.setdiff1d(self._cost_cols, cols, assume_unique=True)
        if len(stale):
            self.highs.changeColsCost(len(stale), stale, np.zeros(len(stale)))
        if len(cols):
            self.highs.changeColsCost(len(cols), cols, values)
        self._cost_cols = cols

    def solve(self, objective: dict[int, float], time_limit: float, start_basis=None, values: bool = True,
              from_previous: bool = False) -> SolverRun:
        """One solve; ``start_basis``: a basis from an earlier run (HiGHS's own object within a
        process, or plain ints, see :data:`Basis`). ``values=False`` skips reading the primal and
        dual values back (a lexicographic stage whose successor needs only its objective).

        ``from_previous``: the previous run's optimal vertex is feasible here and near this
        objective's optimum (the cost stage after the readiness stage). An interior-point backend
        then runs primal simplex from that vertex (crossover's basis) instead of interior point
        from scratch: on 500 sampled futures of the baseline, 13 s against 54 s, the same optimum.
        Not for the readiness stage after the deficit stage, whose optimum (often 0) says little
        about readiness: 111 s against 7 s on 250 futures.
        """
        if not (from_previous and self.method == "ipm" and self.highs.getBasis().valid):
            return self._solve(objective, time_limit, start_basis, values)
        self.highs.setOptionValue("solver", "simplex")
        self.highs.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
        try:
            return self._solve(objective, time_limit, start_basis, values)
        finally:
            self.highs.setOptionValue("solver", self.method)
            self.highs.setOptionValue("simplex_strategy", DEFAULT_SIMPLEX)

    def _solve(self, objective: dict[int, float], time_limit: float, start_basis, values: bool) -> SolverRun:
        import highspy

        self.sync_rows()
        if start_basis is not None:
            self.highs.setBasis(start_basis if isinstance(start_basis, highspy.HighsBasis)
                                else highs_basis(start_basis))
        self._set_costs(objective)
        # HiGHS measures its time limit against its run clock, which accumulates over every run()
        # of this object (the stages, the points of a sweep): the limit is that clock plus ours.
        self.highs.setOptionValue("time_limit", self.highs.getRunTime() + float(time_limit))
        started = time.perf_counter()
        try:
            self.highs.run()
        except KeyboardInterrupt:
            return SolverRun(SolveStatus.INTERRUPTED, seconds=time.perf_counter() - started,
                             detail="interrupted (Ctrl-C)")
        status = self.highs.getModelStatus()
        run = SolverRun(highs_status(status), seconds=time.perf_counter() - started,
                        detail=self.highs.modelStatusToString(status))
        if run.status.is_ok:
            run.objective = float(self.highs.getInfo().objective_function_value)
            if values:
                solution = self.highs.getSolution()
                run.x = solution.col_value  # already a new Python list
                run.duals = solution.row_dual
            run.basis = self.highs.getBasis()
        return run

    def write(self, path: Path, objective: dict[int, float] | None = None) -> None:
        """Write the current model as an LP or MPS file (HiGHS picks the format by suffix).

        Rows and columns are named here, not when the model is passed: names are only for files
        (``balance(Sb,2028)``, see :mod:`stockpile.solve.backends.names`), and solves stay as fast.
        Rows with no terms are left out (:func:`exportable_rows`): GLPK stops on them. The file is
        written from a copy, so the loaded model and its basis stay as they were."""
        import highspy

        self.sync_rows()
        if objective is not None:
            self._set_costs(objective)
        lp = self.lp
        copy = highspy.Highs()
        copy.setOptionValue("output_flag", False)
        copy.passModel(self.highs.getLp())
        kept = exportable_rows(lp)
        dropped = sorted(set(range(lp.n_rows)) - set(kept))
        if dropped:
            copy.deleteRows(len(dropped), dropped)
        names = list(file_names(lp.col_name(c) for c in range(lp.n_cols)))
        for col, name in enumerate(names):
            copy.passColName(col, name)
        for row, name in enumerate(file_names(lp.row_name(r) for r in kept)):
            copy.passRowName(row, name)
        copy.writeModel(str(path))
        if Path(path).suffix.lower() == ".lp" and names:
            _write_zero_objective(Path(path), names[0])


def _write_zero_objective(path: Path, column: str) -> None:
    """An LP file with nothing to minimise (a stage whose objective has no terms, e.g. readiness
    with every goal 0) gets ``obj: 0 column``: HiGHS writes ``obj:`` with no term, and GLPK's LP
    reader stops on it ("missing variable name"). MPS files need no such term."""
    text = path.read_text(encoding="utf-8")
    if "\n obj: \n" not in text:
        return
    path.write_text(text.replace("\n obj: \n", f"\n obj: 0 {column}\n", 1), encoding="utf-8")


def exportable_rows(lp: LinearProgram) -> list[int]:
    """The rows an exported model keeps: every row with at least one term.

    A row with no terms (``partner_share[m,y]`` when every option orderable that FY is trusted
    and the floor is 100%: each coefficient trusted - floor is 0) constrains nothing when its
    right-hand side admits 0, which it does whenever a model is written (the deficit stage was
    solved first, so no row is infeasible on its own).
    """
    return [row for row in range(lp.n_rows) if lp.row_cols[row]]


def highs_status(status) -> SolveStatus:
    """HiGHS's model status as a :class:`SolveStatus` (PuLP would call a time limit optimal)."""
    import highspy

    return {
        highspy.HighsModelStatus.kOptimal: SolveStatus.OPTIMAL,
        highspy.HighsModelStatus.kInfeasible: SolveStatus.INFEASIBLE,
        highspy.HighsModelStatus.kUnboundedOrInfeasible: SolveStatus.INFEASIBLE,
        highspy.HighsModelStatus.kUnbounded: SolveStatus.UNBOUNDED,
        highspy.HighsModelStatus.kTimeLimit: SolveStatus.TIME_LIMIT,
        highspy.HighsModelStatus.kInterrupt: SolveStatus.INTERRUPTED,
    }.get(status, SolveStatus.ERROR)


def basis_ints(basis) -> Basis:
    """A HiGHS basis as plain ints, to store or send to another process."""
    return (tuple(int(v) for v in basis.col_status), tuple(int(v) for v in basis.row_status))


def highs_basis(statuses: Basis):
    """Plain ints (:func:`basis_ints`) as a HiGHS basis, to warm-start from in this process."""
    import highspy

    basis = highspy.HighsBasis()
    basis.col_status = [highspy.HighsBasisStatus(v) for v in statuses[0]]
    basis.row_status = [highspy.HighsBasisStatus(v) for v in statuses[1]]
    basis.valid = True
    return basis
