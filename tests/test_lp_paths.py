"""The two routes to a solver carry the same LP: one formulation, never two that drift apart.

``HighsBackend`` passes stockpile's own sparse arrays straight to HiGHS; ``PulpBackend`` rebuilds
the LP as a PuLP problem (for ``highs-pulp`` and CBC). Both write what they would solve as MPS;
read back with highspy and mapped onto stockpile's column and row numbers (HiGHS writes
stockpile's names, ``balance(Sb,2028)``; PuLP ``x17_order_...``/``r4_balance_...``), the two files
must hold the same columns, bounds, rows, right-hand sides, objective and matrix entries, and both
must be the LP stockpile built. Then the three lexicographic stages give the same objective values either way.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import highspy
import pytest

from stockpile.model.lp import INF
from stockpile.model.build import build
from stockpile.scenario.load import load_scenario
from stockpile.solve.backends.highs import HighsBackend
from stockpile.solve.backends.names import file_names
from stockpile.solve.backends.pulp import PulpBackend
from stockpile.solve.lexicographic import solve_model

from conftest import EXAMPLE

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"
SCENARIOS = {"example": EXAMPLE, "baseline": BASELINE}


def _index(name: str, named: dict[str, int]) -> int:
    """Stockpile's column or row number from a name either backend wrote (``named``: HiGHS's)."""
    if name in named:
        return named[name]
    match = re.match(r"^[cxr](\d+)(?:_|$)", name)
    assert match, f"unexpected name {name!r} in an MPS file"
    return int(match.group(1))


def _read(path: Path, built) -> dict:
    """An MPS file of the LP ``built`` as {cols: {j: (lower, upper, cost)}, rows: {i: (lower, upper)},
    matrix: {(i, j): a}}."""
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    assert highs.readModel(str(path)) == highspy.HighsStatus.kOk
    lp = highs.getLp()
    inf = highspy.kHighsInf
    clean = lambda v: INF if v >= inf else (-INF if v <= -inf else float(v))  # noqa: E731
    named_cols = {n: j for j, n in enumerate(file_names(built.col_name(j) for j in range(built.n_cols)))}
    named_rows = {n: i for i, n in enumerate(file_names(built.row_name(i) for i in range(built.n_rows)))}
    cols = [_index(n, named_cols) for n in lp.col_names_]
    rows = [_index(n, named_rows) for n in lp.row_names_]
    matrix = lp.a_matrix_
    assert matrix.format_ == highspy.MatrixFormat.kColwise
    entries = {}
    for k, col in enumerate(cols):
        for p in range(matrix.start_[k], matrix.start_[k + 1]):
            entries[(rows[matrix.index_[p]], col)] = float(matrix.value_[p])
    return {
        "cols": {col: (clean(lp.col_lower_[k]), clean(lp.col_upper_[k]), float(lp.col_cost_[k]))
                 for k, col in enumerate(cols)},
        "rows": {row: (clean(lp.row_lower_[k]), clean(lp.row_upper_[k])) for k, row in enumerate(rows)},
        "matrix": entries,
    }


def _close(a: float, b: float) -> bool:
    return a == b or math.isclose(a, b, rel_tol=1e-11, abs_tol=1e-12)


def _same(first: dict, second: dict, what: str) -> None:
    assert first.keys() == second.keys(), f"{what}: different sets"
    for key in first:
        a, b = first[key], second[key]
        a, b = (a, b) if isinstance(a, tuple) else ((a,), (b,))
        assert all(_close(x, y) for x, y in zip(a, b)), f"{what} {key}: {first[key]} != {second[key]}"


def _expected(lp, objective: dict[int, float]) -> dict:
    """The LP as stockpile built it, in the same form."""
    rows = {}
    for i, sense in enumerate(lp.row_sense):
        rhs = lp.row_rhs[i]
        rows[i] = (-INF if sense == "<=" else rhs, INF if sense == ">=" else rhs)
    return {
        "cols": {j: (lp.col_lower[j], lp.col_upper[j], objective.get(j, 0.0)) for j in range(lp.n_cols)},
        "rows": rows,
        "matrix": {(i, j): a for i in range(lp.n_rows) for j, a in zip(lp.row_cols[i], lp.row_coefs[i])},
    }


@pytest.mark.parametrize("which", sorted(SCENARIOS))
def test_highs_direct_and_pulp_write_the_same_lp(which, tmp_path):
    lp = build(load_scenario(SCENARIOS[which])).lp
    # the readiness stage, as --write-lp writes it: the deficit held by a lexicographic row
    lp.add_row("lexicographic", ("deficit",), dict(lp.objectives["deficit"]), "<=", 1e-9)
    objective = lp.objectives["shortfall"]
    HighsBackend(lp).write(tmp_path / "direct.mps", objective=objective)
    PulpBackend(lp, "highs").write(tmp_path / "pulp.mps", objective=objective)
    direct, through_pulp, built = _read(tmp_path / "direct.mps", lp), _read(tmp_path / "pulp.mps", lp), _expected(lp, objective)
    assert len(direct["cols"]) == len(through_pulp["cols"]) == lp.n_cols
    assert len(direct["rows"]) == len(through_pulp["rows"]) == lp.n_rows
    assert len(direct["matrix"]) == len(through_pulp["matrix"]) == lp.n_nonzeros
    for part in ("cols", "rows", "matrix"):
        _same(direct[part], through_pulp[part], f"{which} {part}: direct vs PuLP")
        _same(direct[part], built[part], f"{which} {part}: direct vs stockpile's LP")


@pytest.mark.parametrize("which", sorted(SCENARIOS))
def test_both_paths_reach_the_same_optimum_in_every_stage(which):
    values = {}
    for solver in ("highs", "highs-pulp"):
        solution = solve_model(build(load_scenario(SCENARIOS[which])), solver=solver)
        values[solver] = solution.objective_values
        stages = dict(solution.stages)
        assert [name for name, _ in solution.stages] == ["deficit", "shortfall", "cost"]
        assert all(run.status == "optimal" for run in stages.values())
    for name in ("deficit", "shortfall", "cost"):
        assert math.isclose(values["highs"][name], values["highs-pulp"][name], rel_tol=1e-7, abs_tol=1e-7), name


def test_each_run_gets_its_own_time_limit_on_a_reused_highs_model():
    """HiGHS's run clock accumulates over runs of one model (stages, sweep points): a limit
    shorter than what earlier runs took must still leave a later run its full time."""
    model = build(load_scenario(BASELINE))
    backend = HighsBackend(model.lp)
    objective = model.lp.objectives["shortfall"]
    while backend.highs.getRunTime() < 0.3:
        backend.highs.clearSolver()  # from scratch each time: runs that take real time
        assert backend.solve(objective, 60).status == "optimal"
    backend.highs.clearSolver()
    run = backend.solve(objective, 0.25)  # a cold baseline solve takes about 0.01 s
    assert run.status == "optimal", run.detail


@pytest.mark.parametrize("name, solvent", [("baseline", True), ("fy2023-retrospective", False)])
def test_the_no_deficit_hint_gives_the_same_optimum(name, solvent):
    """With the hint, a solvent plan skips the deficit stage (its readiness stage, the deficit held
    at 0, is feasible); a plan in deficit falls back to every stage. Same optimum either way."""
    scenario = load_scenario(BASELINE.parent / f"{name}.toml")
    plain = solve_model(build(scenario))
    hinted = solve_model(build(scenario), no_deficit_hint=True)
    skipped = hinted.stages[0][1].detail.startswith("not solved")
    assert skipped == solvent and (plain.objective_values["deficit"] == 0) == solvent
    assert [name for name, _ in hinted.stages] == ["deficit", "shortfall", "cost"]
    for stage in ("deficit", "shortfall", "cost"):
        assert hinted.objective_values[stage] == pytest.approx(plain.objective_values[stage], rel=1e-9, abs=1e-9)


def test_interior_point_runs_the_cost_stage_by_primal_simplex_from_the_readiness_vertex():
    """highs-ipm: interior point for the deficit and readiness stages, primal simplex from the
    readiness stage's vertex for the cost stage; the same optimum as simplex throughout."""
    scenario = load_scenario(BASELINE)
    simplex = solve_model(build(scenario))
    model = build(scenario)
    backend = HighsBackend(model.lp, method="ipm")
    runs = []
    original = backend._solve

    def recording(*args, **kwargs):
        run = original(*args, **kwargs)
        info = backend.highs.getInfo()
        runs.append((backend.highs.getOptionValue("solver")[1], info.ipm_iteration_count))
        return run

    backend._solve = recording
    interior = solve_model(model, backend=backend)
    assert [solver for solver, _ in runs] == ["ipm", "ipm", "simplex"]
    assert runs[0][1] > 0 and runs[1][1] > 0 and runs[2][1] == 0
    assert backend.highs.getOptionValue("solver")[1] == "ipm"  # restored for later runs
    for stage in ("deficit", "shortfall", "cost"):
        assert interior.objective_values[stage] == pytest.approx(simplex.objective_values[stage], rel=1e-7, abs=1e-9)
