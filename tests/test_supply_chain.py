"""The supply chain the shipped data builds: mine countries, refining routes and refined imports.

The NDS buys refined metal, so the baseline's defaults (data/refining.csv) add an import option
per non-Chinese refinery (Finnish-refined Congolese cobalt, Norwegian-refined Canadian cobalt,
Japanese-refined Philippine cobalt, Belgian and Indian antimony) and send mine countries' ore
where most of it is refined (Congolese and Indonesian cobalt, Australian and Zimbabwean lithium:
China). These tests assert what a planner sees on the shipped baseline, not exact tonnages.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from stockpile.plan.pipeline import plan_scenario
from stockpile.scenario import rules
from stockpile.scenario.data import DATA_DIR_ENV, DEFAULT_DATA_DIR, load_data
from stockpile.scenario.defaults import expand_data_defaults
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


# --- Annual Materials Plan ceilings (data/amp.csv, [data] amp = true) ------------------------------

def _data_with_amp_lines(tmp_path, lines: list[str]):
    folder = Path(shutil.copytree(DEFAULT_DATA_DIR, tmp_path / "data"))
    with open(folder / "amp.csv", "a", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in lines)
    return load_data(folder)


AMP_LINES = ["Co,2026,acquisition,100,t,test AMP,secondary,",
             "Co,2027,acquisition,100,t,test AMP,secondary,",
             "Co,2028,acquisition,150,t,test AMP,secondary,",
             "Li,2027,acquisition,,t,test AMP,secondary,not available",
             "W,2028,acquisition,500,t,test AMP,secondary,"]


def test_amp_lines_become_amp_limit_for_the_fys_they_cover(tmp_path) -> None:
    """Horizon FY2027-FY2032. Cobalt has AMPs for FY2026-FY2027 (100 t) and FY2028 (150 t): amp_limit
    is {2027: 100, 2028: 150}, a step table, so 150 t holds in FY2029-FY2032 (the last ceiling
    carried forward, recorded as an inferred provenance row). Lithium's FY2027 line is "not
    available": no ceiling, not zero. Tungsten has an AMP for FY2028 only and antimony for FY2025
    only: neither covers the first FY, so neither gets a ceiling."""
    data = _data_with_amp_lines(tmp_path, AMP_LINES)
    raw = {"horizon": {"first_fy": 2027, "last_fy": 2032}, "data": {"materials": ["Sb", "Co", "Li", "W"], "amp": True}}
    expanded, provenance = expand_data_defaults(raw, "amp.toml", data)
    materials = expanded["materials"]
    assert materials["Co"]["amp_limit"] == {"2027": 100.0, "2028": 150.0}
    assert all("amp_limit" not in materials[code] for code in ("Sb", "Li", "W"))
    rows = provenance[provenance.what.str.startswith("materials.Co.amp_limit")]
    assert list(rows.file) == ["amp.csv", "amp.csv", ""] and rows.status.iloc[-1] == "inferred"
    assert "FY2028 ceiling carried to FY2032" in rows.value.iloc[-1]


def test_the_plan_orders_no_more_than_the_amp_allows(tmp_path, monkeypatch) -> None:
    """The baseline with the cobalt AMPs above: cobalt ordered is at most 100 t in FY2026-FY2027
    (whichever the baseline starts in) and at most 150 t in every later FY (the audit checks the
    same ceiling independently)."""
    data = _data_with_amp_lines(tmp_path, AMP_LINES)
    monkeypatch.setenv(DATA_DIR_ENV, str(data.data_dir))
    scenario = load_scenario(BASELINE)
    assert scenario.materials["Co"].amp_limit.at(2027) == 100 and scenario.materials["Co"].amp_limit.at(2035) == 150
    plan = plan_scenario(scenario)
    orders = plan.tables["orders"]
    cobalt = orders[orders.material == "Co"].groupby("fy").tonnes.sum()
    assert cobalt.get(2026, 0.0) <= 100 + 1e-6 and cobalt.get(2027, 0.0) <= 100 + 1e-6
    assert (cobalt <= 150 + 1e-6).all() and cobalt.max() == pytest.approx(150, abs=1e-3)


def test_the_shipped_baseline_has_no_amp_ceiling_because_no_amp_covers_its_first_fy(baseline) -> None:
    """data/amp.csv holds FY2025 only, before the horizon: the baseline asks for AMP ceilings
    (data.amp) and gets none, and no opening inventory is an AMP figure."""
    scenario, _ = baseline
    data = load_data()
    assert set(data.amp.fy) < set(range(2000, scenario.horizon.first_fy))
    assert all(material.amp_limit is None for material in scenario.materials.values())
    amp = dict(zip(data.amp.material, data.amp.tonnes))
    assert all(material.opening_inventory != amp.get(code) for code, material in scenario.materials.items())
