"""``stockpile sweep`` and ``stockpile min-budget``: what-if questions over many solves."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from stockpile.cli.common import (JsonOption, SolverOption, check_output, check_solver, check_time_limit, claim_stdout,
                                  console, default_scenario, errors, headline, json_document, reported_errors,
                                  write_json, written)
from stockpile.cli.progress import phases
from stockpile.cli.tables import money, share, summary_rows, table, turning_points
from stockpile.errors import InputError


def sweep(
    scenario: Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario TOML file.")],
    vary: Annotated[Optional[list[str]], typer.Option(
        "--vary", metavar="PARAM=SPEC", help="SPEC: a list 100e6,200e6; a range 0:1e9:21; scales x0.5:x2:16. Twice for a grid.")] = None,
    points_file: Annotated[Optional[Path], typer.Option(
        "--points", help="A CSV of points (columns run,param,value) instead of --vary.")] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", metavar="FILE.xlsx", help="The sweep workbook (.xlsx).")] = None,
    csv_path: Annotated[Optional[Path], typer.Option(
        "--csv", help="The results CSV, written as points finish (default: the workbook's name with .csv).")] = None,
    json_path: JsonOption = None,
    workers: Annotated[Optional[int], typer.Option("--workers", metavar="N", min=1,
                                                   help="Local processes (default: the machine's cores).")] = None,
    dask: Annotated[Optional[str], typer.Option("--dask", metavar="ADDRESS", help="Run on a Dask cluster: tcp://scheduler:8786.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Keep the finished points of an interrupted run.")] = False,
    solver: SolverOption = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", metavar="SECONDS", min=0.01, help="Seconds per point.")] = None,
    every_row: Annotated[bool, typer.Option("--all", help="Print every point (default: a screenful: the first "
                                                          "and last points and where the frontier turns).")] = False,
    audit_all: Annotated[bool, typer.Option(
        "--audit-all", help="Run the independent audit on every point (default: the first, middle and last; "
                            "the others are checked against their own LP).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing output files.")] = False,
) -> None:
    """Solve one scenario for many parameter values: the frontier as a table, a CSV and a workbook."""
    from stockpile.analysis.sweep.points import grid, parse_vary, read_sweep_file
    from stockpile.analysis.sweep.run import run_sweep
    from stockpile.analysis.sweep.workbook import write_sweep_workbook
    from stockpile.outputs.files import atomic_write
    from stockpile.scenario.load import load_scenario

    claim_stdout(json_path)
    with reported_errors(interrupted=lambda: f"interrupted: the points finished so far are in {csv_path}; "
                                             f"run the same command with --resume to complete the rest"):
        check_solver(solver)
        check_time_limit(time_limit)
        if bool(vary) == bool(points_file):
            raise InputError(None, "--vary", "give --vary PARAM=SPEC (once or twice) or --points FILE, not both")
        if vary and len(vary) > 2:
            raise InputError(None, "--vary", "at most two --vary (a grid); use --points for more parameters")
        if output is None and csv_path is None:
            raise InputError(None, "-o", "name the sweep workbook (-o SWEEP.xlsx) or the results CSV (--csv)")
        check_output(output, "-o", force or resume)
        csv_path = csv_path or output.with_suffix(".csv")
        check_output(json_path, "--json", force)
        check_output(csv_path, "--csv", force or resume)  # --resume appends to it
        base = load_scenario(scenario)
        points = grid([parse_vary(v) for v in vary]) if vary else read_sweep_file(points_file)
        parameters = [s.column for s in points[0]]
        with phases("sweep", keep=False) as report:
            result = run_sweep(base, points, solver=solver or base.solver.name, time_limit=time_limit,
                               workers=workers or os.cpu_count() or 1, dask_address=dask, results=csv_path,
                               resume=resume, progress=lambda done, total: report("solving points", done, total),
                               audit_all=audit_all)
            if output is not None:
                report("writing the workbook")
                atomic_write(output, lambda tmp: write_sweep_workbook(result.table, parameters, base, tmp),
                             force=True)
        failed = int((result.table.status != "optimal").sum())
        write_json(json_path, json_document({
            "scenario": {"name": base.name, "file": str(scenario), "sha256": base.sha256},
            "parameters": parameters, "points": result.table.to_dict("records"), "solved": result.solved,
            "reused": result.reused, "failed": failed, "results_csv": str(csv_path),
            "workbook": None if output is None else str(output)}), force)
    print_frontier(result.table, parameters, every_row)
    kept = f", {result.reused} kept from the earlier run" if result.reused else ""
    where = result.executor.split(" (")[0]  # "2 processes", without the executor's own bookkeeping
    headline.print(f"{len(result.table)} points: {result.solved} solved on {where}{kept}"
                   f"{f', {failed} failed' if failed else ''}")
    written("results", csv_path)
    written("workbook", output)
    written("summary", json_path)


def _parameter_header(path: str) -> str:
    from stockpile.analysis.sweep.workbook import parameter_kind

    unit = {"money": " ($M)", "share": " (%)"}.get(parameter_kind(path), "")
    return path.replace(".", ". ") + unit  # a break between the key's parts, so the header wraps there


def _parameter_value(path: str, value: float) -> str:
    from stockpile.analysis.sweep.workbook import parameter_kind

    kind = parameter_kind(path)
    if kind == "money":
        return money(value)
    if kind == "share":
        return share(value)
    return f"FY{int(value)}" if kind == "fy" else f"{value:,.6g}"


def print_frontier(frame, parameters: list[str], every_row: bool = False) -> None:
    """The sweep's points: all of them when they fit a screen (or ``--all``), else the first and
    last and the points where the weighted shortfall or the solvent-through FY turns."""
    records = frame.to_dict("records")
    shortfall = [r["weighted_shortfall"] if r["status"] == "optimal" else float("nan") for r in records]
    through = [r["solvent_through_fy"] if r["status"] == "optimal" else float("nan") for r in records]
    turning = turning_points([0.0 if v != v else v for v in shortfall])
    turning |= {i for i in range(1, len(through)) if through[i] != through[i - 1]
                and not (through[i] != through[i] and through[i - 1] != through[i - 1])}
    turning |= {i for i, r in enumerate(records) if r["status"] != "optimal"}
    shown = list(range(len(records))) if every_row else summary_rows(len(records), turning)
    rows = []
    for i in shown:
        if i is None:
            rows.append(["…"] * (len(parameters) + 5))
            continue
        values = records[i]
        cells = [_parameter_value(p, values[p]) for p in parameters]
        if values["status"] != "optimal":
            rows.append([*cells, "failed", "", "", "", ""])
            continue
        fy = values["solvent_through_fy"]
        rows.append([*cells, "never" if fy is None or fy != fy else f"FY{int(fy)}",
                     f"{values['weighted_shortfall']:.3g}", f"{values['total_shortfall_tonne_years']:,.0f}",
                     money(values["discounted_net_cost"]), money(values["end_fund_balance"])])
    headers = [*map(_parameter_header, parameters), "solvent through", "weighted shortfall", "shortfall t-yr",
               "discounted cost", "end Fund"]
    console.print(table(headers, rows, first_left=False))
    if len(shown) < len(records):
        console.print(f"{len(shown) - shown.count(None)} of {len(records)} points shown: the first and last, and "
                      f"where the frontier turns (--all prints every point; the CSV and workbook hold them all)")


def min_budget(
    scenario: Annotated[Optional[Path], typer.Argument(metavar="SCENARIO",
                                                       help="Scenario TOML file (default: the baseline).")] = None,
    through: Annotated[str, typer.Option("--through", metavar="FY", help="Stay solvent through this FY: FY2035 or 2035.")] = "",
    shape: Annotated[str, typer.Option("--shape", metavar="flat|profile", help="flat (one amount every FY) or profile "
                                                       "(a multiple of the scenario's appropriation).")] = "flat",
    tolerance: Annotated[Optional[float], typer.Option(
        "--tolerance", metavar="T", help="Round up to this ($ per FY when flat; multiplier when profile).")] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", metavar="FILE.xlsx", help="Write the plan at that amount (.xlsx).")] = None,
    json_path: JsonOption = None,
    solver: SolverOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing output files.")] = False,
) -> None:
    """The least appropriation that keeps the stockpile solvent through an FY, and the plan at it.

    Exits 1 when no amount does (capacity, lead times or policy bind, not money).
    """
    from stockpile.analysis.min_budget import SHAPES, least_budget, money_cannot_reach
    from stockpile.outputs.files import atomic_write
    from stockpile.outputs.workbook.write import write_workbook
    from stockpile.scenario.load import load_scenario
    from stockpile.scenario.series import parse_fy

    scenario = scenario or default_scenario()
    claim_stdout(json_path)
    with reported_errors():
        check_solver(solver)
        if shape not in SHAPES:
            raise InputError(None, "--shape", f"must be one of {', '.join(SHAPES)}")
        check_output(output, "-o", force)
        check_output(json_path, "--json", force)
        s = load_scenario(scenario)
        try:
            through_fy = parse_fy(through) if through else s.horizon.last_fy
        except ValueError as exc:
            raise InputError(None, "--through", str(exc)) from None
        if not s.horizon.first_fy <= through_fy <= s.horizon.last_fy:
            raise InputError(None, "--through", f"FY{through_fy} is outside the horizon "
                                                f"FY{s.horizon.first_fy}..FY{s.horizon.last_fy}")
        answer = least_budget(s, through_fy, shape, tolerance, solver or "highs", s.solver.time_limit)
        document = {"scenario": {"name": s.name, "file": str(scenario), "sha256": s.sha256},
                    "through_fy": through_fy, "shape": shape, "found": answer is not None}
        if answer is None:
            why = money_cannot_reach(s, through_fy, solver or "highs", time_limit=s.solver.time_limit)
            write_json(json_path, json_document({**document, "why": None if why is None else why.sentence(s)}), force)
            errors.print(f"no appropriation keeps {s.name!r} solvent through FY{through_fy}: "
                         + (why.sentence(s) if why is not None else
                            "capacity, lead times or policy bind, not the budget (`stockpile solve` shows where)"))
            raise typer.Exit(1)
        plan = answer.plan
        if output is not None:
            atomic_write(output, lambda tmp: write_workbook(plan, tmp), force=force)
        write_json(json_path, json_document({
            **document, "amount": answer.amount, "exact": answer.exact, "description": answer.description,
            "least_any_plan": answer.least_any_plan,
            "plan": {"headline": plan.headline, "kpis": plan.kpis},
            "workbook": None if output is None else str(output)}), force)
    exact = money(answer.exact) if shape == "flat" else f"{answer.exact:.4f} x"
    if shape == "flat" and answer.amount - answer.exact < 0.05e6:
        exact = f"${answer.exact / 1e6:,.2f}M"  # one decimal would read the same as the rounded amount
    headline.print(f"least appropriation keeping {s.name!r} solvent through FY{through_fy}: "
                   f"{answer.description} (the LP's least is {exact}, rounded up)")
    if answer.amount > answer.least_any_plan:
        console.print(f"  (a plan solvent through FY{through_fy} exists from {answer.description_of(answer.least_any_plan)}, "
                      f"but stockpile's plan, which keeps the Fund's total deficit over the whole horizon least "
                      f"first, is solvent through FY{through_fy} only from the amount above)")
    console.print(f"plan at that amount: {plan.headline}")
    written("workbook", output)
    written("summary", json_path)
