"""The least appropriation that keeps the stockpile solvent through a given FY.

Solvent through FY T means: no Fund deficit and no shortfall (nor unmet drawdown) in any FY up to
T. The appropriation takes a shape: ``flat`` (the same amount A every FY, replacing the
scenario's) or ``profile`` (k times the scenario's own appropriation per FY). Both are linear in
one unknown, so the least amount is found exactly by one LP over the scenario's model:

    minimise  A   (or k)
    subject to every row of the model, with fund[y]'s appropriation A (or k x profile[y])
               moved to the left-hand side as a variable, and
               deficit[y] = 0, short[m,y] = 0, unmet_draw[m,y] = 0 for every y <= T.

It is the least appropriation with which some plan stays solvent through T. The amount reported
is rounded up to the tolerance; just below it no plan is.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

from stockpile.errors import SolveError
from stockpile.model.families import BUDGET, ELASTIC_SLACKS, FUND
from stockpile.model.lp import INF
from stockpile.model.build import MONEY_SCALE, build
from stockpile.scenario.load import scenario_from_dict
from stockpile.scenario.schema import Scenario, to_plain
from stockpile.solve.backends.factory import make_backend
from stockpile.solve.status import SolveStatus

SHAPES = ("flat", "profile")


@dataclass
class BudgetAnswer:
    through_fy: int
    shape: str
    exact: float
    """The LP's least amount: dollars per FY (flat) or the profile's multiplier."""
    amount: float
    """``exact`` rounded up to the tolerance: the amount reported and planned with."""
    scenario: Scenario
    """The scenario with that appropriation."""

    @property
    def description(self) -> str:
        if self.shape == "flat":
            return f"${self.amount / 1e6:,.1f}M every FY"
        return f"{self.amount:.4g} x the scenario's appropriation profile"


def with_appropriation(scenario: Scenario, shape: str, amount: float) -> Scenario:
    """The scenario with a flat appropriation of ``amount`` dollars, or its profile scaled by it."""
    plain = copy.deepcopy(to_plain(scenario))
    if shape == "flat":
        plain["fund"]["appropriation"] = float(amount)
    else:
        plain["fund"]["appropriation"] = {str(fy): scenario.fund.appropriation.at(fy) * amount for fy in scenario.fys}
    return scenario_from_dict(plain)


def solvable_through(scenario: Scenario, through_fy: int, shape: str, amount: float | None,
                     solver: str = "highs", time_limit: float = 300.0) -> float | None:
    """The least amount (``amount=None``), or ``amount`` itself if some plan is solvent through
    ``through_fy`` with it; None when no plan is (at any amount, or at that one)."""
    model = build(scenario)
    lp = model.lp
    unit = MONEY_SCALE if shape == "flat" else 1.0  # the budget column is in $M when flat
    fixed = None if amount is None else amount / unit
    budget = lp.add_column(BUDGET.name, (), lower=0.0 if fixed is None else fixed,
                           upper=INF if fixed is None else fixed)
    backend = make_backend(lp, solver)
    for row in range(lp.n_rows):
        if lp.row_family[row] != FUND.name:
            continue
        fy = lp.row_key[row][0]
        profile = scenario.fund.appropriation.at(fy)
        backend.set_rhs(row, lp.row_rhs[row] - profile / MONEY_SCALE)
        per_unit = 1.0 if shape == "flat" else profile / MONEY_SCALE
        if per_unit:
            backend.set_coefficient(row, budget, -per_unit)
    for col in range(lp.n_cols):
        family, key = lp.col_family[col], lp.col_key[col]
        if family in ELASTIC_SLACKS and key[-1] <= through_fy:
            backend.set_bounds(col, lp.col_lower[col], 0.0)
    run = backend.solve({budget: 1.0}, time_limit)
    if run.status.is_ok:
        return run.x[budget] * unit
    if run.status == SolveStatus.INFEASIBLE:
        return None
    raise SolveError(f"scenario {scenario.name!r}: the least-budget LP ended {run.status} ({run.detail})")


def least_budget(scenario: Scenario, through_fy: int, shape: str = "flat", tolerance: float | None = None,
                 solver: str = "highs", time_limit: float = 300.0) -> BudgetAnswer | None:
    """The least appropriation of that shape keeping the stockpile solvent through ``through_fy``
    (None when no amount does: capacity, lead times or policy bind, not money).

    ``tolerance`` defaults to $100,000 per FY (flat) or 0.001 (profile multiplier).
    """
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}")
    if shape == "profile" and not any(scenario.fund.appropriation.at(fy) > 0 for fy in scenario.fys):
        raise SolveError("the scenario's appropriation is zero in every FY: there is no profile to scale "
                         "(use --shape flat)")
    tolerance = tolerance if tolerance is not None else (1e5 if shape == "flat" else 1e-3)
    exact = solvable_through(scenario, through_fy, shape, None, solver, time_limit)
    if exact is None:
        return None
    amount = math.ceil(exact / tolerance - 1e-9) * tolerance
    return BudgetAnswer(through_fy, shape, exact, amount, with_appropriation(scenario, shape, amount))
