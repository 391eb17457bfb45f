"""The command line end to end: solve, JSON summary, verify, model export, solver choice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import highspy
import pytest
from typer.testing import CliRunner

from stockpile.outputs.excel.sheet import named_ranges
from stockpile.cli.app import app

EXAMPLE = Path(__file__).resolve().parent.parent / "stockpile" / "examples" / "example.toml"
runner = CliRunner()


def test_solve_writes_workbook_summary_and_model(tmp_path: Path) -> None:
    plan, summary, model = tmp_path / "plan.xlsx", tmp_path / "summary.json", tmp_path / "model.mps"
    result = runner.invoke(app, ["solve", str(EXAMPLE), "-o", str(plan), "--json", str(summary),
                                 "--write-lp", str(model)])
    assert result.exit_code == 0, result.output
    data = json.loads(summary.read_text())
    assert result.output.splitlines()[1] == data["headline"]
    assert data["audit"]["passed"] is True
    assert data["scenario"]["first_fy"] == 2027 and data["scenario"]["last_fy"] == 2032
    assert set(data["kpis"]["tonnes_ordered"]) == {"Sb", "Co", "Li", "W"}
    assert plan.stat().st_size > 0
    assert not list(tmp_path.glob(".*.tmp*"))  # no temporary file left behind

    # The exported readiness model, solved by HiGHS on its own, gives the plan's readiness optimum.
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(model))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    assert h.getInfo().objective_function_value == pytest.approx(data["objectives"]["shortfall"], rel=1e-6)

    verified = runner.invoke(app, ["verify", str(plan)])
    assert verified.exit_code == 0, verified.output
    assert "audit passed" in verified.output


def test_solvers_agree_through_the_cli(tmp_path: Path) -> None:
    results = {}
    for solver in ("highs", "cbc"):
        out = tmp_path / f"{solver}.json"
        result = runner.invoke(app, ["solve", str(EXAMPLE), "--solver", solver, "--json", str(out)])
        assert result.exit_code == 0, result.output
        results[solver] = json.loads(out.read_text())
    for name in ("deficit", "shortfall", "cost"):
        assert results["cbc"]["objectives"][name] == pytest.approx(results["highs"]["objectives"][name],
                                                                   rel=1e-6, abs=1e-9)
    assert results["cbc"]["headline"] == results["highs"]["headline"]


def test_unknown_solver_and_bad_lp_suffix(tmp_path: Path) -> None:
    result = runner.invoke(app, ["solve", str(EXAMPLE), "--solver", "gurobi"])
    assert result.exit_code == 2 and "unknown solver 'gurobi'" in result.output
    result = runner.invoke(app, ["solve", str(EXAMPLE), "--write-lp", str(tmp_path / "m.txt")])
    assert result.exit_code == 2 and ".lp or .mps" in result.output


def test_verify_rejects_a_file_that_is_not_a_plan(tmp_path: Path) -> None:
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"not a zip")
    result = runner.invoke(app, ["verify", str(fake)])
    assert result.exit_code == 2 and "fake.xlsx" in result.output and "Traceback" not in result.output


def test_time_limit_too_short_is_reported_not_crashed(tmp_path: Path) -> None:
    result = runner.invoke(app, ["solve", str(EXAMPLE), "--time-limit", "0.01", "-o", str(tmp_path / "p.xlsx")])
    # A tiny LP may still solve in 10 ms; either way there is no traceback and no partial file.
    assert result.exit_code in (0, 1)
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        assert "time limit" in result.output
        assert not (tmp_path / "p.xlsx").exists()


def test_console_script_runs_as_a_module() -> None:
    completed = subprocess.run([sys.executable, "-m", "stockpile", "validate", str(EXAMPLE)],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert "valid" in completed.stdout


def test_baseline_workbook_carries_policy_costs_and_reproducibility(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    baseline = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"
    out = tmp_path / "plan.xlsx"
    result = runner.invoke(app, ["solve", str(baseline), "-o", str(out)])
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    costs = named_ranges(wb)["PolicyCosts"][1]
    ws = wb["Marginal values"]
    rows = [[c.value for c in row] for row in ws[costs]]
    header, body = rows[0], rows[1:]
    by_key = {r[header.index("Scenario key")]: r for r in body}
    assert set(by_key) >= {"policy.trusted_share.Sb", "policy.bans[1]"}
    # The antimony trusted-share floor binds on the baseline: dropping it lowers the shortfall.
    assert by_key["policy.trusted_share.Sb"][header.index("Weighted shortfall it adds")] > 0
    labels = {row[0].value for row in wb["Summary"].iter_rows() if row[0].value}
    assert {"Scenario SHA-256", "Data SHA-256", "Version of highspy", "Version of pulp"} <= labels
