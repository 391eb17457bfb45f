"""Small instances whose optimum is derived by hand, solved with HiGHS and with CBC.

Each instance is a builder of a raw scenario (registered in ``INSTANCES``); each test's docstring
carries the derivation: the numbers, the reasoning, the optimum. Units: the model counts money in
$M, so ``plan.objective_values["cost"]`` is in $M while the plan tables are in dollars.
Unless a builder says otherwise the base of :func:`conftest.make_scenario` applies: FY2027..FY2029,
material X ("Testium", weight 1) with goal 100 t, option A (Canada, lead time 0, 1,000 t/FY,
$50,000/t), Fund $1,000M, no flows, discount 0, lexicographic objective.

Every plan goes through ``plan_scenario``, so each one has also passed the independent audit.
"""

from __future__ import annotations

import pytest

from stockpile.scenario.schema import SOLVERS as SCENARIO_SOLVERS

from conftest import (HandSolved, approx, assert_same_optimum, closings, deep_merge, fund_row, inventory_row,
                      make_scenario, orders_by_key)

instance = HandSolved()
INSTANCES, solved = instance.builders, instance.solved


TONNES = 1e-5   # absolute tolerance on tonnes
DOLLARS = 1.0   # absolute tolerance on dollars in the tables


# ---------------------------------------------------------------------------------------------
# 1. One source

@instance
def one_source():
    return make_scenario(materials={"X": {"goal": 120.0}})


def test_one_source_costs_goal_times_price(solver):
    """One option, goal 120 t in every FY, nothing in stock, lead time 0, price $50,000/t.

    Readiness needs inv >= 120 from FY2027; the only way in is option A, so 120 t are ordered in
    FY2027 and nothing after (more tonnes only cost more). Cost = 120 x $50,000 = $6,000,000 =
    6.0 $M (discount 0). Deficit 0, shortfall 0. Fund: $1,000M - $6M = $994M from FY2027 on.
    Headline: solvent through FY2029.
    """
    plan = solved("one_source", solver)
    assert plan.objective_values["deficit"] == approx(0.0)
    assert plan.objective_values["shortfall"] == approx(0.0)
    assert plan.objective_values["cost"] == approx(6.0)
    assert orders_by_key(plan) == {("A", 2027): approx(120.0, TONNES)}
    assert closings(plan, "X") == [approx(120.0, TONNES)] * 3
    assert [fund_row(plan, fy).closing for fy in (2027, 2028, 2029)] == [approx(994e6, DOLLARS)] * 3
    assert fund_row(plan, 2027).purchases == approx(6e6, DOLLARS)
    assert plan.kpis["first_shortfall_fy"] is None
    assert plan.kpis["first_deficit_fy"] is None
    assert plan.kpis["solvent_through_fy"] == 2029
    assert plan.kpis["total_purchase_cost"] == approx(6e6, DOLLARS)
    assert plan.headline == "solvent through FY2029"


# ---------------------------------------------------------------------------------------------
# 2. Lead times

@instance
def lead_time_early_order():
    return make_scenario(
        horizon={"last_fy": 2031},
        materials={"X": {"goal": {"2027": 0.0, "2029": 100.0}}},
        supply=[{"name": "A", "material": "X", "kind": "import", "country": "Canada",
                 "capacity": 1000.0, "price": 40_000.0, "lead_time": 2}])


def test_lead_time_forces_an_earlier_order(solver):
    """Lead time 2: an order placed in FY y arrives in FY y+2. Horizon FY2027..FY2031.

    The goal is 0 in FY2027-28 and 100 t from FY2029. Orderable FYs are 2027..2029 (delivery by
    FY2031). The only order that arrives by FY2029 is one placed in FY2027, so exactly 100 t are
    ordered in FY2027 with delivery_fy 2029. Inventory: 0, 0, 100, 100, 100. It is paid when
    ordered: FY2027 purchases = 100 x $40,000 = $4M; Fund $996M from FY2027. Cost 4.0 $M, no
    shortfall (goal 0 in the FYs before delivery).
    """
    plan = solved("lead_time_early_order", solver)
    orders = plan.tables["orders"]
    assert len(orders) == 1
    row = orders.iloc[0]
    assert (row.option, row.fy, row.delivery_fy) == ("A", 2027, 2029)
    assert row.tonnes == approx(100.0, TONNES)
    assert closings(plan, "X") == [approx(0.0, TONNES)] * 2 + [approx(100.0, TONNES)] * 3
    assert inventory_row(plan, "X", 2029).deliveries == approx(100.0, TONNES)
    assert fund_row(plan, 2027).purchases == approx(4e6, DOLLARS)
    assert fund_row(plan, 2027).closing == approx(996e6, DOLLARS)
    assert plan.objective_values["cost"] == approx(4.0)
    assert plan.objective_values["shortfall"] == approx(0.0)
    assert plan.headline == "solvent through FY2031"


@instance
def lead_time_unavoidable_shortfall():
    return make_scenario(supply=[{"name": "A", "material": "X", "kind": "import", "country": "Canada",
                                  "capacity": 1000.0, "price": 40_000.0, "lead_time": 1}])


def test_lead_time_leaves_the_first_year_short(solver):
    """Lead time 1 with goal 100 t from FY2027 and no stock: nothing can arrive in FY2027.

    short[2027] = 100 t whatever is done; orderable FYs 2027..2028. inv[2028] >= 100 needs an
    FY2027 order of 100 t (delivered FY2028); the FY2028 order (arriving FY2029) is not needed.
    Shortfall objective = w x short / goal = 1 x 100/100 = 1.0. Cost = 100 x $40,000 = 4.0 $M.
    first_shortfall_fy 2027; headline "not solvent in FY2027; first shortfall FY2027: testium 100 t
    (100 t-yr short in all)".
    """
    plan = solved("lead_time_unavoidable_shortfall", solver)
    assert orders_by_key(plan) == {("A", 2027): approx(100.0, TONNES)}
    assert inventory_row(plan, "X", 2027).shortfall == approx(100.0, TONNES)
    assert inventory_row(plan, "X", 2028).shortfall == approx(0.0, TONNES)
    assert closings(plan, "X") == [approx(0.0, TONNES), approx(100.0, TONNES), approx(100.0, TONNES)]
    assert plan.objective_values["shortfall"] == approx(1.0)
    assert plan.objective_values["cost"] == approx(4.0)
    assert plan.kpis["first_shortfall_fy"] == 2027
    assert plan.kpis["solvent_through_fy"] is None
    assert plan.headline == "not solvent in FY2027; first shortfall FY2027: testium 100 t (100 t-yr short in all)"


# ---------------------------------------------------------------------------------------------
# 3. A budget too small

@instance
def budget_too_small():
    return make_scenario(
        fund={"opening_balance": 0.0, "appropriation": {"2027": 3e6, "2028": 0.0}},
        supply=[{"name": "A", "material": "X", "kind": "import", "country": "Canada",
                 "capacity": 1000.0, "price": 250_000.0}])


def test_budget_too_small_gives_the_exact_shortfall(solver):
    """The Fund gets $3M in FY2027 and nothing else; A costs $250,000/t; goal 100 t.

    Deficit first: any spending beyond $3M in all would put the Fund below 0, so deficit 0 allows
    at most floor(3e6 / 250e3) = 12 t in the whole horizon. Readiness: inventory in each FY is the
    tonnes bought so far, so all 12 t are bought in FY2027: short = 88 t in each of 3 FYs,
    shortfall objective = 3 x 88/100 = 2.64. Cost = 12 x 0.25 = 3.0 $M; Fund closing 0 each FY.
    Headline "not solvent in FY2027; first shortfall FY2027: testium 88 t (264 t-yr short in all)".
    """
    plan = solved("budget_too_small", solver)
    assert plan.objective_values["deficit"] == approx(0.0)
    assert plan.objective_values["shortfall"] == approx(2.64)
    assert plan.objective_values["cost"] == approx(3.0)
    assert orders_by_key(plan) == {("A", 2027): approx(12.0, TONNES)}
    for fy in (2027, 2028, 2029):
        assert inventory_row(plan, "X", fy).shortfall == approx(88.0, TONNES)
        assert fund_row(plan, fy).closing == approx(0.0, DOLLARS)
        assert fund_row(plan, fy).deficit == approx(0.0, DOLLARS)
    assert plan.kpis["total_shortfall_tonne_years"] == approx(264.0, 1e-4)
    assert plan.kpis["first_shortfall_fy"] == 2027
    assert plan.kpis["first_deficit_fy"] is None
    assert plan.headline == "not solvent in FY2027; first shortfall FY2027: testium 88 t (264 t-yr short in all)"


# ---------------------------------------------------------------------------------------------
# 4. Covered-country ban

def _china_and_canada(**overrides):
    raw = make_scenario(
        countries={"China": ["covered"]},
        supply=[{"name": "China import", "material": "X", "kind": "import", "country": "China",
                 "capacity": 1000.0, "price": 10_000.0},
                {"name": "Canada import", "material": "X", "kind": "import", "country": "Canada",
                 "capacity": 1000.0, "price": 15_000.0}])
    return deep_merge(raw, overrides)


@instance
def covered_ban():
    return _china_and_canada(policy={"bans": [{"material": "X", "tag": "covered", "from_fy": 2027}]})


def test_covered_ban_moves_buying_to_the_dearer_partner(solver):
    """China (tagged covered) sells at $10,000/t, Canada at $15,000/t; goal 100 t.

    A ban on covered sources of X from FY2027 forbids every China order, so the 100 t come from
    Canada in FY2027: cost = 100 x $15,000 = 1.5 $M (it would be 1.0 $M without the ban).
    Covered share of FY2027 orders 0.
    """
    plan = solved("covered_ban", solver)
    assert orders_by_key(plan) == {("Canada import", 2027): approx(100.0, TONNES)}
    assert plan.objective_values["cost"] == approx(1.5)
    assert plan.objective_values["shortfall"] == approx(0.0)
    sourcing = plan.tables["sourcing"].set_index("fy")
    assert sourcing.loc[2027, "covered_share"] == approx(0.0)


@instance
def covered_ban_later():
    return _china_and_canada(materials={"X": {"goal": {"2027": 100.0, "2028": 160.0}}},
                             policy={"bans": [{"material": "X", "tag": "covered", "from_fy": 2028}]})


def test_ban_from_a_later_fy_is_pre_bought(solver):
    """The same two sources, ban from FY2028, goal 100 t in FY2027 and 160 t from FY2028.

    x = China tonnes bought in FY2027 (>= 100 for the FY2027 goal); the rest, 160 - x, must come
    from Canada in FY2028 (China is banned then). Cost = 10,000 x + 15,000 (160 - x) falls with x,
    and holding is free, so x = 160: everything from China in FY2027, cost 160 x $10,000 = 1.6 $M.
    """
    plan = solved("covered_ban_later", solver)
    assert orders_by_key(plan) == {("China import", 2027): approx(160.0, TONNES)}
    assert plan.objective_values["cost"] == approx(1.6)
    assert closings(plan, "X") == [approx(160.0, TONNES)] * 3


# ---------------------------------------------------------------------------------------------
# 5. Trusted-share floor

@instance
def trusted_share_floor():
    return make_scenario(
        countries={"Bolivia": []},
        supply=[{"name": "Bolivia import", "material": "X", "kind": "import", "country": "Bolivia",
                 "capacity": 1000.0, "price": 10_000.0},
                {"name": "Canada import", "material": "X", "kind": "import", "country": "Canada",
                 "capacity": 1000.0, "price": 20_000.0}],
        policy={"trusted_tags": ["fta"], "trusted_share": {"X": 0.4}})


def test_trusted_share_floor_sets_the_mix(solver):
    """Bolivia (untrusted) at $10,000/t, Canada (fta = trusted) at $20,000/t, alpha = 0.4.

    Buy T = b + c >= 100 t in FY2027 with c >= 0.4 T. Cost = 10,000 b + 20,000 c =
    10,000 T + 10,000 c >= 10,000 T + 4,000 T = 14,000 T >= $1.4M, reached only at T = 100,
    c = 40, b = 60. Cost 1.4 $M; trusted share exactly 0.4.
    """
    plan = solved("trusted_share_floor", solver)
    assert orders_by_key(plan) == {("Bolivia import", 2027): approx(60.0, TONNES),
                                   ("Canada import", 2027): approx(40.0, TONNES)}
    assert plan.objective_values["cost"] == approx(1.4)
    sourcing = plan.tables["sourcing"].set_index("fy")
    assert sourcing.loc[2027, "trusted_share"] == approx(0.4)
    assert sourcing.loc[2027, "trusted_floor"] == approx(0.4)


# ---------------------------------------------------------------------------------------------
# 6. Fund floor

@instance
def fund_floor_deficit():
    return make_scenario(horizon={"last_fy": 2030}, materials={"X": {"opening_inventory": 100.0}},
                         fund={"opening_balance": 10e6, "operating_cost": 4e6, "floor": 5e6})


def test_fund_floor_gives_the_exact_deficit(solver):
    """Nothing to buy (100 t in stock meets the 100 t goal); Fund opens at $10M, pays $4M operating
    cost a year, floor $5M.

    Closing: 10-4 = 6, 2, -2, -6 $M in FY2027..FY2030 (no decision can change it; buying would
    only lower it). Deficit = max(floor - closing, 0) = 0, 3, 7, 11 $M: growing by the $4M a year
    once below the floor. Deficit objective = 21 $M. first_deficit_fy 2028; headline "solvent
    through FY2027; Fund deficit from FY2028".
    """
    plan = solved("fund_floor_deficit", solver)
    assert plan.tables["orders"].empty
    fund = plan.tables["fund"]
    assert list(fund.closing) == [approx(v, DOLLARS) for v in (6e6, 2e6, -2e6, -6e6)]
    assert list(fund.deficit) == [approx(v, DOLLARS) for v in (0.0, 3e6, 7e6, 11e6)]
    assert plan.objective_values["deficit"] == approx(21.0)
    assert plan.objective_values["cost"] == approx(0.0)
    assert plan.kpis["first_deficit_fy"] == 2028
    assert plan.kpis["first_shortfall_fy"] is None
    assert plan.kpis["total_deficit"] == approx(21e6, DOLLARS)
    assert plan.kpis["solvent_through_fy"] == 2027
    # (the headline may go on to say how much more appropriation would avoid the deficit)
    assert plan.headline.startswith("solvent through FY2027; Fund deficit from FY2028")


# ---------------------------------------------------------------------------------------------
# 7. Recycling

@instance
def recycling_cap():
    return make_scenario(
        supply=[{"name": "A", "material": "X", "kind": "import", "country": "Canada",
                 "capacity": 1000.0, "price": 20_000.0}],
        recycling=[{"name": "Scrap", "material": "X", "feedstock": 50.0, "recovery_yield": 0.6,
                    "cost": 5_000.0}])


def test_recycling_cap_is_feedstock_times_yield(solver):
    """Recycling at $5,000/t is capped at feedstock x yield = 50 x 0.6 = 30 t/FY; A costs $20,000/t.

    The whole 100 t goal is due in FY2027 (no lead time, no stock), so FY2027 takes the 30
    recycled tonnes and buys the other 70 from A; later FYs need nothing. Cost = 30 x 5,000 +
    70 x 20,000 = $1.55M.
    """
    plan = solved("recycling_cap", solver)
    assert orders_by_key(plan) == {("Scrap", 2027): approx(30.0, TONNES), ("A", 2027): approx(70.0, TONNES)}
    assert plan.objective_values["cost"] == approx(1.55)
    orders = plan.tables["orders"].set_index("option")
    assert orders.loc["Scrap", "kind"] == "recycling"
    assert orders.loc["Scrap", "unit_price"] == approx(5_000.0)


# ---------------------------------------------------------------------------------------------
# 8. Concentration cap

@instance
def concentration_cap():
    return make_scenario(
        countries={"Bolivia": []},
        supply=[{"name": "Bolivia import", "material": "X", "kind": "import", "country": "Bolivia",
                 "capacity": 1000.0, "price": 10_000.0},
                {"name": "Canada import", "material": "X", "kind": "import", "country": "Canada",
                 "capacity": 1000.0, "price": 12_000.0},
                {"name": "Domestic mine", "material": "X", "kind": "domestic", "country": "United States",
                 "capacity": 10.0, "price": 11_000.0}],
        policy={"concentration_cap": 0.6})


def test_concentration_cap_splits_between_countries(solver):
    """Bolivia $10,000/t, home (U.S.) mine $11,000/t for at most 10 t, Canada $12,000/t; beta 0.6.

    Only foreign countries are capped: b <= 0.6 T and c <= 0.6 T, T = b + c + d >= 100, d <= 10.
    Cost = 12,000 T - 2,000 b - 1,000 d >= 12,000 T - 1,200 T - 10,000 = 10,800 T - 10,000
    >= $1,070,000, reached only at T = 100, b = 60, d = 10, c = 30. Largest country Bolivia at 0.6.
    """
    plan = solved("concentration_cap", solver)
    assert orders_by_key(plan) == {("Bolivia import", 2027): approx(60.0, TONNES),
                                   ("Domestic mine", 2027): approx(10.0, TONNES),
                                   ("Canada import", 2027): approx(30.0, TONNES)}
    assert plan.objective_values["cost"] == approx(1.07)
    sourcing = plan.tables["sourcing"].set_index("fy")
    assert sourcing.loc[2027, "largest_country"] == "Bolivia"
    assert sourcing.loc[2027, "largest_share"] == approx(0.6)


# ---------------------------------------------------------------------------------------------
# 9. Price tiers

@instance
def price_tiers():
    return make_scenario(
        materials={"X": {"goal": {"2027": 80.0, "2028": 100.0}}},
        supply=[{"name": "A", "material": "X", "kind": "import", "country": "Canada",
                 "capacity": 1000.0, "price": 10_000.0,
                 "tiers": [{"up_to": 50.0, "factor": 1.0}, {"factor": 1.5}]}])


def test_price_tiers_give_the_exact_convex_cost(solver):
    """$10,000/t for the first 50 t a year, 1.5 x ($15,000/t) beyond; goal 80 t then 100 t.

    FY2027 needs x >= 80 t; FY2028 tops up 100 - x (<= 50, all at tier 1). Cost in $k =
    (50 x 10 + 15 (x - 50)) + 10 (100 - x) = 750 + 5x, least at x = 80: FY2027 80 t costing
    500,000 + 30 x 15,000 = $950,000 (unit price $11,875), FY2028 20 t costing $200,000.
    Total 1.15 $M.
    """
    plan = solved("price_tiers", solver)
    assert orders_by_key(plan) == {("A", 2027): approx(80.0, TONNES), ("A", 2028): approx(20.0, TONNES)}
    orders = plan.tables["orders"].set_index("fy")
    assert orders.loc[2027, "cost"] == approx(950_000.0, DOLLARS)
    assert orders.loc[2027, "unit_price"] == approx(11_875.0)
    assert orders.loc[2028, "cost"] == approx(200_000.0, DOLLARS)
    assert plan.objective_values["cost"] == approx(1.15)


# ---------------------------------------------------------------------------------------------
# 10. Lexicographic priorities against a weighted objective

def _solvency_or_readiness(**objective):
    return make_scenario(
        fund={"opening_balance": 5e6},
        supply=[{"name": "A", "material": "X", "kind": "import", "country": "Canada",
                 "capacity": 1000.0, "price": 100_000.0}],
        objective=objective)


@instance
def solvency_beats_readiness():
    return _solvency_or_readiness()


@instance
def solvency_beats_readiness_weighted():
    return _solvency_or_readiness(mode="weighted")


@instance
def readiness_beats_solvency_weighted():
    return _solvency_or_readiness(mode="weighted", deficit_weight=1.0, shortfall_weight=1e4)


@pytest.mark.parametrize("name", ["solvency_beats_readiness", "solvency_beats_readiness_weighted"])
def test_solvency_beats_readiness(solver, name):
    """$5M in the Fund, no appropriation; A costs $100,000/t; goal 100 t (needs $10M).

    Lexicographic: deficit first, so at most $5M is spent: 50 t, all in FY2027 (readiness then
    keeps inv = 50 in every FY). Deficit 0, shortfall 3 x 50/100 = 1.5, cost 5.0 $M, Fund 0.
    Weighted with the defaults (deficit 1e6, shortfall 1e4 per unit): a tonne beyond 50 adds
    0.1 $M of deficit in each of FY2027-29 (0.3 $M -> 300,000 penalty) and saves 3 x 1/100 of
    shortfall (-> 300), so the weighted solve makes the same plan.
    """
    plan = solved(name, solver)
    assert orders_by_key(plan) == {("A", 2027): approx(50.0, TONNES)}
    assert plan.objective_values["deficit"] == approx(0.0)
    assert plan.objective_values["shortfall"] == approx(1.5)
    assert plan.objective_values["cost"] == approx(5.0)
    assert [fund_row(plan, fy).closing for fy in (2027, 2028, 2029)] == [approx(0.0, DOLLARS)] * 3
    assert plan.kpis["first_deficit_fy"] is None
    assert plan.kpis["first_shortfall_fy"] == 2027
    assert plan.headline == "not solvent in FY2027; first shortfall FY2027: testium 50 t (150 t-yr short in all)"


def test_weighted_mode_can_put_readiness_first(solver):
    """The same scenario, weighted with deficit_weight 1 and shortfall_weight 1e4.

    A tonne now costs 0.1 $M + 0.3 $M deficit (x 1) = 0.4 and saves 1e4 x 3/100 = 300, so all
    100 t are bought, in FY2027 (buying the second 50 t in FY2028 would save 5 $M x 1 of deficit
    but cost 1e4 x 0.5 of shortfall). Fund closing -$5M in each FY: deficit 5, 5, 5 = 15 $M;
    shortfall 0; cost 10.0 $M. Headline "not solvent in FY2027; Fund deficit from FY2027".
    """
    plan = solved("readiness_beats_solvency_weighted", solver)
    assert orders_by_key(plan) == {("A", 2027): approx(100.0, TONNES)}
    assert plan.objective_values["deficit"] == approx(15.0)
    assert plan.objective_values["shortfall"] == approx(0.0)
    assert plan.objective_values["cost"] == approx(10.0)
    assert list(plan.tables["fund"].deficit) == [approx(5e6, DOLLARS)] * 3
    assert plan.kpis["first_deficit_fy"] == 2027
    assert plan.kpis["first_shortfall_fy"] is None
    assert plan.headline.startswith("not solvent in FY2027; Fund deficit from FY2027")


# ---------------------------------------------------------------------------------------------
# 11. Disposal

def _excess_stock(allowed: bool):
    return make_scenario(
        materials={"X": {"opening_inventory": 200.0,
                         "disposal": {"allowed": allowed, "price": 20_000.0, "max_per_fy": 100.0}}},
        fund={"opening_balance": 1e6},
        objective={"discount_rate": 0.1})


@instance
def disposal_allowed():
    return _excess_stock(True)


@instance
def disposal_not_allowed():
    return _excess_stock(False)


def test_disposal_sells_the_excess_when_allowed(solver):
    """200 t in stock, goal 100 t, disposals allowed at $20,000/t up to 100 t/FY, discount 10%.

    Readiness keeps inv >= 100, so at most 100 t can go in all. Cost = -(0.02 s27 + 0.02 s28/1.1
    + 0.02 s29/1.21) $M is least with s27 = 100 (the undiscounted FY). Buying to sell loses money
    ($50,000/t in, $20,000/t out). Revenue $2M: Fund $1M -> $3M from FY2027; cost objective
    -2.0 $M; inventory 100 t in every FY.
    """
    plan = solved("disposal_allowed", solver)
    assert plan.tables["orders"].empty
    assert inventory_row(plan, "X", 2027).disposals == approx(100.0, TONNES)
    assert list(plan.tables["inventory"].disposals) == [approx(100.0, TONNES), approx(0.0, TONNES), approx(0.0, TONNES)]
    assert closings(plan, "X") == [approx(100.0, TONNES)] * 3
    assert fund_row(plan, 2027).sales == approx(2e6, DOLLARS)
    assert [fund_row(plan, fy).closing for fy in (2027, 2028, 2029)] == [approx(3e6, DOLLARS)] * 3
    assert plan.objective_values["cost"] == approx(-2.0)
    assert plan.kpis["discounted_net_cost"] == approx(-2e6, DOLLARS)


def test_disposal_not_sold_when_not_allowed(solver):
    """The same stock with disposals not allowed: no sell variable, nothing bought (200 >= 100).

    Inventory stays 200 t, Fund stays $1M, cost objective 0.
    """
    plan = solved("disposal_not_allowed", solver)
    assert plan.tables["orders"].empty
    assert list(plan.tables["inventory"].disposals) == [approx(0.0, TONNES)] * 3
    assert closings(plan, "X") == [approx(200.0, TONNES)] * 3
    assert [fund_row(plan, fy).closing for fy in (2027, 2028, 2029)] == [approx(1e6, DOLLARS)] * 3
    assert plan.objective_values["cost"] == approx(0.0)


# ---------------------------------------------------------------------------------------------
# 12. Storage loss, pipeline, drawdown

@instance
def loss_pipeline_draw():
    return make_scenario(
        horizon={"last_fy": 2030},
        supply=[],
        materials={"X": {"goal": 0.0, "opening_inventory": 100.0, "loss_rate": 0.1,
                         "pipeline": {"2028": 50.0}, "draw": {"2029": 200.0}}},
        fund={"opening_balance": 1e6, "holding_cost": 10.0})


def test_loss_pipeline_and_a_draw_larger_than_the_stock(solver):
    """No supply options; 100 t opening, 10% storage loss a year, 50 t pipeline in FY2028, a 200 t
    drawdown in FY2029; holding $10/t-year; goal 0.

    inv[y] = 0.9 inv[y-1] + pipeline - (draw - unmet):
      FY2027: 0.9 x 100 = 90 (loss 10);  FY2028: 0.9 x 90 + 50 = 131 (loss 9);
      FY2029: 0.9 x 131 = 117.9 available (loss 13.1), the draw takes it all: unmet 200 - 117.9 =
      82.1 t, closing 0;  FY2030: 0.
    Release objective (first priority) = 82.1 / max(draw 200, 1) = 0.4105; the shortfall
    objective is 0 (no goal: an unmet release is not goal shortfall). Holding: 10 x 90 = $900,
    10 x 131 = $1,310: Fund 999,100, 997,790, 997,790, 997,790; cost objective 0.00221 $M.
    first_unmet_release_fy 2029, no goal shortfall; headline "solvent through FY2028; unmet
    release FY2029: testium 82 t".
    """
    plan = solved("loss_pipeline_draw", solver)
    assert closings(plan, "X") == [approx(v, TONNES) for v in (90.0, 131.0, 0.0, 0.0)]
    row = inventory_row(plan, "X", 2029)
    assert row.unmet_draw == approx(82.1, TONNES)
    assert row.draws == approx(117.9, TONNES)
    assert row.loss == approx(13.1, TONNES)
    assert list(plan.tables["inventory"].loss) == [approx(v, TONNES) for v in (10.0, 9.0, 13.1, 0.0)]
    assert inventory_row(plan, "X", 2028).pipeline == approx(50.0)
    assert list(plan.tables["fund"].closing) == [approx(v, DOLLARS) for v in (999_100.0, 997_790.0,
                                                                             997_790.0, 997_790.0)]
    assert list(plan.tables["fund"].holding_cost) == [approx(v, DOLLARS) for v in (900.0, 1310.0, 0.0, 0.0)]
    assert plan.objective_values["release"] == approx(0.4105)
    assert plan.objective_values["shortfall"] == approx(0.0, abs=1e-12)
    assert plan.objective_values["cost"] == approx(0.00221, 1e-9)
    assert plan.kpis["first_shortfall_fy"] is None and plan.kpis["first_unmet_release_fy"] == 2029
    assert plan.kpis["total_unmet_release_tonnes"] == approx(82.1, TONNES)
    assert plan.kpis["total_shortfall_tonne_years"] == approx(0.0, abs=TONNES)
    assert plan.headline == "solvent through FY2028; unmet release FY2029: testium 82 t"


# ---------------------------------------------------------------------------------------------
# 13. Disruption events and escalation

@instance
def disruption_and_escalation():
    return make_scenario(
        countries={"China": []},
        materials={"X": {"goal": {"2027": 100.0, "2028": 200.0, "2029": 300.0}}},
        supply=[{"name": "China import", "material": "X", "kind": "import", "country": "China",
                 "capacity": 100.0, "price": 10_000.0},
                {"name": "Canada import", "material": "X", "kind": "import", "country": "Canada",
                 "capacity": 100.0, "price": 12_000.0, "escalation": 0.1}],
        events={"cutoff": {"country": "China", "material": "X", "from_fy": 2028, "to_fy": 2028,
                           "availability": 0.0},
                "surge": {"country": "China", "from_fy": 2029, "to_fy": 2029,
                          "availability": 1.0, "price": 1.25}})


def test_disruption_event_and_escalation(solver):
    """China 100 t/FY at $10,000/t; Canada 100 t/FY at $12,000/t escalating 10% a year; goals
    100, 200, 300 t (cumulative, no lead time). China is cut off in FY2028 (availability 0) and
    1.25x dearer in FY2029.

    Unit prices per FY: China 10,000 / - / 12,500; Canada 12,000 / 13,200 / 14,520. Any plan buys
    300 t with >= 200 t by FY2028. The three cheapest 100 t blocks are China27 (10,000), Canada27
    (12,000), China29 (12,500); they meet the cumulative goals (200 by FY2028, 300 in FY2029).
    Cost = 1.0 + 1.2 + 1.25 = 3.45 $M. (Without the cut-off China28 at 10,000 would replace
    China29; without escalation Canada28 at 12,000 would.)
    """
    plan = solved("disruption_and_escalation", solver)
    assert orders_by_key(plan) == {("China import", 2027): approx(100.0, TONNES),
                                   ("Canada import", 2027): approx(100.0, TONNES),
                                   ("China import", 2029): approx(100.0, TONNES)}
    orders = plan.tables["orders"]
    china29 = orders[(orders.option == "China import") & (orders.fy == 2029)].iloc[0]
    assert china29.unit_price == approx(12_500.0)
    assert plan.objective_values["cost"] == approx(3.45)
    assert closings(plan, "X") == [approx(v, TONNES) for v in (200.0, 200.0, 300.0)]
    assert plan.objective_values["shortfall"] == approx(0.0)


# ---------------------------------------------------------------------------------------------
# 14. Discounting

@instance
def discounting():
    return make_scenario(
        materials={"X": {"goal": {"2027": 0.0, "2029": 100.0}}},
        supply=[{"name": "A", "material": "X", "kind": "import", "country": "Canada",
                 "capacity": 60.0, "price": 100_000.0}],
        objective={"discount_rate": 0.25})


def test_discounting_buys_late_and_costs_the_discounted_sum(solver):
    """r = 0.25, so FY factors 1, 0.8, 0.64; A at $100,000/t (0.1 $M) for at most 60 t/FY; the
    goal is 0 until FY2029, then 100 t.

    Cost = 0.1 (o27 + 0.8 o28 + 0.64 o29) with o27 + o28 + o29 >= 100, each <= 60: fill the latest
    FY first: o29 = 60, o28 = 40. Cost = 0.1 x (0.8 x 40 + 0.64 x 60) = 3.2 + 3.84 = 7.04 $M;
    undiscounted purchases $10M.
    """
    plan = solved("discounting", solver)
    assert orders_by_key(plan) == {("A", 2028): approx(40.0, TONNES), ("A", 2029): approx(60.0, TONNES)}
    assert plan.objective_values["cost"] == approx(7.04)
    assert plan.kpis["discounted_net_cost"] == approx(7.04e6, DOLLARS)
    assert plan.kpis["total_purchase_cost"] == approx(10e6, DOLLARS)


# ---------------------------------------------------------------------------------------------
# No readiness objective at all

# Regression: an empty readiness objective once made PuLP add a '__dummy' column that CBC 2.10's
# MPS reader rejected in the next stage; empty stages are no longer sent to the solver.


@instance
def no_goal_at_all():
    return make_scenario(materials={"X": {"goal": 0.0}},
                         fund={"opening_balance": 10e6, "appropriation": 1e6, "operating_cost": 0.5e6})


def test_a_scenario_without_goals(solver):
    """Goal 0 in every FY, no draws: nothing to aim for, so nothing is bought.

    Deficit 0, shortfall 0 (no terms at all), cost 0. Fund: 10 + 1 - 0.5 = 10.5, 11, 11.5 $M.
    Headline "solvent through FY2029".
    """
    plan = solved("no_goal_at_all", solver)
    assert plan.tables["orders"].empty
    assert plan.objective_values == {"release": approx(0.0), "deficit": approx(0.0), "shortfall": approx(0.0),
                                     "cost": approx(0.0)}
    assert list(plan.tables["fund"].closing) == [approx(v, DOLLARS) for v in (10.5e6, 11e6, 11.5e6)]
    assert plan.headline == "solvent through FY2029"


# ---------------------------------------------------------------------------------------------
# Both solvers agree on every instance

@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_highs_and_cbc_agree(name):
    """HiGHS and CBC reach the same optimum: objective values to 1e-6 relative, same closing stock."""
    highs, cbc = solved(name, "highs"), solved(name, "cbc")
    assert_same_optimum(cbc, highs)
    assert cbc.headline == highs.headline


OTHER_ROUTES = [name for name in SCENARIO_SOLVERS if name not in ("highs", "cbc")]


@pytest.mark.parametrize("route", OTHER_ROUTES)
@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_other_solver_routes_agree_with_highs(name, route):
    """Every further solver route the scenario format accepts (HiGHS through PuLP, HiGHS interior
    point) reaches the same optimum as the default on every instance."""
    highs, other = solved(name, "highs"), solved(name, route)
    assert_same_optimum(other, highs)
