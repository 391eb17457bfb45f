"""``stockpile validate``, ``solve`` and ``verify``: check a scenario, plan it, and re-check a saved plan."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from stockpile.cli.common import (
    SolverOption, check_solver, check_time_limit, console, default_scenario, reported_errors,
)
from stockpile.errors import InputError


def validate(scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")]) -> None:
    """Check a scenario file without solving it."""
    from stockpile.model.build import build
    from stockpile.scenario.load import load_scenario

    with reported_errors():
        s = load_scenario(scenario)
        lp = build(s).lp
    console.print(f"{scenario}: valid. {s.name!r}, FY{s.horizon.first_fy}-FY{s.horizon.last_fy}, "
                  f"{len(s.materials)} materials, {len(s.supply)} supply options, "
                  f"{len(s.recycling)} recycling streams; LP of {lp.n_cols:,} variables, "
                  f"{lp.n_rows:,} rows, {lp.n_nonzeros:,} nonzeros.")


def solve(
    scenario: Annotated[Optional[Path], typer.Argument(
        help="Scenario TOML file (default: scenarios/baseline.toml, or the packaged example).")] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write the plan workbook (.xlsx).")] = None,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Write the JSON summary.")] = None,
    solver: SolverOption = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", min=0.01,
                                                        help="Seconds for the whole solve.")] = None,
    write_lp: Annotated[Optional[Path], typer.Option(
        "--write-lp", help="Write the readiness solve's model (.lp or .mps) for an outside solver.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing output files.")] = False,
    policy_costs: Annotated[bool, typer.Option(
        "--policy-costs/--no-policy-costs", help="Price each policy by re-solving without it (for the workbook).")] = True,
) -> None:
    """Solve a scenario: print the solvency horizon, write the workbook and JSON summary."""
    from stockpile.outputs.files import check_writable, write_outputs
    from stockpile.plan.pipeline import plan_scenario
    from stockpile.scenario.load import load_scenario
    from stockpile.outputs.summary import summary_json
    from stockpile.outputs.workbook.write import write_workbook

    scenario = scenario or default_scenario()
    with reported_errors():
        check_solver(solver)
        check_time_limit(time_limit)
        for path in (output, json_path, write_lp):
            if path is not None:
                check_writable(path, force)
        if write_lp is not None and write_lp.suffix.lower() not in (".lp", ".mps"):
            raise InputError(write_lp, None, "--write-lp takes a .lp or .mps file name")
        s = load_scenario(scenario)
        with tempfile.TemporaryDirectory(prefix="stockpile-model-") as scratch:
            model_file = Path(scratch) / f"model{write_lp.suffix}" if write_lp is not None else None
            plan = plan_scenario(s, solver, time_limit, write_model=model_file)
            plan.scenario_file = str(scenario)
            plan.time_limit = time_limit
            if plan.kpis["first_shortfall_fy"] is not None:
                from stockpile.analysis.reach import goals_out_of_reach

                plan.goals_out_of_reach = goals_out_of_reach(s, solver, time_limit)
            if output is not None and policy_costs:
                from stockpile.analysis.policy_costs import policy_cost_table

                plan.policy_costs = policy_cost_table(s, plan, solver, time_limit)
            outputs = []
            if output is not None:
                outputs.append((output, lambda tmp: write_workbook(plan, tmp)))
            if json_path is not None:
                text = summary_json(plan, str(scenario), time_limit)
                outputs.append((json_path, lambda tmp: tmp.write_text(text, encoding="utf-8")))
            if write_lp is not None:
                outputs.append((write_lp, lambda tmp: shutil.copyfile(model_file, tmp)))
            # Every output whole before any is replaced: all of this run's, or none.
            write_outputs(outputs, force=force)
    _print_plan(plan)
    for label, path in (("workbook", output), ("summary", json_path), ("model", write_lp)):
        if path is not None:
            console.print(f"{label}: {path}")


def _print_plan(plan) -> None:
    s = plan.scenario
    console.print(f"{s.name}  FY{s.horizon.first_fy}-FY{s.horizon.last_fy}", style="bold")
    for line in plan.headline_lines:
        console.print(line, style="bold")
    inventory, orders = plan.tables["inventory"], plan.tables["orders"]
    readiness = plan.kpis["readiness"]
    released = any(r["released_tonnes"] > 0 or r["unmet_release_tonnes"] > 0 for r in readiness.values())
    columns = ["", "ordered t", "$M", f"FY{s.horizon.last_fy % 100:02d} t", "held", "short t-yr",
               "met from"] + (["released t", "unmet t"] if released else [])
    table = Table(show_edge=False, pad_edge=False, box=None)
    for column in columns:
        table.add_column(column, justify="left" if column == "" else "right", no_wrap=True)
    for code, material in s.materials.items():
        last = inventory[inventory.material == code].iloc[-1]
        mine = orders[orders.material == code]
        r = readiness[code]
        share = "-" if r["goal_met_share"] is None else f"{r['goal_met_share']:.1%}"
        met = f"FY{r['goal_met_from_fy']}" if r["goal_met_from_fy"] is not None else "not met"
        cells = [code, f"{mine.tonnes.sum():,.0f}", f"{mine.cost.sum() / 1e6:,.1f}",
                 f"{last.closing:,.0f}", share, f"{r['tonne_years_short']:,.0f}", met]
        if released:
            cells += [f"{r['released_tonnes']:,.0f}", f"{r['unmet_release_tonnes']:,.0f}"]
        table.add_row(*cells)
    console.print(table)
    for entry in plan.goals_out_of_reach or []:
        console.print(entry.sentence)
    k = plan.kpis
    console.print(f"Fund: ends at ${k['end_fund_balance'] / 1e6:,.1f}M, total deficit ${k['total_deficit'] / 1e6:,.1f}M; "
                  f"purchases ${k['total_purchase_cost'] / 1e6:,.1f}M")
    console.print(f"solver: {plan.solver_version}, {plan.solve_seconds:.2f} s; audit {plan.audit.summary}")


def verify(
    plan_path: Annotated[Path, typer.Argument(metavar="PLAN.xlsx", help="A plan workbook.")],
    resolve: Annotated[bool, typer.Option(
        "--resolve", help="Also re-solve the embedded scenario and confirm the same objective.")] = False,
    solver: SolverOption = None,
) -> None:
    """Re-run the independent audit on a saved plan workbook (and, with --resolve, re-solve it)."""
    from stockpile.plan.audit import audit_plan
    from stockpile.outputs.workbook.read import read_workbook

    with reported_errors():
        scenario, tables = read_workbook(plan_path)
    report = audit_plan(scenario, tables)
    for row in report.table().itertuples():
        console.print(f"{row.result:>10}  {row.family:<15} {row.check}"
                      + (f"\n            {row.first_violation}" if row.first_violation else ""))
    console.print(f"audit {report.summary}")
    if not report.ok:
        raise typer.Exit(3)
    if resolve:
        from stockpile.plan.reproduce import resolve_check

        with reported_errors():
            check_solver(solver)
            check = resolve_check(scenario, tables, solver)
        for line in check.lines:
            console.print(line)
        if not check.ok:
            raise typer.Exit(3)
