"""``stockpile validate``, ``solve`` and ``verify``: check a scenario, plan it, and re-check a saved plan."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from stockpile.cli.common import (JsonOption, SolverOption, check_output, check_solver, claim_stdout, console,
                                  default_scenario, headline, json_document, reported_errors, write_json, written)
from stockpile.cli.progress import phases
from stockpile.cli.tables import money, table

ScenarioArgument = Annotated[Optional[Path], typer.Argument(
    metavar="SCENARIO", help="Scenario TOML file (default: scenarios/baseline.toml, or the packaged example).")]
ForceOption = Annotated[bool, typer.Option("--force", help="Overwrite existing output files.")]


def validate(scenario: ScenarioArgument = None, json_path: JsonOption = None, force: ForceOption = False) -> None:
    """Check a scenario file without solving it."""
    from stockpile.model.build import build
    from stockpile.scenario.load import load_scenario

    scenario = scenario or default_scenario()
    claim_stdout(json_path)
    with reported_errors():
        check_output(json_path, "--json", force)
        s = load_scenario(scenario)
        lp = build(s).lp
        write_json(json_path, json_document({
            "valid": True, "file": str(scenario), "name": s.name, "sha256": s.sha256,
            "first_fy": s.horizon.first_fy, "last_fy": s.horizon.last_fy, "materials": list(s.materials),
            "supply_options": len(s.supply), "recycling_streams": len(s.recycling),
            "lp": {"variables": lp.n_cols, "rows": lp.n_rows, "nonzeros": lp.n_nonzeros}}), force)
    headline.print(f"{scenario}: valid. {s.name!r}, FY{s.horizon.first_fy}-FY{s.horizon.last_fy}, "
                   f"{len(s.materials)} materials, {len(s.supply)} supply options, "
                   f"{len(s.recycling)} recycling streams; LP of {lp.n_cols:,} variables, "
                   f"{lp.n_rows:,} rows, {lp.n_nonzeros:,} nonzeros.")
    written("summary", json_path)


def solve(
    scenario: ScenarioArgument = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", metavar="FILE.xlsx", help="Write the plan workbook (.xlsx).")] = None,
    json_path: JsonOption = None,
    solver: SolverOption = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", metavar="SECONDS", min=0.01,
                                                        help="Seconds for the whole solve.")] = None,
    write_lp: Annotated[Optional[Path], typer.Option(
        "--write-lp", metavar="FILE.lp|FILE.mps", help="Write the readiness solve's model (.lp or .mps) for an outside solver.")] = None,
    force: ForceOption = False,
    policy_costs: Annotated[bool, typer.Option(
        "--policy-costs/--no-policy-costs", help="Price each policy by re-solving without it (for the workbook).")] = True,
) -> None:
    """Solve a scenario: print the solvency horizon, write the workbook and JSON summary."""
    from stockpile.outputs.files import atomic_write
    from stockpile.outputs.summary import summary_json
    from stockpile.outputs.workbook.write import write_workbook
    from stockpile.plan.pipeline import plan_scenario
    from stockpile.scenario.load import load_scenario

    scenario = scenario or default_scenario()
    claim_stdout(json_path)
    with reported_errors():
        check_solver(solver)
        for path, option in ((output, "-o"), (json_path, "--json"), (write_lp, "--write-lp")):
            check_output(path, option, force)
        s = load_scenario(scenario)
        if write_lp is not None:
            holder: dict[str, Path] = {}

            def capture(tmp: Path) -> None:
                holder["plan"] = plan_scenario(s, solver, time_limit, write_model=tmp)

            atomic_write(write_lp, capture, force=force)
            plan = holder["plan"]
        else:
            plan = plan_scenario(s, solver, time_limit)
        plan.scenario_file = str(scenario)
        plan.time_limit = time_limit
        if output is not None and policy_costs:
            from stockpile.analysis.policy_costs import policy_cost_table

            with phases("solve", keep=False) as report:
                plan.policy_costs = policy_cost_table(
                    s, plan, solver, time_limit,
                    progress=lambda done, total: report("pricing each policy (re-solved without it)", done, total))
        if output is not None:
            atomic_write(output, lambda tmp: write_workbook(plan, tmp), force=force)
        write_json(json_path, summary_json(plan, str(scenario), time_limit), force)
    print_plan(plan)
    for label, path in (("workbook", output), ("summary", json_path), ("model", write_lp)):
        written(label, path)


def print_plan(plan) -> None:
    """The plan on the terminal: title, headline, one row per material, the Fund, the solver."""
    from stockpile.scenario.title import scenario_title

    s = plan.scenario
    console.print(scenario_title(s), style="bold")
    headline.print(plan.headline, style="bold")
    inventory, orders = plan.tables["inventory"], plan.tables["orders"]
    rows = []
    for code, material in s.materials.items():
        mine_inventory = inventory[inventory.material == code]
        last = mine_inventory.iloc[-1]
        mine = orders[orders.material == code]
        rows.append((f"{material.name} ({code})", f"{mine.tonnes.sum():,.0f}", money(mine.cost.sum()),
                     f"{last.closing:,.0f}", f"{last.goal:,.0f}",
                     f"{mine_inventory.shortfall.sum() + mine_inventory.unmet_draw.sum():,.0f}"))
    console.print(table(["material", "ordered t", "cost", f"FY{s.horizon.last_fy} stock t", "goal t",
                         "shortfall t-yr"], rows))
    k = plan.kpis
    console.print(f"Fund: ends at {money(k['end_fund_balance'])}, total deficit {money(k['total_deficit'])}; "
                  f"purchases {money(k['total_purchase_cost'])}")
    console.print(f"solver: {plan.solver_version}, {plan.solve_seconds:.2f} s; audit {plan.audit.summary}")


def verify(
    plan_path: Annotated[Path, typer.Argument(metavar="PLAN.xlsx", help="A plan workbook.")],
    resolve: Annotated[bool, typer.Option(
        "--resolve", help="Also re-solve the embedded scenario and confirm the same objective.")] = False,
    solver: SolverOption = None,
    json_path: JsonOption = None,
    force: ForceOption = False,
) -> None:
    """Re-run the independent audit on a saved plan workbook (and, with --resolve, re-solve it).

    Exits 3 when the audit (or the re-solve) disagrees with the workbook.
    """
    from stockpile.plan.audit import audit_plan
    from stockpile.outputs.workbook.read import read_workbook

    claim_stdout(json_path)
    with reported_errors():
        check_output(json_path, "--json", force)
        check_solver(solver)
        scenario, tables = read_workbook(plan_path)
    report = audit_plan(scenario, tables)
    checks = report.table()
    for row in checks.itertuples():
        console.print(f"{row.result:>10}  {row.family:<15} {row.check}"
                      + (f"\n            {row.first_violation}" if row.first_violation else ""))
    headline.print(f"audit {report.summary}")
    check = None
    if report.ok and resolve:
        from stockpile.plan.reproduce import resolve_check

        with reported_errors():
            check = resolve_check(scenario, tables, solver)
        for line in check.lines:
            console.print(line)
    with reported_errors():
        write_json(json_path, json_document({
            "plan": str(plan_path), "scenario": scenario.name,
            "audit": {"passed": report.ok, "summary": report.summary, "checks": checks.to_dict("records")},
            "resolve": None if check is None else {"ok": check.ok, "lines": check.lines}}), force)
    if not report.ok or (check is not None and not check.ok):
        raise typer.Exit(3)
