"""Every offered solver route solves every shipped scenario, passes the audit, and agrees with HiGHS
simplex on every objective to 1e-6 relative.

Relative to the magnitude of what is compared: an objective's value, or, where that is near zero
(a solvent Fund's deficit), a thousandth of a dollar ($1e-9M) for money and 1e-9 of relative
shortfall, far below anything a planner reads and far above double rounding.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stockpile.model.build import OBJECTIVES
from stockpile.plan.pipeline import plan_scenario
from stockpile.scenario.load import load_scenario
from stockpile.scenario.schema import SOLVERS

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.toml"))
REFERENCE = "highs"
FLOOR = 1e-9


@pytest.fixture(scope="module")
def reference() -> dict[str, dict[str, float]]:
    return {path.name: plan_scenario(load_scenario(path), solver=REFERENCE).objective_values for path in SCENARIOS}


@pytest.mark.parametrize("solver", [s for s in SOLVERS if s != REFERENCE])
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_route_passes_the_audit_and_agrees_with_highs_simplex(reference, path, solver) -> None:
    plan = plan_scenario(load_scenario(path), solver=solver)  # raises AuditError on a failed audit
    assert plan.audit.ok
    assert set(plan.objective_values) == set(OBJECTIVES)
    for name in OBJECTIVES:
        expected = reference[path.name][name]
        assert plan.objective_values[name] == pytest.approx(expected, rel=1e-6, abs=FLOOR), name
