"""The benchmark: stockpile's time and memory at each size, against the solver's own limit.

``python -m bench`` (or ``python bench/run.py``) runs, for each size from the baseline up to
about 500,000 variables (scenarios from :mod:`bench.generate`):

* **stockpile**, stage by stage, in a fresh process per run: load and validate the scenario file,
  build the LP, pass it to the solver (everything in ``solve_model`` that is not the solver's
  own ``run``: the sparse arrays, objectives, lexicographic rows, reading the solution), the
  solver's own time, read the plan back, audit it, write the workbook; and the process's peak
  memory (``ru_maxrss``);
* **the reference**: the same LP, as CSR arrays made beforehand, passed to a fresh
  ``highspy.Highs`` and solved the same way (same method; one stage, then the three
  lexicographic stages with the same tolerance rows): the solver's own limit;
* **the solvers**: the whole pipeline with HiGHS simplex (``highs``), HiGHS interior point
  (``highs-ipm``) and CBC, each capped (a solver over its cap at one size is skipped at larger
  ones). The headline row of each size is the fastest solver's run.

It prints two tables and writes them as one CSV under ``bench/results/``, with the ratio of
stockpile's end-to-end time to the reference, the share of non-solver time in the solver's
time, and the exponent of non-solver time against model size. Also times ``stockpile solve``
on the baseline (workbook and JSON included) as a planner runs it. ``--quick`` runs the two
smallest sizes only. Timings are measurements, never assertions: nothing here is a test.

Children run two at a time (one per core of the 2-core machine the targets name): the solvers'
pipelines of one size, then its reference; at a size where one solver is left, its pipeline and
the reference run side by side. A solver's cap is a wall clock on its solve (SIGALRM), so the
largest sizes only run what can finish. On a shared machine the figures move with the load.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):   # run as ``python bench/run.py``: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.children import METHOD, QUICK, ROOT, SIZES, SOLVERS, child, scenario_file  # noqa: E402
from bench.report import (fit_exponent, fmt, machine, markdown_table, pipeline_total, print_tables,  # noqa: E402
                          row_of, write_csv)

RESULTS = Path(__file__).resolve().parent / "results"
SIZE_SETS = {"small": "baseline,10k", "nds": "baseline,10k,50k"}
"""Named subsets for --sizes: ``small`` for a loaded machine, ``nds`` up to the 50-material case."""




# ---------------------------------------------------------------------------------------------
# The parent: runs the children, keeps the clock, prints and writes the tables

def _run_children(jobs: list[tuple[list[str], float]], workers: int = 2) -> list[dict]:
    """Run ``python -m bench.run --child ...`` for each (args, timeout), in order, ``workers`` at a time.

    One child per core: the machine the targets name has two. Each child has its own process
    group, ended whole (with any CBC it started) when it is done, times out, or is stopped by its
    cap; its output goes to files, so a chatty child never blocks. Returns each child's JSON, or
    an error, in the order of ``jobs``.
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    results: list[dict | None] = [None] * len(jobs)
    waiting = list(range(len(jobs)))
    running: list[tuple[int, subprocess.Popen, float, object, object]] = []
    with tempfile.TemporaryDirectory(prefix="stockpile-bench-out-") as tmp:
        while waiting or running:
            while waiting and len(running) < workers:
                k = waiting.pop(0)
                out, err = open(f"{tmp}/{k}.out", "w+"), open(f"{tmp}/{k}.err", "w+")
                process = subprocess.Popen([sys.executable, "-m", "bench.run", "--child", *jobs[k][0]],
                                           cwd=ROOT, env=env, stdout=out, stderr=err, text=True,
                                           start_new_session=True)
                running.append((k, process, time.perf_counter(), out, err))
            time.sleep(0.02)
            for entry in list(running):
                k, process, began, out, err = entry
                timed_out = time.perf_counter() - began > jobs[k][1]
                if process.poll() is None and not timed_out:
                    continue
                _end_group(process)
                process.wait()
                running.remove(entry)
                out.seek(0), err.seek(0)
                stdout, stderr = out.read(), err.read()
                out.close(), err.close()
                results[k] = _child_result(process.returncode, stdout, stderr, jobs[k][1] if timed_out else None)
    return results


def _child_result(returncode: int, stdout: str, stderr: str, timed_out: float | None) -> dict:
    if timed_out is not None:
        return {"error": f"killed after {timed_out:.0f} s"}
    if returncode == -signal.SIGALRM:
        return {"status": "over cap", "over_cap": True}
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if returncode != 0 or not lines:
        tail = (stderr or stdout).strip().splitlines()[-3:]
        return {"error": f"exit {returncode}: {' | '.join(tail)}"}
    return json.loads(lines[-1])


def _end_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the two smallest sizes only (a smoke run)")
    parser.add_argument("--sizes", help=f"comma-separated subset of {', '.join(s.name for s in SIZES)}, or a set: "
                                        f"{', '.join(f'{k} ({v})' for k, v in SIZE_SETS.items())}")
    parser.add_argument("--cap", type=float, default=20.0,
                        help="seconds (wall) the solve may take with HiGHS simplex or CBC at one size; over it, "
                             "that solver is skipped at larger sizes (default 20)")
    parser.add_argument("--ipm-cap", type=float, default=480.0, help="the same for HiGHS interior point (default 480)")
    parser.add_argument("--solvers", default=",".join(SOLVERS), help="solvers to compare (default: all three)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the CSV (default bench/results)")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return child(args.child)

    sizes = QUICK if args.quick else SIZES
    if args.sizes:
        wanted = SIZE_SETS.get(args.sizes, args.sizes).split(",")
        sizes = tuple(s for s in SIZES if s.name in wanted)
    solvers = tuple(args.solvers.split(","))
    caps = {"highs": args.cap, "highs-pulp": args.cap, "cbc": args.cap, "highs-ipm": args.ipm_cap}
    started = time.perf_counter()
    info = machine()
    print(f"stockpile benchmark on {info['cores']} cores, {info['cpu']}, {info['ram']} RAM; "
          f"Python {info['python']}, HiGHS {info['highs']}", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="stockpile-bench-"))
    cli = _run_children([(["cli", "3"], 180.0)])[0]
    if "median" in cli:
        print(f"stockpile solve on the baseline (workbook and JSON included), 3 runs: "
              f"median {cli['median']:.2f} s ({', '.join(f'{t:.2f}' for t in cli['times'])})", flush=True)
    else:
        print(f"stockpile solve on the baseline failed: {cli.get('error')}", flush=True)

    help_run = _run_children([(["help", "3"], 120.0)])[0]
    if "median" in help_run:
        print(f"stockpile --help, 3 runs: median {help_run['median']:.2f} s", flush=True)

    choice = _run_children([(["choose", "7"], 300.0)])[0]
    timed = {s: t for s, t in choice.items() if isinstance(t, float)}
    if timed:
        print("solver choice on the baseline (median of 7 solves, three stages): " +
              ", ".join(f"{s} {t * 1000:.1f} ms" for s, t in sorted(timed.items(), key=lambda item: item[1])) +
              "".join(f"; {s}: {v}" for s, v in choice.items() if not isinstance(v, float)) +
              f" -> {_verdict(timed)}" + (" (within 5% of the default: a tie)"
                                          if _verdict(timed) != min(timed, key=timed.get) else " (fastest)"),
              flush=True)

    rows: list[dict] = []
    over_cap: dict[str, str] = {}
    expected: dict[str, float] = {}
    previous_best = _verdict(timed) if timed else "highs"
    for size in sizes:
        scenario_file(size, folder)   # generated once, before the children (not timed)
        active = [s for s in solvers if s not in over_cap]
        runs: dict[str, dict] = {s: {"skipped": over_cap[s]} for s in solvers if s in over_cap}
        pipeline = lambda s: (["pipeline", size.name, s, str(caps[s]), str(folder)], caps[s] * 2 + 600)  # noqa: E731
        reference_for = lambda method: (["reference", size.name, method, str(caps["highs-ipm"] * 4),  # noqa: E731
                                         str(folder)], caps["highs-ipm"] * 4 + 600)
        # Two children at a time, longest expected first: the solvers' pipelines, then the reference
        # for the method that was fastest at the previous size (run again below if another wins).
        active.sort(key=lambda s: -expected.get(s, math.inf))
        guess = METHOD[previous_best]
        results = _run_children([pipeline(s) for s in active] + [reference_for(guess)])
        runs.update(zip(active, results))
        ref = results[-1]
        for solver in active:
            result = runs[solver]
            if result.get("status") != "optimal":
                over_cap[solver] = f"skipped (> {caps[solver]:.0f} s at {size.name})" if result.get("over_cap") \
                    else f"skipped (failed at {size.name})"
            print(f"  {size.name:>8} {solver:<10} " + (
                f"solver {result['solver_own']:.2f} s, pipeline {pipeline_total(result):.2f} s" +
                ("" if result.get("audit_ok") else f"; AUDIT FAILED: {result.get('audit_summary', '')[:140]}")
                if result.get("status") == "optimal" else
                (f"> {caps[solver]:.0f} s" if result.get("over_cap") else
                 str(result.get("status") or result.get("error"))[:160])), flush=True)
        finished = {s: r for s, r in runs.items() if r.get("status") == "optimal"}
        row: dict = {"size": size.name, "shape": size.label}
        for solver in SOLVERS:
            r = runs.get(solver, {})
            row[f"{solver} s"] = ((r["pass"] + r["solver_own"]) if r.get("status") == "optimal" else
                                  f"> {caps[solver]:.0f}" if r.get("over_cap") else
                                  r.get("skipped") or ("failed" if r else "not run"))
        if not finished:
            row["solver"] = "none finished"
            rows.append(row)
            continue
        audited = {s: r for s, r in finished.items() if r.get("audit_ok")} or finished
        best = min(audited, key=lambda s: audited[s]["solver_own"] + audited[s]["pass"])
        if size.name == "baseline" and timed and _verdict(timed) in audited:
            best = _verdict(timed)   # by the repeated measurement, not one noisy run
        if METHOD[best] != ref.get("method"):
            ref = _run_children([reference_for(METHOD[best])])[0]
        previous_best = best
        expected = {s: (r["pass"] + r["solver_own"]) if r.get("status") == "optimal" else caps[s]
                    for s, r in runs.items() if s in active}
        row.update(row_of(finished[best], ref, best))
        rows.append(row)
        print(f"  {size.name:>8} reference ({METHOD[best]}): one stage {fmt(ref.get('one_stage'))} s, "
              f"three stages {fmt(ref.get('three_stages'))} s ({ref.get('status', ref.get('error'))})",
              flush=True)

    elapsed = time.perf_counter() - started
    generated = [r for r in rows if r.get("non_solver_s") is not None]
    exponent = fit_exponent([r["variables"] for r in generated], [r["non_solver_s"] for r in generated])
    solver_exponent = fit_exponent([r["variables"] for r in generated], [r["solver_s"] for r in generated])
    print_tables(rows, info, cli, exponent, solver_exponent, elapsed)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = args.out / f"bench-{stamp}.csv"
    write_csv(path, rows, info, cli, exponent, solver_exponent, elapsed, choice, help_run)
    print("\nwhat the planner waits for (README-ready):\n")
    print(markdown_table(rows, info, cli, help_run))
    (args.out / "latest.csv").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    print(f"\nresults: {path} (and {args.out / 'latest.csv'})")
    return 0


def _verdict(timed: dict[str, float], default: str = "highs", margin: float = 0.05) -> str:
    """The fastest solver, unless the default is within ``margin`` of it (then the default: a tie)."""
    fastest = min(timed, key=timed.get)
    if default in timed and timed[default] <= timed[fastest] * (1 + margin):
        return default
    return fastest


if __name__ == "__main__":
    sys.exit(main())
