"""Independent tasks (sweep chunks, hedge futures) on this process, local processes or Dask.

A task is a module-level function and its arguments, so it can be sent to a spawned process or a
Dask worker; it must give the same result wherever it runs (sweep chunks start from a cleared
solver, futures are solved from scratch), so the executor never changes a result, only the time.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from stockpile.errors import InputError

PARENT_SOLVES = True
"""This process runs tasks too (tests turn it off to have every task run by the pool)."""

Task = tuple[Any, ...]

START_METHOD = "spawn"
"""How the pool's processes start. ``spawn`` by default: a forked child would inherit HiGHS's
threads in an unknown state. ``bench.sweep`` sets ``fork`` (where the platform has it) to
measure what the start costs against it."""


def run_tasks(function: Callable[..., Any], tasks: list[Task], on_result: Callable[[int, Any], None],
              workers: int = 1, dask_address: str | None = None, pool: Any = None) -> str:
    """Call ``function(*task)`` for every task, and ``on_result(i, result)`` as task i finishes.

    ``pool``: the processes of :func:`early_pool`, started while the tasks were being prepared.
    Returns where the tasks ran, for reports: ``1 process``, ``N processes (...)``, ``Dask at ...``.
    """
    if dask_address:
        _run_dask(function, tasks, on_result, dask_address)
        return f"Dask at {dask_address}"
    workers = min(workers, len(tasks))  # --workers 40 for 2 tasks starts one worker, not 39
    if workers > 1:
        return _run_processes(function, tasks, on_result, workers, pool)
    for i, task in enumerate(tasks):
        on_result(i, function(*task))
    return "1 process"


@contextmanager
def early_pool(workers: int, imports: tuple[str, ...] = ()):
    """The ``workers - 1`` processes :func:`run_tasks` would start, started now (None for one
    worker), each importing ``imports`` (the tasks' modules) at once: they start up (about 1.5 s
    each when spawned, most of it imports) while this process prepares the tasks; stopped on
    leaving."""
    if workers <= 1:
        yield None
        return
    pool = _new_pool(workers, imports)
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()


def _new_pool(workers: int, imports: tuple[str, ...] = ()):
    import multiprocessing
    import signal

    # The workers ignore Ctrl-C (it reaches the whole process group): this process stops them,
    # and no worker prints a KeyboardInterrupt traceback. Python keeps an inherited SIG_IGN, so
    # it holds from their start.
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        previous = None
    try:
        return multiprocessing.get_context(START_METHOD).Pool(processes=workers - 1, initializer=_start_worker,
                                                              initargs=(imports,))
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _run_processes(function: Callable[..., Any], tasks: list[Task], on_result, workers: int, pool: Any = None) -> str:
    """Run tasks on ``workers - 1`` spawned processes and this one.

    The pool starts at once, so its start-up (about 1.5 s a process on 2 cores: Python, imports,
    a first solve) overlaps this process's work instead of preceding it. Workers take tasks from
    the front of the list, this process from the back; when none is left, it runs again a task a
    worker still holds, and whichever finishes first counts. The pool is then terminated: a small
    job finishes here as fast as serially, a large one on every process.
    """
    from collections import deque

    pending = deque(range(len(tasks)))
    handed: dict[int, Any] = {}
    finished: set[int] = set()
    from_workers = 0

    def take(i: int, result: Any) -> None:
        if i not in finished:
            finished.add(i)
            on_result(i, result)

    own = pool is None
    if own:
        pool = _new_pool(workers)
    try:
        while len(finished) < len(tasks):
            while pending and sum(i not in finished for i in handed) < 2 * (workers - 1):  # one running, one queued
                i = pending.popleft()
                handed[i] = pool.apply_async(function, tasks[i])
            for i, result in handed.items():
                if i not in finished and (result.ready() or not PARENT_SOLVES):
                    take(i, result.get())
                    from_workers += 1
            if not PARENT_SOLVES:
                continue
            if pending:
                i = pending.pop()
                take(i, function(*tasks[i]))
            else:
                held = [i for i in handed if i not in finished]
                if held:  # the last handed out: the least likely to be under way already
                    take(held[-1], function(*tasks[held[-1]]))
    finally:
        if own:
            pool.terminate()
            pool.join()
    started = "spawned" if START_METHOD == "spawn" else f"started by {START_METHOD}"
    return f"{workers} processes ({from_workers} of {len(tasks)} tasks from the {workers - 1} {started})"


def _start_worker(imports: tuple[str, ...] = ()) -> None:
    import importlib
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for module in imports:
        importlib.import_module(module)


def dask_client(address: str):
    """A client of the Dask scheduler at ``address``, or an InputError naming ``--dask``.

    ``stockpile hedge`` calls it before solving the tree, so a wrong address is reported within
    the connect timeout, not after a long solve."""
    try:
        from distributed import Client
    except ImportError:
        raise InputError(None, "--dask", "Dask is not installed: pip install 'stockpile[dask]'") from None
    try:
        return Client(address, timeout=30)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(None, "--dask", f"cannot reach the Dask scheduler at {address}: {exc}") from None


def _run_dask(function: Callable[..., Any], tasks: list[Task], on_result, address: str) -> None:
    from distributed import as_completed

    client = dask_client(address)
    try:
        futures = {client.submit(function, *task, pure=False): i for i, task in enumerate(tasks)}
        for future in as_completed(futures):
            on_result(futures[future], future.result())
    finally:
        client.close()
