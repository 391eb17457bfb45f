"""``stockpile explain``: why the plan buys where it buys, what binds, and what each policy costs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from stockpile.cli.common import (JsonOption, SolverOption, check_output, check_solver, check_time_limit,
                                  claim_stdout, console,
                                  default_scenario, headline, json_document, reported_errors, write_json, written)
from stockpile.cli.progress import phases


def explain(
    scenario: Annotated[Optional[Path], typer.Argument(
        metavar="SCENARIO", help="Scenario TOML file (default: scenarios/baseline.toml, or the packaged example).")] = None,
    json_path: JsonOption = None,
    solver: SolverOption = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", metavar="SECONDS", min=0.01,
                                                        help="Seconds for each solve.")] = None,
    top: Annotated[int, typer.Option("--top", metavar="N", min=1, help="How many binding limits to list.")] = 15,
    policy_costs: Annotated[bool, typer.Option(
        "--policy-costs/--no-policy-costs", help="Measure each policy's cost by re-solving without it.")] = True,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing JSON file.")] = False,
) -> None:
    """Explain a plan: binding limits by marginal value, unused options and why, policy costs.

    A scenario whose hard limits cannot all be met exits 1 with the limits to move.
    """
    from stockpile.analysis.explain import explain_scenario, grouped_sentences
    from stockpile.analysis.policy_costs import policy_cost_table
    from stockpile.scenario.load import load_scenario

    scenario = scenario or default_scenario()
    claim_stdout(json_path)
    with reported_errors():
        check_solver(solver)
        check_time_limit(time_limit)
        check_output(json_path, "--json", force)
        s = load_scenario(scenario)
        explanation = explain_scenario(s, solver, time_limit, policy_costs=False)
        if policy_costs:
            with phases("explain", keep=False) as report:
                explanation.policy_costs = policy_cost_table(
                    s, explanation.plan, solver, time_limit,
                    progress=lambda done, total: report("pricing each policy (re-solved without it)", done, total))
        costs = explanation.policy_costs
        write_json(json_path, json_document({
            "scenario": {"name": s.name, "file": str(scenario), "sha256": s.sha256},
            "headline": explanation.plan.headline, "stage": explanation.stage,
            "binding": grouped_sentences(explanation.bindings),
            "unused": [{"material": u.material, "option": u.option, "key": u.key, "mean_price": u.mean_price,
                        "reasons": u.reasons, "sentence": u.sentence(s)} for u in explanation.unused],
            "policy_costs": None if costs is None else costs.to_dict("records")}), force)
    title, line, rest = explanation.text(top=top).split("\n", 2)
    console.print(title, style="bold")
    headline.print(line)
    console.print(rest)
    written("summary", json_path)
    _print_kept_out(s)


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
