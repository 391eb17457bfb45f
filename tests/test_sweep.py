"""What-if sweeps: specs, warm re-solves against fresh solves, executors, resume, min-budget."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from stockpile.outputs.excel.sheet import named_ranges
from stockpile.analysis.min_budget import least_budget, solvable_through
from stockpile.cli.app import app
from stockpile.errors import InputError
from stockpile.model.build import build
from stockpile.plan.pipeline import plan_scenario
from stockpile.plan.read import ZERO_DOLLARS
from stockpile.scenario.load import load_scenario
from stockpile.solve.lexicographic import solve_model
from stockpile.analysis import executor
from stockpile.analysis.sweep.points import Setting, apply_point, grid, parse_vary, read_sweep_file
from stockpile.analysis.sweep.run import MAX_CHUNK, MIN_CHUNK, chunk_size, run_sweep

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
RETRO = ROOT / "scenarios" / "fy2023-retrospective.toml"
runner = CliRunner()


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(BASELINE)


# --------------------------------------------------------------------------- specs and paths

def test_specs() -> None:
    assert [s.value for s in parse_vary("fund.appropriation=0:1e9:5")] == [0, 2.5e8, 5e8, 7.5e8, 1e9]
    assert [s.value for s in parse_vary("fund.appropriation=100e6,200e6")] == [1e8, 2e8]
    scales = parse_vary("prices.multiplier=x0.5:x2:4")
    assert [s.value for s in scales] == [0.5, 1.0, 1.5, 2.0] and all(s.scale for s in scales)
    assert len(grid([parse_vary("fund.appropriation=0,1"), parse_vary("prices.multiplier=1,2,3")])) == 6
    for bad, reason in [("fund.appropriation", "PARAM=SPEC"), ("fund.appropriation=a,b", "not a number"),
                        ("x=0:1:0", "number of points"), ("x=x1:2:3", "both ends"), ("x=1,x2", "every value")]:
        with pytest.raises(InputError, match=reason):
            parse_vary(bad)


def test_paths_change_exactly_what_they_name(baseline) -> None:
    s = apply_point(baseline, (Setting("fund.appropriation", 5e8),))
    assert all(s.fund.appropriation.at(fy) == 5e8 for fy in s.fys)
    s = apply_point(baseline, (Setting("fund.appropriation.2030", 7e8),))
    assert s.fund.appropriation.at(2030) == 7e8 and s.fund.appropriation.at(2031) == 125e6
    s = apply_point(baseline, (Setting("materials.Sb.goal", 2.0, scale=True),))
    assert s.materials["Sb"].goal.at(2035) == 2 * baseline.materials["Sb"].goal.at(2035)
    s = apply_point(baseline, (Setting("policy.trusted_share.Co", 0.8),))
    assert s.policy.trusted_share["Co"].at(2030) == 0.8
    s = apply_point(baseline, (Setting("events.china-sb-ban.to_fy", 2029),))
    assert s.events["china-sb-ban"].to_fy == 2029
    s = apply_point(baseline, (Setting("supply.Perpetua Stibnite.capacity", 0.0),))
    assert next(o for o in s.supply if o.name == "Perpetua Stibnite").capacity.at(2030) == 0.0
    for path, reason in [("fund.appropriaton", "no key"), ("supply.Nope.capacity", "no supply entry"),
                         ("name", "not a number"), ("fund.appropriation.2050", "outside the horizon")]:
        with pytest.raises(InputError, match=reason):
            apply_point(baseline, (Setting(path, 1.0),))
    with pytest.raises(InputError, match="policy.trusted_share.Co"):
        apply_point(baseline, (Setting("policy.trusted_share.Co", 1.5),))  # validated like a scenario


def test_points_file(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text("run,param,value\na,fund.appropriation,1e8\na,prices.multiplier,x1.5\n"
                    "b,fund.appropriation,2e8\nb,prices.multiplier,x2\n")
    points = read_sweep_file(path)
    assert points == [(Setting("fund.appropriation", 1e8), Setting("prices.multiplier", 1.5, True)),
                      (Setting("fund.appropriation", 2e8), Setting("prices.multiplier", 2.0, True))]
    path.write_text("run,param,value\na,fund.appropriation,lots\n")
    with pytest.raises(InputError, match="line 2, column value"):
        read_sweep_file(path)


# --------------------------------------------------------------------------- warm = fresh

MONEY_KEYS = ("discounted_net_cost", "total_deficit", "end_fund_balance", "total_purchase_cost")


@pytest.fixture(scope="module")
def sweep41(baseline):
    points = grid([parse_vary("fund.appropriation=0:1e9:41")])
    return points, run_sweep(baseline, points, workers=1).table


def test_every_warm_point_matches_a_fresh_solve(baseline, sweep41) -> None:
    points, table = sweep41
    assert (table.status == "optimal").all()
    assert table.warm.all()  # an appropriation changes only right-hand sides
    for point, row in zip(points, table.to_dict("records")):
        fresh_plan = plan_scenario(apply_point(baseline, point))
        k = fresh_plan.kpis
        for key in ("weighted_shortfall", "discounted_net_cost", "total_deficit", "end_fund_balance",
                    "total_shortfall_tonne_years", "total_purchase_cost"):
            # Dollars within ZERO_DOLLARS ($1, the plan's noise level: a few micrograms bought
            # at $40,000/t differ between a warm and a fresh vertex), the rest within 1e-6.
            noise = ZERO_DOLLARS if key in MONEY_KEYS else 1e-6
            assert row[key] == pytest.approx(k[key], rel=1e-6, abs=noise), (point, key)
        assert row["solvency_horizon"] == k["solvency_horizon"]


def test_more_appropriation_never_hurts(sweep41) -> None:
    _, table = sweep41
    shortfall = list(table.weighted_shortfall)
    # Within solver tolerance (feasibility ~1e-7): 1e-6 relative, as everywhere results are compared.
    assert all(b <= a * (1 + 1e-6) + 1e-9 for a, b in zip(shortfall, shortfall[1:]))
    assert shortfall[-1] < shortfall[0]


def test_structural_change_falls_back_to_a_fresh_model(baseline) -> None:
    # A zero trusted-share floor removes the partner_share rows: another LP shape.
    points = grid([parse_vary("policy.trusted_share.Sb=0,0.5")])
    table = run_sweep(baseline, points).table
    assert list(table.warm) == [False, True]
    fresh = solve_model(build(apply_point(baseline, points[0])))
    assert table.weighted_shortfall.iloc[0] == pytest.approx(fresh.objective_values["shortfall"], rel=1e-6)


def test_failed_points_are_recorded_and_the_sweep_goes_on(baseline) -> None:
    points = grid([parse_vary("events.china-sb-ban.to_fy=2025,2030")])  # 2025 is before from_fy
    table = run_sweep(baseline, points).table
    assert list(table.status) == ["failed", "optimal"]
    assert "to_fy 2025 is before from_fy 2026" in table.reason.iloc[0]


# --------------------------------------------------------------------------- executors, resume

def _comparable(table: pd.DataFrame) -> pd.DataFrame:
    return table.reset_index(drop=True)


def test_processes_give_the_same_table(baseline, monkeypatch) -> None:
    points = grid([parse_vary("fund.appropriation=0:6e8:13")])
    serial = run_sweep(baseline, points, workers=1)
    assert serial.executor == "1 process"
    shared = run_sweep(baseline, points, workers=2)  # this process and a spawned one, whichever is first
    assert shared.executor.startswith("2 processes")
    monkeypatch.setattr(executor, "PARENT_SOLVES", False)
    pooled = run_sweep(baseline, points, workers=3)
    assert pooled.executor == "3 processes (4 of 4 tasks from the 2 spawned)"
    for other in (shared, pooled):
        pd.testing.assert_frame_equal(_comparable(serial.table), _comparable(other.table), check_exact=True)


def test_dask_local_cluster_gives_the_same_table(baseline) -> None:
    distributed = pytest.importorskip("distributed")
    points = grid([parse_vary("fund.appropriation=0:6e8:9")])
    serial = run_sweep(baseline, points, workers=1).table
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_dask = run_sweep(baseline, points, dask_address=cluster.scheduler_address).table
    pd.testing.assert_frame_equal(_comparable(serial), _comparable(on_dask), check_exact=True)


def test_chunks_grow_with_the_sweep_within_bounds() -> None:
    sizes = [chunk_size(n) for n in range(1, 5000)]
    assert sizes == sorted(sizes)  # longer sweeps, longer warm chains
    assert min(sizes) == MIN_CHUNK and max(sizes) == MAX_CHUNK
    assert chunk_size(41) == 11  # the 41-point frontier: four chunks, two per worker on 2 cores


def test_interrupted_sweep_resumes_only_the_missing_points(baseline, tmp_path: Path) -> None:
    points = grid([parse_vary("fund.appropriation=0:1e9:13")])
    results = tmp_path / "sweep.csv"
    whole = run_sweep(baseline, points, workers=1).table
    size = chunk_size(len(points))

    def interrupt_after_two_chunks(done: int, total: int) -> None:
        if done >= 2 * size:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(baseline, points, workers=1, results=results, progress=interrupt_after_two_chunks)
    assert len(pd.read_csv(results)) == 2 * size
    resumed = run_sweep(baseline, points, workers=1, results=results, resume=True)
    assert resumed.reused == 2 * size and resumed.solved == len(points) - 2 * size
    pd.testing.assert_frame_equal(_comparable(resumed.table), _comparable(whole), check_exact=True)
    on_disk = pd.read_csv(results)
    assert list(on_disk.run) == list(range(1, len(points) + 1))


def test_killed_cli_sweep_resumes(tmp_path: Path) -> None:
    """A real kill -9 of the command half-way, then --resume: the same table as one whole run."""
    out, whole_out = tmp_path / "sweep.xlsx", tmp_path / "whole.xlsx"
    args = [sys.executable, "-m", "stockpile", "sweep", str(BASELINE), "--vary", "fund.appropriation=0:1e9:24",
            "--workers", "1"]
    process = subprocess.Popen(args + ["-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    csv_path = out.with_suffix(".csv")
    size = chunk_size(24)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if csv_path.exists() and len(csv_path.read_text().splitlines()) > 1 + size:
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    kept = len(pd.read_csv(csv_path))
    assert 0 < kept < 24 and kept % size == 0
    resumed = subprocess.run(args + ["-o", str(out), "--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"24 points: {24 - kept} solved on 1 process, {kept} kept from the earlier run" in resumed.stdout
    whole = subprocess.run(args + ["-o", str(whole_out)], capture_output=True, text=True, timeout=300)
    assert whole.returncode == 0, whole.stderr
    pd.testing.assert_frame_equal(pd.read_csv(csv_path), pd.read_csv(whole_out.with_suffix(".csv")), check_exact=True)


# --------------------------------------------------------------------------- CLI and outputs

def test_cli_sweep_writes_workbook_csv_and_frontier(tmp_path: Path) -> None:
    out = tmp_path / "sweep.xlsx"
    result = runner.invoke(app, ["sweep", str(BASELINE), "--vary", "fund.appropriation=0:4e8:5",
                                 "--vary", "prices.multiplier=x1:x1.5:2", "-o", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out.with_suffix(".csv"))
    assert len(table) == 10 and (table.status == "optimal").all()
    wb = load_workbook(out)
    assert wb.sheetnames == ["Sweep", "Sweep by material", "Frontier"]
    assert len(wb["Frontier"]._charts) == 3
    where = {name: ws.title for name, (ws, _) in named_ranges(wb).items()}
    assert where == {"SweepResults": "Sweep", "SweepByMaterial": "Sweep by material",
                     "Frontier_weighted_shortfall": "Frontier", "Frontier_solvent_through_fy": "Frontier",
                     "Frontier_discounted_net_cost": "Frontier"}
    again = runner.invoke(app, ["sweep", str(BASELINE), "--vary", "fund.appropriation=0,1", "-o", str(out)])
    assert again.exit_code == 2 and "--force" in again.output


def test_cli_sweep_bad_input(tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    result = runner.invoke(app, ["sweep", str(BASELINE), "--vary", "fund.appropriaton=0,1", "--csv", str(out)])
    assert result.exit_code == 2 and "no key 'fund.appropriaton'" in result.output
    assert not out.exists()
    result = runner.invoke(app, ["sweep", str(BASELINE), "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 2 and "--vary" in result.output


# --------------------------------------------------------------------------- min-budget

def test_min_budget_retrospective_both_sides() -> None:
    retro = load_scenario(RETRO)
    answer = least_budget(retro, 2025)
    assert answer is not None and answer.amount >= answer.exact
    assert solvable_through(retro, 2025, "flat", answer.amount) is not None
    assert solvable_through(retro, 2025, "flat", answer.amount - 1e5) is None  # below by the tolerance
    plan = plan_scenario(answer.scenario)
    assert plan.kpis["first_deficit_fy"] is None or plan.kpis["first_deficit_fy"] > 2025
    assert plan.kpis["first_shortfall_fy"] is None or plan.kpis["first_shortfall_fy"] > 2025
    # Hand check: $303,341,459 + 3 x $4,128,472 revenue must cover 3 x ($50M operating + $75M
    # committed), with nothing in stock to hold (opening inventories 0 t, no goals):
    # A >= (375,000,000 - 303,341,459 - 12,385,416) / 3 = $19,757,708.
    assert answer.exact == pytest.approx(19_757_708, rel=1e-6)


def test_min_budget_cli(tmp_path: Path) -> None:
    out = tmp_path / "plan.xlsx"
    result = runner.invoke(app, ["min-budget", str(RETRO), "--through", "FY2025", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "$19.8M every FY" in result.output and out.exists()
    result = runner.invoke(app, ["min-budget", str(BASELINE), "--through", "FY2030"])
    assert result.exit_code == 1 and "even with unlimited money FY2028 is short: antimony" in result.output
    assert "the limits that bind: capacity of" in result.output
    result = runner.invoke(app, ["min-budget", str(RETRO), "--through", "FY2045"])
    assert result.exit_code == 2 and "outside the horizon" in result.output
