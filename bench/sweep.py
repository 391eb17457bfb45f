"""Sweep benchmark: a warm re-solve against a fresh build-and-solve, and the --workers 2 speed-up.

``python -m bench.sweep [--points N] [--quick]`` measures, in one run and on the same points (an
appropriation sweep), for the baseline and for a larger generated scenario:

* fresh: per point, build the LP from the point's scenario and solve it from scratch (three
  lexicographic stages), as a separate ``stockpile solve`` would;
* warm: per point, the sweep's own path: the point's LP patched from the first point's (only
  what the parameter moves rebuilt, :mod:`stockpile.analysis.sweep.patching`), then only bounds,
  right-hand sides and coefficients change in the one HiGHS model, each stage starting from the
  previous point's basis (fixed chunks);
* the whole point either way (with reading the plan back and auditing it) against HiGHS's own
  warm re-solve, and the sweep's wall time with ``--workers 1`` and ``--workers 2``, its processes
  started by spawn (the default) and by fork.

It prints a markdown table of ratios (point / re-solve; workers 1 / workers 2), never targets.
"""

from __future__ import annotations

import argparse
import os
import time

from stockpile.plan.audit import audit_plan
from stockpile.model.build import build
from stockpile.plan.read import read_plan
from stockpile.scenario.load import load_scenario, scenario_from_dict
from stockpile.scenario.schema import Scenario
from stockpile.solve.lexicographic import solve_model
from stockpile.analysis.sweep.patching import Footprint
from stockpile.analysis.sweep.points import apply_point, grid, parse_vary
from stockpile.analysis.sweep.readback import independently_audited
from stockpile.analysis.sweep.run import PointSolver, chunk_size, run_sweep

from .generate import generate, size_of

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


ROUNDS = 3
"""Each measurement is repeated and the median round kept: single rounds of a few milliseconds per
point vary by a fifth on a shared machine."""


def per_point(base: Scenario, spec: str) -> dict[str, float]:
    """Seconds per point of: fresh build-and-solve, the warm sweep (its whole time, and the points
    checked against their LP alone) and HiGHS's own re-solve in them (the median of
    :data:`ROUNDS` rounds, fresh and warm alternating)."""
    import statistics

    points = grid([parse_vary(spec)])
    rounds = [dict(fresh_round(base, points), **warm_round(base, points)) for _ in range(ROUNDS)]
    n, steady = len(points), max(rounds[0]["steady_points"], 1)
    per = {key: (steady if key.startswith("warm_steady") else n) for key in rounds[0] if key != "steady_points"}
    return {"points": n, **{key: statistics.median(r[key] for r in rounds) / per[key] for key in per}}


def fresh_round(base: Scenario, points) -> dict[str, float]:
    """Per point: build the LP and solve it from scratch (three stages), as ``stockpile solve`` would."""
    build_s = solve_s = rest_s = 0.0
    for point in points:
        scenario = apply_point(base, point)
        started = time.perf_counter()
        model = build(scenario)
        built = time.perf_counter()
        solution = solve_model(model)
        solved = time.perf_counter()
        audit_plan(scenario, read_plan(model, solution).tables)
        build_s += built - started
        solve_s += solved - built
        rest_s += time.perf_counter() - solved
    return {"fresh_build": build_s, "fresh_solve": solve_s, "fresh_rest": rest_s}


def warm_round(base: Scenario, points) -> dict[str, float]:
    """The sweep's own path, as ``run_sweep`` takes it on one process: the footprint found once,
    then per point its scenario, its LP patched from the first point's, patched into the one HiGHS
    model and solved from the previous point's basis (in the sweep's chunks), its row read back
    and checked (the independent audit on the first, middle and last points, the LP check on the
    others). Seconds in all: ``warm_point`` the whole sweep (footprint included), ``warm_steady``
    the points checked against their LP alone, ``warm_highs`` and ``warm_steady_highs`` HiGHS's
    own time in those solves; ``steady_points`` how many."""
    solver = PointSolver(base, "highs", None)
    size = chunk_size(len(points))
    sample = independently_audited(len(points))
    steady = steady_highs = 0.0
    started = time.perf_counter()
    footprint = Footprint.of(base, points)  # once per sweep: counted in the whole sweep's time
    for first in range(0, len(points), size):
        start = solver.base_start
        solver.backend.clear_solver()  # as solve_chunk does
        for k, point in enumerate(points[first:first + size], start=first):
            began, highs_before = time.perf_counter(), solver.solver_seconds
            row, start = solver.solve_point(point, start, footprint, k in sample)
            assert row["status"] == "optimal" and row["warm"], row
            if k not in sample:
                steady += time.perf_counter() - began
                steady_highs += solver.solver_seconds - highs_before
    return {"warm_point": time.perf_counter() - started, "warm_highs": solver.solver_seconds,
            "warm_steady": steady, "warm_steady_highs": steady_highs, "steady_points": len(points) - len(sample)}


def appropriation_spec(scenario: Scenario, points: int) -> str:
    """An appropriation sweep from 0 to 4x the scenario's largest FY appropriation."""
    appropriation = max(scenario.fund.appropriation.at(fy) for fy in scenario.fys) or 1e8
    return f"fund.appropriation=0:{4 * appropriation:.6g}:{points}"


def point_against_resolve(base: Scenario, points: int) -> dict[str, float]:
    """Seconds per point of a warm appropriation sweep against HiGHS's own re-solve in it (its
    run() alone): ``sweep_point_s`` a point checked against its LP (the sweep's usual point),
    ``sweep_whole_s`` the whole sweep per point (the footprint and the independently audited
    first, middle and last points included)."""
    measured = warm_round(base, grid([parse_vary(appropriation_spec(base, points))]))
    steady = max(measured["steady_points"], 1)
    return {"sweep_points": points, "sweep_point_s": measured["warm_steady"] / steady,
            "sweep_highs_s": measured["warm_steady_highs"] / steady,
            "sweep_whole_s": measured["warm_point"] / points, "sweep_whole_highs_s": measured["warm_highs"] / points}


def workers_speedup(base: Scenario, spec: str) -> tuple[float, float, float]:
    """Wall seconds of the whole sweep with --workers 1, with --workers 2 (spawn, the default),
    and with --workers 2 started by fork (nan where the platform has no fork)."""
    import multiprocessing

    from stockpile.analysis import executor

    points = grid([parse_vary(spec)])
    times = []
    for workers, method in ((1, "spawn"), (2, "spawn"), (2, "fork")):
        if method not in multiprocessing.get_all_start_methods():
            times.append(float("nan"))
            continue
        executor.START_METHOD = method
        try:
            started = time.perf_counter()
            run_sweep(base, points, workers=workers)
            times.append(time.perf_counter() - started)
        finally:
            executor.START_METHOD = "spawn"
    return times[0], times[1], times[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=41, help="points per case for the per-point figures")
    parser.add_argument("--speedup-points", type=int, default=200, help="points of the --workers sweeps")
    parser.add_argument("--quick", action="store_true", help="a few points, the baseline only, no --workers runs")
    args = parser.parse_args(argv)
    points = 8 if args.quick else args.points
    cases = [("baseline", load_scenario(os.path.join(ROOT, "scenarios", "baseline.toml")))]
    if not args.quick:
        raw = generate(materials=12, options=12, years=15, seed=1, name="generated 12 x 12 x 15")
        cases.append((f"generated ({size_of(raw)['variables']:,} variables)", scenario_from_dict(raw)))
    print(f"sweep benchmark: {points} appropriation levels per case ({args.speedup_points} for --workers), "
          f"{os.cpu_count()} cores")
    header = ("case", "HiGHS warm re-solve ms", "sweep point ms", "point / re-solve", "whole sweep per point ms",
              "whole / re-solve", "fresh point ms", "workers 1 s", "workers 2 s (spawn)", "workers 2 s (fork)",
              "speed-up spawn", "speed-up fork")
    rows = []
    for label, scenario in cases:
        m = per_point(scenario, appropriation_spec(scenario, points))
        whole_fresh = m["fresh_build"] + m["fresh_solve"] + m["fresh_rest"]
        nan = float("nan")
        one, spawn, fork = (workers_speedup(scenario, appropriation_spec(scenario, args.speedup_points))
                            if not args.quick else (nan, nan, nan))
        rows.append((label, f"{m['warm_steady_highs'] * 1e3:.1f}", f"{m['warm_steady'] * 1e3:.1f}",
                     f"{m['warm_steady'] / m['warm_steady_highs']:.2f}", f"{m['warm_point'] * 1e3:.1f}",
                     f"{m['warm_point'] / m['warm_highs']:.2f}", f"{whole_fresh * 1e3:.1f}", f"{one:.2f}",
                     f"{spawn:.2f}", f"{fork:.2f}", f"{one / spawn:.2f}" if spawn == spawn else "-",
                     f"{one / fork:.2f}" if fork == fork else "-"))
    print("| " + " | ".join(header) + " |")
    print("|---|" + "---:|" * (len(header) - 1))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print("sweep point: a point checked against its own LP (the sweep's usual point): its scenario, its LP "
          "patched from the sweep's first point (only what the parameter moves rebuilt), patched into the one "
          "HiGHS model, solved from the previous point's basis, its row read from the solution vector; HiGHS "
          "warm re-solve: HiGHS's own run() in it. Whole sweep per point: every point's time and the "
          "once-per-sweep work (the footprint, the independent audit of the first, middle and last points) "
          f"over the points, against HiGHS's time in all of them. Load average at the end: "
          f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
