"""The benchmark's tables: one row per size, printed, as a README-ready markdown table, and as CSV."""

from __future__ import annotations

import csv
import json
import math
import os
import platform
from pathlib import Path

from bench.children import SOLVERS


def fmt(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    except OSError:
        pass
    import highspy

    h = highspy.Highs()
    return {"cores": os.cpu_count(), "cpu": cpu, "ram": ram, "python": platform.python_version(),
            "highs": f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"}


def fit_exponent(sizes: list[float], times: list[float]) -> float | None:
    """b in time = a x size^b, least squares on logs (None with fewer than three usable points)."""
    points = [(math.log(s), math.log(t)) for s, t in zip(sizes, times) if s and t and t > 0]
    if len(points) < 3:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else None


STAGES = ("load", "build", "pass", "solver_own", "read", "audit", "reach", "policy_costs", "workbook")
"""The whole command's stages, as ``stockpile solve -o`` runs them (imports apart)."""


def pipeline_total(r: dict) -> float:
    """The whole command: from loading the scenario to the workbook written, policy costs included."""
    return sum(r.get(k, 0.0) or 0.0 for k in STAGES)


def time_spent(run: dict) -> str:
    """How the whole command's time is spent, largest share first: "solver 61%, policy costs 22%, ..."."""
    total = pipeline_total(run)
    if total <= 0:
        return ""
    parts = {"solver": run.get("solver_own") or 0.0, "policy costs": run.get("policy_costs") or 0.0,
             "workbook": run.get("workbook") or 0.0, "load": run.get("load") or 0.0,
             "build + pass": (run.get("build") or 0.0) + (run.get("pass") or 0.0),
             "read + audit": (run.get("read") or 0.0) + (run.get("audit") or 0.0),
             "goals out of reach": run.get("reach") or 0.0}
    ranked = sorted(parts.items(), key=lambda item: -item[1])
    return ", ".join(f"{name} {100 * seconds / total:.0f}%" for name, seconds in ranked if seconds / total >= 0.01)


def row_of(run: dict, reference: dict, solver: str) -> dict:
    total = pipeline_total(run)
    non_solver = run["build"] + run["pass"] + run["read"] + run["audit"]
    ref3 = reference.get("three_stages") if reference.get("status") == "optimal" else None
    same = None
    if reference.get("objectives") and run.get("objectives"):
        same = all(math.isclose(run["objectives"][k], reference["objectives"].get(k, math.nan),
                                rel_tol=1e-6, abs_tol=1e-6) for k in run["objectives"])
    return {
        "variables": run["variables"], "rows": run["rows"], "nonzeros": run["nonzeros"], "solver": solver,
        "load_s": run["load"], "build_s": run["build"], "pass_s": run["pass"], "solver_s": run["solver_own"],
        "read_s": run["read"], "audit_s": run["audit"], "workbook_s": run.get("workbook"),
        "workbook_error": run.get("workbook_error", ""), "total_s": total, "peak_mb": run["peak_mb"],
        "ref_one_stage_s": reference.get("one_stage"), "ref_three_stages_s": ref3,
        "peak_mb_before_workbook": run.get("peak_mb_before_workbook"), "ref_peak_mb": reference.get("peak_mb"),
        "ref_status": reference.get("status", reference.get("error", "")),
        "same_objectives": same, "audit": run.get("audit_summary", ""),
        "total_over_ref": total / ref3 if ref3 else None,
        "non_solver_s": non_solver, "non_solver_share_of_solver": non_solver / run["solver_own"]
        if run["solver_own"] > 0 else None,
        "policies": run.get("policies"), "policy_costs_s": run.get("policy_costs"),
        "policy_costs_error": run.get("policy_costs_error", ""), "workbook_mb": run.get("workbook_mb"),
        "whole_over_solver": ratio(total, run["solver_own"]),
        "policy_costs_over_solver": ratio(run.get("policy_costs"), run["solver_own"]),
        "workbook_over_solver": ratio(run.get("workbook"), run["solver_own"]),
        "sweep_point_ms": 1e3 * run["sweep_point_s"] if run.get("sweep_point_s") else None,
        "sweep_highs_ms": 1e3 * run["sweep_highs_s"] if run.get("sweep_highs_s") else None,
        "sweep_point_over_resolve": ratio(run.get("sweep_point_s"), run.get("sweep_highs_s")),
        "sweep_whole_over_resolve": ratio(run.get("sweep_whole_s"), run.get("sweep_whole_highs_s")),
        "time_spent": time_spent(run),
    }


def ratio(part: float | None, whole: float | None) -> float | None:
    return part / whole if part is not None and whole else None


COLUMNS = [("size", "size"), ("variables", "vars"), ("solver", "solver"), ("load_s", "load"),
           ("build_s", "build"), ("pass_s", "pass"), ("solver_s", "solver"), ("read_s", "read"),
           ("audit_s", "audit"), ("workbook_s", "workbook"), ("total_s", "total"),
           ("peak_mb_before_workbook", "peak MB"), ("peak_mb", "with workbook"),
           ("ref_one_stage_s", "ref 1 stage"), ("ref_three_stages_s", "ref 3 stages"),
           ("total_over_ref", "total/ref"), ("non_solver_share_of_solver", "non-solver/solver")]

MARKDOWN = [("size", "size", 0), ("variables", "variables", 0), ("total_s", "whole command s", 2),
            ("solver_s", "solver s", 2), ("whole_over_solver", "whole / solver", 2),
            ("policy_costs_s", "policy costs s", 2), ("policy_costs_over_solver", "policy costs / solver", 2),
            ("workbook_s", "workbook s", 2), ("workbook_over_solver", "workbook / solver", 2),
            ("workbook_mb", "workbook +MB", 0), ("sweep_point_ms", "sweep point ms", 1),
            ("sweep_highs_ms", "HiGHS warm re-solve ms", 1), ("sweep_point_over_resolve", "point / re-solve", 1),
            ("sweep_whole_over_resolve", "whole sweep / re-solve", 1), ("time_spent", "how the time is spent", 0)]
"""The README's table: per size, what the planner waits for against the solver's own time."""


def markdown_table(rows: list[dict], info: dict, cli: dict, help_run: dict) -> str:
    """The README-ready table, with the machine and the two whole-command timings above it."""
    lines = [f"Measured on {info['cores']} cores ({info['cpu']}, {info['ram']} RAM), Python {info['python']}, "
             f"HiGHS {info['highs']}; whole command = load to workbook written, goals out of reach and policy "
             f"costs included (imports apart).", ""]
    if "median" in cli:
        parts = (f": the interpreter {cli['interpreter']:.2f} s, the imports {cli['imports']:.2f} s, then the "
                 f"baseline row's stages" if "imports" in cli else "")
        lines.append(f"- `stockpile solve scenarios/baseline.toml -o plan.xlsx --json summary.json`: "
                     f"{cli['median']:.2f} s (median of {len(cli['times'])}, imports included{parts})")
    if "median" in help_run:
        lines.append(f"- `stockpile --help`: {help_run['median']:.2f} s (median of {len(help_run['times'])})")
    lines += ["", "| " + " | ".join(h for _, h, _ in MARKDOWN) + " |",
              "|" + "|".join("---" if k in ("size", "time_spent") else "---:" for k, _, _ in MARKDOWN) + "|"]
    for r in rows:
        cells = [fmt(r.get(k), digits) if k != "variables" else fmt(r.get(k)) for k, _, digits in MARKDOWN]
        lines.append("| " + " | ".join(c if c else "-" for c in cells) + " |")
    return "\n".join(lines)


def print_tables(rows, info, cli, exponent, solver_exponent, elapsed) -> None:
    print()
    print("stockpile stage by stage (seconds) against the reference: the same LP straight into highspy")
    _print_table([[fmt(r.get(k), 0 if k.startswith("peak_mb") else 2) if k != "variables" else fmt(r.get(k))
                   for k, _ in COLUMNS] for r in rows], [h for _, h in COLUMNS])
    print()
    print("solvers through stockpile (pass + solver, three lexicographic stages, seconds)")
    _print_table([[r["size"], r.get("shape", ""), fmt(r.get("variables"))] +
                  [fmt(r.get(f"{s} s")) for s in SOLVERS] for r in rows],
                 ["size", "shape", "vars", "HiGHS simplex", "HiGHS IPM", "CBC"])
    print()
    if exponent is not None:
        print(f"non-solver time (build + pass + read + audit) grows as size^{exponent:.2f}; "
              f"the solver's as size^{solver_exponent:.2f}" if solver_exponent is not None else "")
    errors = {r["size"]: r["workbook_error"] for r in rows if r.get("workbook_error")}
    if errors:
        print(f"workbook not written: {errors}")
    failed = {r["size"]: r["audit"] for r in rows if r.get("audit") and not r["audit"].startswith("passed")}
    if failed:
        print(f"audit failures: {failed}")
    print(f"benchmark took {elapsed:.0f} s")


def _print_table(cells: list[list[str]], header: list[str]) -> None:
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for c in cells:
        print("  ".join(v.rjust(w) for v, w in zip(c, widths)))


def write_csv(path: Path, rows, info, cli, exponent, solver_exponent, elapsed, choice, help_run=None) -> None:
    keys: list[str] = []
    for r in rows:
        keys.extend(k for k in r if k not in keys)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=keys)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: r.get(k, "") for k in keys})
        handle.write(f"# machine: {json.dumps(info)}\n")
        handle.write(f"# stockpile solve baseline: {json.dumps(cli)}\n")
        handle.write(f"# stockpile --help: {json.dumps(help_run or {})}\n")
        handle.write(f"# solver choice on the baseline (median s): {json.dumps(choice)}\n")
        handle.write(f"# non-solver exponent: {exponent}; solver exponent: {solver_exponent}; "
                     f"benchmark seconds: {elapsed:.0f}\n")
