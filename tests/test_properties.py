"""Property-based tests: random valid scenarios, every solve optimal or diagnosed.

Hypothesis draws small scenarios (1-3 materials, 1-4 supply options and up to one recycling
stream, 2-5 FYs) with every feature a scenario file may use: goals as scalars, step tables and
ramps; opening stock, losses, pipeline, drawdowns, disposals, AMP limits; tiered prices, lead
times, order windows and fixed orders; appropriations, committed payments, obligation caps and a
Fund floor; trusted-share floors, bans, a single-country cap and disruption events; lexicographic
or weighted objectives. Fixed orders and obligation caps make some of them infeasible on purpose.

For each scenario: the plan is optimal, passes its audit, and its inventory and Fund balances
close when recomputed here; or the scenario is infeasible, and applying the diagnosis's
relaxations to it gives a scenario that solves. And more appropriation never leaves the plan
worse: lexicographically in (deficit, shortfall), and in shortfall alone when neither plan has a
deficit (see ``test_more_appropriation_never_raises_the_optimal_shortfall``).

``derandomize=True`` makes the examples the same on every run, so CI is deterministic.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockpile.solve.diagnose import InfeasibleError
from stockpile.plan.pipeline import plan_scenario
from stockpile.scenario.load import scenario_from_dict
from stockpile.scenario.schema import to_plain

FIRST_FY = 2027
COUNTRIES = {"United States": ["domestic"], "Canada": ["fta", "msp"], "China": ["covered"],
             "Chile": ["fta"], "Bolivia": []}
FOREIGN = ["Canada", "China", "Chile", "Bolivia"]
PROFILE = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

tonnes = st.floats(min_value=0, max_value=500, allow_nan=False).map(lambda v: round(v, 1))
share = st.sampled_from([0.0, 0.2, 0.5, 0.8, 1.0])


@st.composite
def per_fy_value(draw, fys: list[int], values):
    """A scalar, a step table starting at the first FY, or a ramp."""
    form = draw(st.sampled_from(["scalar", "step", "ramp"]))
    if form == "scalar":
        return draw(values)
    chosen = sorted({fys[0], *draw(st.lists(st.sampled_from(fys), max_size=2))})
    table = {str(fy): draw(values) for fy in chosen}
    return table if form == "step" else {"ramp": table}


@st.composite
def schedules(draw, fys: list[int], values):
    chosen = draw(st.lists(st.sampled_from(fys), max_size=2, unique=True))
    return {str(fy): draw(values) for fy in chosen}


@st.composite
def scenarios(draw) -> dict:
    n_fys = draw(st.integers(2, 5))
    fys = list(range(FIRST_FY, FIRST_FY + n_fys))
    codes = ["A", "B", "C"][: draw(st.integers(1, 3))]
    materials = {}
    for code in codes:
        material = {"name": f"Material {code}", "goal": draw(per_fy_value(fys, tonnes)),
                    "opening_inventory": draw(tonnes), "weight": draw(st.sampled_from([0.5, 1.0, 2.0])),
                    "loss_rate": draw(st.sampled_from([0.0, 0.0, 0.02, 0.1]))}
        if draw(st.booleans()):
            material["pipeline"] = draw(schedules(fys, tonnes))
        if draw(st.integers(0, 4)) == 0:
            material["draw"] = draw(schedules(fys, tonnes))
        if draw(st.integers(0, 4)) == 0:
            material["disposal"] = {"allowed": True, "price": draw(st.sampled_from([0.0, 5_000.0, 40_000.0])),
                                    "max_per_fy": draw(tonnes)}
        if draw(st.integers(0, 5)) == 0:
            material["amp_limit"] = draw(per_fy_value(fys, tonnes))
        materials[code] = material

    supply = []
    for i in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["import", "import", "domestic", "partner_project"]))
        country = "United States" if kind == "domestic" else draw(st.sampled_from(FOREIGN))
        lead = draw(st.sampled_from([0, 0, 1, 2]))
        option = {"name": f"option {i + 1}", "material": draw(st.sampled_from(codes)), "kind": kind,
                  "country": country, "capacity": draw(per_fy_value(fys, tonnes)),
                  "price": draw(st.sampled_from([5_000.0, 20_000.0, 50_000.0, 120_000.0])), "lead_time": lead}
        if draw(st.integers(0, 3)) == 0:
            option["tiers"] = [{"up_to": draw(st.sampled_from([10.0, 50.0, 200.0])), "factor": 1.0},
                               {"factor": draw(st.sampled_from([1.0, 1.5, 3.0])),
                                **({"up_to": 400.0} if draw(st.booleans()) else {})}]
        if draw(st.integers(0, 4)) == 0:
            option["first_fy"] = draw(st.sampled_from(fys))
        if draw(st.integers(0, 4)) == 0:
            option["escalation"] = 0.05
        window = [fy for fy in fys if fy >= option.get("first_fy", FIRST_FY) and fy + lead <= fys[-1]]
        if window and draw(st.integers(0, 5)) == 0:
            option["fixed"] = {str(draw(st.sampled_from(window))): draw(tonnes)}
        supply.append(option)
    recycling = []
    if draw(st.integers(0, 2)) == 0:
        recycling.append({"name": "stream", "material": draw(st.sampled_from(codes)),
                          "feedstock": draw(per_fy_value(fys, tonnes)),
                          "recovery_yield": draw(st.sampled_from([0.0, 0.5, 0.9])),
                          "cost": draw(st.sampled_from([3_000.0, 30_000.0]))})

    money = st.sampled_from([0.0, 1e6, 5e6, 20e6, 100e6])
    fund = {"opening_balance": draw(st.sampled_from([0.0, 2e6, 10e6, 50e6, 1e9])),
            "appropriation": draw(per_fy_value(fys, money)),
            "operating_cost": draw(st.sampled_from([0.0, 0.5e6, 2e6])),
            "holding_cost": draw(st.sampled_from([0.0, 10.0, 100.0]))}
    if draw(st.integers(0, 3)) == 0:
        fund["committed_payments"] = draw(schedules(fys, money))
    if draw(st.integers(0, 3)) == 0:
        fund["obligation_cap"] = draw(per_fy_value(fys, money))
    if draw(st.integers(0, 4)) == 0:
        fund["floor"] = draw(st.sampled_from([1e6, 5e6]))

    policy: dict = {"trusted_tags": ["msp", "domestic", "recycling"]}
    if draw(st.booleans()):
        policy["trusted_share"] = {code: draw(per_fy_value(fys, share)) for code in codes if draw(st.booleans())}
    if draw(st.booleans()):
        policy["bans"] = [{"material": draw(st.sampled_from(codes + ["all"])), "tag": "covered",
                           "from_fy": draw(st.sampled_from(fys))}]
    if draw(st.integers(0, 2)) == 0:
        policy["concentration_cap"] = draw(st.sampled_from([0.3, 0.6, 0.9]))
    events = {}
    if draw(st.integers(0, 2)) == 0:
        events["cut"] = {"country": draw(st.sampled_from(FOREIGN + ["all"])),
                         "material": draw(st.sampled_from(codes + ["all"])),
                         "from_fy": draw(st.sampled_from(fys)), "availability": draw(st.sampled_from([0.0, 0.5])),
                         "price": draw(st.sampled_from([1.0, 2.0]))}
    objective = {"discount_rate": draw(st.sampled_from([0.0, 0.03]))}
    if draw(st.integers(0, 5)) == 0:
        objective["mode"] = "weighted"
    return {"name": "random scenario", "horizon": {"first_fy": fys[0], "last_fy": fys[-1]},
            "countries": COUNTRIES, "materials": materials, "supply": supply, "recycling": recycling,
            "fund": fund, "policy": policy, "events": events, "objective": objective}


def check_balances_close(plan) -> None:
    """Inventory and Fund balances, recomputed here from the tables and the scenario."""
    s, inv, fund, orders = plan.scenario, plan.tables["inventory"], plan.tables["fund"], plan.tables["orders"]
    for code, material in s.materials.items():
        closing = material.opening_inventory
        for row in inv[inv.material == code].sort_values("fy").itertuples():
            delivered = float(orders.loc[(orders.material == code) & (orders.delivery_fy == row.fy), "tonnes"].sum())
            expected = ((1 - material.loss_rate.at(row.fy)) * closing + delivered + material.pipeline.at(row.fy)
                        - row.disposals - row.draws)
            assert row.closing == pytest.approx(expected, abs=1e-4, rel=1e-7)
            assert row.closing >= -1e-4
            closing = row.closing
    balance = s.fund.opening_balance
    for row in fund.itertuples():
        expected = (balance + row.appropriation + row.other_revenue + row.sales - row.purchases
                    - row.committed_payments - row.operating_cost - row.holding_cost)
        assert row.closing == pytest.approx(expected, abs=100.0, rel=1e-7)
        assert row.deficit == pytest.approx(max(row.floor - row.closing, 0.0), abs=100.0, rel=1e-7)
        balance = row.closing


def solve_or_diagnose(raw: dict):
    """The audited plan, or (after checking the diagnosis makes it solvable) None."""
    scenario = scenario_from_dict(raw, source="<hypothesis>")
    try:
        plan = plan_scenario(scenario)
    except InfeasibleError as exc:
        diagnosis = exc.diagnosis
        assert diagnosis.relaxations, exc
        assert diagnosis.confirmed is True, exc
        relaxed = scenario_from_dict(diagnosis.apply(to_plain(scenario)), source="<relaxed>")
        check_balances_close(plan_scenario(relaxed))  # raises if still infeasible or the audit fails
        return None
    assert plan.audit is not None and plan.audit.ok
    check_balances_close(plan)
    return plan


@PROFILE
@given(scenarios())
def test_every_random_scenario_solves_or_is_diagnosed(raw: dict) -> None:
    solve_or_diagnose(raw)


def _more_money(raw: dict, fy: int, extra: float) -> dict:
    richer = {**raw, "fund": dict(raw["fund"])}
    fys = range(raw["horizon"]["first_fy"], raw["horizon"]["last_fy"] + 1)
    base = scenario_from_dict(raw).fund.appropriation
    richer["fund"]["appropriation"] = {str(y): base.at(y) + (extra if y == fy else 0.0) for y in fys}
    return richer


@PROFILE
@given(scenarios(), st.data())
def test_more_appropriation_never_raises_the_optimal_shortfall(raw: dict, data) -> None:
    """Every plan stays feasible with more money and no deficit grows, so the lexicographic optimum
    can only improve: the deficit never rises, and the shortfall never rises while the deficit
    holds. In particular, with no deficit either way, the optimal shortfall never rises."""
    # Tight money, so that more of it matters.
    raw = {**raw, "objective": {**raw["objective"], "mode": "lexicographic"},
           "fund": {**raw["fund"], "opening_balance": data.draw(st.sampled_from([0.0, 1e6, 5e6]))}}
    scenario = scenario_from_dict(raw)
    try:
        before = plan_scenario(scenario)
    except InfeasibleError:
        return  # more money does not move a hard limit
    fy = data.draw(st.sampled_from(list(scenario.fys)))
    extra = data.draw(st.sampled_from([1e5, 1e6, 25e6]))
    after = plan_scenario(scenario_from_dict(_more_money(raw, fy, extra)))
    d0, d1 = before.objective_values["deficit"], after.objective_values["deficit"]
    s0, s1 = before.objective_values["shortfall"], after.objective_values["shortfall"]
    assert d1 <= d0 + 1e-6
    if d1 >= d0 - 1e-6:
        assert s1 <= s0 + 1e-6 * max(1.0, s0)
