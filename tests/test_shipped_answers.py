"""The answers a planner sees on the shipped scenarios (issue #13), as properties that hold
whatever the data's figures: releases come first, no banned supplier is ever bought from, the
headlines tell plans apart, an unreachable goal is stated with its limit, and the shipped hedge
is worth reading. Plus the semantics of events and bans a planner relies on."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from stockpile.errors import InputError
from stockpile.plan.pipeline import plan_scenario
from stockpile.scenario import rules
from stockpile.scenario.data import load_data
from stockpile.scenario.load import load_scenario, scenario_from_dict
from stockpile.scenario.schema import to_plain

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
HEADLINED = ("baseline", "china-antimony-ban-lifted-2028", "conflict-drawdown", "drc-cobalt-export-suspension")
TONNES = 1e-3


@pytest.fixture(scope="module")
def plans():
    """One solve of each shipped single-plan scenario, shared by the tests below."""
    found = {}
    for path in sorted(SCENARIOS.glob("*.toml")):
        scenario = load_scenario(path)
        if scenario.uncertainty is None:
            found[path.stem] = plan_scenario(scenario)
    return found


def test_the_drawdown_releases_stock_first_and_reports_unmet_release_only_where_stock_ran_out(plans):
    """conflict-drawdown draws in FY2031 and FY2032. Every material that holds stock when a draw
    falls releases from it, and a draw is left unmet only where that FY's closing stock is 0
    (nothing left to release). Unmet release is never counted as goal shortfall."""
    plan = plans["conflict-drawdown"]
    inventory = plan.tables["inventory"]
    for code, material in plan.scenario.materials.items():
        for fy in (2031, 2032):
            row = inventory[(inventory.material == code) & (inventory.fy == fy)].iloc[0]
            assert material.draw.at(fy) > 0
            available = (1 - material.loss_rate.at(fy)) * row.opening + row.deliveries + row.pipeline
            if available > TONNES:
                assert row.draws > TONNES, (code, fy)
            if row.unmet_draw > TONNES:
                assert row.closing <= TONNES, (code, fy, row.closing)
    k = plan.kpis
    assert k["total_released_tonnes"] > 0
    assert k["total_unmet_release_tonnes"] == pytest.approx(float(inventory.unmet_draw.sum()))
    assert k["total_shortfall_tonne_years"] == pytest.approx(float(inventory.shortfall.sum()))
    assert all(k["readiness"][code]["released_tonnes"] > 0 for code in plan.scenario.materials)


def _bans_in_force(scenario, option, fy):
    """Independently of rules: the bans naming the option's tags or country at the ban's stage
    (origin: where it is mined; refiner: where it is refined; any: either), in force in fy."""
    refiner = getattr(option, "refiner", None) or option.country
    stages = {"origin": (option.country,), "refiner": (refiner,), "any": (option.country, refiner)}

    def names(ban, country):
        tags = set(scenario.countries.get(country, ())) | set(option.tags)
        return (ban.tag is not None and ban.tag in tags) or country in ban.countries

    return [ban for ban in scenario.policy.bans
            if ban.material in ("all", option.material) and fy >= ban.from_fy
            and any(names(ban, country) for country in stages[ban.stage])]


def test_no_shipped_plan_buys_from_a_country_its_policy_bans(plans):
    for name, plan in plans.items():
        s = plan.scenario
        for order in plan.tables["orders"].itertuples():
            option = rules.option_named(s, order.option)
            assert not _bans_in_force(s, option, int(order.fy)), (name, order.option, order.fy)


def test_the_baseline_bans_every_comprehensive_us_embargo_with_its_citation(plans):
    """Every country data/sanctions.csv lists under a comprehensive purchase ban in force carries
    the tag `embargoed`, the baseline bans that tag for every material from its first FY, the
    ban's reason cites each program, and no plan buys from those countries."""
    data = load_data()
    embargoed = data.sanctions[(data.sanctions.purchase_ban == "yes") & (data.sanctions.end_date == "")]
    assert {"Cuba", "Iran", "North Korea"} <= set(embargoed.country)
    s = plans["baseline"].scenario
    bans = [ban for ban in s.policy.bans if ban.tag == "embargoed"]
    assert len(bans) == 1 and bans[0].material == "all" and bans[0].from_fy <= s.horizon.first_fy
    for row in embargoed.itertuples():
        assert "embargoed" in s.countries[row.country]
        assert row.citation.split(" (")[0].split(";")[0] in bans[0].reason or row.country in bans[0].reason
    for plan in plans.values():
        assert not set(plan.tables["orders"].country) & set(embargoed.country)


def test_todays_policy_binds_from_the_first_fy_of_a_plan_starting_in_fy2026(tmp_path):
    """The baseline's bans and events name the FY they began in (FY2026 at the latest: China's
    antimony ban of Dec 2024, its tungsten licences of Feb 2025, the DRC quotas of 16 Oct 2025),
    and one that began before the horizon applies from its first FY. So a plan starting on
    1 Oct 2025 (FY2026) can order no Chinese antimony or tungsten and only 44% of the Congolese
    cobalt capacity in FY2026; tungsten from a covered nation is banned from FY2026 (10 U.S.C.
    4872: produced there since FY2019; mined there from 1 Jan 2027, DFARS), one ban at either
    stage, exact because no tungsten option is mined in a covered nation and refined elsewhere."""
    path = tmp_path / "fy2026.toml"
    path.write_text(f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\n'
                    '[horizon]\nfirst_fy = 2026\nlast_fy = 2034\n', encoding="utf-8")
    s = load_scenario(path)
    by_name = {option.name: option for option in s.options}
    for name in ("China antimony import", "China tungsten import"):
        assert rules.capacity(s, by_name[name], 2026) == 0, name
    congo = by_name["Congo (Kinshasa) cobalt import"]
    assert rules.availability(s, congo, 2026) == pytest.approx(0.44)
    assert rules.availability(s, congo, 2028) == 1.0
    china_w = by_name["China tungsten import"]
    ban = s.policy.bans[0]
    assert (ban.material, ban.tag, ban.stage, ban.from_fy) == ("W", "covered", "any", 2026)
    assert rules.bans_hitting(s, china_w, 2026) == [1]
    # exact for the data: no tungsten option is mined in a covered nation and refined elsewhere
    covered = {c for c, tags in s.countries.items() if "covered" in tags}
    assert not [o.name for o in s.options if o.material == "W" and o.country in covered
                and rules.refiner(o) not in covered]


def test_programs_that_are_not_purchase_bans_say_so_and_are_a_planning_choice():
    data = load_data()
    others = data.sanctions[data.sanctions.purchase_ban == "no"]
    assert set(others.tag) == {"sanctioned_planning"}
    assert all("not a purchase ban" in note or "lifted" in note for note in others.note)
    syria = others[others.country == "Syria"].iloc[0]
    assert syria.end_date == "2025-07-01" and "14312" in syria.citation
    assert "sanctioned_planning" not in load_scenario(SCENARIOS / "baseline.toml").countries["Syria"]


def test_dropping_the_planning_ban_lets_the_plan_buy_from_sanctioned_countries():
    """The planning tag is a choice a scenario can switch off: without that ban the baseline is
    free to order from Russia or Burma again (and its readiness is no worse)."""
    s = load_scenario(SCENARIOS / "baseline.toml")
    plain = to_plain(s)
    plain["policy"]["bans"] = [b for b in plain["policy"]["bans"] if b["tag"] != "sanctioned_planning"]
    free = plan_scenario(scenario_from_dict(plain))
    banned = plan_scenario(s)
    assert free.objective_values["shortfall"] <= banned.objective_values["shortfall"] + 1e-9
    assert set(free.tables["orders"].country) & {"Russia", "Burma"}


def test_headlines_of_the_shipped_scenarios_tell_plans_apart(plans):
    lines = {name: plans[name].headline_lines for name in HEADLINED}
    for a, b in itertools.combinations(HEADLINED, 2):
        assert lines[a][0] != lines[b][0], (a, b)  # the solvency horizon line differs
        assert lines[a][1] != lines[b][1], (a, b)  # and so does the readiness line
    for name in HEADLINED:
        assert len(lines[name]) == 2 and lines[name][1].startswith("readiness: ")


def test_an_unreachable_goal_is_stated_with_the_limit_the_model_finds():
    """The baseline's antimony ramp cannot be met in FY2028 at any budget: solved again with
    unlimited money, antimony is still short, and the binding limit named is a hard limit
    with a positive marginal value, stated in a sentence with its scenario key."""
    from stockpile.analysis.reach import goals_out_of_reach

    s = load_scenario(SCENARIOS / "baseline.toml")
    out = {entry.material: entry for entry in goals_out_of_reach(s)}
    assert "Sb" in out
    sb = out["Sb"]
    assert sb.first_short_fy == s.horizon.first_fy + 1
    assert sb.binding and all(value > 0 for _, _, value in sb.binding)
    assert sb.sentence.startswith("antimony: goal out of reach ") and "at any budget" in sb.sentence
    assert sb.binding[0][1] in sb.sentence


def test_the_shipped_hedge_is_worth_reading():
    """hedge-disruptions: VSS and EVPI are both positive on readiness, the first priority that
    differs between the plans, and the hedged plan buys something now that the plan for the
    average future does not."""
    from stockpile.analysis.hedge.tree import hedge

    result = hedge(load_scenario(SCENARIOS / "hedge-disruptions.toml"), workers=1)
    m = result.measures.set_index("priority")
    assert m.loc["release", "VSS"] == 0 and m.loc["deficit", "VSS"] == 0
    assert m.loc["shortfall", "VSS"] > 0 and m.loc["shortfall", "EVPI"] > 0
    assert not result.bought_now_difference().empty


# --- semantics without traps --------------------------------------------------------------------

def _baseline_plain() -> dict:
    return to_plain(load_scenario(SCENARIOS / "baseline.toml"))


def test_a_price_only_event_raises_the_price_and_leaves_availability_alone():
    plain = _baseline_plain()
    plain["events"]["dear-cobalt"] = {"country": "Canada", "material": "Co", "from_fy": 2028, "price": 1.5}
    s = scenario_from_dict(plain)
    base = load_scenario(SCENARIOS / "baseline.toml")
    option = rules.option_named(s, "Canada cobalt import")
    assert rules.availability(s, option, 2028) == 1.0
    assert rules.capacity(s, option, 2028) == rules.capacity(base, rules.option_named(base, option.name), 2028)
    assert rules.unit_price(s, option, 2028) == pytest.approx(
        1.5 * rules.unit_price(base, rules.option_named(base, option.name), 2028))


def test_an_event_that_changes_nothing_is_an_error_naming_its_key():
    plain = _baseline_plain()
    plain["events"]["nothing"] = {"country": "Canada", "material": "Co", "from_fy": 2028}
    with pytest.raises(InputError) as caught:
        scenario_from_dict(plain)
    assert "events.nothing" in str(caught.value) and "changes nothing" in str(caught.value)


def test_a_ban_naming_only_countries_bans_only_those_countries():
    """Bolivia (untagged) is banned by name; Chinese tungsten, tagged covered, is banned only by
    the baseline's own covered ban, not by the countries-only ban on antimony."""
    plain = _baseline_plain()
    plain["policy"]["bans"] = [{"material": "Sb", "countries": ["Bolivia"], "from_fy": 2027}]
    s = scenario_from_dict(plain)
    assert any(o.country == "Bolivia" and o.material == "Sb" for o in s.options)
    assert any(o.country == "China" and "covered" in s.countries["China"] for o in s.options)
    for option in s.options:
        hit = bool(rules.bans_hitting(s, option, 2030))
        assert hit == (option.material == "Sb" and option.country == "Bolivia"), option.name


def test_a_ban_naming_neither_tag_nor_countries_is_an_error():
    plain = _baseline_plain()
    plain["policy"]["bans"] = [{"material": "Sb", "from_fy": 2027}]
    with pytest.raises(InputError) as caught:
        scenario_from_dict(plain)
    assert "policy.bans[1]" in str(caught.value)
