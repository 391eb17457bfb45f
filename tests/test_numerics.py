"""Numerics: tonnes and billions of dollars stay within a few orders of magnitude inside the model.

Money is in $M inside the model (MONEY_SCALE), so a baseline row mixing a $125M appropriation, a
$20,000/t price and tonnes has coefficients 1e-4..1 and right-hand sides 1..1e5. These tests solve
the baseline, and a scenario with billions of dollars and millions of tonnes, stage by stage on
HiGHS directly and check what HiGHS reports: optimal, primal and dual feasible, no infeasibility,
no complementarity violation, its primal-dual objective error, the residuals of its solution
recomputed here (A x against the row values, c - A'y - z), and no warning in its log: each stage's
objective is scaled to a largest cost of about 1 (stockpile.solve.lexicographic.objective_scale; readiness costs
are weight / goal, about 4e-5 per tonne, which HiGHS would call "excessively small"), and a
lexicographic row whose optimum is 0 is held at 0, not at 1e-9.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stockpile.model.lp import INF
from stockpile.model.build import build
from stockpile.scenario.load import load_scenario, scenario_from_dict
from stockpile.scenario.schema import to_plain
from stockpile.solve.backends.highs import HighsBackend
from stockpile.solve.lexicographic import solve_model

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
TOL = 1e-9
@pytest.fixture(scope="module")
def baseline():
    return load_scenario(BASELINE)


def billions(baseline):
    """The baseline with a $2B opening balance, $5B a year, 200,000 t goals and capacity to match."""
    raw = to_plain(baseline)
    raw["fund"].update(opening_balance=2e9, appropriation=5e9, operating_cost=50e6)
    for material in raw["materials"].values():
        material["goal"] = 2e5
        material["opening_inventory"] = 1e4
    for option in raw["supply"]:
        option["capacity"] = 2.5e4
    return scenario_from_dict(raw)


def coefficient_ranges(lp):
    coefs = np.abs(np.concatenate([np.asarray(c, dtype=float) for c in lp.row_coefs if c]))
    rhs = np.abs(np.asarray([r for r in lp.row_rhs if r != 0.0]))
    return coefs.min(), coefs.max(), rhs.min(), rhs.max()


class RecordingBackend(HighsBackend):
    """HiGHS as :func:`solve_model` drives it, recording each stage's info and log and checking
    the residuals of its solution."""

    def __init__(self, lp, tmp_path: Path):
        super().__init__(lp)
        self.tmp_path, self.stages = tmp_path, []

    def solve(self, objective, time_limit, start_basis=None, values=True, from_previous=False):
        h, log = self.highs, self.tmp_path / f"stage{len(self.stages)}.log"
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", False)
        h.setOptionValue("log_file", str(log))
        run = super().solve(objective, time_limit, start_basis, values, from_previous)
        h.setOptionValue("output_flag", False)
        assert run.status == "optimal", run.detail
        check_solution(self, objective)
        self.stages.append((len(self.stages), h.getInfo(), log.read_text()))
        return run


def solve_stages(scenario, tmp_path: Path) -> list[tuple[int, object, str]]:
    """The lexicographic stages, solved by stockpile: (stage, HiGHS info, HiGHS log)."""
    model = build(scenario)
    backend = RecordingBackend(model.lp, tmp_path)
    solve_model(model, backend=backend)
    assert len(backend.stages) == 3
    return backend.stages


def check_solution(backend: HighsBackend, objective: dict[int, float]) -> None:
    """Residuals of HiGHS's solution, recomputed from stockpile's own rows."""
    lp, solution = backend.lp, backend.highs.getSolution()
    x, row_value = np.asarray(solution.col_value), np.asarray(solution.row_value)
    y, z = np.asarray(solution.row_dual), np.asarray(solution.col_dual)
    activity = np.array([float(np.dot(coefs, x[cols])) if cols else 0.0
                         for cols, coefs in zip(lp.row_cols, lp.row_coefs)])
    assert np.max(np.abs(activity - row_value)) <= 1e-9 * max(1.0, np.max(np.abs(activity)))
    for row, (sense, rhs) in enumerate(zip(lp.row_sense, lp.row_rhs)):
        slack = activity[row] - rhs
        assert (sense != "<=" or slack <= 1e-7) and (sense != ">=" or slack >= -1e-7) \
            and (sense != "=" or abs(slack) <= 1e-7), (lp.row_name(row), slack)
    lower, upper = np.asarray(lp.col_lower), np.asarray(lp.col_upper)
    assert np.all(x >= np.where(lower == -INF, -np.inf, lower) - 1e-7)
    assert np.all(x <= np.where(upper == INF, np.inf, upper) + 1e-7)
    cost = np.zeros(lp.n_cols)
    for col, coef in objective.items():
        cost[col] = coef
    reduced = cost.copy()
    for row, (cols, coefs) in enumerate(zip(lp.row_cols, lp.row_coefs)):
        reduced[cols] -= y[row] * np.asarray(coefs)
    assert np.max(np.abs(reduced - z)) <= 1e-9


def assert_no_trouble(stages) -> None:
    for stage, info, log in stages:
        assert info.primal_solution_status == 2 and info.dual_solution_status == 2, stage  # feasible
        assert info.num_primal_infeasibilities == 0 and info.num_dual_infeasibilities == 0, stage
        assert info.max_primal_infeasibility <= TOL and info.max_dual_infeasibility <= TOL, stage
        assert info.max_complementarity_violation <= TOL, stage
        assert abs(info.primal_dual_objective_error) <= 1e-9, stage
        warnings = [line for line in log.splitlines() if "WARNING" in line.upper() or "numerical" in line.lower()]
        assert not warnings, (stage, warnings)


def test_baseline_coefficients_stay_within_a_few_orders_of_magnitude(baseline) -> None:
    low, high, rhs_low, rhs_high = coefficient_ranges(build(baseline).lp)
    assert 1e-5 <= low and high <= 10.0, (low, high)
    assert rhs_high / rhs_low <= 1e6, (rhs_low, rhs_high)


def test_baseline_solves_without_numerical_trouble(baseline, tmp_path: Path) -> None:
    assert_no_trouble(solve_stages(baseline, tmp_path))


def test_billions_of_dollars_and_millions_of_tonnes_solve_cleanly(baseline, tmp_path: Path) -> None:
    scenario = billions(baseline)
    lp = build(scenario).lp
    low, high, rhs_low, rhs_high = coefficient_ranges(lp)
    assert 1e-5 <= low and high <= 10.0 and rhs_high <= 1e6, (low, high, rhs_high)
    assert_no_trouble(solve_stages(scenario, tmp_path))
