"""The audit's result (checks and violations) and its tolerances, relative to each magnitude."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from stockpile.scenario.schema import Scenario

RELATIVE = 1e-7
"""Every tolerance is this share of the magnitude of what it compares: a material's largest goal,
stock or drawdown for tonnes (2.4e-3 t in a 24,000 t goal), the Fund's largest balance or flow for
dollars ($100 in a $1B Fund). The solver's feasibility tolerance is about 1e-7 of a row's scale,
and a plan's figures are sums of a few such rows."""
FLOOR_TONNES = 1e-6
FLOOR_DOLLARS = 1.0
"""Absolute floors under the relative tolerances, for a material or Fund of size zero."""


@dataclass
class Check:
    family: str
    description: str
    checked: int = 0
    violations: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.violations


@dataclass
class AuditReport:
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def violations(self) -> list[str]:
        return [f"{c.family}: {v}" for c in self.checks for v in c.violations]

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([dict(family=c.family, check=c.description, rows_checked=c.checked,
                                  result="pass" if c.passed else f"FAIL ({len(c.violations)})",
                                  first_violation=c.violations[0] if c.violations else "")
                             for c in self.checks])

    @property
    def summary(self) -> str:
        if self.ok:
            return f"passed: {len(self.checks)} checks, {sum(c.checked for c in self.checks):,} rows"
        return f"FAILED: {len(self.violations)} violations, first: {self.violations[0]}"


@dataclass(frozen=True)
class Tolerances:
    """Tonnes per material and dollars for the Fund, each :data:`RELATIVE` of its magnitude."""

    tonnes: dict[str, float]
    dollars: float

    @classmethod
    def of(cls, s: Scenario) -> Tolerances:
        tonnes = {}
        for code, material in s.materials.items():
            size = max([material.opening_inventory]
                       + [max(material.goal.at(fy), material.draw.at(fy), material.pipeline.at(fy)) for fy in s.fys])
            tonnes[code] = RELATIVE * size + FLOOR_TONNES
        f = s.fund
        flows = [abs(f.opening_balance)]
        for fy in s.fys:
            flows += [f.appropriation.at(fy), abs(f.other_revenue.at(fy)), f.operating_cost.at(fy),
                      f.committed_payments.at(fy), abs(f.floor.at(fy))]
            if f.obligation_cap is not None:
                flows.append(f.obligation_cap.at(fy))
        return cls(tonnes, RELATIVE * max(flows) + FLOOR_DOLLARS)

    def tonnes_of(self, material: str) -> float:
        return self.tonnes.get(material, FLOOR_TONNES)


def near(a: float, b: float, tolerance: float) -> bool:
    """Within the tolerance (itself relative to the magnitude of the quantity, see :class:`Tolerances`),
    or within :data:`RELATIVE` of the larger value, whichever is looser."""
    return abs(a - b) <= tolerance + RELATIVE * max(abs(a), abs(b))
