"""``stockpile hedge``: one set of near-term orders that holds up across futures."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from stockpile.cli.common import (JsonOption, SolverOption, check_output, check_solver, check_time_limit,
                                  claim_stdout, console,
                                  headline, json_document, reported_errors, write_json, written)
from stockpile.cli.progress import phases
from stockpile.cli.tables import SCREEN_ROWS, money, table
from stockpile.errors import InputError

MODEL_MONEY = 1e6
"""The hedge's objective values count money in $M (stockpile.model.build.MONEY_SCALE)."""


def hedge(
    scenario: Annotated[Path, typer.Argument(metavar="SCENARIO",
                                             help="Scenario TOML file with an [uncertainty] section.")],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", metavar="FILE.xlsx", help="Write the hedge workbook (.xlsx).")] = None,
    json_path: JsonOption = None,
    solver: SolverOption = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", metavar="SECONDS", min=0.01, help="Seconds per solve.")] = None,
    measures: Annotated[bool, typer.Option("--measures/--no-measures",
                                           help="Compute VSS and EVPI (solves each future alone, and the average future).")] = True,
    workers: Annotated[Optional[int], typer.Option(
        "--workers", min=1, help="Local processes for the futures' own solves (default: the machine's cores).")] = None,
    dask: Annotated[Optional[str], typer.Option(
        "--dask", help="Solve the futures' own solves on a Dask cluster: tcp://scheduler:8786.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing output files.")] = False,
) -> None:
    """Plan against several futures: shared orders now, each future's outcome, VSS and EVPI."""
    from stockpile.analysis.hedge.tree import hedge as hedge_plan
    from stockpile.analysis.hedge.workbook import write_hedge_workbook
    from stockpile.outputs.files import atomic_write
    from stockpile.scenario.load import load_scenario

    claim_stdout(json_path)
    with reported_errors():
        check_solver(solver)
        check_time_limit(time_limit)
        check_output(output, "-o", force)
        check_output(json_path, "--json", force)
        if dask:
            from stockpile.analysis.executor import dask_client

            dask_client(dask).close()  # a wrong address is reported now, not after the tree's solve
        tree = load_scenario(scenario)
        if tree.uncertainty is None:
            raise InputError(scenario, "uncertainty", "the scenario has no [uncertainty] section to hedge against "
                                                      "(see scenarios/hedge-disruptions.toml)")
        with phases("hedge") as report:
            result = hedge_plan(tree, solver, time_limit, measures, workers=workers or os.cpu_count() or 1,
                                dask_address=dask, progress=report)
            if output is not None:
                report("writing the workbook")
                atomic_write(output, lambda tmp: write_hedge_workbook(result, tmp), force=force)
        write_json(json_path, json_document(hedge_document(result, scenario, measures)), force)
    print_hedge(result, measures)
    written("workbook", output)
    written("summary", json_path)


def hedge_document(result, scenario_file: Path, measures: bool) -> dict:
    """The hedge as JSON (fields in README.md, JSON output)."""
    s = result.scenario
    return {
        "scenario": {"name": s.name, "file": str(scenario_file), "sha256": s.sha256},
        "decision_fy": result.decision_fy,
        "futures": len(result.futures),
        "shared_orders": result.shared_orders.to_dict("records"),
        "outcomes": result.outcomes.to_dict("records"),
        "measures": result.measures.to_dict("records") if measures else None,
        "audit": {"passed": True, "futures": len(result.plans)},
        "executor": result.executor,
    }


def _shortfall(value: float | None) -> str:
    """A weighted relative shortfall (sum of weight x shortfall / goal over materials and FYs)."""
    if value is None or value != value:
        return "–"
    return "0" if abs(value) < 5e-7 else f"{value:.3g}"


def print_hedge(result, measures: bool) -> None:
    from stockpile.scenario.title import scenario_title

    s = result.scenario
    console.print(f"{scenario_title(s)}: {len(result.futures)} futures, orders before FY{result.decision_fy} shared",
                  style="bold")
    shared = result.shared_orders
    by_material = shared.groupby("material", sort=False).tonnes.sum().items()
    headline.print(f"buy now: {shared.tonnes.sum():,.0f} t for {money(shared.cost.sum())} "
                   f"({', '.join(f'{m} {t:,.0f} t' for m, t in by_material)})")
    rows = []
    for row in result.outcomes.head(SCREEN_ROWS).to_dict("records"):
        cells = [row["future"], f"{row['probability']:.1%}", _shortfall(row["shortfall"]),
                 money(row["cost"] * MODEL_MONEY)]
        if measures:
            cells[3:3] = [_shortfall(row.get("own_optimum_shortfall"))]
            cells.append(money(row.get("own_optimum_cost", float("nan")) * MODEL_MONEY))
        rows.append(cells)
    headers = ["future", "chance", "weighted shortfall", "discounted cost"]
    if measures:
        headers = ["future", "chance", "weighted shortfall", "foreseen shortfall", "discounted cost", "foreseen cost"]
    console.print(table(headers, rows))
    if len(result.outcomes) > SCREEN_ROWS:
        console.print(f"... and {len(result.outcomes) - SCREEN_ROWS} more futures (the workbook and --json list them all)")
    if measures:
        console.print("foreseen: the future's own optimum, had it been known in advance (solved alone).")
    for row in result.measures.to_dict("records"):
        shown = money if row["unit"] == "$M" else _shortfall
        scale = MODEL_MONEY if row["unit"] == "$M" else 1.0
        vss = ("the average future's orders break some future's limits" if row["VSS"] is None
               else shown(row["VSS"] * scale))
        unit = "" if row["unit"] == "$M" else " (weighted shortfall)"
        console.print(f"{row['priority']}: value of hedging (VSS) {vss}, of perfect foresight (EVPI) "
                      f"{shown(row['EVPI'] * scale)}{unit}")
    if measures:
        _explain_measures(result)
    console.print(f"audit: passed in every future ({len(result.plans)})"
                  + (f"; futures solved alone on {_plain_executor(result.executor)}" if measures else ""))


def _plain_executor(executor: str) -> str:
    """``2 processes (0 of 4 tasks from the 1 spawned)`` as ``2 processes``: the split is the
    executor's bookkeeping, not the planner's."""
    return executor.split(" (")[0]


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
