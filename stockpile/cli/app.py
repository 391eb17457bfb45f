"""The ``stockpile`` command line: the typer app, every command registered on it, and ``main``.

Each command is a plain function in the module of its group (``plan``: validate, solve, verify;
``compare``; ``explain``; ``hedge``; ``sweep``: sweep, min-budget); what they share (options,
consoles, error handling and exit codes) is :mod:`stockpile.cli.common`.
"""

from __future__ import annotations

import sys

import typer

from stockpile.cli.common import errors
from stockpile.cli.compare import compare
from stockpile.cli.explain import explain
from stockpile.cli.hedge import hedge
from stockpile.cli.plan import solve, validate, verify
from stockpile.cli.sweep import min_budget, sweep
from stockpile.cli.template import init, template
from stockpile.errors import StockpileError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Plan National Defense Stockpile acquisitions: scenario file in, audited plan out.")

# In the order `stockpile --help` lists them.
app.command(name="validate")(validate)
app.command(name="solve")(solve)
app.command(name="verify")(verify)
app.command(name="compare")(compare)
app.command(name="explain")(explain)
app.command(name="sweep")(sweep)
app.command(name="min-budget")(min_budget)
app.command(name="hedge")(hedge)
app.command(name="template")(template)
app.command(name="init")(init)


def main() -> None:
    try:
        app()
    except StockpileError as exc:  # errors raised outside a command (should not happen)
        errors.print(f"error: {exc}")
        sys.exit(exc.exit_code)
