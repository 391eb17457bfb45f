"""``stockpile validate``, ``solve`` and ``verify``: check a scenario, plan it, and re-check a saved plan."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from stockpile.cli.common import SolverOption, check_solver, console, default_scenario, reported_errors
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
    from stockpile.outputs.files import atomic_write, check_writable
    from stockpile.plan.pipeline import solve_scenario
    from stockpile.scenario.load import load_scenario
    from stockpile.outputs.summary import summary_json
    from stockpile.outputs.workbook.write import write_workbook

    scenario = scenario or default_scenario()
    with reported_errors():
        check_solver(solver)
        for path in (output, json_path, write_lp):
            if path is not None:
                check_writable(path, force)
        if write_lp is not None and write_lp.suffix.lower() not in (".lp", ".mps"):
            raise InputError(write_lp, None, "--write-lp takes a .lp or .mps file name")
        s = load_scenario(scenario)
        if write_lp is not None:
            holder: dict[str, tuple] = {}

            def capture(tmp: Path) -> None:
                holder["solved"] = solve_scenario(s, solver, time_limit, write_model=tmp)

            atomic_write(write_lp, capture, force=force)
            plan, model, solution = holder["solved"]
        else:
            plan, model, solution = solve_scenario(s, solver, time_limit)
        plan.scenario_file = str(scenario)
        plan.time_limit = time_limit
        if output is not None and policy_costs:
            from stockpile.analysis.policy_costs import policy_cost_table

            plan.policy_costs = policy_cost_table(s, plan, solver, time_limit, model=model, solution=solution)
        if output is not None:
            atomic_write(output, lambda tmp: write_workbook(plan, tmp), force=force)
        if json_path is not None:
            text = summary_json(plan, str(scenario), time_limit)
            atomic_write(json_path, lambda tmp: tmp.write_text(text, encoding="utf-8"), force=force)
    _print_plan(plan)
    for label, path in (("workbook", output), ("summary", json_path), ("model", write_lp)):
        if path is not None:
            console.print(f"{label}: {path}")


def _print_plan(plan) -> None:
    s = plan.scenario
    console.print(f"{s.name}  FY{s.horizon.first_fy}-FY{s.horizon.last_fy}", style="bold")
    console.print(plan.headline, style="bold")
    inventory, orders = plan.tables["inventory"], plan.tables["orders"]
    table = Table(show_edge=False, pad_edge=False)
    for column in ("material", "ordered t", "cost $M", f"FY{s.horizon.last_fy} stock t", "goal t",
                   "shortfall t-yr"):
        table.add_column(column, justify="left" if column == "material" else "right")
    for code, material in s.materials.items():
        rows = inventory[inventory.material == code]
        last = rows.iloc[-1]
        mine = orders[orders.material == code]
        table.add_row(f"{material.name} ({code})", f"{mine.tonnes.sum():,.0f}", f"{mine.cost.sum() / 1e6:,.1f}",
                      f"{last.closing:,.0f}", f"{last.goal:,.0f}", f"{rows.shortfall.sum() + rows.unmet_draw.sum():,.0f}")
    console.print(table)
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
