"""What every ``stockpile`` command shares: the consoles, shared options, the default scenario,
the solver check, output files and JSON, progress, and the one place a planner's error becomes a
message and an exit code.

Three consoles: ``headline`` (stdout: the one-line answer), ``console`` (stdout: tables and
details; silenced by ``--quiet``) and ``errors`` (stderr). ``--json -`` silences both stdout
consoles, so stdout carries the JSON document alone. Progress is shown on stderr, only when both
stdout and stderr are a terminal and neither ``--quiet`` nor ``--json -`` is given.

Every error a planner can cause (a bad scenario, an output file in the way) ends with a message
naming the file, the key and the reason, and exit code 2; a scenario whose hard limits cannot be
met, or a solve stopped early, exits 1; a plan failing its audit exits 3; Ctrl-C outside the
solver exits 130. Never a traceback.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional

import typer

from stockpile.errors import InputError, StockpileError


class LazyConsole:
    """A rich ``Console`` made on first use: importing rich takes about 0.1 s, which
    ``stockpile --help`` need not pay. ``quiet`` is kept here and passed on."""

    def __init__(self, **options: Any):
        self.options = options
        self.made = None
        self.quiet = False

    def rich_console(self):
        """The rich Console itself (for a Progress drawn on it)."""
        if self.made is None:
            from rich.console import Console

            self.made = Console(**self.options)
        self.made.quiet = self.quiet
        return self.made

    def __getattr__(self, name: str) -> Any:  # print, is_terminal, ...
        return getattr(self.rich_console(), name)


# No markup: scenario names, paths and key paths (supply[3]) are printed as written.
headline = LazyConsole(highlight=False, soft_wrap=True, markup=False)
console = LazyConsole(highlight=False, soft_wrap=True, markup=False)
errors = LazyConsole(stderr=True, highlight=False, soft_wrap=True, markup=False)

SolverOption = Annotated[Optional[str], typer.Option(
    "--solver", metavar="NAME", help="highs (default: HiGHS simplex via highspy), highs-ipm, highs-pulp (HiGHS through PuLP) or cbc.")]
JsonOption = Annotated[Optional[str], typer.Option(
    "--json", metavar="FILE|-", help="Write the result as JSON to FILE (.json), or to stdout with - "
                                     "(then nothing else is printed there). Fields: README, JSON output.")]

QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the headline and errors.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Print the solver's log (on stderr).")]
LogOption = Annotated[Optional[Path], typer.Option("--log", metavar="FILE", dir_okay=False,
                                                   help="Append the solver's log to FILE.")]

STDOUT = "-"
"""``--json -``: the JSON document goes to stdout."""

SUFFIXES = {"-o": (".xlsx",), "--output": (".xlsx",), "--json": (".json",), "--csv": (".csv",),
            "--marginal-csv": (".csv",), "--write-lp": (".lp", ".mps")}
"""The file types each output option writes."""


def start_invocation(quiet: bool, verbose: bool, log: Path | None) -> None:
    """Reset the consoles and the solver's output for a new command (one process may run
    several, as the tests do), from the options given before the command."""
    headline.quiet = False
    console.quiet = quiet
    route_solver_output(verbose, log)


def route_solver_output(verbose: bool, log: Path | None) -> None:
    from stockpile.solve.backends.solver_output import send_solver_output

    if log is not None and not Path(log).parent.exists():
        errors.print(f"error: {log}: folder {str(Path(log).parent)!r} does not exist (--log)")
        raise typer.Exit(2)
    send_solver_output(log, verbose)


def with_shared_options(command: Callable[..., None]) -> Callable[..., None]:
    """``command`` also taking --quiet, --verbose and --log after its name (``stockpile solve
    --quiet``), as the app takes them before it. typer reads the options from the signature."""
    from stockpile.solve.backends.solver_output import solver_log_file, solver_verbose

    @functools.wraps(command)
    def run(*args: Any, shared_quiet: bool = False, shared_verbose: bool = False,
            shared_log: Path | None = None, **kwargs: Any) -> None:
        if shared_quiet:
            console.quiet = True
        if shared_verbose or shared_log is not None:
            route_solver_output(shared_verbose or solver_verbose(), shared_log or solver_log_file())
        return command(*args, **kwargs)

    own = list(inspect.signature(command, eval_str=True).parameters.values())
    shared = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
              for name, default, annotation in (("shared_quiet", False, QuietOption),
                                                ("shared_verbose", False, VerboseOption),
                                                ("shared_log", None, LogOption))]
    run.__signature__ = inspect.Signature([p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + shared)
    run.__annotations__ = {p.name: p.annotation for p in [*own, *shared]}
    return run


def claim_stdout(json_target: Path | str | None) -> None:
    """Given ``--json -``, stdout is the JSON document's alone: silence everything else on it."""
    if json_target is not None and str(json_target) == STDOUT:
        headline.quiet = console.quiet = True


def show_progress() -> bool:
    """Whether a progress bar or status may be drawn: an interactive terminal on both streams,
    and neither --quiet nor --json - (never in piped output or JSON)."""
    return console.is_terminal and errors.is_terminal and not console.quiet and not errors.quiet


def check_output(path: Path | str | None, option: str, force: bool) -> None:
    """Refuse (exit 2, naming ``option``) an output file of the wrong type or one in the way,
    before any work is done. ``-`` (stdout) is always allowed for ``--json``."""
    if path is None or (option == "--json" and str(path) == STDOUT):
        return
    path = Path(path)
    wanted = SUFFIXES[option]
    if path.suffix.lower() not in wanted:
        kind = " or ".join(wanted)
        found = f"a {path.suffix!r} file" if path.suffix else "a name without an extension"
        raise InputError(path, None, f"{option} writes {kind}; {found} would not hold it (name it "
                                     f"{path.with_suffix(wanted[0]).name})")
    from stockpile.outputs.files import check_writable

    check_writable(path, force)


def json_document(value: Any) -> str:
    """``value`` as the JSON stockpile writes: sorted keys, indented, NaN as null, one final newline."""
    return json.dumps(_plain(value), indent=2, sort_keys=True, allow_nan=False) + "\n"


def _plain(value: Any) -> Any:
    """Numbers, strings, lists and dicts only: numpy scalars as Python's, NaN as None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # a numpy scalar
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(target: Path | str | None, document: str, force: bool) -> None:
    """Write a JSON document to the ``--json`` target: stdout for ``-``, else the file, atomically."""
    if target is None:
        return
    if str(target) == STDOUT:
        sys.stdout.write(document)
        sys.stdout.flush()
        return
    from stockpile.outputs.files import atomic_write

    atomic_write(Path(target), lambda tmp: tmp.write_text(document, encoding="utf-8"), force=force)


def written(label: str, path: Path | str | None) -> None:
    """Say where an output went (not for ``--json -``, which is the output itself)."""
    if path is not None and str(path) != STDOUT:
        console.print(f"{label}: {path}")

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
