"""The command line as a script sees it: --json on every command (to a file or to stdout, where it
is then the only thing), nothing from the solvers on stdout, output names checked against what
they hold, --version, --quiet and --verbose/--log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stockpile.cli.app import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "stockpile" / "examples" / "example.toml"
HEDGE = ROOT / "scenarios" / "hedge-disruptions.toml"
RETROSPECTIVE = ROOT / "scenarios" / "fy2023-retrospective.toml"
runner = CliRunner()
SOLVER_WORDS = ("Running HiGHS", "Copyright", "THIRD_PARTY_NOTICES", "Welcome to the CBC")


def run(*args: str) -> subprocess.CompletedProcess:
    """stockpile in a process of its own: the solvers print below Python, on file descriptor 1,
    which only a real process's stdout shows."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "stockpile", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)


def test_solve_json_to_stdout_is_the_only_thing_there() -> None:
    done = run("solve", str(EXAMPLE), "--json", "-")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # the whole of stdout is one JSON document
    assert data["status"] == "optimal" and data["audit"]["passed"] is True
    assert not any(word in done.stdout + done.stderr for word in SOLVER_WORDS)
    assert not (ROOT / "-").exists()


def test_no_solver_line_on_stdout_from_solve_or_sweep_workers(tmp_path: Path) -> None:
    solved = run("solve", str(EXAMPLE), "--solver", "highs-pulp")
    assert solved.returncode == 0, solved.stderr
    assert solved.stdout.splitlines()[0].startswith("Example")  # the title comes first, no banner before it
    swept = run("sweep", str(EXAMPLE), "--vary", "fund.appropriation=0:2e8:4", "--csv", str(tmp_path / "s.csv"),
                "--workers", "2")
    assert swept.returncode == 0, swept.stderr
    for text in (solved.stdout, swept.stdout):
        assert not any(word in text for word in SOLVER_WORDS), text
    assert "4 points: 4 solved on" in swept.stdout
    assert "tasks from the" not in swept.stdout  # the executor's bookkeeping stays out


def test_verbose_sends_the_solver_log_to_stderr_and_log_to_a_file(tmp_path: Path) -> None:
    loud = run("--verbose", "solve", str(EXAMPLE), "--json", "-")
    assert loud.returncode == 0
    json.loads(loud.stdout)
    assert "Running HiGHS" in loud.stderr and "Objective value" in loud.stderr
    log = tmp_path / "highs.log"
    logged = run("--log", str(log), "solve", str(EXAMPLE))
    assert logged.returncode == 0
    assert "Model status" in log.read_text() and "Model status" not in logged.stdout + logged.stderr


def test_quiet_prints_the_headline_only() -> None:
    full = runner.invoke(app, ["solve", str(EXAMPLE)])
    quiet = runner.invoke(app, ["--quiet", "solve", str(EXAMPLE)])
    assert full.exit_code == quiet.exit_code == 0
    assert quiet.stdout.splitlines() == full.stdout.splitlines()[1:3]  # both headline lines
    after = runner.invoke(app, ["solve", str(EXAMPLE), "--quiet"])  # after the command, as before it
    assert after.exit_code == 0 and after.stdout == quiet.stdout
    again = runner.invoke(app, ["solve", str(EXAMPLE)])  # the next command is not quiet
    assert again.stdout.splitlines()[:-1] == full.stdout.splitlines()[:-1]  # the last line has the seconds


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("stockpile ")


@pytest.mark.parametrize("args, option", [
    (["solve", str(EXAMPLE), "-o", "{tmp}/plan.csv"], "-o"),
    (["solve", str(EXAMPLE), "--json", "{tmp}/plan.xlsx"], "--json"),
    (["solve", str(EXAMPLE), "-o", "{tmp}/plan"], "-o"),
    (["hedge", str(HEDGE), "-o", "{tmp}/hedge.pdf"], "-o"),
    (["sweep", str(EXAMPLE), "--vary", "fund.appropriation=0:1e8:2", "--csv", "{tmp}/s.xlsx"], "--csv"),
    (["validate", str(EXAMPLE), "--json", "{tmp}/v.txt"], "--json"),
])
def test_an_output_of_the_wrong_kind_is_refused_before_any_work(tmp_path: Path, args: list[str], option: str) -> None:
    result = runner.invoke(app, [a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 2, result.output
    assert f"{option} writes" in result.stderr and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_help_keeps_brackets_and_shows_no_bool_metavar() -> None:
    result = runner.invoke(app, ["hedge", "--help"])
    assert "[uncertainty]" in result.stdout and "<bool>" not in result.stdout


def json_of(args: list[str]) -> dict:
    result = runner.invoke(app, [*args, "--json", "-"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_validate_and_verify_json(tmp_path: Path) -> None:
    valid = json_of(["validate", str(EXAMPLE)])
    assert valid["valid"] is True and valid["first_fy"] == 2027 and valid["lp"]["variables"] > 0
    default = json_of(["validate"])  # the baseline, like solve
    assert default["name"].startswith("Baseline")
    plan = tmp_path / "plan.xlsx"
    assert runner.invoke(app, ["solve", str(EXAMPLE), "-o", str(plan), "--no-policy-costs"]).exit_code == 0
    verified = json_of(["verify", str(plan), "--resolve"])
    assert verified["audit"]["passed"] is True and verified["resolve"]["ok"] is True
    assert {c["family"] for c in verified["audit"]["checks"]} >= {"fund", "goal"}


def test_compare_and_explain_json() -> None:
    compared = json_of(["compare", str(EXAMPLE), str(EXAMPLE)])
    assert compared["A"]["solvency_horizon"] == compared["B"]["solvency_horizon"]
    assert all(row["change"] in (0.0, None, "same") for row in compared["figures"])  # a plan against itself
    explained = json_of(["explain", str(EXAMPLE)])
    assert explained["binding"] and explained["policy_costs"] is not None
    assert {row["key"] for row in explained["policy_costs"]} <= {
        "policy.concentration_cap", *(f"policy.bans[{i}]" for i in range(1, 20)),
        *(f"policy.trusted_share.{m}" for m in ("Sb", "Co", "Li", "W"))}


def test_sweep_min_budget_and_hedge_json(tmp_path: Path) -> None:
    swept = json_of(["sweep", str(EXAMPLE), "--vary", "fund.appropriation=0:2e8:3", "--csv",
                     str(tmp_path / "s.csv"), "--workers", "1"])
    assert [p["fund.appropriation"] for p in swept["points"]] == [0.0, 1e8, 2e8]
    assert swept["solved"] == 3 and swept["failed"] == 0
    least = json_of(["min-budget", str(RETROSPECTIVE), "--through", "2030"])
    # Rounded up to the default tolerance of $0.1M per FY, never below the LP's least amount.
    assert least["found"] is True and least["exact"] <= least["amount"] < least["exact"] + 1e5 + 1
    assert least["plan"]["headline"].startswith("solvent through")
    hedged = json_of(["hedge", str(HEDGE), "--no-measures", "--workers", "1"])
    assert hedged["futures"] == len(hedged["outcomes"]) == 4
    assert sum(row["probability"] for row in hedged["outcomes"]) == pytest.approx(1.0)
    assert hedged["measures"] is None and hedged["shared_orders"]


def test_long_tables_keep_their_ends_and_the_frontier_turns() -> None:
    """A frontier falling by 4 per step to row 10, then by 1 to row 20, then flat to row 40:
    it turns at rows 10 and 20 (where the slope changes), and nowhere else."""
    from stockpile.cli.tables import money, share, summary_rows, turning_points

    values = [100 - 4 * i for i in range(11)] + [60 - i for i in range(1, 11)] + [50.0] * 20
    assert turning_points(values) == {10, 20}
    rows = summary_rows(len(values), turning_points(values))
    assert rows == [0, 1, 2, 3, 4, None, 10, None, 20, None, 36, 37, 38, 39, 40]
    assert summary_rows(12, {3}) == list(range(12))  # a table that fits is printed whole
    assert (money(1_034.6e6), money(-0.4e6), share(0.3), share(0.0075)) == ("$1,034.6M", "-$0.4M", "30.0%", "0.75%")
