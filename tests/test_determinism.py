"""The same scenario solved twice gives the same plan, bit for bit, with either solver."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from stockpile.plan.read import TABLES
from stockpile.scenario.load import load_scenario

from conftest import EXAMPLE, build, rich_raw, solve


def _same_kpis(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, float) and math.isnan(x):
            assert isinstance(y, float) and math.isnan(y), key
        else:
            assert x == y, key


def _assert_identical(first, second) -> None:
    assert set(first.tables) == set(second.tables) == set(TABLES)
    for name in TABLES:
        pd.testing.assert_frame_equal(first.tables[name], second.tables[name], check_exact=True,
                                      obj=f"table {name}")
    _same_kpis(first.kpis, second.kpis)
    assert first.objective_values == second.objective_values
    assert first.headline == second.headline


@pytest.mark.parametrize("which", ["example", "rich"])
def test_solving_twice_gives_identical_plans(solver, which):
    """Two independent loads and solves of one scenario: identical tables (exact), KPIs, objectives."""
    if which == "example":
        first, second = load_scenario(EXAMPLE), load_scenario(EXAMPLE)
    else:
        first, second = build(rich_raw()), build(rich_raw())
    assert first.sha256 == second.sha256
    plan_a, plan_b = solve(first, solver), solve(second, solver)
    assert plan_a.solver == plan_b.solver == solver
    assert not plan_a.tables["orders"].empty
    _assert_identical(plan_a, plan_b)


def test_solving_the_same_object_again_is_identical(solver):
    """The same Scenario object solved twice in a row (nothing cached or mutated between solves)."""
    scenario = load_scenario(EXAMPLE)
    _assert_identical(solve(scenario, solver), solve(scenario, solver))
