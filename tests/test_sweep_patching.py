"""A sweep point patched into the base LP equals the point's LP built whole, exactly.

stockpile.analysis.sweep.patching rebuilds only the families a sweep's parameters move, with the
model's own define functions, over a copy of the base LP. Over several kinds of parameter (a
right-hand side everywhere, one FY's right-hand side, coefficients of several families and the
objectives, capacity through an event, a trusted-share floor's coefficients) every bound,
right-hand side, coefficient and objective must be the whole build's to the last bit; a point
whose shape differs gets no patch; and a sweep gives the same table patched as rebuilt.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stockpile.analysis.sweep.patching import Footprint
from stockpile.analysis.sweep.points import apply_point, grid, parse_vary
from stockpile.analysis.sweep.run import run_sweep
from stockpile.model.build import build
from stockpile.scenario.load import load_scenario
from stockpile.solve.lexicographic import add_lexicographic_rows

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(ROOT / "scenarios" / "baseline.toml")


def whole(scenario):
    model = build(scenario)
    add_lexicographic_rows(model.lp)
    return model


SWEEPS = {
    "appropriation (fund rows' right-hand sides)": ["fund.appropriation=0:8e8:3"],
    "one FY's appropriation": ["fund.appropriation.2029=0,3e8,9e8"],
    "prices (tiers, Fund, cap and cost coefficients)": ["prices.multiplier=x0.5:x2:3"],
    "a goal (goal rows, shortfall weights, lexicographic row)": ["materials.Co.goal=x0.5:x2:3"],
    "an event's end (capacity)": ["events.china-sb-ban.to_fy=2029,2033,2040"],
    "a trusted-share floor (its coefficients) and the appropriation":
        ["policy.trusted_share.Sb=0.2,0.6", "fund.appropriation=1e8,5e8"],
}


@pytest.mark.parametrize("specs", SWEEPS.values(), ids=SWEEPS.keys())
def test_patched_point_is_the_whole_build(baseline, specs) -> None:
    points = grid([parse_vary(spec) for spec in specs])
    footprint = Footprint.of(baseline, points)
    assert footprint is not None
    for point in points:
        scenario = apply_point(baseline, point)
        patched, built = footprint.patched(scenario), whole(scenario)
        assert patched is not None, point
        a, b = patched.lp, built.lp
        assert a.same_shape(b)
        assert a.row_rhs == b.row_rhs and a.row_coefs == b.row_coefs, point
        assert a.col_lower == b.col_lower and a.col_upper == b.col_upper, point
        assert a.objectives == b.objectives, point
        assert patched.spend_terms == built.spend_terms, point
    # Only a sweep of a section the columns depend on (materials here) defines them again.
    assert footprint.columns_fixed == (not any(spec.startswith("materials.") for spec in specs))
    # Each sweep moves something (rows or objectives), and not everything: a part of the model.
    assert footprint.families or footprint.objectives
    assert footprint.families < set(whole(baseline).lp.row_family)


def test_appropriation_rebuilds_only_the_fund() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "baseline.toml")
    footprint = Footprint.of(scenario, grid([parse_vary("fund.appropriation=0:8e8:5")]))
    assert footprint.families == {"fund", "fund_floor"} and not footprint.objectives
    assert [define.__name__ for define in footprint.definers] == ["define_fund"]  # prices do not move


def test_a_point_of_another_shape_is_built_whole(baseline) -> None:
    """A goal of 0 removes the material's shortfall columns: no patch, the point is built whole."""
    points = grid([parse_vary("materials.Co.goal=1000,2000,0")])
    footprint = Footprint.of(baseline, points[:2])
    assert footprint is not None
    assert footprint.patched(apply_point(baseline, points[2])) is None


def test_patched_sweep_gives_the_rebuilt_table(baseline) -> None:
    points = grid([parse_vary("materials.Co.goal=x0.8,x1.5"), parse_vary("fund.appropriation=1e8,6e8")])
    patched = run_sweep(baseline, points, patch=True).table
    rebuilt = run_sweep(baseline, points, patch=False).table
    assert (patched.status == "optimal").all()
    assert patched.equals(rebuilt)
