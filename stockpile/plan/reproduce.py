"""Reproducibility: what a plan records about how it was made, and re-solving a saved plan.

:func:`record` is the reproducibility block of the JSON summary (and what the workbook shows):
the resolved scenario's SHA-256, the data files' SHA-256 (when the scenario drew on ``data/``),
the versions of stockpile and the packages that shape a plan, and the solver settings.

:func:`resolve_check` backs ``stockpile verify --resolve``: it re-solves the scenario embedded in a
saved plan and compares the three lexicographic objectives, each recomputed from the plan's tables
alone (:func:`objectives_from_tables`), so the saved plan and the new one are judged alike.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pandas as pd

from stockpile.scenario import rules
from stockpile.model.build import MONEY_SCALE
from stockpile.scenario.schema import Scenario

PACKAGES = ("stockpile", "pulp", "highspy", "pandas", "pydantic", "openpyxl", "numpy")
OBJECTIVE_TOLERANCES = {"release": 1e-6, "deficit": 1e-4, "shortfall": 1e-6, "cost": 1e-4}
"""Absolute tolerances (relative unmet release, $M, relative shortfall, $M), plus 1e-6 relative,
for --resolve; one per priority of model.build.OBJECTIVES."""
OBJECTIVE_LABELS = {"release": ("weighted unmet release", ""), "deficit": ("Fund deficit", "$M"),
                    "shortfall": ("weighted shortfall", ""), "cost": ("discounted net cost", "$M")}
RELATIVE_TOLERANCE = 1e-6


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def record(plan, time_limit: float | None = None) -> dict[str, Any]:
    """How ``plan`` was made: hashes, package versions and solver settings."""
    s: Scenario = plan.scenario
    provenance = plan.provenance if plan.provenance is not None else s.provenance
    data_sha = provenance.attrs.get("data_sha256") if provenance is not None else None
    return {
        "scenario_sha256": s.sha256,
        "data_sha256": data_sha,
        "packages": package_versions(),
        "solver_settings": {
            "name": plan.solver or s.solver.name,
            "version": plan.solver_version,
            "time_limit": float(time_limit if time_limit is not None else s.solver.time_limit),
            "objective_mode": s.objective.mode,
            "relative_tolerance": s.objective.relative_tolerance,
            "absolute_tolerance": s.objective.absolute_tolerance,
            **({"release_weight": s.objective.release_weight, "deficit_weight": s.objective.deficit_weight,
                "shortfall_weight": s.objective.shortfall_weight}
               if s.objective.mode == "weighted" else {}),
        },
    }


def objectives_from_tables(scenario: Scenario, tables: dict[str, pd.DataFrame]) -> dict[str, float]:
    """The objectives of a plan from its tables: weighted relative unmet release, deficit ($M),
    weighted relative shortfall, discounted net cost ($M), as
    :func:`stockpile.model.build.define_objectives` defines them."""
    s = scenario
    fund, inventory = tables["fund"], tables["inventory"]
    deficit = float(fund.deficit.sum()) / MONEY_SCALE
    release = sum(rules.release_weight(s, row.material, int(row.fy)) * row.unmet_draw
                  for row in inventory.itertuples())
    shortfall = sum(rules.shortfall_weight(s, row.material, int(row.fy)) * row.shortfall
                    for row in inventory.itertuples())
    cost = sum(rules.discount_factor(s, int(row.fy)) * (row.purchases + row.holding_cost - row.sales)
               for row in fund.itertuples()) / MONEY_SCALE
    return {"release": float(release), "deficit": deficit, "shortfall": float(shortfall), "cost": float(cost)}


@dataclass
class ResolveCheck:
    saved: dict[str, float]
    resolved: dict[str, float]
    solver: str
    lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(_same(name, self.saved[name], self.resolved[name]) for name in self.saved)


def _same(name: str, a: float, b: float) -> bool:
    return abs(a - b) <= OBJECTIVE_TOLERANCES[name] + RELATIVE_TOLERANCE * max(abs(a), abs(b))


def resolve_check(scenario: Scenario, tables: dict[str, pd.DataFrame], solver: str | None = None,
                  time_limit: float | None = None) -> ResolveCheck:
    """Re-solve ``scenario`` and compare its objectives with those of the saved ``tables``."""
    from stockpile.plan.pipeline import plan_scenario

    plan = plan_scenario(scenario, solver, time_limit)
    check = ResolveCheck(objectives_from_tables(scenario, tables), objectives_from_tables(scenario, plan.tables),
                         plan.solver_version)
    for name, (label, unit) in OBJECTIVE_LABELS.items():
        mark = "same" if _same(name, check.saved[name], check.resolved[name]) else "DIFFERS"
        check.lines.append(f"{mark:>10}  {label:<20} saved {check.saved[name]:,.6f}{unit and ' ' + unit}, "
                           f"re-solved {check.resolved[name]:,.6f}{unit and ' ' + unit}")
    check.lines.append(f"re-solve ({plan.solver_version}): "
                       + ("same objective as the saved plan" if check.ok else
                          "the objective DIFFERS from the saved plan's"))
    return check
