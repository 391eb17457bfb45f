"""Scenario in, audited plan out: the one path every command takes."""

from __future__ import annotations

from pathlib import Path

from .audit import audit_plan
from .errors import AuditError
from .model import build
from .plan import Plan, read_plan
from .scenario import Scenario
from .solve import solve_model


def plan_scenario(scenario: Scenario, solver: str | None = None, time_limit: float | None = None,
                  write_model: Path | None = None) -> Plan:
    """Build, solve, read back and audit; a plan that fails its audit raises :class:`AuditError`."""
    model = build(scenario)
    solution = solve_model(model, solver=solver, time_limit=time_limit, write_model=write_model)
    plan = read_plan(model, solution)
    plan.provenance = scenario.provenance
    plan.audit = audit_plan(scenario, plan.tables)
    if not plan.audit.ok:
        raise AuditError(f"the solved plan failed its audit ({plan.audit.summary}); "
                         f"this is a defect in stockpile, please report it with the scenario")
    return plan
