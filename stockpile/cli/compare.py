"""``stockpile compare``: two plans side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from stockpile.cli.common import SolverOption, check_solver, console, reported_errors


def compare(
    plan_a: Annotated[Path, typer.Argument(metavar="PLAN_A", help="Plan workbook (.xlsx) or scenario file.")],
    plan_b: Annotated[Path, typer.Argument(metavar="PLAN_B", help="Plan workbook (.xlsx) or scenario file.")],
    output: Annotated[Optional[Path], typer.Option("-o", "--output",
                                                   help="Write the side-by-side workbook (.xlsx).")] = None,
    solver: SolverOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
) -> None:
    """Compare two plans side by side: what does the change from A to B buy us?"""
    from stockpile.analysis.compare import change_lines, load_side, write_comparison
    from stockpile.outputs.files import atomic_write, check_writable

    with reported_errors():
        check_solver(solver)
        if output is not None:
            check_writable(output, force)  # before solving, so a refusal costs nothing
        a, b = load_side("A", plan_a, solver), load_side("B", plan_b, solver)
        if output is not None:
            atomic_write(output, lambda tmp: write_comparison(a, b, tmp), force=force)
    for line in change_lines(a, b):
        console.print(line)
    if output is not None:
        console.print(f"comparison: {output}")

