"""The family registry tells the truth about the LP, and names read back into family and key.

Every row and column family :func:`stockpile.model.build.build` produces is registered (as added
by ``build``), and every family registered as added by ``build`` is produced by some instance;
the readers' own tables (the diagnosis's row-to-key functions, explain's words, the plan's
marginal tables) cover exactly the families the registry says they must. ``parse_name`` is the
inverse of ``column_name`` on every row and column of the shipped scenarios and of a scenario
tree.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from conftest import make_scenario, rich_raw

from stockpile.analysis.explain import MOVES
from stockpile.analysis.hedge.tree import build_hedge, futures_of
from stockpile.model.build import build
from stockpile.model.families import (COLUMN_FAMILIES, ELASTIC_SLACKS, HARD_ROWS, HERE_AND_NOW, MARGINAL_ROWS,
                                      ROW_FAMILIES, column_family, row_family)
from stockpile.model.lp import column_name, parse_name
from stockpile.plan.read import MARGINAL_TABLES
from stockpile.scenario.load import load_scenario, scenario_from_dict
from stockpile.solve.relaxations import RELAXATIONS

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "scenarios").glob("*.toml"))


def _every_family_instance():
    """rich_raw() binds every family but fixed orders and the refiner cap: give one of its options a
    fixed order and the policy a cap on one refining country's share too."""
    raw = copy.deepcopy(rich_raw())
    raw["supply"][0]["fixed"] = {str(raw["horizon"]["first_fy"]): 1.0}
    raw.setdefault("policy", {})["refiner_cap"] = 0.9
    return scenario_from_dict(raw)


def test_build_produces_exactly_the_families_registered_as_its_own() -> None:
    lps = [build(_every_family_instance()).lp] + [build(load_scenario(path)).lp for path in SHIPPED]
    rows = {family for lp in lps for family in lp.row_family}
    cols = {family for lp in lps for family in lp.col_family}
    assert rows == {f.name for f in ROW_FAMILIES.values() if f.added_by == "build"}
    assert cols == {f.name for f in COLUMN_FAMILIES.values() if f.added_by == "build"}


def test_each_lp_key_has_the_registered_fields() -> None:
    lp = build(_every_family_instance()).lp
    for family, key in zip(lp.row_family, lp.row_key):
        assert len(key) == len(row_family(family).key), (family, key)
    for family, key in zip(lp.col_family, lp.col_key):
        assert len(key) == len(column_family(family).key), (family, key)


def test_readers_cover_the_families_the_registry_gives_them() -> None:
    assert HARD_ROWS <= set(RELAXATIONS)
    assert set(MOVES) == {f.name for f in ROW_FAMILIES.values()
                          if (f.hard or f.money) and f.added_by == "build"}
    assert {ROW_FAMILIES[name].marginal_table for name in MARGINAL_ROWS} == set(MARGINAL_TABLES)
    for name in MARGINAL_ROWS:
        family = ROW_FAMILIES[name]
        assert MARGINAL_TABLES[family.marginal_table][:-1] == list(family.key)
    assert HERE_AND_NOW == {"order", "buy", "sell"}
    assert ELASTIC_SLACKS >= {"deficit", "short", "unmet_draw"}


def test_unknown_families_are_named_in_the_error() -> None:
    with pytest.raises(KeyError, match="no registered row family"):
        row_family("capacities")
    with pytest.raises(KeyError, match="no registered column family"):
        column_family("orders")


@pytest.mark.parametrize("name, expected", [
    ("capacity[Co,Canada import,2029]", ("capacity", ("Co", "Canada import", 2029))),
    ("buy[X,A,2,2028]", ("buy", ("X", "A", 2, 2028))),
    ("fund[2027]", ("fund", (2027,))),
    ("lexicographic[deficit]", ("lexicographic", ("deficit",))),
    ("budget", ("budget", ())),
])
def test_parse_name_reads_family_and_key(name: str, expected: tuple) -> None:
    assert parse_name(name) == expected
    assert column_name(*expected) == name


def test_parse_name_rejects_an_unclosed_key() -> None:
    with pytest.raises(ValueError, match="not a family"):
        parse_name("capacity[Co,A")


def _assert_names_round_trip(lp) -> None:
    for c in range(lp.n_cols):
        assert parse_name(lp.col_name(c)) == (lp.col_family[c], lp.col_key[c])
    for r in range(lp.n_rows):
        assert parse_name(lp.row_name(r)) == (lp.row_family[r], lp.row_key[r])


def test_every_name_of_the_shipped_models_round_trips() -> None:
    for path in SHIPPED:
        _assert_names_round_trip(build(load_scenario(path)).lp)


def test_names_of_a_scenario_tree_round_trip() -> None:
    raw = make_scenario(uncertainty={"decision_fy": 2028, "cvar": {"level": 0.9}, "futures": {
        "calm": {"probability": 0.5},
        "cut": {"probability": 0.5, "events": {"e": {"country": "Canada", "from_fy": 2028, "availability": 0.0}}}}})
    scenario = scenario_from_dict(raw)
    lp = build_hedge(scenario, futures_of(scenario), 2028).lp
    assert any(key[:1] == ("cut",) for key in lp.row_key) and "cvar" in lp.row_family
    assert set(lp.row_family) <= set(ROW_FAMILIES) and set(lp.col_family) <= set(COLUMN_FAMILIES)
    _assert_names_round_trip(lp)
