"""Typed solver statuses and the backend factory.

Every backend reports a :class:`SolveStatus` (a ``StrEnum``, equal to its old string), whatever
its solver says; ``make_backend`` is the only place a solver name meets a class, and what a backend
can do (warm-start, patch in place) is asked of it. The in-place changes (``set_rhs``,
``set_coefficient``, ``set_bounds``, ``patch``) give the optimum of the LP built with them.
"""

from __future__ import annotations

import highspy
import pytest

from stockpile.errors import InputError
from stockpile.model.build import build
from stockpile.model.lp import LinearProgram
from stockpile.plan.pipeline import plan_scenario
from stockpile.scenario.load import load_scenario, scenario_from_dict
from stockpile.scenario.schema import SOLVERS
from stockpile.solve.backends.factory import make_backend, solver_for_large_models
from stockpile.solve.backends.highs import HighsBackend, highs_status
from stockpile.solve.backends.pulp import PulpBackend
from stockpile.solve.diagnose import diagnose_failure
from stockpile.solve.lexicographic import solve_model
from stockpile.solve.status import SolverRun, SolveStatus, StageFailed

from conftest import EXAMPLE, make_scenario


def test_statuses_are_typed_and_equal_to_their_strings() -> None:
    assert [s.value for s in SolveStatus] == ["optimal", "infeasible", "unbounded", "time_limit",
                                             "interrupted", "error"]
    assert SolveStatus.OPTIMAL == "optimal" and f"{SolveStatus.TIME_LIMIT}" == "time_limit"
    assert [s for s in SolveStatus if s.is_ok] == [SolveStatus.OPTIMAL]
    assert [s for s in SolveStatus if s.stopped_early] == [SolveStatus.TIME_LIMIT, SolveStatus.INTERRUPTED]


def test_highs_model_statuses_map_onto_solve_statuses() -> None:
    m = highspy.HighsModelStatus
    assert highs_status(m.kOptimal) is SolveStatus.OPTIMAL
    assert highs_status(m.kInfeasible) is SolveStatus.INFEASIBLE
    assert highs_status(m.kUnboundedOrInfeasible) is SolveStatus.INFEASIBLE
    assert highs_status(m.kUnbounded) is SolveStatus.UNBOUNDED
    assert highs_status(m.kTimeLimit) is SolveStatus.TIME_LIMIT
    assert highs_status(m.kInterrupt) is SolveStatus.INTERRUPTED
    assert highs_status(m.kIterationLimit) is SolveStatus.ERROR


def test_the_factory_knows_every_solver_name_and_only_those() -> None:
    lp = build(scenario_from_dict(make_scenario())).lp
    made = {name: make_backend(lp, name) for name in SOLVERS}
    assert {name: type(b) for name, b in made.items()} == {
        "highs": HighsBackend, "highs-ipm": HighsBackend, "highs-pulp": PulpBackend, "cbc": PulpBackend}
    assert {name: (b.can_warm_start, b.can_patch) for name, b in made.items()} == {
        "highs": (True, True), "highs-ipm": (True, True), "highs-pulp": (False, False), "cbc": (False, False)}
    assert made["highs"].version().endswith("(highspy, simplex)")
    assert made["highs-ipm"].version().endswith("(highspy, interior point)")
    assert "through PuLP" in made["highs-pulp"].version() and made["cbc"].version().startswith("CBC at ")
    with pytest.raises(InputError, match="unknown solver 'gurobi'"):
        make_backend(lp, "gurobi")
    assert solver_for_large_models("highs") == "highs-ipm"
    assert [solver_for_large_models(name) for name in ("highs-ipm", "highs-pulp", "cbc")] == ["highs-ipm", "highs-pulp", "cbc"]


def tiny_lp(infeasible: bool = False) -> LinearProgram:
    """min x + 2y subject to x + y >= 3, x <= 2 (and x >= 4 when infeasible)."""
    lp = LinearProgram()
    x, y = lp.add_column("x", (), 0.0, 2.0), lp.add_column("y", ())
    lp.add_row("need", (), {x: 1.0, y: 1.0}, ">=", 3.0)
    if infeasible:
        lp.add_row("too_much", (), {x: 1.0}, ">=", 4.0)
    return lp


@pytest.mark.parametrize("solver", SOLVERS)
def test_every_backend_reports_a_typed_status(solver) -> None:
    run = make_backend(tiny_lp(), solver).solve({0: 1.0, 1: 2.0}, 60)
    assert run.status is SolveStatus.OPTIMAL and run.objective == pytest.approx(4.0)
    run = make_backend(tiny_lp(infeasible=True), solver).solve({0: 1.0, 1: 2.0}, 60)
    assert run.status is SolveStatus.INFEASIBLE and not run.status.is_ok


@pytest.mark.parametrize("solver", SOLVERS)
def test_changes_in_place_give_the_optimum_of_the_changed_lp(solver) -> None:
    lp = tiny_lp()
    z = lp.add_column("z", ())
    backend = make_backend(lp, solver)
    backend.set_rhs(0, 5.0)               # x + y >= 5
    backend.set_coefficient(0, z, 1.0)    # x + y + z >= 5, z costs 1.5
    backend.set_bounds(0, 0.0, 1.0)       # x <= 1
    assert lp.row_rhs[0] == 5.0 and lp.row_cols[0] == [0, 1, z] and lp.col_upper[0] == 1.0
    run = backend.solve({0: 1.0, 1: 2.0, z: 1.5}, 60)
    assert run.status is SolveStatus.OPTIMAL and run.objective == pytest.approx(1.0 + 4 * 1.5)


def test_patch_turns_the_loaded_lp_into_another_of_the_same_shape() -> None:
    old, new = tiny_lp(), tiny_lp()
    new.row_rhs[0], new.col_upper[0], new.row_coefs[0] = 6.0, 3.0, [2.0, 1.0]   # 2x + y >= 6, x <= 3
    backend = HighsBackend(old)
    assert backend.solve({0: 1.0, 1: 2.0}, 60).objective == pytest.approx(4.0)
    backend.patch(old, new)
    backend.clear_solver()
    assert backend.lp is new
    fresh = HighsBackend(new.copy()).solve({0: 1.0, 1: 2.0}, 60)
    assert backend.solve({0: 1.0, 1: 2.0}, 60).objective == pytest.approx(fresh.objective) == pytest.approx(3.0)


def test_a_stopped_stage_raises_its_status_and_is_not_diagnosed(monkeypatch) -> None:
    def stopped(self, objective, time_limit, **kwargs):
        return SolverRun(SolveStatus.TIME_LIMIT, detail="stopped")
    monkeypatch.setattr(HighsBackend, "solve", stopped)
    scenario = load_scenario(EXAMPLE)
    with pytest.raises(StageFailed) as caught:
        solve_model(build(scenario))
    assert caught.value.status is SolveStatus.TIME_LIMIT and caught.value.stage == "deficit"
    assert diagnose_failure(scenario, caught.value) is caught.value
    with pytest.raises(StageFailed, match="time limit"):
        plan_scenario(scenario)

