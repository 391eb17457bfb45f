"""The benchmark's children: each measured run, in a process of its own (``python -m bench.run --child``).

One process per run, so its peak memory is that run's alone: stockpile's pipeline stage by stage
(:func:`child_pipeline`, with the policy costs, the workbook and a few sweep points), the same LP
straight into highspy (:func:`child_reference`), the solvers on the baseline
(:func:`child_choose`), ``stockpile solve`` and ``stockpile --help`` as a planner runs them
(:func:`child_cli`, :func:`child_help`). Each prints one JSON line; :mod:`bench.run` runs them.
"""

from __future__ import annotations

import json
import math
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
SOLVERS = ("highs", "highs-ipm", "cbc")
METHOD = {"highs": "simplex", "highs-ipm": "ipm", "highs-pulp": "simplex", "cbc": "simplex"}


@dataclass(frozen=True)
class Size:
    name: str
    materials: int = 0
    options: int = 0
    years: int = 0
    """0 materials: the shipped baseline scenario."""

    @property
    def label(self) -> str:
        return "baseline" if not self.materials else f"{self.materials}x{self.options}x{self.years}"


SIZES = (   # the NDS holds about fifty materials; larger models add options and FYs
    Size("baseline"),
    Size("10k", 20, 30, 15),
    Size("50k", 50, 55, 15),
    Size("150k", 50, 100, 25),
    Size("500k", 50, 400, 21),
)
QUICK = SIZES[:2]

# ---------------------------------------------------------------------------------------------
# Children: one process per measured run, so peak memory is that run's alone

def scenario_file(size: Size, folder: Path) -> Path:
    if not size.materials:
        return BASELINE
    from bench.generate import generate, to_toml

    path = folder / f"{size.name}.toml"
    if not path.exists():   # written whole, then renamed: a child never reads half a file
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_text(to_toml(generate(size.materials, size.options, size.years)), encoding="utf-8")
        os.replace(partial, path)
    return path


def child_pipeline(size: Size, solver: str, cap: float, folder: Path, workbook: bool, sweep_points: int = 8) -> dict:
    """stockpile's own path, stage by stage, as ``stockpile solve -o`` runs it: load, build, solve,
    read back, audit, the policy costs, the workbook (its time and what it adds to peak memory);
    then, at sizes up to :data:`SWEEP_POINT_LIMIT`, a few sweep points against HiGHS's own re-solve."""
    path = scenario_file(size, folder)
    import stockpile.solve.lexicographic as solve_module
    from stockpile.plan.audit import audit_plan
    from stockpile.model.build import build
    from stockpile.plan.read import read_plan
    from stockpile.scenario.load import load_scenario

    out: dict = {"size": size.name, "solver": solver}
    made: dict[str, float] = {}
    make_backend = solve_module.make_backend

    def timed_backend(lp, name):
        started = time.perf_counter()
        backend = make_backend(lp, name)
        made["backend"] = time.perf_counter() - started
        return backend

    solve_module.make_backend = timed_backend
    t = time.perf_counter()
    scenario = load_scenario(path)
    out["load"] = time.perf_counter() - t
    t = time.perf_counter()
    model = build(scenario)
    out["build"] = time.perf_counter() - t
    lp = model.lp
    out.update(variables=lp.n_cols, rows=lp.n_rows, nonzeros=lp.n_nonzeros)
    # The cap is a wall clock on the solve (SIGALRM's default action ends this process; the
    # parent then ends its process group, CBC included), not the solver's time limit: HiGHS
    # counts run time across the lexicographic stages, so a limit passed to solve_model stops
    # later stages early.
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(max(1, math.ceil(cap)))
    t = time.perf_counter()
    try:
        solution = solve_module.solve_model(model, solver=solver, time_limit=max(cap * 10, 3600.0))
    except Exception as exc:  # a solver error: recorded, not raised
        signal.alarm(0)
        out["status"] = f"{type(exc).__name__}: {exc}"
        out["solve_wall"] = time.perf_counter() - t
        return _with_memory(out)
    signal.alarm(0)
    solve_wall = time.perf_counter() - t
    out["solver_own"] = sum(run.seconds for _, run in solution.stages)
    out["pass"] = solve_wall - out["solver_own"]
    out["stages"] = {name: run.seconds for name, run in solution.stages}
    out["objectives"] = solution.objective_values
    t = time.perf_counter()
    plan = read_plan(model, solution)
    out["read"] = time.perf_counter() - t
    plan.provenance = scenario.provenance
    t = time.perf_counter()
    report = audit_plan(scenario, plan.tables)
    out["audit"] = time.perf_counter() - t
    plan.audit = report
    plan.scenario_file = str(path)
    out["status"] = "optimal"   # the solve's timings stand; an audit failure is reported beside them
    out["audit_ok"] = report.ok
    out["audit_summary"] = report.summary
    out["headline"] = plan.headline
    # The goals out of reach at any budget, as ``stockpile solve`` finds them when a goal is short
    # (a second build and solve with money unlimited).
    from stockpile.analysis.reach import plan_goals_out_of_reach

    t = time.perf_counter()
    try:
        plan.goals_out_of_reach = plan_goals_out_of_reach(plan, scenario, solver, None)
        if plan.goals_out_of_reach is not None:
            out["reach"] = time.perf_counter() - t
    except Exception as exc:  # noqa: BLE001 - recorded beside the other timings
        out["reach_error"] = f"{type(exc).__name__}: {exc}"
    # The policy costs, as ``stockpile solve -o`` measures them: warm, on the plan's own model.
    from stockpile.analysis.policy_costs import policy_cost_table

    t = time.perf_counter()
    try:
        plan.policy_costs = policy_cost_table(scenario, plan, solver, model=model, solution=solution)
        out["policy_costs"] = time.perf_counter() - t
        out["policies"] = len(plan.policy_costs)
    except Exception as exc:  # noqa: BLE001 - recorded beside the other timings
        out["policy_costs_error"] = f"{type(exc).__name__}: {exc}"
    out["peak_mb_before_workbook"] = _with_memory({})["peak_mb"]
    if workbook:
        from stockpile.outputs.workbook.write import write_workbook

        t = time.perf_counter()
        try:
            write_workbook(plan, folder / f"{size.name}-{solver}.xlsx")
            out["workbook"] = time.perf_counter() - t
        except Exception as exc:  # the workbook is another engineer's work in progress
            out["workbook_error"] = f"{type(exc).__name__}: {exc}"
    out = _with_memory(out)
    out["workbook_mb"] = out["peak_mb"] - out["peak_mb_before_workbook"]
    if sweep_points and lp.n_cols <= SWEEP_POINT_LIMIT:
        from bench.sweep import point_against_resolve

        out.update(point_against_resolve(scenario, sweep_points))
    return out


SWEEP_POINT_LIMIT = 60_000
"""Sizes up to this many variables also time a few sweep points (larger points take seconds each)."""


def child_help(runs: int) -> dict:
    """``stockpile --help`` as a planner runs it: the interpreter, the imports --help needs, the text."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "stockpile", "--help"], capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            return {"error": (done.stderr or done.stdout).strip().splitlines()[-1:], "times": times}
    return {"times": times, "median": statistics.median(times)}


def _with_memory(out: dict) -> dict:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss   # a CBC process
    out["peak_mb"] = max(own, children) / 1024.0
    return out


def lp_arrays(lp) -> dict:
    """The LP as the CSR arrays and dense vectors highspy takes (not timed: made beforehand)."""
    import itertools

    import numpy as np

    lengths = np.fromiter((len(cols) for cols in lp.row_cols), dtype=np.int64, count=lp.n_rows)
    start = np.zeros(lp.n_rows + 1, dtype=np.int32)
    np.cumsum(lengths, out=start[1:])
    nnz = int(start[-1])
    sense = np.array(lp.row_sense, dtype=object)
    rhs = np.array(lp.row_rhs, dtype=float)
    objectives = {}
    for name, terms in lp.objectives.items():
        cost = np.zeros(lp.n_cols)
        for col, coef in terms.items():
            cost[col] = coef
        objectives[name] = cost
    return {
        "n_cols": lp.n_cols, "n_rows": lp.n_rows,
        "col_lower": np.array(lp.col_lower, dtype=float), "col_upper": np.array(lp.col_upper, dtype=float),
        "row_lower": np.where(sense == "<=", -np.inf, rhs), "row_upper": np.where(sense == ">=", np.inf, rhs),
        "start": start,
        "index": np.fromiter(itertools.chain.from_iterable(lp.row_cols), dtype=np.int32, count=nnz),
        "value": np.fromiter(itertools.chain.from_iterable(lp.row_coefs), dtype=float, count=nnz),
        "objectives": objectives,
    }


def reference_solve(arrays: dict, method: str, relative_tolerance: float, absolute_tolerance: float,
                    time_limit: float) -> dict:
    """The same LP straight into a fresh highspy.Highs, solved the same way: the solver's limit.

    Timed: filling the HighsLp and passModel, then each stage's run (each stage sets its objective,
    scaled by a power of two as stockpile does, and stages 2 and 3 add the lexicographic row
    ``objective_k <= value_k + slack``, or ``<= 0`` for a zero optimum), and reading the solution. ``one_stage`` is the first stage alone (pass + run).
    """
    import highspy
    import numpy as np

    inf = highspy.kHighsInf
    n = arrays["n_cols"]
    started = time.perf_counter()
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("solver", method)
    highs.setOptionValue("time_limit", float(time_limit))
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = n, arrays["n_rows"]
    model.col_cost_ = arrays["objectives"].get("deficit", np.zeros(n))
    model.col_lower_ = np.clip(arrays["col_lower"], -inf, inf)
    model.col_upper_ = np.clip(arrays["col_upper"], -inf, inf)
    model.row_lower_ = np.clip(arrays["row_lower"], -inf, inf)
    model.row_upper_ = np.clip(arrays["row_upper"], -inf, inf)
    model.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    model.a_matrix_.start_ = arrays["start"]
    model.a_matrix_.index_ = arrays["index"]
    model.a_matrix_.value_ = arrays["value"]
    model.a_matrix_.num_col_, model.a_matrix_.num_row_ = n, arrays["n_rows"]
    highs.passModel(model)
    out = {"pass": time.perf_counter() - started, "stages": {}, "objectives": {}}
    all_cols = np.arange(n, dtype=np.int32)
    for k, name in enumerate(("deficit", "shortfall", "cost")):
        cost = arrays["objectives"].get(name, np.zeros(n))
        t = time.perf_counter()
        largest = float(np.max(np.abs(cost))) if n else 0.0
        scale = 2.0 ** -round(np.log2(largest)) if largest > 0 else 1.0  # as stockpile scales each stage
        highs.changeColsCost(n, all_cols, cost * scale)
        highs.run()
        status = highs.getModelStatus()
        x = np.asarray(highs.getSolution().col_value)
        out["stages"][name] = time.perf_counter() - t
        if status != highspy.HighsModelStatus.kOptimal:
            out["status"] = f"{name}: {highs.modelStatusToString(status)}"
            break
        value = float(cost @ x)
        out["objectives"][name] = value
        if k == 0:
            out["one_stage"] = time.perf_counter() - started
        if name != "cost":
            nz = np.flatnonzero(cost).astype(np.int32)
            slack = max(absolute_tolerance, relative_tolerance * abs(value))
            held_at_zero = abs(value) <= absolute_tolerance and np.all(cost[nz] > 0) and np.all(arrays["col_lower"][nz] >= 0)
            highs.addRow(-inf, 0.0 if held_at_zero else value + slack, len(nz), nz, cost[nz])
    else:
        out["status"] = "optimal"
    out["three_stages"] = time.perf_counter() - started
    return out


def child_reference(size: Size, method: str, time_limit: float, folder: Path) -> dict:
    from stockpile.model.build import build
    from stockpile.scenario.load import load_scenario

    scenario = load_scenario(scenario_file(size, folder))
    arrays = lp_arrays(build(scenario).lp)
    objective = scenario.objective
    out = reference_solve(arrays, method, objective.relative_tolerance, objective.absolute_tolerance,
                          time_limit)
    out["method"] = method
    return _with_memory(out)


def child_choose(repeats: int) -> dict:
    """Each solver on the baseline, ``repeats`` times (build and solve_model): median seconds of the solve.

    The baseline solves in hundredths of a second, so one run cannot tell the solvers apart.
    """
    import stockpile.solve.lexicographic as solve_module
    from stockpile.model.build import build
    from stockpile.scenario.load import load_scenario

    scenario = load_scenario(BASELINE)
    out = {}
    for solver in SOLVERS:
        times = []
        for _ in range(repeats):
            model = build(scenario)
            started = time.perf_counter()
            try:
                solve_module.solve_model(model, solver=solver)
            except Exception as exc:  # noqa: BLE001 - recorded, the others still run
                out[solver] = f"{type(exc).__name__}: {exc}"
                break
            times.append(time.perf_counter() - started)
        else:
            out[solver] = statistics.median(times)
    return out


def child_cli(runs: int) -> dict:
    """``stockpile solve`` on the baseline, workbook and JSON summary included, as a planner runs it."""
    times = []
    with tempfile.TemporaryDirectory(prefix="stockpile-bench-") as tmp:
        for _ in range(runs):
            command = [sys.executable, "-m", "stockpile", "solve", str(BASELINE), "-o", f"{tmp}/plan.xlsx",
                       "--json", f"{tmp}/summary.json", "--force"]
            started = time.perf_counter()
            done = subprocess.run(command, cwd=tmp, capture_output=True, text=True)
            times.append(time.perf_counter() - started)
            if done.returncode != 0:
                return {"error": (done.stderr or done.stdout).strip().splitlines()[-1:], "times": times}
    return {"times": times, "median": statistics.median(times), **_solve_imports(runs)}


SOLVE_IMPORTS = ("stockpile.cli.app", "stockpile.scenario.load", "stockpile.plan.pipeline", "stockpile.analysis.reach",
                 "stockpile.analysis.policy_costs", "stockpile.outputs.workbook.write", "stockpile.outputs.summary")
"""What ``stockpile solve -o --json`` imports before and while it works (its CLI and each stage's modules)."""


def _solve_imports(runs: int) -> dict:
    """Seconds, median of ``runs`` fresh processes: a bare interpreter (``python -c pass``), and
    importing what ``stockpile solve`` imports (:data:`SOLVE_IMPORTS`)."""
    code = ("import time; t = time.perf_counter(); " + "; ".join(f"import {m}" for m in SOLVE_IMPORTS)
            + "; print(time.perf_counter() - t)")
    bare, imports = [], []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - started)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            return {"imports_error": (done.stderr or done.stdout).strip().splitlines()[-1:]}
        imports.append(float(done.stdout.strip()))
    return {"interpreter": statistics.median(bare), "imports": statistics.median(imports)}


# ---------------------------------------------------------------------------------------------


def child(argv: list[str]) -> int:
    kind = argv[0]
    if kind == "cli":
        result = child_cli(int(argv[1]))
    elif kind == "help":
        result = child_help(int(argv[1]))
    elif kind == "choose":
        result = child_choose(int(argv[1]))
    else:
        size = next(s for s in SIZES if s.name == argv[1])
        if kind == "pipeline":
            result = child_pipeline(size, argv[2], float(argv[3]), Path(argv[4]), workbook=True)
        elif kind == "reference":
            result = child_reference(size, argv[2], float(argv[3]), Path(argv[4]))
        else:
            raise SystemExit(f"unknown child {kind!r}")
    print(json.dumps(result, default=str))
    return 0
