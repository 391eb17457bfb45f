"""``stockpile validate``, ``solve`` and ``verify``: check a scenario, plan it, and re-check a saved plan."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer

from stockpile.cli.common import (JsonOption, SolverOption, check_output, check_solver, check_time_limit, claim_stdout,
                                  console,
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
    marginal_csv: Annotated[Optional[Path], typer.Option(
        "--marginal-csv", metavar="FILE.csv", help="Write the whole marginal-capacity table (every option and FY, "
                                                  "zeros included; the workbook keeps the options that bind) as CSV.")] = None,
    force: ForceOption = False,
    policy_costs: Annotated[bool, typer.Option(
        "--policy-costs/--no-policy-costs", help="Price each policy by re-solving without it (for the workbook).")] = True,
) -> None:
    """Solve a scenario: print the solvency horizon, write the workbook and JSON summary."""
    from stockpile.outputs.files import write_outputs
    from stockpile.plan.pipeline import solve_scenario
    from stockpile.outputs.summary import summary_json
    from stockpile.outputs.workbook.write import write_workbook
    from stockpile.scenario.load import load_scenario

    scenario = scenario or default_scenario()
    claim_stdout(json_path)
    with reported_errors():
        check_solver(solver)
        check_time_limit(time_limit)
        for path, option in ((output, "-o"), (json_path, "--json"), (write_lp, "--write-lp"),
                             (marginal_csv, "--marginal-csv")):
            check_output(path, option, force)
        s = load_scenario(scenario)
        with tempfile.TemporaryDirectory(prefix="stockpile-model-") as scratch:
            model_file = Path(scratch) / f"model{write_lp.suffix}" if write_lp is not None else None
            plan, model, solution = solve_scenario(s, solver, time_limit, write_model=model_file)
            plan.scenario_file = str(scenario)
            plan.time_limit = time_limit
            from stockpile.analysis.reach import plan_goals_out_of_reach

            plan.goals_out_of_reach = plan_goals_out_of_reach(plan, s, solver, time_limit)
            if output is not None and policy_costs:
                from stockpile.analysis.policy_costs import policy_cost_table

                with phases("solve", keep=False) as report:
                    plan.policy_costs = policy_cost_table(
                        s, plan, solver, time_limit, model=model, solution=solution,
                        progress=lambda done, total: report("pricing each policy (re-solved without it)", done, total))
            outputs = []
            if output is not None:
                outputs.append((output, lambda tmp: write_workbook(plan, tmp)))
            if json_path is not None:
                text = summary_json(plan, str(scenario), time_limit)
                outputs.append((json_path, lambda tmp: tmp.write_text(text, encoding="utf-8")))
            if write_lp is not None:
                outputs.append((write_lp, lambda tmp: shutil.copyfile(model_file, tmp)))
            if marginal_csv is not None:
                from stockpile.outputs.workbook.marginal_values_sheet import write_marginal_csv

                outputs.append((marginal_csv, lambda tmp: write_marginal_csv(plan, tmp)))
            # Every output whole before any is replaced: all of this run's, or none.
            write_outputs(outputs, force=force)
    print_plan(plan)
    for label, path in (("workbook", output), ("summary", json_path), ("model", write_lp),
                        ("marginal capacity", marginal_csv)):
        written(label, path)


def print_plan(plan) -> None:
    """The plan on the terminal: title, both headline lines, per material readiness (and releases
    where there are draws), goals out of reach, the Fund, the solver."""
    from stockpile.scenario.title import scenario_title

    s = plan.scenario
    console.print(scenario_title(s), style="bold")
    for line in plan.headline_lines:
        headline.print(line, style="bold")
    inventory, orders = plan.tables["inventory"], plan.tables["orders"]
    readiness = plan.kpis["readiness"]
    released = any(r["released_tonnes"] > 0 or r["unmet_release_tonnes"] > 0 for r in readiness.values())
    headers = ["material", "ordered t", "cost", f"FY{s.horizon.last_fy} stock t", "goal held", "short t-yr",
               "goal met from"] + (["released t", "unmet release t"] if released else [])
    rows = []
    for code, material in s.materials.items():
        last = inventory[inventory.material == code].iloc[-1]
        mine = orders[orders.material == code]
        r = readiness[code]
        held = "–" if r["goal_met_share"] is None else f"{r['goal_met_share']:.1%}"
        met = f"FY{r['goal_met_from_fy']}" if r["goal_met_from_fy"] is not None else "not met"
        cells = [f"{material.name} ({code})", f"{mine.tonnes.sum():,.0f}", money(mine.cost.sum()),
                 f"{last.closing:,.0f}", held, f"{r['tonne_years_short']:,.0f}", met]
        if released:
            cells += [f"{r['released_tonnes']:,.0f}", f"{r['unmet_release_tonnes']:,.0f}"]
        rows.append(cells)
    console.print(table(headers, rows))
    for entry in plan.goals_out_of_reach or []:
        console.print(entry.sentence)
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
