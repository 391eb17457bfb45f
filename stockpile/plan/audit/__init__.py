"""The independent audit: a plan checked against the scenario by code that shares none with the model.

It reads the scenario with its own implementation of the documented semantics
(:mod:`~stockpile.plan.audit.semantics`: windows, delivery, prices, tiers, capacities, events,
bans, trust, floors and caps), never :mod:`stockpile.scenario.rules` or the model, and never the
LP or the solver's output; recomputes every constraint family from the plan's tables
(:mod:`~stockpile.plan.audit.checks`), then every objective value and headline KPI the plan
reports (:mod:`~stockpile.plan.audit.objectives`). Tolerances are relative to the magnitude of
what they compare (:mod:`~stockpile.plan.audit.report`). A plan that fails is a defect in
stockpile, and ``stockpile solve`` refuses to write it. ``tests/test_layers.py`` holds the
separation: no module here imports the model, the rules, the solver or the plan reader.
"""

from __future__ import annotations

import pandas as pd

from stockpile.plan.audit.checks import audit_tables
from stockpile.plan.audit.objectives import audit_kpis, audit_objectives
from stockpile.plan.audit.report import AuditReport, Check
from stockpile.scenario.schema import Scenario

__all__ = ["AuditReport", "Check", "audit_plan"]


def audit_plan(scenario: Scenario, tables: dict[str, pd.DataFrame], objective_values: dict[str, float] | None = None,
               kpis: dict | None = None) -> AuditReport:
    """Every check on the plan's tables; with ``objective_values`` (and ``kpis``), those as well."""
    report = audit_tables(scenario, tables)

    def check(family: str, description: str) -> Check:
        report.checks.append(Check(family, description))
        return report.checks[-1]

    if objective_values is not None:
        audit_objectives(scenario, tables, objective_values, check)
        if kpis is not None:
            audit_kpis(scenario, tables, kpis, objective_values, check)
    return report
