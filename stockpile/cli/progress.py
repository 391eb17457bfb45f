"""Progress on the terminal for long commands: a line per phase with its elapsed time, and a bar
with a count where the phase knows its total (sweep points, policies, futures).

Drawn on stderr, and only when :func:`stockpile.cli.common.show_progress` allows it (both streams
a terminal, neither ``--quiet`` nor ``--json -``); otherwise the reporter does nothing, so piped
output and JSON never carry it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from stockpile.cli.common import errors, show_progress

Report = Callable[..., None]
"""``report(phase, done=0, total=0)``: the work is in ``phase``, ``done`` of ``total`` (0: unknown)."""


def _ignore(phase: str, done: int = 0, total: int = 0) -> None:
    """The reporter off a terminal."""


@contextmanager
def phases(command: str, keep: bool = True) -> Iterator[Report]:
    """A reporter for ``command``'s phases. Each new phase closes the previous one's line (kept
    on screen with its time when ``keep``, so the run ends with where its time went)."""
    if not show_progress():
        yield _ignore
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(finished_text="done"), TextColumn(f"{command}: {{task.description}}", markup=False),
               BarColumn(), TextColumn("{task.fields[count]}", markup=False), TimeElapsedColumn())
    with Progress(*columns, console=errors.rich_console(), transient=not keep) as bar:
        current: dict[str, int] = {}

        def report(phase: str, done: int = 0, total: int = 0) -> None:
            if phase not in current:
                for task in current.values():
                    bar.update(task, total=bar.tasks[task].total or 1, completed=bar.tasks[task].total or 1)
                    bar.stop_task(task)
                current.clear()
                current[phase] = bar.add_task(phase, total=total or None, count="")
            bar.update(current[phase], completed=done, total=total or None,
                       count=f"{done:,} of {total:,}" if total else "")

        yield report
        for task in current.values():
            bar.update(task, total=bar.tasks[task].total or 1, completed=bar.tasks[task].total or 1)
            bar.stop_task(task)
