"""``stockpile sweep`` and ``stockpile min-budget``: what-if questions over many solves."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from stockpile.cli.common import SolverOption, check_solver, console, default_scenario, errors, reported_errors
from stockpile.errors import InputError


def _rate_column():
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.1f} points/s" if speed else "")

    return Rate()


def sweep(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    vary: Annotated[Optional[list[str]], typer.Option(
        "--vary", help="PARAM=SPEC: a list 100e6,200e6; a range 0:1e9:21; scales x0.5:x2:16. Twice for a grid.")] = None,
    points_file: Annotated[Optional[Path], typer.Option(
        "--points", help="A CSV of points (columns run,param,value) instead of --vary.")] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="The sweep workbook (.xlsx).")] = None,
    csv_path: Annotated[Optional[Path], typer.Option(
        "--csv", help="The results CSV, written as points finish (default: the workbook's name with .csv).")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", min=1,
                                                   help="Local processes (default: the machine's cores).")] = None,
    dask: Annotated[Optional[str], typer.Option("--dask", help="Run on a Dask cluster: tcp://scheduler:8786.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Keep the finished points of an interrupted run.")] = False,
    solver: SolverOption = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", min=0.01, help="Seconds per point.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing output files.")] = False,
) -> None:
    """Solve one scenario for many parameter values: the frontier as a table, a CSV and a workbook."""
    from stockpile.outputs.files import atomic_write, check_writable
    from stockpile.scenario.load import load_scenario
    from stockpile.analysis.sweep.points import grid, parse_vary, read_sweep_file
    from stockpile.analysis.sweep.run import run_sweep
    from stockpile.analysis.sweep.workbook import write_sweep_workbook

    with reported_errors(interrupted=lambda: f"interrupted: the points finished so far are in {csv_path}; "
                                             f"run the same command with --resume to complete the rest"):
        check_solver(solver)
        if bool(vary) == bool(points_file):
            raise InputError(None, "--vary", "give --vary PARAM=SPEC (once or twice) or --points FILE, not both")
        if vary and len(vary) > 2:
            raise InputError(None, "--vary", "at most two --vary (a grid); use --points for more parameters")
        if output is None and csv_path is None:
            raise InputError(None, "-o", "name the sweep workbook (-o SWEEP.xlsx) or the results CSV (--csv)")
        csv_path = csv_path or output.with_suffix(".csv")
        if not resume:
            check_writable(csv_path, force)
        if output is not None and not (resume and force):
            check_writable(output, force or resume)
        base = load_scenario(scenario)
        points = grid([parse_vary(v) for v in vary]) if vary else read_sweep_file(points_file)
        parameters = [s.column for s in points[0]]
        workers = workers or os.cpu_count() or 1
        with Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), _rate_column(),
                      TimeRemainingColumn(), console=errors, transient=True) as bar:
            task = bar.add_task("points", total=len(points))

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = run_sweep(base, points, solver=solver or base.solver.name, time_limit=time_limit,
                               workers=workers, dask_address=dask, results=csv_path, resume=resume,
                               progress=progress)
        if output is not None:
            atomic_write(output, lambda tmp: write_sweep_workbook(result.table, parameters, base, tmp), force=True)
    _print_frontier(result.table, parameters)
    failed = int((result.table.status != "optimal").sum())
    console.print(f"{len(result.table)} points ({result.solved} solved now on {result.executor}, {result.reused} kept "
                  f"from the earlier run){f', {failed} failed' if failed else ''}; results: {csv_path}"
                  + (f"; workbook: {output}" if output else ""))


def _print_frontier(table, parameters: list[str]) -> None:
    view = Table(show_edge=False, pad_edge=False)
    for column in [*parameters, "solvent through", "weighted shortfall", "shortfall t-yr", "cost $M",
                   "end Fund $M"]:
        view.add_column(column, justify="right")
    from stockpile.analysis.sweep.workbook import parameter_kind

    def shown(path: str, value: float) -> str:
        kind = parameter_kind(path)
        if kind == "money":
            return f"${value / 1e6:,.1f}M"
        return f"{value:.1%}" if kind == "share" else f"{value:,.6g}"

    for values in table.to_dict("records"):
        cells = [shown(p, values[p]) for p in parameters]
        if values["status"] != "optimal":
            view.add_row(*cells, "failed", "", "", "", "")
            continue
        through = values["solvent_through_fy"]
        view.add_row(*cells, "—" if through is None or through != through else f"FY{int(through)}",
                     f"{values['weighted_shortfall']:.4f}", f"{values['total_shortfall_tonne_years']:,.0f}",
                     f"{values['discounted_net_cost'] / 1e6:,.1f}", f"{values['end_fund_balance'] / 1e6:,.1f}")
    console.print(view)


def min_budget(
    scenario: Annotated[Optional[Path], typer.Argument(help="Scenario TOML file (default: the baseline).")] = None,
    through: Annotated[str, typer.Option("--through", help="Stay solvent through this FY: FY2035 or 2035.")] = "",
    shape: Annotated[str, typer.Option("--shape", help="flat (one amount every FY) or profile "
                                                       "(a multiple of the scenario's appropriation).")] = "flat",
    tolerance: Annotated[Optional[float], typer.Option(
        "--tolerance", help="Round up to this ($ per FY when flat; multiplier when profile).")] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write the plan at that amount (.xlsx).")] = None,
    solver: SolverOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing workbook.")] = False,
) -> None:
    """The least appropriation that keeps the stockpile solvent through an FY, and the plan at it."""
    from stockpile.analysis.min_budget import SHAPES, least_budget, money_cannot_reach
    from stockpile.outputs.files import atomic_write, check_writable
    from stockpile.scenario.load import load_scenario
    from stockpile.scenario.series import parse_fy
    from stockpile.outputs.workbook.write import write_workbook

    scenario = scenario or default_scenario()
    with reported_errors():
        check_solver(solver)
        if shape not in SHAPES:
            raise InputError(None, "--shape", f"must be one of {', '.join(SHAPES)}")
        if output is not None:
            check_writable(output, force)
        s = load_scenario(scenario)
        try:
            through_fy = parse_fy(through) if through else s.horizon.last_fy
        except ValueError as exc:
            raise InputError(None, "--through", str(exc)) from None
        if not s.horizon.first_fy <= through_fy <= s.horizon.last_fy:
            raise InputError(None, "--through", f"FY{through_fy} is outside the horizon "
                                                f"FY{s.horizon.first_fy}..FY{s.horizon.last_fy}")
        answer = least_budget(s, through_fy, shape, tolerance, solver or "highs", s.solver.time_limit)
        if answer is None:
            why = money_cannot_reach(s, through_fy, solver or "highs", time_limit=s.solver.time_limit)
            errors.print(f"no appropriation keeps {s.name!r} solvent through FY{through_fy}: "
                         + (why.sentence(s) if why is not None else
                            "capacity, lead times or policy bind, not the budget (`stockpile solve` shows where)"))
            raise typer.Exit(1)
        plan = answer.plan
        if output is not None:
            atomic_write(output, lambda tmp: write_workbook(plan, tmp), force=force)
    console.print(f"least appropriation keeping {s.name!r} solvent through FY{through_fy}: "
                  f"{answer.description} (LP bound {answer.exact:,.6g}, rounded up)")
    if answer.amount > answer.least_any_plan:
        console.print(f"  (a plan solvent through FY{through_fy} exists from {answer.description_of(answer.least_any_plan)}, "
                      f"but stockpile's plan, which keeps the Fund's total deficit over the whole horizon least "
                      f"first, is solvent through FY{through_fy} only from the amount above)")
    console.print(f"plan at that amount: {plan.headline}")
    if output is not None:
        console.print(f"workbook: {output}")
