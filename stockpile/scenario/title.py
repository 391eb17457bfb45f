"""How a scenario is named on a title line: its name, and its horizon unless the name says it."""

from __future__ import annotations

from stockpile.scenario.schema import Scenario


def scenario_title(scenario: Scenario) -> str:
    """``Baseline: today's policy, FY2026-FY2040`` as it is (the name states the horizon);
    ``Conflict drawdown, FY2031-FY2032 (FY2026-FY2040)`` (the name's years are the conflict's)."""
    horizon = f"FY{scenario.horizon.first_fy}-FY{scenario.horizon.last_fy}"
    return scenario.name if horizon in scenario.name else f"{scenario.name} ({horizon})"
