"""``min-budget`` never contradicts itself, on every shipped scenario and every FY of its horizon.

For each (scenario, FY): either an amount is reported, and the plan at it (stockpile's own plan,
the one ``stockpile solve`` makes) is solvent through that FY and passes its audit, and no plan at
all is solvent below the LP bound by the tolerance; or none is, and with unlimited money some FY
up to the requested one is still short, with the limits that bind named by their scenario keys.

A coarse tolerance ($10M a FY) keeps the upward search (when the plan at the LP bound is not
solvent) to a few solves, so the whole property takes seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stockpile.analysis.min_budget import least_budget, money_cannot_reach, solvable_through, solvent_through
from stockpile.scenario.load import load_scenario

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.toml"))
TOLERANCE = 1e7


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_min_budget_is_sufficient_or_says_why_not(path) -> None:
    scenario = load_scenario(path)
    for fy in scenario.fys:
        answer = least_budget(scenario, fy, tolerance=TOLERANCE)
        if answer is None:
            why = money_cannot_reach(scenario, fy)
            assert why is not None, f"FY{fy}: no amount, and nothing short with unlimited money"
            assert scenario.horizon.first_fy <= why.fy <= fy and why.short
            assert all(tonnes > 0 for tonnes in why.short.values())
            assert why.limits and all("(" in limit and ")" in limit for limit in why.limits)
            break  # later FYs hold every row this one does, and more: unreachable too
        assert solvent_through(answer.plan, fy), (fy, answer.amount, answer.plan.headline)
        assert answer.plan.audit.ok
        assert answer.amount >= answer.least_any_plan >= answer.exact - 1e-6
        if answer.least_any_plan >= TOLERANCE:
            assert solvable_through(scenario, fy, "flat", answer.least_any_plan - TOLERANCE) is None


def test_the_baselines_first_fy_amount_gives_a_plan_solvent_through_it() -> None:
    """The baseline through its first FY, FY2026 (the case the command used to contradict: "$0.0M
    keeps it solvent", then "not solvent" in that FY): the amount reported is at least the LP's
    bound and one at which stockpile's own plan is solvent through FY2026. (With the 2025 prices
    and the Fund of 1 Oct 2025 the LP bound is $0 and the plan at $0 is already solvent through
    FY2026.)"""
    scenario = load_scenario(SCENARIOS[0].parent / "baseline.toml")
    first = scenario.horizon.first_fy
    answer = least_budget(scenario, first, tolerance=1e6)
    assert answer.amount >= answer.least_any_plan >= 0.0 and answer.amount >= answer.exact - 1.0
    assert solvent_through(answer.plan, first) and answer.plan.audit.ok
