"""Hedge benchmark: a tree of sampled futures of the baseline, phase by phase.

``python -m bench.hedge [--futures 500] [--workers 2]`` takes ``scenarios/hedge-sampled.toml``
with ``--futures`` futures drawn from its seed and measures, in one run, ``stockpile hedge``'s
phases: drawing the futures, building the deterministic-equivalent LP, each lexicographic stage
of its solve (HiGHS interior point above 20,000 columns), reading and auditing every future's
plan, the measures (each future solved alone twice, for WS and EEV) on ``--workers`` processes,
and the workbook; then the measures again on one process. It prints the phases, the solver's
share, the workers' speed-up (a ratio) and the total against the 10-minute budget of
``python -m bench``, and peak memory.
"""

from __future__ import annotations

import argparse
import copy
import os
import resource
import tempfile
import time
from pathlib import Path

from stockpile.analysis.hedge.tree import _evaluate_futures, build_hedge, futures_of, hedge
from stockpile.analysis.hedge.workbook import write_hedge_workbook
from stockpile.scenario.load import load_scenario, scenario_from_dict
from stockpile.scenario.schema import to_plain

ROOT = Path(__file__).resolve().parent.parent
BUDGET_SECONDS = 600


def sampled_tree(futures: int):
    base = load_scenario(ROOT / "scenarios" / "hedge-sampled.toml")
    raw = copy.deepcopy(to_plain(base))
    raw["uncertainty"]["sample"]["n"] = futures
    raw["name"] = f"{base.name} ({futures} futures)"
    return scenario_from_dict(raw, source=f"hedge-sampled.toml with {futures} futures")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--futures", type=int, default=500)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)

    scenario = sampled_tree(args.futures)
    timings: dict[str, float] = {}
    result = hedge(scenario, workers=args.workers, timings=timings)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        write_hedge_workbook(result, Path(folder) / "hedge.xlsx")
        timings["workbook"] = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    futures = futures_of(scenario)
    model = build_hedge(scenario, futures, scenario.uncertainty.decision_fy)
    started = time.perf_counter()
    serial = _evaluate_futures(model, scenario, futures, None, None, 1, None)
    serial_seconds = time.perf_counter() - started

    solution = result.solution
    total = sum(timings.values())
    labels = {"futures": "draw the futures", "build": "build the tree LP", "solve": "solve (3 stages)",
              "plans": "read and audit every future's plan",
              "measures": f"measures: every future alone twice, {args.workers} processes", "workbook": "workbook"}
    print(f"hedge benchmark: {args.futures} sampled futures of the baseline, {os.cpu_count()} cores; tree LP "
          f"{model.lp.n_cols:,} columns x {model.lp.n_rows:,} rows; {solution.solver_version}")
    for key, label in labels.items():
        print(f"  {label:<48} {timings[key]:7.1f} s")
        if key == "solve":
            for name, run in solution.stages:
                print(f"    stage {name:<42} {run.seconds:7.1f} s")
    print(f"  {'measures on 1 process (for the ratio)':<48} {serial_seconds:7.1f} s")
    solver_seconds = sum(run.seconds for _, run in solution.stages)
    print(f"total: {total:.1f} s, {total / BUDGET_SECONDS:.0%} of the {BUDGET_SECONDS} s budget; "
          f"the solver's share {solver_seconds / total:.0%}")
    print(f"measures: {serial_seconds / timings['measures']:.2f}x faster on {args.workers} processes "
          f"({result.executor})")
    print(f"peak memory {peak_mb:,.0f} MB; plans audited: {sum(p.audit.ok for p in result.plans.values())} "
          f"of {len(result.plans)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
