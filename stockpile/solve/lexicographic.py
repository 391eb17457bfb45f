"""Solving the LP: PuLP with HiGHS (default) or CBC, and the lexicographic sequence.

PuLP reports a HiGHS time limit or interrupt as "Optimal"; the solver's own model status is read
instead, and every outcome is normalised into :class:`SolverRun.status`.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulp

from stockpile.errors import SolveError
from stockpile.model.lp import INF, LinearProgram
from stockpile.model.build import StockpileModel
from stockpile.scenario.schema import Scenario

OPTIMAL, INFEASIBLE, UNBOUNDED, TIME_LIMIT, INTERRUPTED, ERROR = (
    "optimal", "infeasible", "unbounded", "time_limit", "interrupted", "error")


@dataclass
class SolverRun:
    """One solver call, normalised."""

    status: str
    objective: float | None = None
    x: list[float] | None = None
    duals: list[float] | None = None
    seconds: float = 0.0
    detail: str = ""
    basis: Any = None


@dataclass
class Solution:
    """The outcome of the whole (lexicographic or weighted) solve."""

    status: str
    solver: str
    solver_version: str
    x: list[float]
    readiness_duals: list[float] | None
    objective_values: dict[str, float]
    stages: list[tuple[str, SolverRun]] = field(default_factory=list)
    seconds: float = 0.0
    bases: "dict[str, Any] | None" = None
    """Each stage's optimal basis (HiGHS only, its own objects), to warm-start the same stage at
    another point in this process (stockpile.solve.basis_ints makes them portable)."""


def solver_version(name: str) -> str:
    if name.startswith("highs"):
        import highspy

        h = highspy.Highs()
        version = f"HiGHS {h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
        return {"highs": f"{version} (highspy, simplex)", "highs-ipm": f"{version} (highspy, interior point)",
                "highs-pulp": f"{version} (through PuLP {pulp.__version__})"}[name]
    return f"CBC at {_cbc_path()} (PuLP {pulp.__version__})"


def _cbc_path() -> str:
    found = shutil.which("cbc")
    if found:
        return found
    bundled = Path(pulp.__file__).parent / "solverdir" / "cbc" / "linux" / "i64" / "cbc"
    if bundled.exists():
        return str(bundled)
    raise SolveError("CBC was not found: install it (apt-get install coinor-cbc) or use --solver highs")


class PulpBackend:
    """The LP as a PuLP problem, solved by HiGHS or CBC through PuLP."""

    def __init__(self, lp: LinearProgram, solver: str):
        self.lp = lp
        self.solver = solver
        self.problem = pulp.LpProblem(lp.name, pulp.LpMinimize)
        self.columns = [self._add_column(lp, c) for c in range(lp.n_cols)]
        self.rows: dict[int, pulp.LpConstraint] = {}
        self._added_rows = 0
        self.sync_rows()

    def _add_column(self, lp: LinearProgram, col: int) -> pulp.LpVariable:
        lower, upper = lp.col_lower[col], lp.col_upper[col]
        return self.problem.add_variable(
            f"x{col}_{_safe(lp.col_name(col))}",
            lowBound=None if lower == -INF else lower,
            upBound=None if upper == INF else upper,
        )

    def sync_rows(self) -> None:
        """Add to the PuLP problem the rows added to the LP since the last call.

        A row with an infinite right-hand side constrains nothing; it is left out until
        :meth:`set_row_rhs` gives it a finite one (LP and MPS files cannot carry it).
        """
        for row in range(self._added_rows, self.lp.n_rows):
            if abs(self.lp.row_rhs[row]) != INF:
                self._add_row(row)
        self._added_rows = self.lp.n_rows

    def _add_row(self, row: int) -> None:
        lp = self.lp
        senses = {"=": pulp.LpConstraintEQ, ">=": pulp.LpConstraintGE, "<=": pulp.LpConstraintLE}
        expr = pulp.LpAffineExpression([(self.columns[c], a) for c, a in zip(lp.row_cols[row], lp.row_coefs[row])])
        constraint = pulp.LpConstraint(expr, senses[lp.row_sense[row]], rhs=lp.row_rhs[row])
        self.problem.addConstraint(constraint, f"r{row}_{_safe(lp.row_name(row))}")
        self.rows[row] = constraint

    def set_row_rhs(self, row: int, rhs: float) -> None:
        self.sync_rows()
        self.lp.row_rhs[row] = rhs
        if row in self.rows:
            if abs(rhs) == INF:
                raise ValueError("a row already passed to PuLP cannot be made inactive")
            self.rows[row].changeRHS(rhs)
        elif abs(rhs) != INF:
            self._add_row(row)

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
            return SolverRun(INTERRUPTED, seconds=time.perf_counter() - started,
                             detail="interrupted (Ctrl-C)")
        except pulp.PulpSolverError as exc:
            return SolverRun(ERROR, seconds=time.perf_counter() - started, detail=str(exc))
        run.seconds = time.perf_counter() - started
        if run.status == OPTIMAL:
            run.x = [v.varValue if v.varValue is not None else 0.0 for v in self.columns]
            run.duals = [self.rows[r].pi if r in self.rows and self.rows[r].pi is not None else 0.0
                         for r in range(self.lp.n_rows)]
            run.objective = sum(a * run.x[c] for c, a in objective.items())
        return run

    def _solve_highs(self, time_limit: float) -> SolverRun:
        import highspy

        self.problem.solve(pulp.HiGHS(msg=False, timeLimit=time_limit, mip=False))
        status = self.problem.solverModel.getModelStatus()
        return SolverRun(_highs_status(status), detail=self.problem.solverModel.modelStatusToString(status))

    def _solve_cbc(self, time_limit: float) -> SolverRun:
        with tempfile.TemporaryDirectory(prefix="stockpile-cbc-") as tmp:
            solver = pulp.COIN_CMD(path=_cbc_path(), msg=False, mip=False,
                                   timeLimit=max(1, int(time_limit)), keepFiles=False)
            solver.tmpDir = tmp
            self.problem.solve(solver)
        status, sol_status = self.problem.status, self.problem.sol_status
        if status == pulp.LpStatusOptimal and sol_status == pulp.LpSolutionOptimal:
            return SolverRun(OPTIMAL, detail="Optimal")
        if status == pulp.LpStatusInfeasible:
            return SolverRun(INFEASIBLE, detail="Infeasible")
        if status == pulp.LpStatusUnbounded:
            return SolverRun(UNBOUNDED, detail="Unbounded")
        if status == pulp.LpStatusOptimal:
            return SolverRun(TIME_LIMIT, detail="stopped before proving optimality")
        return SolverRun(ERROR, detail=pulp.LpStatus.get(status, str(status)))

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


PRIMAL_SIMPLEX, DEFAULT_SIMPLEX = 4, 1
"""HiGHS's simplex_strategy values: 4 primal, 1 dual (its default)."""


class HighsBackend:
    """The LP passed straight to HiGHS (highspy) as sparse arrays.

    The matrix is built once; later stages change only the objective (and add the
    lexicographic rows), so HiGHS starts each stage from the previous basis.
    """

    def __init__(self, lp: LinearProgram, method: str = "simplex"):
        import highspy
        import numpy as np

        self.lp = lp
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
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

    def set_row_rhs(self, row: int, rhs: float) -> None:
        """Change a row's right-hand side (``<=`` rows: upper bound; ``>=``: lower; ``=``: both)."""
        self.sync_rows()
        self.lp.row_rhs[row] = rhs
        sense = self.lp.row_sense[row]
        bound = max(min(rhs, self.inf), -self.inf)
        lower = -self.inf if sense == "<=" else bound
        upper = self.inf if sense == ">=" else bound
        self.highs.changeRowBounds(row, lower, upper)

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
                                else _highs_basis(start_basis))
        self._set_costs(objective)
        # HiGHS measures its time limit against its run clock, which accumulates over every run()
        # of this object (the stages, the points of a sweep): the limit is that clock plus ours.
        self.highs.setOptionValue("time_limit", self.highs.getRunTime() + float(time_limit))
        started = time.perf_counter()
        try:
            self.highs.run()
        except KeyboardInterrupt:
            return SolverRun(INTERRUPTED, seconds=time.perf_counter() - started, detail="interrupted (Ctrl-C)")
        status = self.highs.getModelStatus()
        run = SolverRun(_highs_status(status), seconds=time.perf_counter() - started,
                        detail=self.highs.modelStatusToString(status))
        if run.status == OPTIMAL:
            run.objective = float(self.highs.getInfo().objective_function_value)
            if values:
                solution = self.highs.getSolution()
                run.x = solution.col_value  # already a new Python list
                run.duals = solution.row_dual
            run.basis = self.highs.getBasis()
        return run

    def write(self, path: Path, objective: dict[int, float] | None = None) -> None:
        """Write the current model as an LP or MPS file (HiGHS picks the format by suffix)."""
        self.sync_rows()
        if objective is not None:
            self._set_costs(objective)
        self.highs.writeModel(str(path))


def _highs_status(status) -> str:
    """HiGHS's model status as one of this module's statuses (PuLP would call a time limit optimal)."""
    import highspy

    return {
        highspy.HighsModelStatus.kOptimal: OPTIMAL,
        highspy.HighsModelStatus.kInfeasible: INFEASIBLE,
        highspy.HighsModelStatus.kUnboundedOrInfeasible: INFEASIBLE,
        highspy.HighsModelStatus.kUnbounded: UNBOUNDED,
        highspy.HighsModelStatus.kTimeLimit: TIME_LIMIT,
        highspy.HighsModelStatus.kInterrupt: INTERRUPTED,
    }.get(status, ERROR)


def basis_ints(basis) -> Basis:
    """A HiGHS basis as plain ints, to store or send to another process."""
    return (tuple(int(v) for v in basis.col_status), tuple(int(v) for v in basis.row_status))


def _highs_basis(statuses: Basis):
    import highspy

    basis = highspy.HighsBasis()
    basis.col_status = [highspy.HighsBasisStatus(v) for v in statuses[0]]
    basis.row_status = [highspy.HighsBasisStatus(v) for v in statuses[1]]
    basis.valid = True
    return basis


def make_backend(lp: LinearProgram, solver: str):
    """``highs``: highspy directly; ``highs-pulp`` and ``cbc``: through PuLP."""
    if solver == "highs":
        return HighsBackend(lp)
    if solver == "highs-ipm":
        return HighsBackend(lp, method="ipm")
    return PulpBackend(lp, "highs" if solver == "highs-pulp" else solver)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name)[:80]


LEXICOGRAPHIC = ("deficit", "shortfall", "cost")

Basis = tuple[tuple[int, ...], tuple[int, ...]]
"""A simplex basis as plain ints (column statuses, row statuses): picklable (see basis_ints).
Within one process, runs keep HiGHS's own basis object, which warm-starts without converting."""


def objective_scale(terms: dict[int, float]) -> float:
    """The power of two that brings an objective's largest coefficient to between 0.71 and 1.41.

    HiGHS's optimality tolerances are absolute (1e-7), and readiness costs are weight / goal, about
    4e-5 per tonne: unscaled, that stage is solved to a coarse relative precision, HiGHS warns of
    "excessively small costs", and interior point's crossover turns imprecise on large trees (500
    sampled futures of the baseline: 186,000 simplex clean-up iterations, 275 s). Each stage is
    solved with its objective multiplied by this factor; values and duals are divided by it. A
    power of two scales without rounding.
    """
    largest = max((abs(v) for v in terms.values()), default=0.0)
    return 2.0 ** -round(math.log2(largest)) if largest > 0 else 1.0


def add_lexicographic_rows(lp: LinearProgram) -> dict[str, int]:
    """Rows ``lexicographic[deficit]`` and ``lexicographic[shortfall]``: objective_k <= +inf.

    Each stays inactive until its stage is solved, then gets the right-hand side
    ``value_k + max(absolute_tolerance, relative_tolerance * |value_k|)``; or 0 when the optimum
    is 0 (within the absolute tolerance) and every term is a nonnegative column with a positive
    coefficient, which then holds each of them at 0 (presolve removes them, and no bound of 1e-9
    troubles the solver). Added before the first stage so the model's shape is the same in every
    stage (and at every point of a sweep). An objective with no terms needs no row. (Only the
    objective is scaled, :func:`objective_scale`: scaling these rows too would make their bounds
    large, 5e6 on a scenario of millions of tonnes, for no gain measured.)
    """
    return {name: lp.add_row("lexicographic", (name,), dict(lp.objectives[name]), "<=", INF)
            for name in LEXICOGRAPHIC[:2] if lp.objectives.get(name)}


def _lexicographic_rhs(lp: LinearProgram, name: str, value: float, objective) -> float:
    """The right-hand side of ``lexicographic[name]`` once its stage's optimum is ``value``."""
    terms = lp.objectives[name]
    if abs(value) <= objective.absolute_tolerance and all(
            coef > 0 and lp.col_lower[col] >= 0 for col, coef in terms.items()):
        return 0.0
    return value + max(objective.absolute_tolerance, objective.relative_tolerance * abs(value))


def _lexicographic_rows(lp: LinearProgram) -> dict[str, int]:
    """Stage name -> row of :func:`add_lexicographic_rows`."""
    return {lp.row_key[row][0]: row for row, family in enumerate(lp.row_family) if family == "lexicographic"}


def solve_model(model: StockpileModel, solver: str | None = None, time_limit: float | None = None,
                write_model: Path | None = None, start_bases: dict[str, Any] | None = None,
                backend=None, no_deficit_hint: bool = False) -> Solution:
    """Solve the model lexicographically (deficit, then shortfall, then cost) or weighted.

    Each later stage keeps the earlier objectives within tolerance (see
    :func:`add_lexicographic_rows`); each stage's objective goes to the solver scaled by
    :func:`objective_scale`, its value and duals come back unscaled. Marginal values are the duals
    of the readiness (shortfall) stage. ``write_model`` receives that stage's LP. ``start_bases``
    (HiGHS only) starts each stage from a basis, e.g. the same stage's optimum at another sweep
    point.

    ``no_deficit_hint`` (a nearby sweep point had no deficit): the readiness stage is tried first
    with every deficit term held at 0. The deficit terms are nonnegative, so if that is feasible
    the deficit stage's optimum is 0 and the stage is not solved (the LP of the readiness stage
    is exactly the one the deficit stage would have led to); if infeasible, the stages run as
    usual.
    """
    scenario: Scenario = model.scenario
    solver = solver or scenario.solver.name
    time_limit = time_limit or scenario.solver.time_limit
    deadline = time.perf_counter() + time_limit
    lp = model.lp
    objective = scenario.objective
    lexicographic = objective.mode == "lexicographic"
    if lexicographic and "lexicographic" not in lp.row_family:
        add_lexicographic_rows(lp)
    rows = _lexicographic_rows(lp)
    backend = backend or make_backend(lp, solver)
    stages: list[tuple[str, SolverRun]] = []
    bases: dict[str, Basis] = {}
    started = time.perf_counter()

    def run_stage(name: str, terms: dict[int, float], values: bool = True, trial: bool = False,
                  from_previous: bool = False) -> SolverRun:
        if not terms and stages:
            # Nothing to minimise (e.g. no goals): the last stage's plan is optimal, every dual 0.
            # Not sent to the solver: PuLP would add a dummy column CBC's MPS reader rejects.
            previous = stages[-1][1]
            run = SolverRun(OPTIMAL, objective=0.0, x=previous.x, duals=[0.0] * lp.n_rows,
                            basis=previous.basis, detail="empty objective")
            stages.append((name, run))
            return run
        remaining = deadline - time.perf_counter()
        basis = (start_bases or {}).get(name)
        scale = objective_scale(terms)
        scaled = {col: coef * scale for col, coef in terms.items()} if scale != 1.0 else terms
        run = (backend.solve(scaled, max(remaining, 0.01), start_basis=basis, values=values,
                             from_previous=from_previous and basis is None) if remaining > 0
               else SolverRun(TIME_LIMIT))
        if trial and run.status == INFEASIBLE:
            return run
        stages.append((name, run))
        if run.status != OPTIMAL:
            raise SolveError(_failure_message(scenario, name, run, time_limit))
        if scale != 1.0:
            run.objective /= scale
            if run.duals is not None:
                run.duals = [dual / scale for dual in run.duals]
        if run.basis is not None:
            bases[name] = run.basis
        return run

    if not lexicographic:
        weights = {"deficit": objective.deficit_weight, "shortfall": objective.shortfall_weight, "cost": 1.0}
        terms: dict[int, float] = {}
        for name, weight in weights.items():
            for col, coef in lp.objectives.get(name, {}).items():
                terms[col] = terms.get(col, 0.0) + weight * coef
        if write_model is not None:
            backend.write(write_model, objective=terms)
        final = readiness = run_stage("weighted", terms)
    else:
        for row in rows.values():
            backend.set_row_rhs(row, INF)
        first = 0
        if (no_deficit_hint and write_model is None and "deficit" in rows and "shortfall" in rows
                and _lexicographic_rhs(lp, "deficit", 0.0, objective) == 0.0):
            backend.set_row_rhs(rows["deficit"], 0.0)
            readiness = final = run_stage("shortfall", lp.objectives["shortfall"], trial=True)
            if readiness.status == OPTIMAL:
                basis = (start_bases or {}).get("deficit")
                stages.insert(0, ("deficit", SolverRun(OPTIMAL, objective=0.0, basis=basis, detail=(
                    "not solved: the readiness stage found a plan with every deficit held at 0"))))
                if basis is not None:
                    bases["deficit"] = basis
                backend.set_row_rhs(rows["shortfall"], _lexicographic_rhs(lp, "shortfall", final.objective, objective))
                first = 2
            else:
                backend.set_row_rhs(rows["deficit"], INF)
        for stage, name in enumerate(LEXICOGRAPHIC):
            if stage < first:
                continue
            if name == "shortfall" and write_model is not None:
                backend.write(write_model, objective=lp.objectives.get(name, {}))
            # Values are read back where used: the readiness duals, the final plan, and a stage
            # whose successor has nothing to minimise (and so keeps this stage's plan).
            later = LEXICOGRAPHIC[stage + 1:]
            values = name == "shortfall" or not later or not lp.objectives.get(later[0])
            final = run_stage(name, lp.objectives.get(name, {}), values, from_previous=name == "cost")
            if name == "shortfall":
                readiness = final
            if name in rows:
                backend.set_row_rhs(rows[name], _lexicographic_rhs(lp, name, final.objective, objective))
    x = final.x
    return Solution(
        status=OPTIMAL,
        solver=solver,
        solver_version=solver_version(solver),
        x=x,
        readiness_duals=readiness.duals,
        objective_values={name: lp.objective_value(name, x) for name in LEXICOGRAPHIC},
        stages=stages,
        seconds=time.perf_counter() - started,
        bases=bases or None,
    )


def _failure_message(scenario: Scenario, stage: str, run: SolverRun, time_limit: float) -> str:
    reasons = {
        INFEASIBLE: "the scenario's hard limits cannot all be met (a ban, trusted-share floor, "
                    "obligation cap or AMP limit that leaves no way to satisfy the others)",
        UNBOUNDED: "the model is unbounded (a defect: please report it with the scenario)",
        TIME_LIMIT: f"the solver reached the time limit of {time_limit:g} s before proving optimality "
                    f"(raise solver.time_limit or --time-limit)",
        INTERRUPTED: "the solve was interrupted",
        ERROR: f"the solver failed ({run.detail})",
    }
    return f"scenario {scenario.name!r}: no optimal plan in the {stage} stage: {reasons[run.status]}"

