"""Where the solvers' own output goes: nowhere by default; a log file or stderr on request.

stdout carries the command's answer (with ``--json -``, a JSON document and nothing else), so no
solver line ever reaches it. HiGHS prints a banner on the process's stdout (file descriptor 1,
below Python) when the first ``Highs`` object of a process is made, and its log while
``output_flag`` is on; CBC (a subprocess) and PuLP's HiGHS print on the same descriptor when
their ``msg`` is on. So descriptor 1 is pointed elsewhere while a solver may print
(:func:`solver_stdout_diverted`), and HiGHS's log, when asked for, comes through its logging
callback (:func:`new_highs`).

The setting lives in the environment (:data:`LOG_ENV`, :data:`VERBOSE_ENV`), not in this module:
sweep chunks and hedge futures run in spawned processes, which inherit the environment and
nothing else of the parent (a Dask cluster's workers are started elsewhere and stay quiet).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOG_ENV = "STOCKPILE_SOLVER_LOG"
"""A file the solvers' log is appended to (``stockpile --log FILE``)."""
VERBOSE_ENV = "STOCKPILE_SOLVER_VERBOSE"
"""Set to 1: the solvers' log is also printed on stderr (``stockpile --verbose``)."""


def send_solver_output(log_file: Path | None, verbose: bool) -> None:
    """Route this process's and its workers' solver output: to ``log_file`` (appended) and, when
    ``verbose``, to stderr; with neither, nowhere."""
    if log_file is not None:
        os.environ[LOG_ENV] = str(Path(log_file).resolve())
    else:
        os.environ.pop(LOG_ENV, None)
    if verbose:
        os.environ[VERBOSE_ENV] = "1"
    else:
        os.environ.pop(VERBOSE_ENV, None)


def solver_log_file() -> Path | None:
    name = os.environ.get(LOG_ENV)
    return Path(name) if name else None


def solver_verbose() -> bool:
    return os.environ.get(VERBOSE_ENV) == "1"


def solver_talks() -> bool:
    """Whether a solver should produce its log at all (``msg`` for PuLP, ``output_flag`` for HiGHS)."""
    return solver_verbose() or solver_log_file() is not None


def _flush_c_stdout() -> None:
    """Flush the C library's stdout buffer, so what a solver printed lands where it was aimed."""
    import ctypes

    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # no C library to reach: nothing buffered that we could flush
        pass


@contextmanager
def solver_stdout_diverted() -> Iterator[None]:
    """Point file descriptor 1 at stderr (verbose), else the log file, else /dev/null, while a
    solver runs that prints on it; restore it afterwards, whatever happens."""
    try:
        saved = os.dup(1)
    except OSError:  # no stdout at all: nothing to protect
        yield
        return
    sys.stdout.flush()
    _flush_c_stdout()
    log = solver_log_file()
    if solver_verbose():
        target = os.dup(2)
    elif log is not None:
        target = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    else:
        target = os.open(os.devnull, os.O_WRONLY)
    os.dup2(target, 1)
    os.close(target)
    try:
        yield
    finally:
        _flush_c_stdout()
        os.dup2(saved, 1)
        os.close(saved)


class _LogLines:
    """HiGHS's logging callback: each message appended to the log file and, verbose, to stderr."""

    def __init__(self, log: Path | None, verbose: bool):
        self.log, self.verbose = log, verbose

    def __call__(self, event) -> None:
        message = event.message
        if self.log is not None:
            with open(self.log, "a", encoding="utf-8") as out:
                out.write(message)
        if self.verbose:
            sys.stderr.write(message)


def new_highs():
    """A ``highspy.Highs`` that prints nothing on stdout: its banner diverted, its log off, or
    (``--log``, ``--verbose``) sent through its logging callback to the log file and stderr."""
    import highspy

    with solver_stdout_diverted():
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    if solver_talks():
        highs.setOptionValue("output_flag", True)
        highs.setOptionValue("log_to_console", False)
        highs.cbLogging.subscribe(_LogLines(solver_log_file(), solver_verbose()))
    return highs
