"""``stockpile explain``: binding limits in planner's words, unused options and why, policy costs.

Marginal values are checked against finite differences (re-solving with the limit moved), the
reasons an option is left unused against instances built to show each one, and policy costs
against instances whose cost is worked out by hand.
"""

from __future__ import annotations

import re

from pathlib import Path

import pytest
from conftest import build, make_scenario
from typer.testing import CliRunner

from stockpile.cli.app import app
from stockpile.analysis.explain import binding_limits, explain_scenario
from stockpile.plan.pipeline import plan_scenario, solve_scenario
from stockpile.analysis.policy_costs import policy_cost_table
from stockpile.outputs.policy_cost_text import policy_cost_sentences
from stockpile.scenario.load import load_scenario, scenario_from_dict
from stockpile.scenario.schema import to_plain

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
runner = CliRunner()


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(BASELINE)


def test_explain_on_the_baseline_names_what_binds_and_what_policy_costs() -> None:
    result = runner.invoke(app, ["explain", str(BASELINE), "--top", "60"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Traceback" not in out
    # The appropriation binds first: more money buys readiness.
    assert "appropriation binds (fund.appropriation.2026" in out
    assert "each extra $1M in any of these FYs reduces weighted shortfall by" in out
    # A policy binds in planner's words, with its key.
    assert re.search(r"the trusted-share floor on antimony in FY(20\d\d) binds "
                     r"\(policy\.trusted_share\.Sb\.\1 = 50\.00%\)", out), out
    assert "each percentage point lower reduces weighted shortfall by" in out
    # Each material's cheapest unused option and why.
    # (antimony's cheapest sources are all kept out: Burma and Russia by the sanctions planning
    # ban, Iran by the embargo, China by its export ban)
    assert "'China antimony import'" in out and "ban: policy.bans[3] (planning choice" in out
    assert "Suppliers kept out by each ban:" in out and "Cuba cobalt import (from FY2026)" in out
    assert "'China tungsten import'" in out and "ban: policy.bans[1]" in out
    # Policy costs, measured by re-solving without each policy.
    assert "Cost of each policy" in out
    for key in ("policy.trusted_share.Sb", "policy.trusted_share.Co", "policy.bans[1]"):
        assert f"({key})" in out
    assert "the trusted-share floor on antimony (policy.trusted_share.Sb) raises weighted shortfall by" in out


def test_appropriation_marginal_values_are_the_plans_and_match_a_re_solve(baseline) -> None:
    plan, model, solution = solve_scenario(baseline)
    bindings = {b.key: b for b in binding_limits(model, solution)}
    marginal = plan.tables["marginal_appropriation"].set_index("fy").shortfall_reduction_per_million
    for fy in baseline.fys:
        key = f"fund.appropriation.{fy}"
        value = bindings[key].value if key in bindings else 0.0
        assert value == pytest.approx(marginal[fy], abs=1e-9)
    # Finite difference: $0.5M more in FY2026 lowers the weighted shortfall by about 0.5 x the dual
    # (the baseline's appropriation: $236.25M in FY2026-FY2029, $50M from FY2030).
    raw = to_plain(baseline)
    raw["fund"]["appropriation"] = {"2026": 236.75e6, "2027": 236.25e6, "2030": 50e6}
    richer = plan_scenario(scenario_from_dict(raw))
    drop = plan.objective_values["shortfall"] - richer.objective_values["shortfall"]
    assert drop == pytest.approx(0.5 * bindings["fund.appropriation.2026"].value, rel=0.02)


def test_share_floor_marginal_value_matches_a_re_solve() -> None:
    """One FY. X: goal 100 t, no stock; untrusted A (Canada) 100 t at $10k, trusted D 20 t; floor a.

    Trusted tonnes 20 >= a x total, so total <= 20 / a = 40 t at a = 50%: 60 t short, weighted 0.6.
    d total / d a = -20 / a^2 = -80 t per unit of a, so one point lower buys 0.8 t more: weighted
    shortfall falls by 0.8 / 100 = 0.008 per point, which the dual gives and a re-solve confirms."""
    raw = make_scenario(
        horizon={"first_fy": 2027, "last_fy": 2027},
        supply=[{"name": "A", "material": "X", "kind": "import", "country": "Canada", "capacity": 100.0,
                 "price": 10_000.0},
                {"name": "D", "material": "X", "kind": "domestic", "country": "United States", "capacity": 20.0,
                 "price": 10_000.0}],
        policy={"trusted_tags": ["domestic"], "trusted_share": {"X": 0.5}})
    scenario = build(raw)
    plan, model, solution = solve_scenario(scenario)
    (floor,) = [b for b in binding_limits(model, solution) if b.key == "policy.trusted_share.X.2027"]
    assert floor.per == "percentage point lower"
    raw["policy"]["trusted_share"]["X"] = 0.499
    looser = plan_scenario(build(raw))
    drop = plan.objective_values["shortfall"] - looser.objective_values["shortfall"]
    assert drop == pytest.approx(0.1 * floor.value, rel=0.01)  # 0.1 of a point
    assert floor.value == pytest.approx(0.008, rel=1e-6)


def test_a_plan_meeting_every_goal_is_explained_by_its_cost() -> None:
    """Plenty of money and capacity: nothing binds readiness; A's capacity binds cost (B is dearer)."""
    raw = make_scenario(supply=[
        {"name": "A", "material": "X", "kind": "import", "country": "Canada", "capacity": 60.0, "price": 10_000.0},
        {"name": "B", "material": "X", "kind": "import", "country": "Canada", "capacity": 500.0, "price": 30_000.0}])
    explanation = explain_scenario(build(raw), policy_costs=False)
    assert explanation.stage == "cost"
    text = explanation.text()
    assert "nothing binds readiness" in text
    # One more tonne of A in FY2027 replaces a tonne of B: saves $20,000.
    assert "the capacity of 'A' in FY2027 binds (supply[1].capacity.2027 = 60.0 t): each extra tonne " \
           "available saves $20,000 of discounted cost" in text


def test_unused_options_name_their_reasons() -> None:
    """Four cheap options left unused, each for one reason; E is what the plan buys."""
    raw = make_scenario(
        horizon={"first_fy": 2027, "last_fy": 2030},
        countries={"United States": ["domestic"], "Canada": ["fta"], "China": ["covered"], "Chile": []},
        materials={"X": {"goal": 100.0},
                   "Y": {"name": "Yttrium", "goal": 50.0},
                   "Z": {"name": "Zinc", "goal": 10.0, "opening_inventory": 10.0}},
        supply=[
            {"name": "banned", "material": "X", "kind": "import", "country": "China", "capacity": 100.0,
             "price": 1_000.0},
            {"name": "E", "material": "X", "kind": "domestic", "country": "United States", "capacity": 100.0,
             "price": 50_000.0},
            {"name": "slow", "material": "Y", "kind": "import", "country": "Canada", "capacity": 100.0,
             "price": 1_000.0, "lead_time": 2, "first_fy": 2029},
            {"name": "struck", "material": "Y", "kind": "import", "country": "Chile", "capacity": 100.0,
             "price": 2_000.0},
            {"name": "F", "material": "Y", "kind": "domestic", "country": "United States", "capacity": 100.0,
             "price": 50_000.0},
            {"name": "idle", "material": "Z", "kind": "import", "country": "Canada", "capacity": 100.0,
             "price": 1_000.0},
        ],
        events={"strike": {"country": "Chile", "from_fy": 2027, "availability": 0.0}},
        policy={"bans": [{"material": "X", "tag": "covered", "from_fy": 2027, "reason": "10 U.S.C. 4872: test"}]})
    explanation = explain_scenario(build(raw), policy_costs=False)
    text = {u.material: u.sentence(explanation.plan.scenario) for u in explanation.unused}
    assert "'banned' (supply[1]" in text["X"] and "FY2027-FY2030: ban: policy.bans[1] (10 U.S.C. 4872)" in text["X"]
    assert "'slow' (supply[3]" in text["Y"]
    assert "FY2027-FY2028: lead time: not orderable before FY2029 (its first_fy)" in text["Y"]
    assert "FY2029-FY2030: lead time: an order would arrive after FY2030 (2-FY lead time)" in text["Y"]
    assert "'idle'" in text["Z"] and "not needed: the goal is met without it" in text["Z"]


def test_policy_costs_match_hand_arithmetic() -> None:
    """X: goal 100 t in each of FY2027-FY2029, no stock, no lead time, no discounting; China
    (covered) at $10k/t, Canada at $25k/t. The plan buys 100 t in FY2027 and holds it. The ban makes
    it buy from Canada instead of China: $1.5M more, no readiness lost."""
    raw = make_scenario(
        countries={"United States": ["domestic"], "Canada": ["fta"], "China": ["covered"]},
        supply=[{"name": "China X", "material": "X", "kind": "import", "country": "China", "capacity": 1000.0,
                 "price": 10_000.0},
                {"name": "Canada X", "material": "X", "kind": "import", "country": "Canada", "capacity": 1000.0,
                 "price": 25_000.0}],
        policy={"bans": [{"material": "X", "tag": "covered", "from_fy": 2027, "reason": "test"}]})
    scenario = build(raw)
    plan = plan_scenario(scenario)
    table = policy_cost_table(scenario, plan).set_index("key")
    assert list(table.index) == ["policy.bans[1]"]
    row = table.loc["policy.bans[1]"]
    assert row.status == "optimal"
    assert row.discounted_net_cost == pytest.approx(1.5e6, abs=1.0)
    assert row.purchase_cost == pytest.approx(1.5e6, abs=1.0)
    assert row.weighted_shortfall == pytest.approx(0.0, abs=1e-9) and row.deficit == pytest.approx(0.0, abs=1.0)
    (sentence,) = policy_cost_sentences(table.reset_index())
    assert sentence == ("the covered-country ban on testium (policy.bans[1]) raises cost by $1.5M over the horizon "
                        "(discounted net cost; purchases +$1.5M)")

    # With a 60% cap as well, the ban leaves only Canada, which the cap forbids to buy at all:
    # the ban costs the whole goal (100 t short in each of 3 FYs, weighted 3.0) and saves its cost.
    raw["policy"]["concentration_cap"] = 0.6
    scenario = build(raw)
    table = policy_cost_table(scenario, plan_scenario(scenario)).set_index("key")
    assert set(table.index) == {"policy.bans[1]", "policy.concentration_cap"}
    assert table.loc["policy.bans[1]"].shortfall_tonne_years == pytest.approx(300.0, abs=1e-6)
    assert table.loc["policy.bans[1]"].weighted_shortfall == pytest.approx(3.0, abs=1e-6)
    assert table.loc["policy.concentration_cap"].weighted_shortfall == pytest.approx(3.0, abs=1e-6)
    sentences = policy_cost_sentences(table.reset_index())
    assert any("raises weighted shortfall by 3 (+300 tonne-years of shortfall)" in s for s in sentences)


def test_trusted_share_floor_cost_and_no_policy() -> None:
    plan = plan_scenario(build(make_scenario()))
    assert policy_cost_table(plan.scenario, plan).empty
    raw = make_scenario(policy={"trusted_tags": ["domestic"], "trusted_share": {"X": 0.5}})
    scenario = build(raw)
    table = policy_cost_table(scenario, plan_scenario(scenario))
    # Only an untrusted option: the floor forbids every order, so it costs the whole goal.
    assert table.key.tolist() == ["policy.trusted_share.X"]
    assert table.shortfall_tonne_years.iloc[0] == pytest.approx(300.0)


def _deficit_scenario() -> Path:
    """The shipped scenario whose plan runs the Fund into deficit (fy2023-retrospective.toml: no
    new appropriation), found by solving rather than by name, should the file be renamed."""
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        if plan_scenario(load_scenario(path)).kpis["total_deficit"] > 0:
            return path
    raise AssertionError("no shipped scenario has a Fund deficit")


def test_with_a_deficit_explain_ranks_the_deficit_stages_limits_and_names_the_appropriation() -> None:
    """The headline says more appropriation avoids the deficit; the first binding limit explain
    names is an appropriation, with the deficit stage's marginal value: $1M more in an FY removes
    $1M of deficit in every later FY in deficit (money carries forward), checked by re-solving."""
    path = _deficit_scenario()
    scenario = load_scenario(path)
    explanation = explain_scenario(scenario, policy_costs=False)
    assert explanation.stage == "deficit"
    assert "more appropriation" in explanation.plan.headline
    first = explanation.bindings[0]
    assert first.key.startswith("fund.appropriation."), first.key
    text = explanation.text()
    ranked = [line for line in text.splitlines() if line.startswith("  1. ")]
    assert ranked and "appropriation binds (fund.appropriation." in ranked[0], text
    assert "reduces the Fund's total deficit by" in ranked[0]
    # Finite difference: $1M more in that FY lowers the total deficit by the marginal value.
    raw = to_plain(scenario)
    fy = first.fy
    appropriation = {str(y): scenario.fund.appropriation.at(y) + (1e6 if y == fy else 0.0) for y in scenario.fys}
    raw["fund"]["appropriation"] = appropriation
    richer = plan_scenario(scenario_from_dict(raw))
    drop = explanation.plan.kpis["total_deficit"] - richer.kpis["total_deficit"]
    assert drop == pytest.approx(first.value, rel=1e-6)
    result = runner.invoke(app, ["explain", str(path), "--no-policy-costs"])
    assert result.exit_code == 0, result.output
    assert "No limit binds" not in result.output
