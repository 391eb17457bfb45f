"""The least appropriation that keeps the stockpile solvent through a given FY.

Solvent through FY T means: no Fund deficit and no shortfall (nor unmet drawdown) in any FY up to
T. The appropriation takes a shape: ``flat`` (the same amount A every FY, replacing the
scenario's) or ``profile`` (k times the scenario's own appropriation per FY). Both are linear in
one unknown, so the least amount is found exactly by one LP over the scenario's model:

    minimise  A   (or k)
    subject to every row of the model, with fund[y]'s appropriation A (or k x profile[y])
               moved to the left-hand side as a variable, and
               deficit[y] = 0, short[m,y] = 0, unmet_draw[m,y] = 0 for every y <= T.

That LP's optimum A* is the least appropriation with which *some* plan stays solvent through T:
below it no plan is. But the plan ``stockpile solve`` makes at A* need not be one of them: it
minimises the Fund's total deficit over the whole horizon first, and may leave an early FY short
to save money for later ones (the baseline at $0 a FY through FY2027). So the amount reported is
the least one, from A* up in steps of the tolerance, at which stockpile's own plan is solvent
through T: A* rounded up when that plan is (the usual case), else found by doubling the step
until a plan is and then halving the interval. Every amount reported has been solved and its
plan checked solvent through T; that plan is returned with it.

When no amount works (the LP is infeasible: lead times, capacity, bans or floors leave a
shortfall that money cannot remove), :func:`money_cannot_reach` finds the first FY and
material short with unlimited money, and the limits whose duals bind there.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

from stockpile.errors import SolveError
from stockpile.model.families import BUDGET, ELASTIC_SLACKS, FUND, SHORT, UNMET_DRAW, row_family
from stockpile.model.lp import INF
from stockpile.model.build import MONEY_SCALE, build
from stockpile.plan.pipeline import plan_scenario
from stockpile.plan.read import SHORTFALL_TONNES, Plan
from stockpile.solve.relaxations import LimitContext, row_relaxations
from stockpile.scenario.load import scenario_from_dict
from stockpile.scenario.schema import Scenario, to_plain
from stockpile.solve.backends.factory import make_backend
from stockpile.solve.status import SolveStatus

SHAPES = ("flat", "profile")
MAX_DOUBLINGS = 40
"""Steps of the upward search before giving up (a tolerance of $100,000 doubled 40 times is $1e17)."""


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
    plan: Plan
    """stockpile's plan of ``scenario``: solvent through ``through_fy``, checked."""
    least_any_plan: float
    """A* rounded up: the least amount with which some plan is solvent (``amount`` when the
    plan at A* is; less when stockpile's priorities need more)."""

    @property
    def description(self) -> str:
        return self.description_of(self.amount)

    def description_of(self, amount: float) -> str:
        if self.shape == "flat":
            return f"${amount / 1e6:,.1f}M every FY"
        return f"{amount:.4g} x the scenario's appropriation profile"


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


def solvent_through(plan: Plan, through_fy: int) -> bool:
    """Whether the plan has no deficit, shortfall or unmet drawdown in any FY up to ``through_fy``."""
    solvent = plan.kpis["solvent_through_fy"]
    return solvent is not None and solvent >= through_fy


def least_budget(scenario: Scenario, through_fy: int, shape: str = "flat", tolerance: float | None = None,
                 solver: str = "highs", time_limit: float = 300.0) -> BudgetAnswer | None:
    """The least appropriation of that shape with which stockpile's plan is solvent through
    ``through_fy`` (see the module docstring), or None when no amount is (capacity, lead times or
    policy bind, not money: :func:`money_cannot_reach` says where).

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
    least = math.ceil(exact / tolerance - 1e-9) * tolerance

    def trial(amount: float) -> tuple[Scenario, Plan]:
        candidate = with_appropriation(scenario, shape, amount)
        return candidate, plan_scenario(candidate, solver, time_limit)

    candidate, plan = trial(least)
    if solvent_through(plan, through_fy):
        return BudgetAnswer(through_fy, shape, exact, least, candidate, plan, least)
    failing, step = least, max(tolerance, least)
    for _ in range(MAX_DOUBLINGS):
        amount = failing + step
        candidate, plan = trial(amount)
        if solvent_through(plan, through_fy):
            break
        failing, step = amount, step * 2
    else:
        return None
    passing, found = amount, (candidate, plan)
    while passing - failing > tolerance * (1 + 1e-9):
        middle = failing + math.floor((passing - failing) / tolerance / 2) * tolerance
        candidate, plan = trial(middle)
        if solvent_through(plan, through_fy):
            passing, found = middle, (candidate, plan)
        else:
            failing = middle
    return BudgetAnswer(through_fy, shape, exact, passing, found[0], found[1], least)


@dataclass
class Unreachable:
    """Why no appropriation keeps the stockpile solvent through an FY."""

    fy: int
    """The first FY short even with unlimited money."""
    short: dict[str, float]
    """Material -> tonnes short (goal shortfall and unmet drawdown) in that FY."""
    limits: list[str]
    """The binding limits (scenario key: what), largest marginal value first."""

    def sentence(self, scenario: Scenario) -> str:
        what = ", ".join(f"{scenario.materials[code].name.lower()} {tonnes:,.1f} {scenario.materials[code].unit}"
                         for code, tonnes in self.short.items())
        text = f"even with unlimited money FY{self.fy} is short: {what}"
        if self.limits:
            text += "; the limits that bind: " + "; ".join(self.limits)
        return text


def money_cannot_reach(scenario: Scenario, through_fy: int, solver: str = "highs", top: int = 3,
                       time_limit: float = 300.0) -> Unreachable | None:
    """With the appropriation unlimited (a free budget column in every FY's fund row) and no
    deficit through ``through_fy``, the least weighted shortfall through that FY: its first FY
    short, by material, and the hard limits with the largest duals (None if nothing is short)."""
    model = build(scenario)
    lp = model.lp
    budget = lp.add_column(BUDGET.name, (), lower=0.0, upper=INF)
    backend = make_backend(lp, solver)
    for row in range(lp.n_rows):
        if lp.row_family[row] == FUND.name:
            backend.set_coefficient(row, budget, -1.0)
    for col in range(lp.n_cols):
        if lp.col_family[col] in ELASTIC_SLACKS and lp.col_family[col] not in (SHORT.name, UNMET_DRAW.name) \
                and lp.col_key[col][-1] <= through_fy:
            backend.set_bounds(col, lp.col_lower[col], 0.0)
    terms = {col: coef for col, coef in lp.objectives["shortfall"].items() if lp.col_key[col][-1] <= through_fy}
    if not terms:
        return None
    run = backend.solve(terms, time_limit)
    if not run.status.is_ok:
        return None
    short: dict[int, dict[str, float]] = {}
    for col in terms:
        if run.x[col] > SHORTFALL_TONNES:
            code, fy = lp.col_key[col]
            short.setdefault(fy, {}).setdefault(code, 0.0)
            short[fy][code] += run.x[col]
    if not short:
        return None
    ctx = LimitContext.of(scenario, lp)
    ranked = sorted((row for row in range(lp.n_rows) if row_family(lp.row_family[row]).hard
                     and abs(run.duals[row]) > 1e-9), key=lambda row: (-abs(run.duals[row]), row))
    limits = []
    for row in ranked[:top]:
        relaxation = row_relaxations(ctx, row)[0]
        limits.append(f"{relaxation.what} ({relaxation.key})")
    first = min(short)
    return Unreachable(first, short[first], limits)
