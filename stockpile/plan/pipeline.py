"""Scenario in, audited plan out: the one path every command takes."""

from __future__ import annotations

from pathlib import Path

from stockpile.plan.audit import audit_plan
from stockpile.errors import AuditError, SolveError
from stockpile.model.build import StockpileModel, build
from stockpile.plan.read import Plan, read_plan
from stockpile.scenario.schema import Scenario
from stockpile.solve.lexicographic import Solution, solve_model


def plan_scenario(scenario: Scenario, solver: str | None = None, time_limit: float | None = None,
                  write_model: Path | None = None) -> Plan:
    """Build, solve, read back and audit; a plan that fails its audit raises :class:`AuditError`.

    A scenario whose hard limits cannot all be met raises
    :class:`~stockpile.diagnose.InfeasibleError`, whose message names the limits to move.
    """
    return solve_scenario(scenario, solver, time_limit, write_model)[0]


def solve_scenario(scenario: Scenario, solver: str | None = None, time_limit: float | None = None,
                   write_model: Path | None = None) -> tuple[Plan, StockpileModel, Solution]:
    """:func:`plan_scenario`, also returning the model and the solution (for duals: ``explain``)."""
    model = build(scenario)
    try:
        solution = solve_model(model, solver=solver, time_limit=time_limit, write_model=write_model)
    except SolveError as exc:
        from stockpile.solve.diagnose import diagnose_failure

        raise diagnose_failure(scenario, exc, time_limit) from None
    plan = read_plan(model, solution)
    plan.provenance = scenario.provenance
    plan.audit = audit_plan(scenario, plan.tables, plan.objective_values, plan.kpis)
    if not plan.audit.ok:
        raise AuditError(f"the solved plan failed its audit ({plan.audit.summary}); "
                         f"this is a defect in stockpile, please report it with the scenario")
    return plan, model, solution
