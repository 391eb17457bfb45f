"""The ``stockpile`` command line: the typer app, every command registered on it, and ``main``.

Each command is a plain function in the module of its group (``plan``: validate, solve, verify;
``compare``; ``explain``; ``hedge``; ``sweep``: sweep, min-budget); what they share (options,
consoles, output files, JSON, progress, error handling and exit codes) is
:mod:`stockpile.cli.common`.

Nothing heavy is imported here: ``stockpile --help`` loads typer and the command modules only;
pandas, PuLP, highspy and openpyxl are imported by the commands that use them.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from stockpile.cli.common import LogOption, QuietOption, VerboseOption, errors, start_invocation, with_shared_options
from stockpile.cli.compare import compare
from stockpile.cli.explain import explain
from stockpile.cli.hedge import hedge
from stockpile.cli.plan import solve, validate, verify
from stockpile.cli.sweep import min_budget, sweep
from stockpile.cli.template import init, template
from stockpile.errors import StockpileError

# Plain click help (rich_markup_mode=None): rich markup read "[uncertainty]" as a style and ate it,
# and its panels showed a <bool> type beside every flag.
app = typer.Typer(add_completion=True, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  context_settings={"max_content_width": 100},
                  help="Plan National Defense Stockpile acquisitions: scenario file in, audited plan out.\n\n"
                       "--quiet, --verbose and --log go before the command or after it: "
                       "stockpile --quiet solve, stockpile sweep ... --log highs.log")


def _print_version(asked: bool) -> None:
    if asked:
        from stockpile.outputs.summary import package_version

        print(f"stockpile {package_version()}")
        raise typer.Exit(0)


@app.callback()
def options(
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    log: LogOption = None,
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_print_version,
                                          help="Print stockpile's version and exit.")] = False,
) -> None:
    """The options every command shares (also taken after the command); reset for each command run."""
    start_invocation(quiet, verbose, log)


# In the order `stockpile --help` lists them, with the line it shows for each.
COMMANDS = (
    ("validate", validate, "Check a scenario file without solving it."),
    ("solve", solve, "Solve a scenario: headline, tables, workbook and JSON."),
    ("verify", verify, "Re-audit a saved plan workbook (--resolve: re-solve it)."),
    ("compare", compare, "Two plans side by side: what does A to B buy?"),
    ("explain", explain, "Why the plan buys where it buys; what binds; policy costs."),
    ("sweep", sweep, "One scenario solved over many parameter values."),
    ("min-budget", min_budget, "The least appropriation solvent through an FY."),
    ("hedge", hedge, "One set of near-term orders across several futures."),
    ("template", template, "A scenario as an input workbook to edit, or a workbook back as TOML."),
    ("init", init, "A starter project: a scenario extending the baseline, its workbook, next steps."),
)
for name, command, short in COMMANDS:
    app.command(name=name, short_help=short)(with_shared_options(command))


def main() -> None:
    try:
        app()
    except StockpileError as exc:  # errors raised outside a command (should not happen)
        errors.print(f"error: {exc}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:  # Ctrl-C before a command's own handling starts (importing, parsing)
        errors.print("interrupted")
        sys.exit(130)
