"""Sweep benchmark: a warm re-solve against a fresh build-and-solve, and the --workers 2 speed-up.

``python -m bench.sweep [--points N] [--quick]`` measures, in one run and on the same points (an
appropriation sweep), for the baseline and for a larger generated scenario:

* fresh: per point, build the LP from the point's scenario and solve it from scratch (three
  lexicographic stages), as a separate ``stockpile solve`` would;
* warm: per point, the sweep's own path: only bounds, right-hand sides and coefficients change in
  the one HiGHS model, each stage starting from the previous point's basis (fixed chunks);
* the whole point either way (with reading the plan back and auditing it), and the sweep's wall
  time with ``--workers 1`` and ``--workers 2``.

It prints ratios (warm / fresh; workers 1 / workers 2), never absolute targets.
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
from stockpile.solve.lexicographic import add_lexicographic_rows, solve_model
from stockpile.analysis.sweep.points import apply_point, grid, parse_vary
from stockpile.analysis.sweep.run import PointSolver, chunk_size, run_sweep

from .generate import generate, size_of

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


ROUNDS = 3
"""Each measurement is repeated and the median round kept: single rounds of a few milliseconds per
point vary by a fifth on a shared machine."""


def per_point(base: Scenario, spec: str) -> dict[str, float]:
    """Seconds per point of: fresh build-and-solve, warm re-solve, and each whole point (the
    median of :data:`ROUNDS` rounds, fresh and warm alternating)."""
    import statistics

    points = grid([parse_vary(spec)])
    rounds = [dict(fresh_round(base, points), **warm_round(base, points)) for _ in range(ROUNDS)]
    n = len(points)
    return {"points": n, **{key: statistics.median(r[key] for r in rounds) / n for key in rounds[0]}}


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
    """The sweep's own path: the point's changes patched into the one HiGHS model, each stage from
    the previous point's basis, in the sweep's chunks."""
    solver = PointSolver(base, "highs", None)
    build_s = solve_s = rest_s = highs_s = 0.0
    size = chunk_size(len(points))
    for first in range(0, len(points), size):
        bases, no_deficit = solver.base_start
        solver.backend.clear_solver()
        for point in points[first:first + size]:
            scenario = apply_point(base, point)
            started = time.perf_counter()
            model = build(scenario)
            add_lexicographic_rows(model.lp)
            built = time.perf_counter()
            assert model.lp.same_shape(solver.loaded)
            solver.backend.patch(solver.loaded, model.lp)
            solver.loaded = model.lp
            solution = solve_model(model, backend=solver.backend, start_bases=bases, no_deficit_hint=no_deficit)
            bases, no_deficit = solution.bases, solver.had_no_deficit(solution)
            solved = time.perf_counter()
            highs_s += sum(run.seconds for _, run in solution.stages)
            audit_plan(scenario, read_plan(model, solution).tables)
            build_s += built - started
            solve_s += solved - built
            rest_s += time.perf_counter() - solved
    return {"warm_build": build_s, "warm_solve": solve_s, "warm_rest": rest_s, "warm_highs": highs_s}


def appropriation_spec(scenario: Scenario, points: int) -> str:
    """An appropriation sweep from 0 to 4x the scenario's largest FY appropriation."""
    appropriation = max(scenario.fund.appropriation.at(fy) for fy in scenario.fys) or 1e8
    return f"fund.appropriation=0:{4 * appropriation:.6g}:{points}"


def point_against_resolve(base: Scenario, points: int) -> dict[str, float]:
    """Seconds per point of a warm appropriation sweep: the whole point (the point's LP built and
    patched in, solved, read back, audited) and HiGHS's own re-solve in it (its run() alone)."""
    measured = warm_round(base, grid([parse_vary(appropriation_spec(base, points))]))
    whole = measured["warm_build"] + measured["warm_solve"] + measured["warm_rest"]
    return {"sweep_points": points, "sweep_point_s": whole / points, "sweep_highs_s": measured["warm_highs"] / points}


def workers_speedup(base: Scenario, spec: str) -> tuple[float, float]:
    points = grid([parse_vary(spec)])
    times = []
    for workers in (1, 2):
        started = time.perf_counter()
        run_sweep(base, points, workers=workers)
        times.append(time.perf_counter() - started)
    return times[0], times[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=41)
    parser.add_argument("--quick", action="store_true", help="a few points, the baseline only")
    args = parser.parse_args(argv)
    points = 8 if args.quick else args.points
    cases = [("baseline", load_scenario(os.path.join(ROOT, "scenarios", "baseline.toml")))]
    if not args.quick:
        raw = generate(materials=12, options=12, years=15, seed=1, name="generated 12 x 12 x 15")
        cases.append((f"generated ({size_of(raw)['variables']:,} variables)", scenario_from_dict(raw)))
    print(f"sweep benchmark: {points} appropriation levels per case, {os.cpu_count()} cores")
    header = ("case", "fresh build+solve ms", "warm re-solve ms", "ratio", "whole point fresh ms",
              "whole point warm ms", "ratio", "workers 1 s", "workers 2 s", "speed-up")
    rows = []
    for label, scenario in cases:
        spec = appropriation_spec(scenario, points)
        m = per_point(scenario, spec)
        fresh = m["fresh_build"] + m["fresh_solve"]
        warm = m["warm_solve"]  # the LP is patched, not rebuilt: building the point's LP is shown apart
        whole_fresh = fresh + m["fresh_rest"]
        whole_warm = m["warm_build"] + m["warm_solve"] + m["warm_rest"]
        one, two = workers_speedup(scenario, spec) if not args.quick else (float("nan"), float("nan"))
        rows.append((label, f"{fresh * 1e3:.1f}", f"{warm * 1e3:.1f}", f"{warm / fresh:.2f}",
                     f"{whole_fresh * 1e3:.1f}", f"{whole_warm * 1e3:.1f}", f"{whole_warm / whole_fresh:.2f}",
                     f"{one:.2f}", f"{two:.2f}", f"{one / two:.2f}" if two == two else "-"))
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
    print("warm re-solve: bounds, right-hand sides and coefficients patched into the one HiGHS model, each "
          "stage from the previous point's basis; the point's LP is still built in Python to find what "
          "changed (counted in 'whole point').")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
