"""The shipped scenario library and the defaults it draws from data/."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockpile.cli.common import default_scenario
from stockpile.scenario.data import load_data
from stockpile.errors import InputError
from stockpile.plan.pipeline import plan_scenario
from stockpile.scenario.load import load_scenario, scenario_from_dict
from stockpile.scenario.schema import to_plain

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
SHIPPED = sorted(SCENARIOS.glob("*.toml"))


@pytest.fixture(scope="module")
def plans() -> dict[str, object]:
    return {path.stem: plan_scenario(load_scenario(path)) for path in SHIPPED}


def test_library_has_the_scenarios_planners_start_from() -> None:
    assert {p.stem for p in SHIPPED} >= {
        "baseline", "fy2023-retrospective", "china-antimony-ban-lifted-2028", "drc-cobalt-export-suspension",
        "conflict-drawdown", "recycling-push", "msp-only", "prices-2024"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_scenario_solves_and_passes_its_audit(path: Path, plans) -> None:
    plan = plans[path.stem]
    assert plan.audit.ok, plan.audit.violations[:3]
    assert plan.provenance is not None and not plan.provenance.empty
    assert plan.provenance["source"].str.len().min() > 0
    assert set(plan.provenance["status"]) <= {"official", "secondary", "inferred", "assumption"}


def test_no_argument_solves_the_baseline() -> None:
    assert default_scenario() == SCENARIOS / "baseline.toml"


def test_baseline_reflects_todays_policy(plans) -> None:
    baseline = load_scenario(SCENARIOS / "baseline.toml")
    assert (baseline.horizon.first_fy, baseline.horizon.last_fy) == (2026, 2040)
    assert "msp" in baseline.policy.trusted_tags
    assert baseline.countries["Australia"] == ("fta", "msp")
    assert "covered" in baseline.countries["China"] and "covered" in baseline.countries["Russia"]
    orders = plans["baseline"].tables["orders"]
    chinese_sb = orders[(orders.material == "Sb") & (orders.country == "China")]
    covered_w = orders[(orders.material == "W") & orders.country.isin(["China", "Russia", "North Korea", "Iran"])]
    assert chinese_sb.empty and covered_w.empty


def test_lifting_the_antimony_ban_never_hurts_and_keeps_fy2027_banned(plans) -> None:
    lifted, baseline = plans["china-antimony-ban-lifted-2028"], plans["baseline"]
    orders = lifted.tables["orders"]
    chinese = orders[(orders.material == "Sb") & (orders.country == "China")]
    assert chinese.empty or chinese.fy.min() >= 2028
    # Lifting a ban only adds options: neither the shortfall nor (at equal shortfall) the cost can rise.
    assert lifted.kpis["weighted_shortfall"] <= baseline.kpis["weighted_shortfall"] + 1e-9
    assert lifted.kpis["discounted_net_cost"] <= baseline.kpis["discounted_net_cost"] * (1 + 1e-9)


def test_drc_suspension_stops_congolese_cobalt(plans) -> None:
    orders = plans["drc-cobalt-export-suspension"].tables["orders"]
    congo = orders[(orders.material == "Co") & (orders.country == "Congo (Kinshasa)")]
    assert not congo.fy.isin([2028, 2029]).any()


def test_policy_scenarios_cost_readiness(plans) -> None:
    baseline = plans["baseline"].kpis["weighted_shortfall"]
    assert plans["msp-only"].kpis["weighted_shortfall"] > baseline
    assert plans["conflict-drawdown"].kpis["weighted_shortfall"] > baseline
    assert plans["recycling-push"].kpis["weighted_shortfall"] < baseline
    sourcing = plans["msp-only"].tables["sourcing"]
    assert (sourcing.trusted_share.dropna() >= 1 - 1e-9).all()


def test_retrospective_is_insolvent_by_fy2025_and_the_reported_appropriation_avoids_it(plans) -> None:
    plan = plans["fy2023-retrospective"]
    assert plan.kpis["first_deficit_fy"] is not None and plan.kpis["first_deficit_fy"] <= 2025
    assert "Fund deficit from FY2025" in plan.headline
    needed = plan.kpis["appropriation_to_avoid_deficit"]
    assert needed and min(needed) == 2025

    scenario = load_scenario(SCENARIOS / "fy2023-retrospective.toml")
    raw = to_plain(scenario)
    raw["fund"]["appropriation"] = {str(fy): needed.get(fy, 0.0) for fy in scenario.fys}
    rescued = plan_scenario(scenario_from_dict(raw))
    assert rescued.kpis["first_deficit_fy"] is None
    assert rescued.kpis["total_deficit"] == 0.0

    # And it is the least: a dollar-in-a-million less in the first FY that needs it brings a deficit back.
    short = dict(needed)
    short[2025] -= max(1e-3 * short[2025], 1e4)
    raw["fund"]["appropriation"] = {str(fy): short.get(fy, 0.0) for fy in scenario.fys}
    assert plan_scenario(scenario_from_dict(raw)).kpis["first_deficit_fy"] == 2025


def test_imports_are_generated_from_every_producing_country() -> None:
    data = load_data()
    scenario = load_scenario(SCENARIOS / "baseline.toml")
    imports = {o.name: o for o in scenario.supply
               if o.kind == "import" and o.material == "Sb" and o.name.endswith(" import")}
    producers = {c: t for c, t in data.production("Sb", 2024).items() if t > 0 and c != "United States"}
    assert {o.country for o in imports.values()} == set(producers)
    china = imports["China antimony import"]
    assert china.capacity.at(2030) == pytest.approx(0.05 * producers["China"])
    price = data.prices[(data.prices.material == "Sb") & (data.prices.year == 2025)].usd_per_t_metal.iloc[0]
    assert china.price.at(2030) == pytest.approx(price)
    what = scenario.provenance["what"]
    assert what.str.contains("China antimony import' capacity").any()


def test_data_section_is_validated(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('extends = "%s"\n[data]\nimports = { share_of_output = 2.0 }\n' % (SCENARIOS / "baseline.toml"))
    with pytest.raises(InputError, match=r"data\.imports\.share_of_output: must be less than or equal to 1"):
        load_scenario(path)
    path.write_text('extends = "%s"\n[data]\nmaterials = ["Xx"]\n' % (SCENARIOS / "baseline.toml"))
    with pytest.raises(InputError, match=r"data\.materials\[1\]: no material 'Xx'"):
        load_scenario(path)


def test_baseline_prices_date_from_2025_and_the_2024_case_keeps_the_averages() -> None:
    """Every market price the baseline uses is a quote of 2025 or later, none a USGS average:
    price_year 2026 takes lithium carbonate's January 2026 quote, and for antimony, cobalt and
    tungsten their 2025 quotes (no 2026 one, recorded as such); prices-2024.toml is the same
    scenario at the 2024 averages."""
    baseline = load_scenario(SCENARIOS / "baseline.toml")
    prices = baseline.provenance[baseline.provenance["what"].str.contains("market price")]
    assert set(prices["what"].str.extract(r"^(\w+) market price")[0]) == {"Sb", "Co", "Li", "W"}
    for what, source in zip(prices["what"], prices["source"]):
        assert "USGS MCS 2025 data release" not in source, (what, source)
        if what.startswith("Li"):
            assert what.startswith("Li market price 2026") and "no 2026 price" not in what
            assert "January 2026" in source
        else:
            assert "(no 2026 price: the 2025 one" in what, what
    old = load_scenario(SCENARIOS / "prices-2024.toml")
    old_prices = old.provenance[old.provenance["what"].str.contains("market price")]
    assert old_prices["what"].str.contains("market price 2024").all()
    options = {o.name: o for o in old.supply}
    assert options["Canada cobalt import"].price.at(2027) < {o.name: o for o in baseline.supply}[
        "Canada cobalt import"].price.at(2027)
