"""A sweep point read straight from the solution vector is the point read back whole, exactly.

stockpile.analysis.sweep.readback reads a warm point's row of the sweep table from the solution
vector with index arrays and checks the plan against every row and bound of the point's own LP;
the first, middle and last points (every point with ``audit_all``) are read back whole
(read_plan, point_row) and pass the independent audit. On the shipped baseline, over parameters
that move right-hand sides, coefficients, spend terms, objectives and capacities, the table with
the fast read-back must equal the table with every point read back whole and audited, to the last
bit, but for the ``audit`` column that says which check each point passed. The LP check passes the
solver's plans and names the row or bound a wrong plan misses.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stockpile.analysis.sweep.patching import Footprint
from stockpile.analysis.sweep.points import apply_point, grid, parse_vary
from stockpile.analysis.sweep.readback import INDEPENDENT, LP_CHECK, PointReader, independently_audited
from stockpile.analysis.sweep.run import run_sweep
from stockpile.model.build import build
from stockpile.scenario.load import load_scenario
from stockpile.solve.lexicographic import solve_model

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(ROOT / "scenarios" / "baseline.toml")


SWEEPS = {
    "appropriation (a deficit at the low end)": ["fund.appropriation=0:8e8:5"],
    "prices (spend terms, tiers, objectives)": ["prices.multiplier=x0.5:x2:5"],
    "a goal (shortfall columns' bounds kept, objectives)": ["materials.Co.goal=x0.5:x2:5"],
    "an event's end (capacity)": ["events.china-sb-ban.to_fy=2029,2031,2033,2036,2040"],
    "a trusted-share floor and the appropriation": ["policy.trusted_share.Sb=0.2,0.4,0.6", "fund.appropriation=1e8,5e8"],
}


@pytest.mark.parametrize("specs", SWEEPS.values(), ids=SWEEPS.keys())
def test_fast_read_back_gives_the_whole_read_back_table(baseline, specs) -> None:
    points = grid([parse_vary(spec) for spec in specs])
    fast = run_sweep(baseline, points).table
    whole = run_sweep(baseline, points, audit_all=True).table
    assert (fast.status == "optimal").all() and fast.warm.all()
    assert (whole.audit == INDEPENDENT).all()
    sample = independently_audited(len(points))
    assert list(fast.audit) == [INDEPENDENT if i in sample else LP_CHECK for i in range(len(points))]
    assert fast.drop(columns="audit").equals(whole.drop(columns="audit"))


def test_independent_sample_is_first_middle_last() -> None:
    assert independently_audited(1) == {0}
    assert independently_audited(2) == {0, 1}
    assert independently_audited(41) == {0, 20, 40}


def test_lp_check_passes_the_solver_and_names_what_a_wrong_plan_misses(baseline) -> None:
    """Adding 1,000 t to an order breaks its capacity row (and the inventory balance it feeds);
    a negative shortfall is outside its column's bounds [0, inf)."""
    points = grid([parse_vary("fund.appropriation=2e8,4e8")])
    footprint = Footprint.of(baseline, points)
    model = footprint.patched(apply_point(baseline, points[1]))
    x = np.asarray(solve_model(model).x, dtype=float)
    reader = PointReader(model)
    assert reader.violations(model.lp, x) == []
    lp = model.lp
    capped = next(row for row, family in enumerate(lp.row_family) if family == "capacity")
    order = lp.row_cols[capped][0]
    wrong = x.copy()
    wrong[order] += 1000.0
    missed = reader.violations(lp, wrong)
    assert missed and any(text.startswith(("capacity[", "balance[")) for text in missed), missed
    short = lp.col_family.index("short")
    wrong = x.copy()
    wrong[short] = -5.0
    assert any(text.startswith(f"{lp.col_name(short)} = -5") for text in reader.violations(lp, wrong))


def test_fast_row_is_point_row_of_the_whole_read_back(baseline) -> None:
    """One point, directly: the reader's row equals point_row(read_plan(...)) key by key."""
    from stockpile.analysis.sweep.results import point_row
    from stockpile.plan.read import read_plan

    scenario = apply_point(baseline, grid([parse_vary("fund.appropriation=1.5e8")])[0])
    model = build(scenario)
    solution = solve_model(model)
    expected = point_row(read_plan(model, solution))
    row = PointReader(model).row(model, np.asarray(solution.x, dtype=float), solution.objective_values)
    assert row.keys() == expected.keys()
    for key, value in expected.items():
        assert row[key] == value and type(row[key]) is type(value), key
