"""How long ``stockpile --help`` takes, and what it imports (a measurement, never a test).

``python bench/cli_help.py [RUNS]`` runs ``python -m stockpile --help`` RUNS times (default 20)
in fresh processes, after two warm-up runs, and prints the median and the fastest wall time, the
same for a bare interpreter (``python -c pass``) so the figure can be read against the machine's
own start-up, their difference (what stockpile adds), and whether any of the heavy libraries the
commands defer (pandas, PuLP, highspy, openpyxl, pydantic, numpy) was imported. The target
(issue #16) is under 0.25 s; on a shared machine the figures move with the load, so read the
difference and the ratio, not one run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "pulp", "highspy", "openpyxl", "pydantic", "numpy")


def wall_times(args: list[str], runs: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times = []
    for i in range(runs + 2):
        started = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
        if i >= 2:  # two warm-up runs: the file cache, not stockpile, decides the first
            times.append(time.perf_counter() - started)
    return times


def heavy_imports() -> list[str]:
    """The deferred libraries that ``--help`` imported after all (should be none)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "stockpile", "--help"], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=True)
    found = set()
    for line in done.stderr.splitlines():
        name = line.rpartition("|")[2].strip()
        if name.split(".")[0] in HEAVY:
            found.add(name.split(".")[0])
    return sorted(found)


def main(runs: int = 20) -> int:
    help_times = wall_times([sys.executable, "-m", "stockpile", "--help"], runs)
    bare_times = wall_times([sys.executable, "-c", "pass"], runs)
    median, bare = statistics.median(help_times), statistics.median(bare_times)
    print(f"stockpile --help: median {median:.3f} s, fastest {min(help_times):.3f} s over {runs} runs")
    print(f"python -c pass:   median {bare:.3f} s, fastest {min(bare_times):.3f} s")
    print(f"stockpile adds {median - bare:.3f} s (median), {median / bare:.1f}x a bare interpreter; "
          f"target: under 0.25 s in all")
    heavy = heavy_imports()
    print("deferred libraries imported by --help: " + (", ".join(heavy) if heavy else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
