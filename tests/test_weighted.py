"""The weighted mode is optimal at weights far apart: hand-derived instances, exact on every solver.

Each instance is one FY (FY2027), one material X (weight 1, goal G, no opening stock), no lead
time, discount rate 0, no holding or operating cost, so the weighted objective is

    deficit_weight x deficit($M) + shortfall_weight x short / G + sum_s price_s x order_s / 1e6

With shortfall_weight 10 and G = 1,000 t a tonne bought takes 10 / 1,000 = 0.01 off the weighted
shortfall: buying pays when the price is below 0.01 $M a tonne ($10,000/t). The deficit weight is
the default 1e6, so a $M of deficit outweighs any shortfall (at most 10 here). Before each
priority was scaled on its own, these cost coefficients reached the solver near 1e-8, below its
optimality tolerance, and the solver returned plans that bought the dearer source or nothing.
"""

from __future__ import annotations

import pytest

from stockpile.model.build import OBJECTIVES
from stockpile.scenario.schema import SOLVERS
from tests.conftest import make_scenario, solve


def _instance(supply: list[dict], goal: float = 1000.0, opening_balance: float = 1e9, **objective) -> dict:
    raw = make_scenario(horizon={"first_fy": 2027, "last_fy": 2027}, materials={"X": {"goal": goal}},
                        fund={"opening_balance": opening_balance},
                        objective={"mode": "weighted", "deficit_weight": 1e6, "shortfall_weight": 10.0, **objective})
    raw["supply"] = [{"material": "X", "kind": "import", "country": "Canada", **option} for option in supply]
    return raw


def _tonnes(plan) -> dict[str, float]:
    orders = plan.tables["orders"]
    return {option: float(orders[orders.option == option].tonnes.sum()) for option in ("A", "B")}


def _rising_goal(b_price: float) -> dict:
    """FY2027-FY2030, goal 100 t until FY2029 and 1,000 t in FY2030; A at $9,000/t up to 100 t a
    FY, B at ``b_price`` up to 200 t a FY. A tonne bought by FY2029 beyond the 100 t goal only
    counts in FY2030 (no loss), worth 0.01 there."""
    raw = _instance([{"name": "A", "capacity": 100.0, "price": 9_000.0},
                     {"name": "B", "capacity": 200.0, "price": b_price}])
    raw["horizon"]["last_fy"] = 2030
    raw["materials"]["X"]["goal"] = {"2027": 100.0, "2030": 1000.0}
    return raw


@pytest.mark.parametrize("solver", SOLVERS)
def test_buys_below_the_trade_off_price_and_not_above(solver) -> None:
    """Rising goal, B at $10,500/t (0.0105 $M/t, above the 0.01 a tonne is worth in FY2030).
    A (0.009 < 0.01) is bought to capacity, 100 t in each FY = 400 t (FY2027's 100 t meets that
    FY's goal, so no B is worth buying for FY2027 either); B not at all. FY2030 is 600 t short:
    weighted shortfall 600 / 1000 = 0.6, cost 400 x 0.009 = 3.6 $M, weighted objective 9.6.
    (Before the priorities were scaled apart, CBC stopped at 100 t in all: 9.9.)"""
    plan = solve(_rising_goal(10_500.0), solver)
    assert _tonnes(plan) == pytest.approx({"A": 400.0, "B": 0.0}, abs=1e-6)
    assert plan.objective_values["shortfall"] == pytest.approx(0.6, rel=1e-9)
    assert plan.objective_values["cost"] == pytest.approx(3.6, rel=1e-9)
    assert plan.objective_values["deficit"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("solver", SOLVERS)
def test_buys_both_sources_below_the_trade_off_price(solver) -> None:
    """Rising goal, B at $9,500/t (below $10,000/t): both are worth buying, A first. A gives
    400 t, B the other 600 t of FY2030's 1,000 t goal, so no shortfall; cost 3.6 + 600 x 0.0095
    = 9.3 $M. (CBC stopped at 100 t before: 9.9.)"""
    plan = solve(_rising_goal(9_500.0), solver)
    assert _tonnes(plan) == pytest.approx({"A": 400.0, "B": 600.0}, abs=1e-6)
    assert plan.objective_values["shortfall"] == pytest.approx(0.0, abs=1e-12)
    assert plan.objective_values["cost"] == pytest.approx(9.3, rel=1e-9)


@pytest.mark.parametrize("solver", SOLVERS)
def test_buys_the_cheaper_of_two_near_equal_sources(solver) -> None:
    """One FY, goal 300 t; A at $9,000/t and B at $9,500/t, 1,000 t each: both are worth buying (below
    $10,000/t) but 300 t meets the goal, so the optimum is 300 t of A and none of B (cost 2.7 $M;
    B would cost 0.15 $M more, a difference of 5e-4 $M a tonne)."""
    plan = solve(_instance([{"name": "A", "capacity": 1000.0, "price": 9_000.0},
                            {"name": "B", "capacity": 1000.0, "price": 9_500.0}], goal=300.0), solver)
    assert _tonnes(plan) == pytest.approx({"A": 300.0, "B": 0.0}, abs=1e-6)
    assert plan.objective_values["shortfall"] == pytest.approx(0.0, abs=1e-12)
    assert plan.objective_values["cost"] == pytest.approx(2.7, rel=1e-9)


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_deficit_weight_keeps_the_fund_solvent(solver) -> None:
    """One FY, goal 1,000 t, A at $9,900/t up to 300 t, B at $10,100/t, a Fund of $2M: A would be
    worth 300 t ($2.97M), but a $M of
    deficit costs 1e6 against 0.01 / 0.0099 ~ 1.01 units of shortfall a $M buys, so the plan
    spends the $2M exactly: 2e6 / 9,900 = 202.0202... t of A, no deficit, 797.98 t short."""
    plan = solve(_instance([{"name": "A", "capacity": 300.0, "price": 9_900.0},
                            {"name": "B", "capacity": 1000.0, "price": 10_100.0}], opening_balance=2e6), solver)
    bought = 2e6 / 9_900.0
    assert _tonnes(plan) == pytest.approx({"A": bought, "B": 0.0}, abs=1e-6)
    assert plan.objective_values["deficit"] == pytest.approx(0.0, abs=1e-9)
    assert plan.objective_values["shortfall"] == pytest.approx((1000.0 - bought) / 1000.0, rel=1e-9)
    assert plan.fund.closing.iloc[-1] == pytest.approx(0.0, abs=1.0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_weights_of_every_objective_are_applied(solver) -> None:
    """The weighted objective the solver minimised is sum_k weight_k x objective_k over every
    objective in OBJECTIVES (cost weighted 1): one FY, goal 1,000 t, A at $9,900/t up to 300 t
    (bought), B at $10,100/t (not): 10 x 700 / 1000 + 300 x 0.0099 = 7 + 2.97 = 9.97."""
    raw = _instance([{"name": "A", "capacity": 300.0, "price": 9_900.0},
                     {"name": "B", "capacity": 1000.0, "price": 10_100.0}])
    plan = solve(raw, solver)
    from stockpile.solve.lexicographic import objective_weights

    weights = objective_weights(plan.scenario.objective)
    assert set(weights) == set(OBJECTIVES) and weights[OBJECTIVES[-1]] == 1.0
    total = sum(weights[name] * plan.objective_values[name] for name in OBJECTIVES)
    assert total == pytest.approx(9.97, rel=1e-9)
