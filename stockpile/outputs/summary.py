"""The JSON summary of a plan (its fields are documented in README.md)."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from stockpile.plan.read import Plan


def package_version() -> str:
    try:
        return version("stockpile")
    except PackageNotFoundError:
        return "unknown"


def summary(plan: Plan, scenario_file: str | None, time_limit: float | None = None) -> dict[str, Any]:
    from stockpile.plan.reproduce import record

    s = plan.scenario
    return {
        "stockpile_version": package_version(),
        "scenario": {"name": s.name, "file": scenario_file, "sha256": s.sha256,
                     "first_fy": s.horizon.first_fy, "last_fy": s.horizon.last_fy},
        "solver": {"name": plan.solver, "version": plan.solver_version,
                   "objective_mode": s.objective.mode, "seconds": round(plan.solve_seconds, 3)},
        "status": "optimal",
        "headline": plan.headline,
        "headline_lines": plan.headline_lines,
        "kpis": plan.kpis,
        "goals_out_of_reach": (None if plan.goals_out_of_reach is None
                               else [entry.as_dict() for entry in plan.goals_out_of_reach]),
        "objectives": plan.objective_values,
        "audit": {"passed": plan.audit is not None and plan.audit.ok,
                  "summary": plan.audit.summary if plan.audit is not None else "not run"},
        "reproducibility": record(plan, time_limit),
    }


def summary_json(plan: Plan, scenario_file: str | None, time_limit: float | None = None) -> str:
    return json.dumps(summary(plan, scenario_file, time_limit), indent=2, sort_keys=True) + "\n"
