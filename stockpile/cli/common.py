"""What every ``stockpile`` command shares: the consoles, shared options, the default scenario,
the solver check, and the one place a planner's error becomes a message and an exit code.

Every error a planner can cause (a bad scenario, an output file in the way) ends with a message
naming the file, the key and the reason, and exit code 2; a scenario whose hard limits cannot be
met, or a solve stopped early, exits 1; a plan failing its audit exits 3; Ctrl-C outside the
solver exits 130. Never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
from rich.console import Console

from stockpile.errors import InputError, StockpileError

# No markup: scenario names, paths and key paths (supply[3]) are printed as written.
console = Console(highlight=False, soft_wrap=True, markup=False)
errors = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)

SolverOption = Annotated[Optional[str], typer.Option(
    "--solver", help="highs (default: HiGHS simplex via highspy), highs-ipm, highs-pulp (HiGHS through PuLP) or cbc.")]

NOTHING_WRITTEN = "interrupted: nothing was written"


def default_scenario() -> Path:
    """The baseline in the repository's scenarios/ folder, else the example shipped in the package."""
    baseline = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.toml"
    if baseline.exists():
        return baseline
    return Path(str(resources.files("stockpile") / "examples" / "example.toml"))


def fail(exc: StockpileError) -> NoReturn:
    """Print the error, labelled by what it means to the planner, and exit with its code."""
    from stockpile.scenario.text import terminal_safe

    label = {2: "error", 3: "audit failure"}.get(exc.exit_code, "no plan")
    # A message quotes what the planner wrote (keys, paths, names): never let it drive the terminal.
    errors.print(terminal_safe(f"{label}: {exc}"), soft_wrap=True)
    raise typer.Exit(exc.exit_code)


def check_solver(solver: str | None) -> None:
    """Refuse a ``--solver`` name stockpile does not know, before any work is done."""
    from stockpile.scenario.schema import check_solver_name

    if solver is not None:
        check_solver_name(solver, "--solver")


def check_time_limit(seconds: float | None) -> None:
    """Refuse ``--time-limit inf`` or ``nan`` (typer's ``min`` lets them through), which would
    reach the JSON summary as a value JSON cannot hold."""
    import math

    if seconds is not None and not math.isfinite(seconds):
        raise InputError(None, "--time-limit", f"{seconds} is not a number of seconds (omit it for no limit)")


@contextmanager
def reported_errors(interrupted: Callable[[], str] = lambda: NOTHING_WRITTEN) -> Iterator[None]:
    """Run a command's work so that a :class:`StockpileError` ends in its message and exit code
    (:func:`fail`) and Ctrl-C in the ``interrupted()`` message and exit code 130."""
    try:
        yield
    except StockpileError as exc:
        fail(exc)
    except KeyboardInterrupt as exc:
        # OutputsInterrupted (stockpile.outputs.files): Ctrl-C came as the outputs were renamed
        # into place, after every one was written: say so rather than "nothing was written".
        written = getattr(exc, "written", None)
        errors.print(f"interrupted; written: {', '.join(map(str, written))}" if written else interrupted())
        raise typer.Exit(130)
