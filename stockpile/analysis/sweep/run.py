"""What-if sweeps: one scenario solved for many parameter values.

A point changes the scenario at dotted paths (``fund.appropriation``, ``fund.appropriation.2028``,
``materials.Sb.goal``, ``policy.trusted_share.Co``, ``prices.multiplier``,
``events.china-sb-ban.to_fy``, ``supply.<option name>.capacity``). Points are solved in fixed
chunks (:func:`chunk_size`): the first point of a chunk starts each lexicographic stage from the
base scenario's optimal basis, the next ones from the previous point's; between points only
right-hand sides, bounds and coefficients of the one HiGHS model change. A point whose LP has a
different shape (a ban that appears, a goal that becomes zero) is solved from a fresh model.

Because chunks never depend on the executor, and each chunk starts from a cleared solver and the
base's bases, a sweep gives the same table serially, on local processes or on a Dask cluster, and
after ``--resume``: rows are written a whole chunk at a time, so an interrupted chunk is simply
solved again.
"""

from __future__ import annotations

import copy
import csv
import io
import itertools
import math
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from stockpile.errors import InputError, SolveError, StockpileError
from stockpile.analysis.executor import run_tasks
from stockpile.model.lp import LinearProgram
from stockpile.model.build import build
from stockpile.scenario.load import scenario_from_dict
from stockpile.scenario.schema import Scenario, to_plain
from stockpile.scenario.series import parse_fy

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

MAX_POINTS = 100_000
NAMED_LISTS = ("supply", "recycling")


# ---------------------------------------------------------------------------------------------
# Parameters and points

@dataclass(frozen=True)
class Setting:
    """One parameter of a point: ``path`` set to ``value``, or scaled by it when ``scale``."""

    path: str
    value: float
    scale: bool = False

    @property
    def column(self) -> str:
        return f"{self.path} (x base)" if self.scale else self.path


Point = tuple[Setting, ...]


def parse_vary(text: str) -> list[Setting]:
    """``PARAM=SPEC``: a list ``a,b,c``, a range ``start:stop:n`` or scales ``x0.5:x2:16``."""
    where = f"--vary {text}"
    if "=" not in text:
        raise InputError(None, where, "write PARAM=SPEC, e.g. fund.appropriation=0:1e9:21")
    path, spec = (part.strip() for part in text.split("=", 1))
    if not path or not spec:
        raise InputError(None, where, "write PARAM=SPEC, e.g. fund.appropriation=0:1e9:21")
    parts = spec.split(":")
    try:
        if len(parts) == 3:
            scale = parts[0].startswith("x") and parts[1].startswith("x")
            if parts[0].startswith("x") != parts[1].startswith("x"):
                raise ValueError("both ends of a scale range start with x (x0.5:x2:16)")
            start, stop = (float(p.lstrip("x")) for p in parts[:2])
            count = int(parts[2])
            if not 1 <= count <= MAX_POINTS:
                raise ValueError(f"the number of points must be 1 to {MAX_POINTS:,}")
            values = [start] if count == 1 else [start + (stop - start) * i / (count - 1) for i in range(count)]
        elif len(parts) == 1:
            items = [p.strip() for p in spec.split(",") if p.strip()]
            scale = all(p.startswith("x") for p in items)
            if not scale and any(p.startswith("x") for p in items):
                raise ValueError("either every value is a scale (x1.5) or none is")
            values = [float(p.lstrip("x")) for p in items]
        else:
            raise ValueError("a range is start:stop:count")
    except ValueError as exc:
        reason = str(exc) if "could not convert" not in str(exc) else f"not a number in {spec!r}"
        raise InputError(None, where, reason) from None
    if not values:
        raise InputError(None, where, "no values")
    if not all(math.isfinite(v) for v in values):
        raise InputError(None, where, "values must be finite")
    return [Setting(path, value, scale) for value in values]


def grid(axes: list[list[Setting]]) -> list[Point]:
    """Every combination of the axes' values, the first axis varying slowest."""
    points = [tuple(combo) for combo in itertools.product(*axes)]
    if len(points) > MAX_POINTS:
        raise InputError(None, "--vary", f"{len(points):,} points is more than the {MAX_POINTS:,} accepted")
    return points


def read_sweep_file(path: Path) -> list[Point]:
    """A CSV with columns ``run,param,value``: the rows of one run make one point."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, None, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, None, f"cannot read as UTF-8 text ({exc.__class__.__name__})") from None
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or [f.strip() for f in reader.fieldnames] != ["run", "param", "value"]:
        raise InputError(path, "line 1", "the header must be run,param,value")
    runs: dict[str, list[Setting]] = {}
    for line, row in enumerate(reader, start=2):
        run, param, value = (str(row.get(k) or "").strip() for k in ("run", "param", "value"))
        if not run or not param or not value:
            raise InputError(path, f"line {line}", "run, param and value are all required")
        scale = value.startswith("x")
        try:
            number = float(value.lstrip("x"))
        except ValueError:
            raise InputError(path, f"line {line}, column value", f"{value!r} is not a number") from None
        if not math.isfinite(number):
            raise InputError(path, f"line {line}, column value", "must be finite")
        settings = runs.setdefault(run, [])
        if any(s.path == param for s in settings):
            raise InputError(path, f"line {line}, column param", f"run {run!r} sets {param} twice")
        settings.append(Setting(param, number, scale))
    if not runs:
        raise InputError(path, None, "no runs")
    if len(runs) > MAX_POINTS:
        raise InputError(path, None, f"{len(runs):,} runs is more than the {MAX_POINTS:,} accepted")
    columns = [s.column for s in next(iter(runs.values()))]
    for run, settings in runs.items():
        if [s.column for s in settings] != columns:
            raise InputError(path, f"run {run}", "every run must set the same parameters in the same order")
    return [tuple(settings) for settings in runs.values()]


def apply_point(base: Scenario, point: Point) -> Scenario:
    """The base scenario with each setting of the point applied, validated."""
    plain = copy.deepcopy(to_plain(base))
    for setting in point:
        _set_path(plain, base, setting)
    label = ", ".join(f"{s.column}={s.value:g}" for s in point)
    try:
        return scenario_from_dict(plain, source=f"sweep point {label}")
    except InputError:
        raise
    except StockpileError as exc:  # pragma: no cover - validation only raises InputError
        raise InputError(None, label, str(exc)) from None


def check_paths(base: Scenario, point: Point) -> None:
    """Fail fast (InputError) on a path the scenario does not have; a bad value at one point is
    recorded as that point's failure instead."""
    plain = copy.deepcopy(to_plain(base))
    for setting in point:
        _set_path(plain, base, setting)


def _set_path(plain: dict, base: Scenario, setting: Setting) -> None:
    where = f"--vary {setting.path}"
    parts = setting.path.split(".")
    node: Any = plain
    i = 0
    while i < len(parts) - 1:
        key = parts[i]
        if isinstance(node, dict) and key in NAMED_LISTS and key in node:
            name = parts[i + 1]
            match = [item for item in node[key] if item.get("name") == name]
            if not match:
                raise InputError(None, where, f"no {key} entry named {name!r}")
            node, i = match[0], i + 2
            continue
        if _is_series(node.get(key) if isinstance(node, dict) else None) and _is_fy(parts[i + 1]) and i + 2 == len(parts):
            _set_series_fy(node, key, parse_fy(parts[i + 1]), setting, base)
            return
        if not isinstance(node, dict) or key not in node or not isinstance(node[key], dict):
            raise InputError(None, where, f"no key {'.'.join(parts[:i + 1])!r} in the scenario")
        node, i = node[key], i + 1
    leaf = parts[-1]
    if not isinstance(node, dict) or (leaf not in node):
        raise InputError(None, where, f"no key {setting.path!r} in the scenario")
    current = node[leaf]
    if _is_series(current):
        node[leaf] = _scaled_series(current, setting.value) if setting.scale else setting.value
    elif isinstance(current, bool) or isinstance(current, str):
        raise InputError(None, where, f"{setting.path} is not a number")
    elif isinstance(current, int) or (current is None and leaf in ("to_fy", "from_fy", "first_fy", "last_fy")):
        value = (current or 0) * setting.value if setting.scale else setting.value
        if value != int(value):
            raise InputError(None, where, f"{setting.path} takes whole numbers, not {value:g}")
        node[leaf] = int(value)
    elif isinstance(current, float):
        node[leaf] = current * setting.value if setting.scale else setting.value
    else:
        raise InputError(None, where, f"{setting.path} cannot be varied")


def _is_fy(text: str) -> bool:
    try:
        parse_fy(text)
        return True
    except ValueError:
        return False


def _is_series(value: Any) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    return isinstance(value, dict) and bool(value) and (set(value) == {"ramp"} or all(_is_fy(k) for k in value))


def _scaled_series(value: Any, factor: float) -> Any:
    if isinstance(value, dict):
        if set(value) == {"ramp"}:
            return {"ramp": {k: v * factor for k, v in value["ramp"].items()}}
        return {k: v * factor for k, v in value.items()}
    return value * factor


def _set_series_fy(node: dict, key: str, fy: int, setting: Setting, base: Scenario) -> None:
    """Set one FY of a per-FY value: the series is written out FY by FY, then that FY changed."""
    if not base.horizon.first_fy <= fy <= base.horizon.last_fy:
        raise InputError(None, f"--vary {setting.path}", f"FY{fy} is outside the horizon")
    series = _resolve(base, setting.path.rsplit(".", 1)[0])
    table = {str(y): series.at(y) for y in base.fys}
    table[str(fy)] = table[str(fy)] * setting.value if setting.scale else setting.value
    node[key] = table


def _resolve(base: Scenario, path: str):
    node: Any = base
    parts = path.split(".")
    i = 0
    while i < len(parts):
        key = parts[i]
        if key in NAMED_LISTS:
            node = next(o for o in getattr(node, key) if o.name == parts[i + 1])
            i += 2
            continue
        node = node[key] if isinstance(node, dict) else getattr(node, key)
        i += 1
    return node


# ---------------------------------------------------------------------------------------------
# Solving points

def same_shape(a: LinearProgram, b: LinearProgram) -> bool:
    """True when two LPs differ at most in bounds, right-hand sides and coefficient values."""
    return (a.n_cols == b.n_cols and a.n_rows == b.n_rows and a.col_key == b.col_key
            and a.col_family == b.col_family and a.row_key == b.row_key and a.row_family == b.row_family
            and a.row_sense == b.row_sense and a.row_cols == b.row_cols)


def _patch(backend, old: LinearProgram, new: LinearProgram) -> None:
    """Change in HiGHS every bound, right-hand side and coefficient where ``new`` differs from ``old``.

    Whole lists are compared first (in C): a sweep point usually changes only right-hand sides.
    """
    highs, inf = backend.highs, backend.inf
    if old.col_lower != new.col_lower or old.col_upper != new.col_upper:
        for col, (lo_old, up_old, lo, up) in enumerate(zip(old.col_lower, old.col_upper, new.col_lower, new.col_upper)):
            if lo_old != lo or up_old != up:
                highs.changeColBounds(col, max(lo, -inf), min(up, inf))
    if old.row_coefs != new.row_coefs:
        for row, (before_row, after_row) in enumerate(zip(old.row_coefs, new.row_coefs)):
            if before_row != after_row:
                for col, before, after in zip(new.row_cols[row], before_row, after_row):
                    if before != after:
                        highs.changeCoeff(row, col, after)
    backend.lp = new
    if old.row_rhs != new.row_rhs:
        for row, (before, after) in enumerate(zip(old.row_rhs, new.row_rhs)):
            if before != after:
                backend.set_row_rhs(row, after)


KPI_COLUMNS = ["status", "reason", "solvency_horizon", "solvent_through_fy", "first_shortfall_fy",
               "first_deficit_fy", "total_shortfall_tonne_years", "weighted_shortfall", "total_deficit",
               "total_purchase_cost", "discounted_net_cost", "end_fund_balance"]


def point_row(plan) -> dict[str, Any]:
    """A plan's headline figures as one row of the sweep table."""
    k = plan.kpis
    row = {"status": "optimal", "reason": ""}
    row.update({name: k[name] for name in KPI_COLUMNS[2:]})
    inventory, orders = plan.tables["inventory"], plan.tables["orders"]
    by_name = {o.name: o for o in plan.scenario.options}
    from stockpile.scenario import rules

    for code in plan.scenario.materials:
        rows = inventory[inventory.material == code]
        row[f"shortfall_{code}"] = float(rows.shortfall.sum() + rows.unmet_draw.sum())
    for code in plan.scenario.materials:
        mine = orders[orders.material == code]
        total = float(mine.tonnes.sum())
        trusted = float(sum(r.tonnes for r in mine.itertuples() if rules.is_trusted(plan.scenario, by_name[r.option])))
        row[f"trusted_share_{code}"] = trusted / total if total > 0 else None
    return row


class PointSolver:
    """Solves sweep points warm on one HiGHS model (one per process); other solvers solve cold."""

    def __init__(self, base: Scenario, solver: str, time_limit: float | None):
        from stockpile.solve.lexicographic import HighsBackend, add_lexicographic_rows, solve_model

        self.base, self.solver, self.time_limit = base, solver, time_limit
        self.warm = solver in ("highs", "highs-ipm")
        model = build(base)
        add_lexicographic_rows(model.lp)
        self.backend = HighsBackend(model.lp, method="ipm" if solver == "highs-ipm" else "simplex") if self.warm else None
        solution = solve_model(model, solver, time_limit, backend=self.backend)
        # Where each chunk starts: the base's bases, and whether it had no deficit (see
        # solve_model's no_deficit_hint); each point passes its own on to the next.
        self.base_start = (solution.bases, self._no_deficit(solution))
        self.loaded = model.lp

    def solve_chunk(self, points: Iterable[Point]) -> list[dict[str, Any]]:
        """Rows for consecutive points, each warm-started from the one before (the first from the base)."""
        start, rows = self.base_start, []
        if self.backend is not None:
            # From a cleared solver and the base's bases, the chunk's sequence of solves is the same
            # whatever ran before in this process: results never depend on the executor.
            self.backend.highs.clearSolver()
        for point in points:
            row, start = self.solve_point(point, start)
            rows.append(row)
        return rows

    def solve_point(self, point: Point, start) -> tuple[dict[str, Any], Any]:
        from stockpile.plan.audit import audit_plan
        from stockpile.plan.read import read_plan
        from stockpile.solve.lexicographic import add_lexicographic_rows, solve_model

        try:
            scenario = apply_point(self.base, point)
            model = build(scenario)
            add_lexicographic_rows(model.lp)
            warm = self.warm and same_shape(model.lp, self.loaded)
            if warm:
                _patch(self.backend, self.loaded, model.lp)
                self.loaded = model.lp
                bases, no_deficit = start
                solution = solve_model(model, self.solver, self.time_limit, backend=self.backend, start_bases=bases,
                                       no_deficit_hint=no_deficit)
            else:
                solution = solve_model(model, self.solver, self.time_limit)
            plan = read_plan(model, solution)
            audit = audit_plan(scenario, plan.tables)
            if not audit.ok:
                raise SolveError(f"the plan failed its audit: {audit.summary}")
        except StockpileError as exc:
            return {"status": "failed", "reason": str(exc)}, self.base_start
        row = point_row(plan)
        row["warm"] = warm
        return row, ((solution.bases, self._no_deficit(solution)) if warm else self.base_start)

    def _no_deficit(self, solution) -> bool:
        return solution.objective_values["deficit"] <= self.base.objective.absolute_tolerance


_WORKER: dict[str, Any] = {}


def _worker_solver(base_json: str, solver: str, time_limit: float | None) -> PointSolver:
    """One PointSolver per process (and per base scenario), built on first use."""
    import json

    key = (base_json, solver, time_limit)
    if _WORKER.get("key") != key:
        _WORKER["solver"] = PointSolver(scenario_from_dict(json.loads(base_json)), solver, time_limit)
        _WORKER["key"] = key
    return _WORKER["solver"]


def solve_chunk_task(base_json: str, solver: str, time_limit: float | None, index: int,
                     points: list[Point]) -> tuple[int, list[dict[str, Any]]]:
    """The unit of work sent to a process or a Dask worker."""
    return index, _worker_solver(base_json, solver, time_limit).solve_chunk(points)


# ---------------------------------------------------------------------------------------------
# Running a sweep: executors, results file, resume

@dataclass
class SweepResult:
    table: pd.DataFrame
    solved: int
    reused: int
    executor: str = "1 process"
    """Where the points were solved, for the report: ``N processes`` or ``Dask at ADDRESS``."""


def point_columns(points: list[Point]) -> list[str]:
    return [s.column for s in points[0]]


def _rows_for(index: int, chunk: list[Point], rows: list[dict], first_run: int) -> list[dict]:
    out = []
    for offset, (point, row) in enumerate(zip(chunk, rows)):
        out.append({"run": first_run + offset, **{s.column: s.value for s in point}, **row})
    return out


def run_sweep(base: Scenario, points: list[Point], solver: str = "highs", time_limit: float | None = None,
              workers: int = 1, dask_address: str | None = None, results: Path | None = None,
              resume: bool = False, progress: Callable[[int, int], None] | None = None) -> SweepResult:
    """Solve every point; append each finished chunk's rows to ``results`` (CSV) as it completes."""
    size = chunk_size(len(points))
    chunks = [points[i:i + size] for i in range(0, len(points), size)]
    columns = point_columns(points)
    check_paths(base, points[0])
    done_rows = _read_results(results, points, columns) if (resume and results is not None and results.exists()) else []
    done_runs = {int(r["run"]) for r in done_rows}
    todo = [(i, chunk) for i, chunk in enumerate(chunks)
            if not all(i * size + k + 1 in done_runs for k in range(len(chunk)))]
    keep = [r for r in done_rows if (int(r["run"]) - 1) // size not in {i for i, _ in todo}]
    writer = _ResultsWriter(results, keep) if results is not None else None
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
        tasks = [(base_json, solver, time_limit, index, chunk) for index, chunk in todo]
        executor = run_tasks(solve_chunk_task, tasks, lambda _, result: record(*result), workers, dask_address)
    table = sweep_table(collected, columns, base)
    if writer:
        writer.finish(table)
    return SweepResult(table=table, solved=solved, reused=len(keep), executor=executor)


def sweep_table(rows: list[dict], columns: list[str], base: Scenario) -> pd.DataFrame:
    materials = list(base.materials)
    ordered = (["run", *columns, *KPI_COLUMNS] + [f"shortfall_{m}" for m in materials]
               + [f"trusted_share_{m}" for m in materials] + ["warm"])
    table = pd.DataFrame(rows)
    for column in ordered:
        if column not in table:
            table[column] = None
    table["reason"] = table["reason"].fillna("")  # a CSV read back gives NaN for an empty reason
    return table[ordered].sort_values("run", kind="stable").reset_index(drop=True)


class _ResultsWriter:
    """The results CSV: rewritten whole (atomically) with what is kept, then appended chunk by chunk."""

    def __init__(self, path: Path, keep: list[dict]):
        self.path = path
        self.header: list[str] | None = list(keep[0]) if keep else None
        from stockpile.outputs.files import atomic_write

        def write(tmp: Path) -> None:
            with tmp.open("w", newline="", encoding="utf-8") as handle:
                if keep:
                    w = csv.DictWriter(handle, fieldnames=self.header)
                    w.writeheader()
                    w.writerows(keep)
        atomic_write(path, write, force=True)

    def append(self, rows: list[dict]) -> None:
        with self.path.open("a", newline="", encoding="utf-8") as handle:
            if self.header is None:
                self.header = list(rows[0])
                csv.DictWriter(handle, fieldnames=self.header).writeheader()
            csv.DictWriter(handle, fieldnames=self.header, extrasaction="ignore").writerows(rows)
            handle.flush()
            os.fsync(handle.fileno())

    def finish(self, table: pd.DataFrame) -> None:
        """Rewrite the file sorted by run, with every column (a row may have failed)."""
        from stockpile.outputs.files import atomic_write

        atomic_write(self.path, lambda tmp: table.to_csv(tmp, index=False), force=True)


def _read_results(path: Path, points: list[Point], columns: list[str]) -> list[dict]:
    """Rows of an earlier run of the same sweep (checked point by point), for --resume."""
    try:
        table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(path, None, f"cannot read the earlier results ({exc.__class__.__name__})") from None
    if table.empty:
        return []
    missing = [c for c in ["run", *columns, "status"] if c not in table]
    if missing:
        raise InputError(path, None, f"not the results of this sweep (no column {missing[0]!r})")
    rows = []
    for record in table.to_dict("records"):
        run = int(record["run"])
        if not 1 <= run <= len(points):
            raise InputError(path, f"run {run}", "not a run of this sweep")
        for setting in points[run - 1]:
            if not math.isclose(float(record[setting.column]), setting.value, rel_tol=1e-12, abs_tol=0.0):
                raise InputError(path, f"run {run}", f"{setting.column} is {record[setting.column]} here but "
                                                     f"{setting.value:g} in this sweep: not the same sweep")
        rows.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()})
    return rows
