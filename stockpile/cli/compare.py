"""``stockpile compare``: two plans side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from stockpile.cli.common import (JsonOption, SolverOption, check_output, check_solver, claim_stdout, console,
                                  headline, json_document, reported_errors, write_json, written)


def compare(
    plan_a: Annotated[Path, typer.Argument(metavar="PLAN_A", help="Plan workbook (.xlsx) or scenario file.")],
    plan_b: Annotated[Path, typer.Argument(metavar="PLAN_B", help="Plan workbook (.xlsx) or scenario file.")],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", metavar="FILE.xlsx",
                                                   help="Write the side-by-side workbook (.xlsx).")] = None,
    json_path: JsonOption = None,
    solver: SolverOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing output files.")] = False,
) -> None:
    """Compare two plans side by side: what does the change from A to B buy us?"""
    from stockpile.analysis.compare import change_lines, compared_figures, load_side, write_comparison
    from stockpile.outputs.files import atomic_write

    claim_stdout(json_path)
    with reported_errors():
        check_solver(solver)
        check_output(output, "-o", force)  # before solving, so a refusal costs nothing
        check_output(json_path, "--json", force)
        a, b = load_side("A", plan_a, solver), load_side("B", plan_b, solver)
        if output is not None:
            atomic_write(output, lambda tmp: write_comparison(a, b, tmp), force=force)
        write_json(json_path, json_document({
            side.label: {"name": side.scenario.name, "source": str(side.source), "how": side.how,
                         "solvency_horizon": side.kpis["solvency_horizon"]} for side in (a, b)}
            | {"figures": compared_figures(a, b)}), force)
    lines = change_lines(a, b)
    headline.print(lines[0])
    headline.print(lines[1])
    for line in lines[2:]:
        console.print(line)
    written("comparison", output)
    written("summary", json_path)
