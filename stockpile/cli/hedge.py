"""``stockpile hedge``: one set of near-term orders that holds up across futures."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from stockpile.cli.common import SolverOption, check_solver, check_time_limit, console, reported_errors
from stockpile.errors import InputError


def hedge(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file with an [uncertainty] section.")],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write the hedge workbook (.xlsx).")] = None,
    solver: SolverOption = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", min=0.01, help="Seconds per solve.")] = None,
    measures: Annotated[bool, typer.Option("--measures/--no-measures",
                                           help="Compute VSS and EVPI (solves each future alone, and the average future).")] = True,
    workers: Annotated[Optional[int], typer.Option(
        "--workers", min=1, help="Local processes for the futures' own solves (default: the machine's cores).")] = None,
    dask: Annotated[Optional[str], typer.Option(
        "--dask", help="Solve the futures' own solves on a Dask cluster: tcp://scheduler:8786.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing workbook.")] = False,
) -> None:
    """Plan against several futures: shared orders now, each future's outcome, VSS and EVPI."""
    from stockpile.analysis.hedge.tree import hedge as hedge_plan
    from stockpile.analysis.hedge.workbook import write_hedge_workbook
    from stockpile.outputs.files import atomic_write, check_writable
    from stockpile.scenario.load import load_scenario

    with reported_errors():
        check_solver(solver)
        check_time_limit(time_limit)
        if output is not None:
            check_writable(output, force)
        if dask:
            from stockpile.analysis.executor import dask_client

            dask_client(dask).close()  # a wrong address is reported now, not after the tree's solve
        tree = load_scenario(scenario)
        if tree.uncertainty is None:
            raise InputError(scenario, "uncertainty", "the scenario has no [uncertainty] section to hedge against "
                                                      "(see scenarios/hedge-disruptions.toml)")
        result = hedge_plan(tree, solver, time_limit, measures, workers=workers or os.cpu_count() or 1,
                            dask_address=dask)
        if output is not None:
            atomic_write(output, lambda tmp: write_hedge_workbook(result, tmp), force=force)
    s = result.scenario
    console.print(f"{s.name}: {len(result.futures)} futures, orders before FY{result.decision_fy} shared", style="bold")
    shared = result.shared_orders
    console.print(f"buy now: {shared.tonnes.sum():,.0f} t for ${shared.cost.sum() / 1e6:,.1f}M "
                  f"({', '.join(f'{m} {t:,.0f} t' for m, t in shared.groupby('material', sort=False).tonnes.sum().items())})")
    view = Table(show_edge=False, pad_edge=False)
    for column in ("future", "p", "weighted shortfall", "own optimum", "cost $M", "own optimum $M"):
        view.add_column(column, justify="left" if column == "future" else "right", no_wrap=True)
    for row in result.outcomes.head(20).to_dict("records"):
        view.add_row(row["future"], f"{row['probability']:.3f}", f"{row['shortfall']:.4f}",
                     f"{row.get('own_optimum_shortfall', float('nan')):.4f}", f"{row['cost']:,.1f}",
                     f"{row.get('own_optimum_cost', float('nan')):,.1f}")
    console.print(view)
    if len(result.outcomes) > 20:
        console.print(f"... and {len(result.outcomes) - 20} more futures (the workbook lists them all)")
    for row in result.measures.to_dict("records"):
        vss = "infeasible for the average-future plan" if row["VSS"] is None else f"{row['VSS']:.6g}"
        console.print(f"{row['priority']}: VSS {vss}, EVPI {row['EVPI']:.6g} ({row['unit']})")
    if measures:
        _explain_measures(result)
    console.print(f"audit: passed in every future ({len(result.plans)})"
                  + (f"; futures solved alone on {result.executor}" if measures else ""))
    if output is not None:
        console.print(f"workbook: {output}")


def _explain_measures(result) -> None:
    """VSS and EVPI in planner's words, and what the hedged plan buys now that the plan for the
    average future does not."""
    console.print(f"VSS (value of the stochastic solution) = EEV - RP: how much worse each priority would be, "
                  f"in expectation, if the orders before FY{result.decision_fy} were planned for the average "
                  f"future instead of hedged across the futures. EVPI (expected value of perfect "
                  f"information) = RP - WS: what knowing which future comes, before ordering, would be worth. "
                  f"Both are compared priority by priority, in the lexicographic order; a positive value on "
                  f"the first priority that differs is what counts.")
    measures = result.measures.set_index("priority")
    deciding = next((name for name in measures.index
                     if (measures.loc[name, "VSS"] or 0.0) != 0.0 or measures.loc[name, "EVPI"] != 0.0), None)
    if deciding is not None:
        row = measures.loc[deciding]
        console.print(f"First priority that differs: {deciding}. Hedging is worth {row['VSS'] or 0.0:.4g} "
                      f"({row['unit']}) over ordering for the average future; foresight would be worth "
                      f"{row['EVPI']:.4g} more.")
    difference = result.bought_now_difference()
    if not difference.empty:
        console.print(f"What the hedged plan orders before FY{result.decision_fy} that the average-future plan "
                      "does not (t; negative: orders less):")
        for entry in difference.head(8).itertuples():
            console.print(f"  {entry.material} {entry.option}: {entry.difference:+,.0f} t "
                          f"(hedged {entry.hedged:,.0f}, average future {entry.average_future:,.0f})")
