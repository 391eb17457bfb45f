"""The lexicographic solve: releases, deficit, shortfall, then cost (model.build.OBJECTIVES), each
stage holding the ones before.

The backends (``stockpile.solve.backends``) solve one objective at a time and normalise the
outcome into a :class:`~stockpile.solve.status.SolverRun`; this module scales each stage's
objective, adds and tightens the lexicographic rows, and gathers the stages into a
:class:`Solution`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stockpile.model.build import OBJECTIVES, StockpileModel
from stockpile.model.families import LEXICOGRAPHIC_ROW
from stockpile.model.lp import INF, LinearProgram
from stockpile.scenario.schema import Scenario
from stockpile.solve.backends.factory import make_backend
from stockpile.solve.backends.highs import Basis
from stockpile.solve.status import SolverRun, SolveStatus, StageFailed


@dataclass
class Solution:
    """The outcome of the whole (lexicographic or weighted) solve."""

    status: SolveStatus
    solver: str
    solver_version: str
    x: list[float]
    readiness_duals: list[float] | None
    objective_values: dict[str, float]
    stages: list[tuple[str, SolverRun]] = field(default_factory=list)
    seconds: float = 0.0
    bases: "dict[str, Any] | None" = None
    """Each stage's optimal basis (HiGHS only, its own objects), to warm-start the same stage at
    another point in this process (stockpile.solve.backends.highs.basis_ints makes them portable)."""


def objective_scale(terms: dict[int, float]) -> float:
    """The power of two that brings an objective's largest coefficient to between 0.71 and 1.41.

    HiGHS's optimality tolerances are absolute (1e-7), and readiness costs are weight / goal, about
    4e-5 per tonne: unscaled, that stage is solved to a coarse relative precision, HiGHS warns of
    "excessively small costs", and interior point's crossover turns imprecise on large trees (500
    sampled futures of the baseline: 186,000 simplex clean-up iterations, 275 s). Each stage is
    solved with its objective multiplied by this factor; values and duals are divided by it. A
    power of two scales without rounding.
    """
    largest = max(map(abs, terms.values()), default=0.0)
    return 2.0 ** -round(math.log2(largest)) if largest > 0 else 1.0


DUALS_READ = ("deficit", "shortfall")
"""The stages whose values and duals are always read back (others only where a later stage needs them)."""

WEIGHTED_SPAN = 2.0 ** 40
"""The most the weighted objective's largest coefficient may exceed its smallest priority's largest
(after scaling, 1): about 1e12, where double precision still resolves the small terms (1e-16 x 1e12
is far below HiGHS's 1e-7 tolerances)."""


def objective_weights(objective) -> dict[str, float]:
    """Each priority's weight in the weighted mode: ``objective.<name>_weight``, the last (cost) 1.

    Weights are read by name for every objective in :data:`OBJECTIVES`, so a priority added there
    (with its ``<name>_weight`` setting) is weighed without a change here.
    """
    return {name: (1.0 if name == OBJECTIVES[-1] else float(getattr(objective, f"{name}_weight")))
            for name in OBJECTIVES}


def weighted_terms(lp: LinearProgram, objective) -> dict[int, float]:
    """sum_k weight_k x objective_k as {column: coefficient} (:func:`objective_weights`)."""
    terms: dict[int, float] = {}
    for name, weight in objective_weights(objective).items():
        for col, coef in lp.objectives.get(name, {}).items():
            terms[col] = terms.get(col, 0.0) + weight * coef
    return terms


def weighted_scale(lp: LinearProgram, objective) -> float:
    """The power of two that brings the *least* weighted priority's largest coefficient near 1.

    :func:`objective_scale` brings the largest coefficient near 1; with a deficit weight of 1e6 that
    puts cost coefficients (0.01 $M a tonne) near 1e-8, below HiGHS's and CBC's absolute optimality
    tolerances (1e-7), and the solver stops at a plan that trades shortfall for cost wrongly. Here
    every priority's terms reach the solver at 1 or more, and the largest at most
    :data:`WEIGHTED_SPAN` times that (weights further apart than 1e12 between priorities are
    rounded towards lexicographic; README, "Weighted mode").
    """
    weights = objective_weights(objective)
    largest = [weights[name] * max(abs(c) for c in lp.objectives[name].values())
               for name in OBJECTIVES if lp.objectives.get(name)]
    largest = [value for value in largest if value > 0]
    if not largest:
        return 1.0
    scale = 2.0 ** -round(math.log2(min(largest)))
    return min(scale, WEIGHTED_SPAN * 2.0 ** -round(math.log2(max(largest))))


def add_lexicographic_rows(lp: LinearProgram) -> dict[str, int]:
    """Rows ``lexicographic[k]`` for every priority k but the last (release, deficit, shortfall):
    objective_k <= +inf.

    Each stays inactive until its stage is solved, then gets the right-hand side
    ``value_k + max(absolute_tolerance, relative_tolerance * magnitude_k)`` (:func:`objective_magnitude`); or 0 when the optimum
    is 0 (within the absolute tolerance) and every term is a nonnegative column with a positive
    coefficient, which then holds each of them at 0 (presolve removes them, and no bound of 1e-9
    troubles the solver). Added before the first stage so the model's shape is the same in every
    stage (and at every point of a sweep). An objective with no terms needs no row. (Only the
    objective is scaled, :func:`objective_scale`: scaling these rows too would make their bounds
    large, 5e6 on a scenario of millions of tonnes, for no gain measured.)
    """
    return {name: lp.add_row(LEXICOGRAPHIC_ROW.name, (name,), dict(lp.objectives[name]), "<=", INF)
            for name in OBJECTIVES[:-1] if lp.objectives.get(name)}


def objective_magnitude(lp: LinearProgram, name: str, value: float, x: list[float] | None) -> float:
    """The size of what an objective adds up: sum_j |c_j x_j| over its terms (|value| without values).

    A stage's tolerance is relative to this, not to the optimum itself: the net cost is purchases
    less sales, and a deficit or shortfall optimum near 0 is still a sum of terms the solver
    computed to its own precision.
    """
    if x is None:
        return abs(value)
    return max(abs(value), sum(abs(coef * x[col]) for col, coef in lp.objectives.get(name, {}).items()))


def _lexicographic_rhs(lp: LinearProgram, name: str, value: float, objective, x: list[float] | None = None) -> float:
    """The right-hand side of ``lexicographic[name]`` once its stage's optimum is ``value``:
    ``value + max(absolute_tolerance, relative_tolerance x`` :func:`objective_magnitude` ``)``."""
    terms = lp.objectives[name]
    if abs(value) <= objective.absolute_tolerance and all(
            coef > 0 and lp.col_lower[col] >= 0 for col, coef in terms.items()):
        return 0.0
    return value + max(objective.absolute_tolerance,
                       objective.relative_tolerance * objective_magnitude(lp, name, value, x))


def _lexicographic_rows(lp: LinearProgram) -> dict[str, int]:
    """Stage name -> row of :func:`add_lexicographic_rows` (which adds them one after another:
    found without a Python loop over every row, which a sweep point would pay each solve)."""
    name, families = LEXICOGRAPHIC_ROW.name, lp.row_family
    count = families.count(name)
    first = families.index(name) if count else 0
    if families[first:first + count].count(name) == count:
        return {lp.row_key[row][0]: row for row in range(first, first + count)}
    return {lp.row_key[row][0]: row for row, family in enumerate(families) if family == name}


def solve_model(model: StockpileModel, solver: str | None = None, time_limit: float | None = None,
                write_model: Path | None = None, start_bases: dict[str, Any] | None = None,
                backend=None, no_deficit_hint: bool = False) -> Solution:
    """Solve the model lexicographically (in the order of OBJECTIVES) or weighted.

    A priority with no terms before any stage has run (no draws: no release stage) is not a
    stage at all; one with no terms after a stage keeps that stage's plan.

    Each later stage keeps the earlier objectives within tolerance (see
    :func:`add_lexicographic_rows`); each stage's objective goes to the solver scaled by
    :func:`objective_scale`, its value and duals come back unscaled. Marginal values are the duals
    of the readiness (shortfall) stage. ``write_model`` receives that stage's LP. ``start_bases``
    (HiGHS only) starts each stage from a basis, e.g. the same stage's optimum at another sweep
    point (a backend that ``can_warm_start``; others ignore them).

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
    if lexicographic and LEXICOGRAPHIC_ROW.name not in lp.row_family:
        add_lexicographic_rows(lp)
    rows = _lexicographic_rows(lp)
    backend = backend or make_backend(lp, solver)
    stages: list[tuple[str, SolverRun]] = []
    bases: dict[str, Basis] = {}
    started = time.perf_counter()

    def run_stage(name: str, terms: dict[int, float], values: bool = True, trial: bool = False,
                  from_previous: bool = False, scale: float | None = None) -> SolverRun:
        if not terms and stages:
            # Nothing to minimise (e.g. no goals): the last stage's plan is optimal, every dual 0.
            # Not sent to the solver: PuLP would add a dummy column CBC's MPS reader rejects.
            previous = stages[-1][1]
            run = SolverRun(SolveStatus.OPTIMAL, objective=0.0, x=previous.x, duals=[0.0] * lp.n_rows,
                            basis=previous.basis, detail="empty objective")
            stages.append((name, run))
            return run
        remaining = deadline - time.perf_counter()
        basis = (start_bases or {}).get(name)
        scale = objective_scale(terms) if scale is None else scale
        scaled = {col: coef * scale for col, coef in terms.items()} if scale != 1.0 else terms
        run = (backend.solve(scaled, max(remaining, 0.01), start_basis=basis, values=values,
                             from_previous=from_previous and basis is None) if remaining > 0
               else SolverRun(SolveStatus.TIME_LIMIT))
        if trial and not run.status.is_ok:  # infeasible, or the solver gave up from this start: solve the stages
            return run
        stages.append((name, run))
        if not run.status.is_ok:
            raise StageFailed(_failure_message(scenario, name, run, time_limit), name, run.status)
        if scale != 1.0:
            run.objective /= scale
            if run.duals is not None:
                import numpy as np

                run.duals = (np.asarray(run.duals) / scale).tolist()
        if run.basis is not None:
            bases[name] = run.basis
        return run

    if not lexicographic:
        terms = weighted_terms(lp, objective)
        if write_model is not None:
            backend.write(write_model, objective=terms)
        final = readiness = run_stage("weighted", terms, scale=weighted_scale(lp, objective))
    else:
        for row in rows.values():
            backend.set_rhs(row, INF)
        skip: set[str] = set()
        for stage, name in enumerate(OBJECTIVES):
            if name in skip:
                continue
            terms = lp.objectives.get(name, {})
            if not terms and not stages:
                continue  # e.g. no draws: nothing to release, and no plan yet to keep
            if (name == "deficit" and no_deficit_hint and write_model is None and "deficit" in rows
                    and "shortfall" in rows and _lexicographic_rhs(lp, "deficit", 0.0, objective) == 0.0):
                backend.set_rhs(rows["deficit"], 0.0)
                trial = run_stage("shortfall", lp.objectives["shortfall"], trial=True)
                if trial.status.is_ok:
                    readiness = final = trial
                    basis = (start_bases or {}).get("deficit")
                    stages.insert(len(stages) - 1, ("deficit", SolverRun(SolveStatus.OPTIMAL, objective=0.0, basis=basis,
                                                                         detail=("not solved: the readiness stage found a "
                                                                                 "plan with every deficit held at 0"))))
                    if basis is not None:
                        bases["deficit"] = basis
                    backend.set_rhs(rows["shortfall"], _lexicographic_rhs(lp, "shortfall", final.objective, objective))
                    skip.add("shortfall")
                    continue
                backend.set_rhs(rows["deficit"], INF)
            if name == "shortfall" and write_model is not None:
                backend.write(write_model, objective=terms)
            # Values are read back where used: the deficit and readiness duals (explain ranks limits
            # by the deficit stage's when the Fund is in deficit), the final plan, and a stage
            # whose successor has nothing to minimise (and so keeps this stage's plan).
            later = OBJECTIVES[stage + 1:]
            values = name in DUALS_READ or not later or not lp.objectives.get(later[0])
            final = run_stage(name, terms, values, from_previous=name == "cost")
            if name == "shortfall":
                readiness = final
            if name in rows:
                backend.set_rhs(rows[name], _lexicographic_rhs(lp, name, final.objective, objective, final.x))
    x = final.x
    return Solution(
        status=SolveStatus.OPTIMAL,
        solver=solver,
        solver_version=backend.version(),
        x=x,
        readiness_duals=readiness.duals,
        objective_values={name: lp.objective_value(name, x) for name in OBJECTIVES},
        stages=stages,
        seconds=time.perf_counter() - started,
        bases=bases or None,
    )


def _failure_message(scenario: Scenario, stage: str, run: SolverRun, time_limit: float) -> str:
    reasons = {
        SolveStatus.INFEASIBLE: "the scenario's hard limits cannot all be met (a ban, trusted-share floor, "
                    "obligation cap or AMP limit that leaves no way to satisfy the others)",
        SolveStatus.UNBOUNDED: "the model is unbounded (a defect: please report it with the scenario)",
        SolveStatus.TIME_LIMIT: f"the solver reached the time limit of {time_limit:g} s before proving optimality "
                    f"(raise solver.time_limit or --time-limit)",
        SolveStatus.INTERRUPTED: "the solve was interrupted",
        SolveStatus.ERROR: f"the solver failed ({run.detail})",
    }
    return f"scenario {scenario.name!r}: no optimal plan in the {stage} stage: {reasons[run.status]}"

