"""The supply chain the shipped data builds: mine countries, refining routes and refined imports.

The NDS buys refined metal, so the baseline's defaults (data/refining.csv) add an import option
per non-Chinese refinery (Finnish-refined Congolese cobalt, Norwegian-refined Canadian cobalt,
Japanese-refined Philippine cobalt, Belgian and Indian antimony) and send mine countries' ore
where most of it is refined (Congolese and Indonesian cobalt, Australian and Zimbabwean lithium:
China). These tests assert what a planner sees on the shipped baseline, not exact tonnages.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stockpile.plan.pipeline import plan_scenario
from stockpile.scenario import rules
from stockpile.scenario.data import load_data
from stockpile.scenario.load import load_scenario

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"
NON_CHINESE_COBALT_REFINERS = {"Finland", "Norway", "Japan", "Canada"}


@pytest.fixture(scope="module")
def baseline():
    scenario = load_scenario(BASELINE)
    return scenario, plan_scenario(scenario)


def test_the_baseline_buys_cobalt_refined_in_finland_norway_japan_or_canada(baseline) -> None:
    _, plan = baseline
    orders = plan.tables["orders"]
    cobalt = orders[orders.material == "Co"]
    refiners = set(cobalt.refiner)
    assert refiners & NON_CHINESE_COBALT_REFINERS, refiners
    # at least one of them is a refined-metal route (refined abroad from another country's ore)
    routes = cobalt[(cobalt.refiner != cobalt.country) & cobalt.refiner.isin(NON_CHINESE_COBALT_REFINERS)]
    assert routes.tonnes.sum() > 0


def test_every_order_names_its_origin_and_refiner(baseline) -> None:
    scenario, plan = baseline
    orders = plan.tables["orders"]
    assert orders.country.notna().all() and orders.refiner.notna().all()
    by_name = {o.name: o for o in scenario.options}
    for row in orders.itertuples():
        assert row.refiner == rules.refiner(by_name[row.option])
    sourcing = plan.tables["sourcing"]
    ordered = sourcing[sourcing.ordered > 0]
    foreign = ordered[ordered.largest_share > 0]
    assert foreign.largest_refiner.notna().all()


def test_refined_imports_come_from_data_with_their_arithmetic(baseline) -> None:
    scenario, _ = baseline
    data = load_data()
    share = data.assumption("import_share_of_output")
    options = {o.name: o for o in scenario.supply}
    finland = options["Finland-refined cobalt from Congo (Kinshasa)"]
    assert (finland.country, finland.refiner) == ("Congo (Kinshasa)", "Finland")
    row = data.refining[(data.refining.refiner == "Finland") & (data.refining.material == "Co")].iloc[0]
    assert finland.capacity.at(2030) == pytest.approx(share * row.value)
    belgium = options["Belgium-refined antimony"]
    assert (belgium.country, rules.refiner(belgium)) == ("Belgium", "Belgium")
    assert "India-refined antimony" in options
    what = scenario.provenance["what"]
    assert what.str.contains("Norway-refined cobalt from Canada' capacity").any()


def test_mine_countries_ore_goes_where_most_of_it_is_refined(baseline) -> None:
    scenario, plan = baseline
    options = {o.name: o for o in scenario.supply}
    assert options["Congo (Kinshasa) cobalt import"].refiner == "China"
    assert options["Australia lithium import"].refiner == "China"
    assert options["Chile lithium import"].refiner is None       # refined where it is mined
    # refined in a covered nation: never trusted when both stages must be, and counted as covered
    australia = options["Australia lithium import"]
    assert not rules.is_trusted(scenario, australia) and rules.is_covered(scenario, australia)
    assert rules.is_trusted(scenario, options["Norway-refined cobalt from Canada"])
