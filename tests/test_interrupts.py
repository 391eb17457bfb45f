"""Time limits and interrupts: the best known status, exit 1 (or 130 for Ctrl-C outside the solver),
and nothing partial written: no new output file, an existing one byte for byte unchanged, no
temporary file left behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import stockpile.cli.app
import stockpile.solve.diagnose
import stockpile.scenario.load
import stockpile.scenario.schema
import stockpile.outputs.workbook.write
from stockpile.cli.app import app
from stockpile.solve.diagnose import InfeasibleError
from stockpile.errors import SolveError
from stockpile.plan.pipeline import plan_scenario
from stockpile.scenario.load import scenario_from_dict
from stockpile.solve.backends.highs import HighsBackend
from stockpile.solve.status import SolverRun, SolveStatus

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "stockpile" / "examples" / "example.toml"
runner = CliRunner()


@pytest.fixture
def outputs(tmp_path: Path) -> dict[str, Path]:
    """An existing workbook and summary, which a failed run must leave exactly as they are."""
    paths = {"xlsx": tmp_path / "plan.xlsx", "json": tmp_path / "summary.json"}
    for path in paths.values():
        path.write_bytes(b"an earlier run's output")
    return paths


def solve_args(outputs: dict[str, Path]) -> list[str]:
    return ["solve", str(EXAMPLE), "-o", str(outputs["xlsx"]), "--json", str(outputs["json"]), "--force"]


def assert_untouched(outputs: dict[str, Path]) -> None:
    for path in outputs.values():
        assert path.read_bytes() == b"an earlier run's output"
    folder = next(iter(outputs.values())).parent
    assert not list(folder.glob(".*.tmp*")), "a temporary file was left behind"


def stop_in_stage(status: SolveStatus, stage_number: int = 1):
    """A backend solve that is optimal until call ``stage_number``, then stops with ``status``."""
    real = HighsBackend.solve
    calls = {"n": 0}

    def solve(self, objective, time_limit, **kwargs):
        calls["n"] += 1
        if calls["n"] >= stage_number:
            return SolverRun(status, detail="stopped")
        return real(self, objective, time_limit, **kwargs)
    return solve


@pytest.mark.parametrize("stage_number, stage", [(1, "deficit"), (2, "shortfall"), (3, "cost")])
def test_time_limit_reports_the_stage_and_writes_nothing(monkeypatch, outputs, stage_number, stage) -> None:
    monkeypatch.setattr(HighsBackend, "solve", stop_in_stage(SolveStatus.TIME_LIMIT, stage_number))
    result = runner.invoke(app, solve_args(outputs))
    assert result.exit_code == 1, result.output
    assert f"no optimal plan in the {stage} stage" in result.output
    assert "time limit" in result.output and "infeasible" not in result.output
    assert "Traceback" not in result.output
    assert_untouched(outputs)


def test_interrupt_inside_the_solver_exits_1_and_writes_nothing(monkeypatch, outputs) -> None:
    monkeypatch.setattr(HighsBackend, "solve", stop_in_stage(SolveStatus.INTERRUPTED, 2))
    result = runner.invoke(app, solve_args(outputs))
    assert result.exit_code == 1 and "interrupted" in result.output and "infeasible" not in result.output
    assert_untouched(outputs)


def test_ctrl_c_outside_the_solver_exits_130_and_writes_nothing(monkeypatch, outputs) -> None:
    def interrupt(self, objective, time_limit, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(HighsBackend, "solve", interrupt)
    result = runner.invoke(app, solve_args(outputs))
    assert result.exit_code == 130 and "interrupted: nothing was written" in result.output
    assert_untouched(outputs)


def test_ctrl_c_while_writing_the_workbook_leaves_the_old_one(monkeypatch, outputs) -> None:
    def half_written(plan, path):
        Path(path).write_bytes(b"PK\x03\x04 half a workbook")
        raise KeyboardInterrupt
    monkeypatch.setattr(stockpile.outputs.workbook.write, "write_workbook", half_written)
    result = runner.invoke(app, solve_args(outputs))
    assert result.exit_code == 130
    assert_untouched(outputs)


def test_ctrl_c_during_a_diagnosis_exits_130(monkeypatch, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8") + "\n[fund.committed_payments]\n2028 = 1e9\n",
                    encoding="utf-8")
    text = path.read_text(encoding="utf-8").replace("[fund]\n", "[fund]\nobligation_cap = 1e6\n", 1)
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["solve", str(path)])
    assert result.exit_code == 1 and "fund.obligation_cap.2028" in result.output, result.output

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(stockpile.solve.diagnose, "diagnose", interrupt)
    out = tmp_path / "plan.xlsx"
    result = runner.invoke(app, ["solve", str(path), "-o", str(out)])
    assert result.exit_code == 130 and not out.exists()
    result = runner.invoke(app, ["explain", str(path)])
    assert result.exit_code == 130 and "interrupted" in result.output


def big_scenario() -> stockpile.scenario.schema.Scenario:
    """40 materials x 20 tiered options x 30 FYs: about 95,000 columns, over a minute to solve."""
    countries = {"United States": ["domestic"], **{f"C{i}": (["fta"] if i % 3 else []) for i in range(10)}}
    materials = {f"M{i}": {"name": f"m{i}", "loss_rate": 0.01,
                           "goal": {"ramp": {"2027": 100.0 * (i + 1), "2056": 1000.0 * (i + 1)}}} for i in range(40)}
    supply = [{"name": f"o{i}-{j}", "material": f"M{i}", "kind": "import", "country": f"C{j % 10}",
               "capacity": 50.0 + j, "price": 1000.0 * (1 + (i * 7 + j * 13) % 50), "lead_time": j % 3,
               "tiers": [{"up_to": 20.0, "factor": 1.0}, {"up_to": 40.0, "factor": 1.3}, {"factor": 2.0}]}
              for i in range(40) for j in range(20)]
    return scenario_from_dict({
        "name": "big", "horizon": {"first_fy": 2027, "last_fy": 2056}, "countries": countries,
        "materials": materials, "supply": supply,
        "fund": {"opening_balance": 1e8, "appropriation": 5e7, "holding_cost": 10.0},
        "policy": {"trusted_tags": ["fta", "domestic"], "trusted_share": {f"M{i}": 0.5 for i in range(40)},
                   "concentration_cap": 0.4}})


def test_a_real_time_limit_stops_a_large_solve(monkeypatch, tmp_path: Path) -> None:
    scenario = big_scenario()
    with pytest.raises(SolveError) as caught:
        plan_scenario(scenario, time_limit=0.02)
    assert not isinstance(caught.value, InfeasibleError)
    assert "reached the time limit of 0.02 s" in str(caught.value)

    monkeypatch.setattr(stockpile.scenario.load, "load_scenario", lambda path: scenario)
    out = tmp_path / "plan.xlsx"
    result = runner.invoke(app, ["solve", str(EXAMPLE), "--time-limit", "0.02", "-o", str(out)])
    assert result.exit_code == 1 and "time limit" in result.output and not out.exists()
