"""What-if sweeps: one scenario solved for many parameter values.

A point changes the scenario at dotted paths (:mod:`stockpile.analysis.sweep.points`; the table
and its CSV file are :mod:`stockpile.analysis.sweep.results`). Points are solved in fixed
chunks (:func:`chunk_size`): the first point of a chunk starts each lexicographic stage from the
base scenario's optimal basis, the next ones from the previous point's; between points only
right-hand sides, bounds and coefficients of the one HiGHS model change. A point's LP is the
sweep's first point's with only what its parameters move rebuilt
(:mod:`stockpile.analysis.sweep.patching`). A point whose LP has a different shape (a ban that
appears, a goal that becomes zero) is built whole and solved from a fresh model. A warm point's
row is read from the solution vector and its plan checked against its own LP
(:mod:`stockpile.analysis.sweep.readback`); the first, middle and last points, and every point
solved from a fresh model, are read back whole and pass the independent audit.

Because chunks never depend on the executor, and each chunk starts from a cleared solver and the
base's bases, a sweep gives the same table serially, on local processes or on a Dask cluster, and
after ``--resume``: rows are written a whole chunk at a time, so an interrupted chunk is simply
solved again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from stockpile.analysis.executor import early_pool, run_tasks
from stockpile.analysis.sweep.patching import Footprint
from stockpile.analysis.sweep.readback import independently_audited
from stockpile.analysis.sweep.points import Point, apply_point, check_paths, point_columns
from stockpile.analysis.sweep.results import ResultsWriter, point_row, read_results, sweep_table, table_columns
from stockpile.errors import SolveError, StockpileError
from stockpile.model.build import build
from stockpile.scenario.load import scenario_from_dict
from stockpile.scenario.schema import Scenario

MIN_CHUNK, MAX_CHUNK, TARGET_CHUNKS = 4, 32, 4


def chunk_size(n_points: int) -> int:
    """Points per chunk: the unit of warm-start chaining, of work sent to a worker, and of resume.

    A chunk's first point starts from the base scenario's basis, usually far from it (on the
    baseline about 700 simplex iterations, against 5-20 from the previous point), so longer chains
    are cheaper per point; about :data:`TARGET_CHUNKS` chunks keep workers busy, and at most
    :data:`MAX_CHUNK` points bound what an interruption costs. A function of the sweep's size
    alone, so chunks (and every solve in them) are the same on any executor and on ``--resume``.
    """
    return max(MIN_CHUNK, min(MAX_CHUNK, math.ceil(n_points / TARGET_CHUNKS)))


# ---------------------------------------------------------------------------------------------
# Solving points

class PointSolver:
    """Solves sweep points warm on one solver model (one per process) when its backend can patch
    it in place and warm-start it (HiGHS); other solvers solve each point cold."""

    def __init__(self, base: Scenario, solver: str, time_limit: float | None, shipped: Shipped | None = None):
        """``shipped``: another process's :meth:`shipped` base model and start, so this one
        neither builds nor solves the base (a pool's process starts on its first chunk at once)."""
        from stockpile.solve.backends.factory import make_backend
        from stockpile.solve.lexicographic import add_lexicographic_rows, solve_model

        self.base, self.solver, self.time_limit = base, solver, time_limit
        self.reader = None  # the PointReader of the LP shape solved warm, made on first use
        self.solver_seconds = 0.0  # the solver's own time in this process's points (for bench.sweep)
        if shipped is not None:
            lp, bases, no_deficit = shipped
            backend = make_backend(lp, solver)
            self.warm = backend.can_patch and backend.can_warm_start
            self.backend = backend if self.warm else None
            self.base_start, self.loaded = (bases, no_deficit), lp
            return
        model = build(base)
        add_lexicographic_rows(model.lp)
        backend = make_backend(model.lp, solver)
        self.warm = backend.can_patch and backend.can_warm_start
        self.backend = backend if self.warm else None
        solution = solve_model(model, solver, time_limit, backend=backend)
        # Where each chunk starts: the base's bases, and whether it had no deficit (see
        # solve_model's no_deficit_hint); each point passes its own on to the next.
        self.base_start = (solution.bases, self.had_no_deficit(solution))
        self.loaded = model.lp

    def shipped(self) -> Shipped:
        """The base model as loaded and each chunk's start, picklable (bases as plain ints)."""
        from stockpile.solve.backends.highs import basis_ints

        bases, no_deficit = self.base_start
        portable = {stage: basis_ints(basis) for stage, basis in bases.items()} if bases else bases
        return self.loaded, portable, no_deficit

    def solve_chunk(self, points: Iterable[Point], footprint: Footprint | None = None,
                    audited: Iterable[bool] | None = None) -> list[dict[str, Any]]:
        """Rows for consecutive points, each warm-started from the one before (the first from the base);
        with the sweep's ``footprint``, each point's LP is the base's with what moves rebuilt.
        ``audited``: per point, whether the independent audit checks it (every point when None);
        the others are checked against their LP (:mod:`stockpile.analysis.sweep.readback`)."""
        start, rows = self.base_start, []
        points = list(points)
        flags = list(audited) if audited is not None else [True] * len(points)
        if self.backend is not None:
            # From a cleared solver and the base's bases, the chunk's sequence of solves is the same
            # whatever ran before in this process: results never depend on the executor.
            self.backend.clear_solver()
        for point, independent in zip(points, flags):
            row, start = self.solve_point(point, start, footprint, independent)
            rows.append(row)
        return rows

    def solve_point(self, point: Point, start, footprint: Footprint | None = None,
                    independent: bool = True) -> tuple[dict[str, Any], Any]:
        """The point's row and the next point's start. A point solved warm and not ``independent``
        is read back from the solution vector and checked against its own LP
        (:class:`~stockpile.analysis.sweep.readback.PointReader`); the others are read back whole
        and pass the independent audit."""
        import numpy as np

        from stockpile.analysis.sweep.readback import INDEPENDENT, LP_CHECK, PointReader
        from stockpile.plan.audit import audit_plan
        from stockpile.plan.read import read_plan
        from stockpile.solve.lexicographic import add_lexicographic_rows, solve_model

        try:
            scenario = apply_point(self.base, point)
            model = footprint.patched(scenario) if footprint is not None else None
            if model is None:
                model = build(scenario)
                add_lexicographic_rows(model.lp)
            warm = self.warm and model.lp.same_shape(self.loaded)
            if warm:
                self.backend.patch(self.loaded, model.lp)
                self.loaded = model.lp
                bases, no_deficit = start
                solution = solve_model(model, self.solver, self.time_limit, backend=self.backend, start_bases=bases,
                                       no_deficit_hint=no_deficit)
            else:
                solution = solve_model(model, self.solver, self.time_limit)
            self.solver_seconds += sum(run.seconds for _, run in solution.stages)
            if warm and not independent:
                if self.reader is None or self.reader.col_key != model.lp.col_key:
                    self.reader = PointReader(model)
                x = np.asarray(solution.x, dtype=float)
                missed = self.reader.violations(model.lp, x)
                if missed:
                    raise SolveError(f"the plan failed its check against its LP: {'; '.join(missed)}")
                row = self.reader.row(model, x, solution.objective_values)
                row["audit"] = LP_CHECK
            else:
                plan = read_plan(model, solution)
                audit = audit_plan(scenario, plan.tables)
                if not audit.ok:
                    raise SolveError(f"the plan failed its audit: {audit.summary}")
                row = point_row(plan)
                row["audit"] = INDEPENDENT
        except StockpileError as exc:
            return {"status": "failed", "reason": str(exc)}, self.base_start
        row["warm"] = warm
        return row, ((solution.bases, self.had_no_deficit(solution)) if warm else self.base_start)

    def had_no_deficit(self, solution) -> bool:
        """True when the solution's Fund deficit is 0 (within tolerance): the next point's hint."""
        return solution.objective_values["deficit"] <= self.base.objective.absolute_tolerance


WORKER_IMPORTS = (__name__, "stockpile.plan.audit", "stockpile.solve.lexicographic", "highspy")
"""What a pool's process imports as it starts, before its first chunk arrives."""

Shipped = tuple[Any, Any, bool]
"""(the base's LP with its lexicographic rows, each stage's base basis as ints, no deficit at the base)."""

_WORKER: dict[str, Any] = {}


def _worker_solver(base_json: str, solver: str, time_limit: float | None,
                   shipped: tuple[Scenario, Shipped] | None = None) -> PointSolver:
    """One PointSolver per process (and per base scenario), made on first use: from the base
    model shipped with the task when there is one, else built and solved from the scenario."""
    import json

    key = (base_json, solver, time_limit)
    if _WORKER.get("key") != key:
        if shipped is not None:
            _WORKER["solver"] = PointSolver(shipped[0], solver, time_limit, shipped[1])
        else:
            _WORKER["solver"] = PointSolver(scenario_from_dict(json.loads(base_json)), solver, time_limit)
        _WORKER["key"] = key
    return _WORKER["solver"]


def solve_chunk_task(base_json: str, solver: str, time_limit: float | None, index: int,
                     points: list[Point], shipped: tuple[Scenario, Shipped] | None = None,
                     footprint: Footprint | None = None,
                     audited: list[bool] | None = None) -> tuple[int, list[dict[str, Any]]]:
    """The unit of work sent to a process or a Dask worker."""
    return index, _worker_solver(base_json, solver, time_limit, shipped).solve_chunk(points, footprint, audited)


# ---------------------------------------------------------------------------------------------
# Running a sweep: executors, results file, resume

@dataclass
class SweepResult:
    table: pd.DataFrame
    solved: int
    reused: int
    executor: str = "1 process"
    """Where the points were solved, for the report: ``N processes`` or ``Dask at ADDRESS``."""


def _rows_for(index: int, chunk: list[Point], rows: list[dict], first_run: int) -> list[dict]:
    out = []
    for offset, (point, row) in enumerate(zip(chunk, rows)):
        out.append({"run": first_run + offset, **{s.column: s.value for s in point}, **row})
    return out


def run_sweep(base: Scenario, points: list[Point], solver: str = "highs", time_limit: float | None = None,
              workers: int = 1, dask_address: str | None = None, results: Path | None = None,
              resume: bool = False, progress: Callable[[int, int], None] | None = None,
              patch: bool = True, audit_all: bool = False) -> SweepResult:
    """Solve every point; append each finished chunk's rows to ``results`` (CSV) as it completes.

    ``patch``: build each point's LP as the base's with only what the sweep's parameters move
    rebuilt (:mod:`stockpile.analysis.sweep.patching`); False builds every point whole (the
    same table, the reference the tests compare with). ``audit_all``: the independent audit checks
    every point, not only the first, middle and last (the others are checked against their own
    LP: :mod:`stockpile.analysis.sweep.readback`)."""
    size = chunk_size(len(points))
    chunks = [points[i:i + size] for i in range(0, len(points), size)]
    columns = point_columns(points)
    check_paths(base, points[0])
    header = table_columns(columns, base)
    done_rows = (read_results(results, points, columns, header)
                 if (resume and results is not None and results.exists()) else [])
    done_runs = {int(r["run"]) for r in done_rows}
    todo = [(i, chunk) for i, chunk in enumerate(chunks)
            if not all(i * size + k + 1 in done_runs for k in range(len(chunk)))]
    keep = [r for r in done_rows if (int(r["run"]) - 1) // size not in {i for i, _ in todo}]
    writer = ResultsWriter(results, keep, header) if results is not None else None
    collected = list(keep)
    solved = 0
    if progress:
        progress(len(keep), len(points))

    def record(index: int, rows: list[dict]) -> None:
        nonlocal solved
        new = _rows_for(index, chunks[index], rows, index * size + 1)
        collected.extend(new)
        solved += len(new)
        if writer:
            writer.append(new)
        if progress:
            progress(len(collected), len(points))

    base_json = base.plain_json()
    executor = "1 process"
    if todo:
        pooled = workers > 1 and len(todo) > 1 and not dask_address
        # The pool's processes start up while this one solves the base and finds the footprint.
        with early_pool(min(workers, len(todo)) if pooled else 1, imports=WORKER_IMPORTS) as pool:
            shipped = None
            if pooled or dask_address:
                # The base is solved once, here; the pool's processes receive its model and bases.
                local = _worker_solver(base_json, solver, time_limit)
                shipped = (base, local.shipped()) if local.warm else None
            footprint = Footprint.of(base, points) if patch else None
            sample = set(range(len(points))) if audit_all else independently_audited(len(points))
            tasks = [(base_json, solver, time_limit, index, chunk, shipped, footprint,
                      [index * size + k in sample for k in range(len(chunk))]) for index, chunk in todo]
            executor = run_tasks(solve_chunk_task, tasks, lambda _, result: record(*result), workers, dask_address,
                                 pool=pool)
    table = sweep_table(collected, columns, base)
    if writer:
        writer.finish(table)
    return SweepResult(table=table, solved=solved, reused=len(keep), executor=executor)
