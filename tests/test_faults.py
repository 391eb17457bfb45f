"""Faults: kill -9 and Ctrl-C at any point leave every output either the old file or the whole new
one, never a temporary file for good, and ``sweep --resume`` after any interruption gives the
uninterrupted table byte for byte.

Most kill points are simulated in-process (a results file cut at a byte offset is exactly what a
kill leaves: the file is appended to, so it is always a prefix of the whole run's); a few real
``kill -9`` and SIGINT runs of the command line check the same on real processes.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from stockpile.analysis.sweep.points import grid, parse_vary
from stockpile.analysis.sweep.run import chunk_size, run_sweep
from stockpile.outputs.files import write_outputs
from stockpile.outputs.workbook.read import read_workbook
from stockpile.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "stockpile" / "examples" / "example.toml"
VARY = "fund.appropriation=-1:2e9:12"
"""12 points in 3 chunks of 4; the first point (a negative appropriation) fails validation, so the
first row written is a failed one, which once gave the CSV a header without the KPI columns."""
SEED = 19


@pytest.fixture(scope="module")
def sweep_setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("whole")
    base, points = load_scenario(EXAMPLE), grid([parse_vary(VARY)])
    whole = folder / "whole.csv"
    result = run_sweep(base, points, workers=1, results=whole)
    return base, points, whole.read_bytes(), result.table


def temporaries(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.tmp*"))


def test_first_point_failed_header_has_every_kpi_column(sweep_setup) -> None:
    base, points, whole, table = sweep_setup
    header, _, second = list(csv.reader(io.StringIO(whole.decode())))[:3]
    assert table.status.iloc[0] == "failed" and (table.status.iloc[1:] == "optimal").all()
    for column in ["total_deficit", "weighted_shortfall", "end_fund_balance", "shortfall_Sb", "warm", "row_check"]:
        assert column in header
    assert second[header.index("status")] == "optimal" and second[header.index("total_deficit")] != ""


def cut_offsets(whole: bytes, count: int) -> list[int]:
    """Byte offsets a kill can leave: nothing, inside and at the end of the header, at each row
    boundary, and at random places inside rows (in quoted text, in a number, before the check)."""
    ends = [i + 1 for i, b in enumerate(whole) if b == ord("\n")]
    rng = random.Random(SEED)
    inside = rng.sample(range(1, len(whole)), count)
    chunk_ends = ends[::4]  # the header's end and every chunk's last row
    mid_rows = [(a + b) // 2 for a, b in zip(ends, ends[1:])][::3]
    return sorted({0, 5, *chunk_ends, *mid_rows, *inside, len(whole) - 3})


def test_resume_after_any_cut_equals_the_uninterrupted_table(sweep_setup, tmp_path: Path) -> None:
    """Each cut is resumed; the file and the table must come out identical to the whole run."""
    base, points, whole, table = sweep_setup
    offsets = cut_offsets(whole, 3)
    assert len(offsets) >= 12
    kept_counts = set()
    for offset in offsets:
        results = tmp_path / "cut.csv"
        results.write_bytes(whole[:offset])
        resumed = run_sweep(base, points, workers=1, results=results, resume=True)
        assert results.read_bytes() == whole, f"cut at byte {offset}"
        assert resumed.table.equals(table), f"cut at byte {offset}"
        assert resumed.reused % chunk_size(len(points)) == 0 and resumed.reused + resumed.solved == len(points)
        kept_counts.add(resumed.reused)
        assert not temporaries(tmp_path)
    assert kept_counts == {0, 4, 8, 12}  # every chunk boundary was among the cuts


def test_a_torn_row_is_dropped_and_solved_again(sweep_setup, tmp_path: Path) -> None:
    """A row cut inside a number (0.52510 for 0.5251005...) still parses as CSV: only its check
    tells it is torn; its chunk is solved again."""
    base, points, whole, _ = sweep_setup
    lines = whole.decode().splitlines(keepends=True)
    torn = "".join(lines[:1 + 8]) + lines[9][:len(lines[9]) // 2]
    results = tmp_path / "torn.csv"
    results.write_text(torn, encoding="utf-8")
    resumed = run_sweep(base, points, workers=1, results=results, resume=True)
    assert resumed.reused == 8 and resumed.solved == 4
    assert results.read_bytes() == whole


def test_an_edited_row_is_solved_again(sweep_setup, tmp_path: Path) -> None:
    base, points, whole, _ = sweep_setup
    text = whole.decode()
    lines = text.splitlines(keepends=True)
    lines[3] = lines[3].replace("optimal", "optimaL", 1)
    results = tmp_path / "edited.csv"
    results.write_text("".join(lines), encoding="utf-8")
    resumed = run_sweep(base, points, workers=1, results=results, resume=True)
    assert resumed.reused == 8 and results.read_bytes() == whole


def test_write_outputs_is_all_or_nothing(tmp_path: Path) -> None:
    """The second output's writer fails (a full disk): the first output is not replaced either."""
    first, second = tmp_path / "plan.xlsx", tmp_path / "plan.json"
    first.write_bytes(b"old workbook")
    second.write_bytes(b"old summary")

    def full_disk(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    from stockpile.errors import InputError

    with pytest.raises(InputError, match="plan.json.*no space left.*no output was changed"):
        write_outputs([(first, lambda tmp: tmp.write_bytes(b"new workbook")), (second, full_disk)], force=True)
    assert first.read_bytes() == b"old workbook" and second.read_bytes() == b"old summary"
    assert not temporaries(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        write_outputs([(first, lambda tmp: tmp.write_bytes(b"new")), (second, lambda tmp: _interrupt())], force=True)
    assert first.read_bytes() == b"old workbook" and not temporaries(tmp_path)
    assert write_outputs([(first, lambda tmp: tmp.write_bytes(b"new workbook")),
                          (second, lambda tmp: tmp.write_bytes(b"new summary"))], force=True) == [first, second]
    assert first.read_bytes() == b"new workbook" and second.read_bytes() == b"new summary"


def _interrupt() -> None:
    raise KeyboardInterrupt


def test_ctrl_c_during_the_renames_is_held_and_reported(tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C between two renames: the renames finish, and the interrupt names both files."""
    from stockpile.outputs import files

    first, second = tmp_path / "a.xlsx", tmp_path / "b.json"
    real_replace = os.replace
    calls = []

    def replace_then_ctrl_c(src, dst):
        real_replace(src, dst)
        if not calls:
            calls.append(dst)
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(files.os, "replace", replace_then_ctrl_c)
    with pytest.raises(files.OutputsInterrupted) as caught:
        write_outputs([(first, lambda tmp: tmp.write_bytes(b"1")), (second, lambda tmp: tmp.write_bytes(b"2"))])
    assert caught.value.written == [first, second]
    assert first.read_bytes() == b"1" and second.read_bytes() == b"2"


def test_stale_temporaries_of_a_killed_run_are_removed(tmp_path: Path) -> None:
    """Only files of stockpile's own temporary pattern for that output, older than this process and
    not locked by a live writer, are removed."""
    output = tmp_path / "plan.xlsx"
    stale = tmp_path / ".plan.abcd1234.tmp.xlsx"
    other = tmp_path / ".plan.notours.tmp.xlsx"
    mine = tmp_path / ".budget.abcd1234.tmp.xlsx"
    for path in (stale, other, mine):
        path.write_bytes(b"left by a kill")
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    write_outputs([(output, lambda tmp: tmp.write_bytes(b"plan"))])
    assert not stale.exists() and other.exists() and mine.exists()


def _run(args: list[str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "stockpile", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, cwd=ROOT, **kwargs)


def _stockpile_started(process: subprocess.Popen) -> bool:
    """True once the command runs stockpile's own code (pydantic's extension is loaded by then):
    before that, during the interpreter's own start-up (site, .pth files), Python itself answers
    Ctrl-C with a traceback, which no program can prevent."""
    try:
        return "pydantic_core" in Path(f"/proc/{process.pid}/maps").read_text()
    except OSError:
        return True


def _wait_for(condition, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None and not condition():
        time.sleep(0.02)


def test_killed_and_interrupted_cli_sweeps_resume_to_the_same_bytes(sweep_setup, tmp_path: Path) -> None:
    """kill -9 before the first chunk and after one, SIGINT with two workers; each then resumed."""
    _, points, whole, _ = sweep_setup
    size = chunk_size(len(points))
    csv_path = tmp_path / "sweep.csv"
    base_args = ["sweep", str(EXAMPLE), "--vary", VARY, "--csv", str(csv_path)]
    # (tests/test_sweep.py kills one after its first chunks)
    cases = [("KILL", lambda: csv_path.exists(), ["--workers", "1"]),  # header only: before the first chunk
             ("INT", lambda: csv_path.exists() and csv_path.read_bytes().count(b"\n") > 1 + size, ["--workers", "2"])]
    for number, (how, ready, extra) in enumerate(cases):
        csv_path.unlink(missing_ok=True)
        process = _run(base_args + extra)
        _wait_for(ready, process)
        os.killpg(process.pid, signal.SIGKILL if how == "KILL" else signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
        assert "Traceback" not in stderr, stderr
        if how == "INT":
            assert process.returncode in (0, 130), stderr
        resumed = _run(base_args + ["--workers", "1", "--resume"])
        out, err = resumed.communicate(timeout=300)
        assert resumed.returncode == 0, err
        assert csv_path.read_bytes() == whole, f"case {number}"
        assert not temporaries(tmp_path)


def _whole_outputs(workbook: Path, summary: Path) -> tuple[bool, bool]:
    """(workbook is a whole new plan, summary is a whole new summary); raises if either is neither
    the old bytes nor whole."""
    new_workbook = workbook.read_bytes() != b"old workbook"
    if new_workbook:
        with zipfile.ZipFile(workbook) as archive:
            assert archive.testzip() is None
        read_workbook(workbook)
    new_summary = summary.read_bytes() != b"old summary"
    if new_summary:
        assert "headline" in json.loads(summary.read_text(encoding="utf-8"))
    return new_workbook, new_summary


def test_killed_and_interrupted_solves_leave_old_or_whole_new_outputs(tmp_path: Path) -> None:
    """kill -9 and SIGINT at random moments of ``solve -o --json --force``: each output is the old
    file or the whole new one; a later run leaves no temporary file behind."""
    workbook, summary = tmp_path / "plan.xlsx", tmp_path / "plan.json"
    args = ["solve", str(EXAMPLE), "-o", str(workbook), "--json", str(summary), "--force", "--no-policy-costs"]
    rng = random.Random(SEED)
    start = time.monotonic()
    reference = _run(args)
    reference.communicate(timeout=300)
    assert reference.returncode == 0
    duration = time.monotonic() - start
    outcomes = []
    # SIGINT first: its run must leave no temporary of its own, and a killed run's leftovers (which
    # only the next run's preflight removes) would be there if it came after a kill.
    for how in ("INT", "KILL", "KILL"):
        workbook.write_bytes(b"old workbook")
        summary.write_bytes(b"old summary")
        process = _run(args)
        delay = rng.uniform(0.2, duration)
        if how == "INT":
            _wait_for(lambda: _stockpile_started(process), process)
        time.sleep(delay)
        os.killpg(process.pid, signal.SIGKILL if how == "KILL" else signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
        if how == "INT":
            assert "Traceback" not in stderr, stderr
            assert not temporaries(tmp_path)
        outcomes.append(_whole_outputs(workbook, summary))
    final = _run(args)
    final.communicate(timeout=300)
    assert final.returncode == 0 and _whole_outputs(workbook, summary) == (True, True)
    assert not temporaries(tmp_path), "a killed run's temporary was not cleaned up"


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_outputs_honour_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    """Atomic writing keeps the permissions any new file gets (0644 under umask 022), for a new
    file and for one replaced with --force."""
    import stat

    output = tmp_path / "plan.json"
    previous = os.umask(umask)
    try:
        write_outputs([(output, lambda tmp: tmp.write_text("{}"))])
        assert stat.S_IMODE(output.stat().st_mode) == mode
        write_outputs([(output, lambda tmp: tmp.unlink() or tmp.write_text("{}"))], force=True)  # a writer re-creating it
        assert stat.S_IMODE(output.stat().st_mode) == mode
    finally:
        os.umask(previous)


def test_dash_is_standard_output(capfdbinary) -> None:
    assert write_outputs([("-", lambda tmp: tmp.write_bytes(b'{"ok": true}\n'))]) == ["-"]
    assert capfdbinary.readouterr().out.endswith(b'{"ok": true}\n')
