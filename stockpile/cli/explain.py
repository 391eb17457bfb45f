"""``stockpile explain``: why the plan buys where it buys, what binds, and what each policy costs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from stockpile.cli.common import (
    SolverOption, check_solver, check_time_limit, console, default_scenario, reported_errors,
)


def explain(
    scenario: Annotated[Optional[Path], typer.Argument(
        help="Scenario TOML file (default: scenarios/baseline.toml, or the packaged example).")] = None,
    solver: SolverOption = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", min=0.01,
                                                        help="Seconds for each solve.")] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="How many binding limits to list.")] = 15,
    policy_costs: Annotated[bool, typer.Option(
        "--policy-costs/--no-policy-costs", help="Measure each policy's cost by re-solving without it.")] = True,
) -> None:
    """Explain a plan: binding limits by marginal value, unused options and why, policy costs.

    A scenario whose hard limits cannot all be met exits 1 with the limits to move.
    """
    from stockpile.analysis.explain import explain_scenario
    from stockpile.scenario.load import load_scenario

    scenario = scenario or default_scenario()
    with reported_errors():
        check_solver(solver)
        check_time_limit(time_limit)
        loaded = load_scenario(scenario)
        explanation = explain_scenario(loaded, solver, time_limit, policy_costs=policy_costs)
    console.print(explanation.text(top=top), markup=False)
    _print_kept_out(loaded)


def _print_kept_out(scenario) -> None:
    """Which ban keeps which supplier out (its cost is in the policy costs above)."""
    from stockpile.plan.bans import kept_out_by_bans

    kept_out = kept_out_by_bans(scenario)
    if kept_out.empty:
        return
    console.print("\nSuppliers kept out by each ban:", markup=False)
    for key, rows in kept_out.groupby("key", sort=False):
        names = ", ".join(f"{r.option} (from FY{r.from_fy})" for r in rows.itertuples())
        console.print(f"  {key} ({rows.reason.iloc[0] or 'no reason given'}): {names}", markup=False)
