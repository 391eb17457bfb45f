"""Attacks: hostile numbers, names, files and workbooks each end in a plan that passes its audit
(exit 0), a clean "no plan" (exit 1) or a message naming the file and the key or sheet!cell
(exit 2), within seconds: never a traceback, never exit 3 ("a defect in stockpile").

Each class is one generator of cases run in-process (the command line through typer's runner
where the message or exit code is the point); ``CASE_COUNTS`` below is what the closing note
quotes. Workbook bombs are also read in a child process to bound its memory.
"""

from __future__ import annotations

import copy
import json
import math
import os
import signal
import struct
import subprocess
import sys
import tomllib
import zlib
from contextlib import contextmanager
from pathlib import Path

import pytest

from stockpile.outputs.excel.sheet import named_ranges
from typer.testing import CliRunner

from stockpile.cli.app import app
from stockpile.errors import AuditError, InputError, SolveError
from stockpile.plan.pipeline import plan_scenario
from stockpile.scenario.data import DEFAULT_DATA_DIR, FILES, load_data
from stockpile.scenario.limits import MAX_WORKBOOK_CELLS
from stockpile.scenario.load import load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "stockpile" / "examples" / "example.toml"
RAW = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
runner = CliRunner()
SECONDS_PER_CASE = 10

HOSTILE_NUMBERS = [math.nan, math.inf, -math.inf, 1e308, -1e308, -0.0, 1e-320, 10**30, -(10**30), ""]
HOSTILE_NAMES = ["Anti\x1bmony", "\x1b[31mred\x1b[0m", "a\x00b", "S\rb", "S\nb", "tab\there", "Example \ufffe",
                 "\uffff", "evil\u202eexe.txt", "\u2066isolate", "x" * 10_000, "\ud800", " padded", "\x7f", "\x85"]
FRIENDLY_NAMES = ["Ünïcødé ✓ 名前", "العربية", "=SUM(A1:A9)", "+1 -2 @x", "'quoted' \"double\"", "a;b,c|d\\e"]


@contextmanager
def deadline(seconds: float = SECONDS_PER_CASE):
    """Fail (instead of hanging) a case that takes longer than ``seconds``."""
    def expired(signum, frame):
        raise TimeoutError(f"took over {seconds} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def key_path(path: tuple) -> str:
    """A raw path as the key path errors name: list positions from 1 in brackets."""
    text = ""
    for part in path:
        text += f"[{part + 1}]" if isinstance(part, int) else ("." if text else "") + str(part)
    return text


def numeric_leaves(value, path=()):
    """Every number in the scenario (booleans are not numbers here), with its path."""
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from numeric_leaves(item, path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from numeric_leaves(item, path + (i,))


def with_value(raw: dict, path: tuple, value) -> dict:
    changed = copy.deepcopy(raw)
    target = changed
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return changed


def outcome(raw: dict, solve: bool = True) -> str:
    """"valid" (solved and audited, or no plan, exit 1) or "refused" (exit 2); anything else fails."""
    try:
        scenario = scenario_from_dict(raw, source="attack.toml")
    except InputError:
        raise
    if solve:
        try:
            plan_scenario(scenario)
        except SolveError:
            return "no plan"
    return "valid"


NUMBER_CASES = [(path, value) for path in numeric_leaves(RAW) for value in HOSTILE_NUMBERS]
NAME_PATHS = [("name",), ("materials", "Sb", "name"), ("supply", 0, "name"), ("recycling", 0, "name"),
              ("events", "china-sb-ban", "country"), ("policy", "trusted_tags", 0)]
NAME_CASES = [(path, name) for path in NAME_PATHS for name in HOSTILE_NAMES]
KEY_CASES = [(table, name) for table in ("countries", "events", "materials") for name in HOSTILE_NAMES]


def test_hostile_numbers_in_every_numeric_field() -> None:
    """nan, inf, +-1e308, -0.0, 1e-320, huge ints and empty strings in each numeric field: refused
    naming that key, or accepted and then solved to a plan that passes its audit."""
    assert len(NUMBER_CASES) > 500
    tally = {"refused": 0, "valid": 0, "no plan": 0}
    for path, value in NUMBER_CASES:
        with deadline():
            try:
                result = outcome(with_value(RAW, path, value))
            except InputError as exc:
                wheres = [e.where or "" for e in getattr(exc, "errors", [exc])]
                expected = key_path(path)
                assert any(expected.startswith(w) or w.startswith(expected) for w in wheres if w), \
                    f"{expected}={value!r}: the error names {wheres}"
                result = "refused"
            except AuditError as exc:  # pragma: no cover - the point of the test
                pytest.fail(f"{key_path(path)}={value!r} was accepted and its plan failed the audit: {exc}")
        tally[result] += 1
    assert tally["refused"] > tally["valid"] > 0


def test_values_at_the_stated_ranges_solve_and_pass_their_audit() -> None:
    """The extremes README's reliability section states, alone and together, in both objective
    modes: each is accepted and its plan passes the audit (the ranges are what the model solves)."""
    from stockpile.scenario import schema
    from stockpile.scenario.series import MAX_MAGNITUDE, MIN_MAGNITUDE

    n = len(RAW["supply"])
    extremes = [[(("supply", i, "price"), schema.MAX_PRICE) for i in range(n)] + [(("prices",), {"multiplier": 10.0})],
                [(("supply", i, "capacity"), MAX_MAGNITUDE) for i in range(n)] + [(("fund", "appropriation"), 1e12)],
                [(("materials", "Sb", "goal"), MIN_MAGNITUDE), (("supply", 0, "price"), MIN_MAGNITUDE)],
                [(("objective", "mode"), "weighted"), (("objective", "shortfall_weight"), schema.MAX_SHORTFALL_WEIGHT),
                 (("objective", "deficit_weight"), schema.MAX_DEFICIT_WEIGHT),
                 (("materials", "Sb", "weight"), schema.MAX_MATERIAL_WEIGHT)],
                [(("objective", "mode"), "weighted"), (("objective", "deficit_weight"), schema.MIN_DEFICIT_WEIGHT),
                 (("objective", "shortfall_weight"), schema.MAX_SHORTFALL_WEIGHT),
                 (("materials", "Sb", "weight"), schema.MAX_MATERIAL_WEIGHT)]]
    for edits in extremes:
        raw = RAW
        for path, value in edits:
            raw = with_value(raw, path, value)
        with deadline():
            assert outcome(raw) in ("valid", "no plan"), edits


def test_hostile_names_are_refused_with_their_key_path() -> None:
    for path, name in NAME_CASES:
        with deadline():
            with pytest.raises(InputError) as caught:
                outcome(with_value(RAW, path, name), solve=False)
        wheres = [e.where or "" for e in getattr(caught.value, "errors", [caught.value])]
        assert any(key_path(path).startswith(w) for w in wheres if w), (path, name, wheres)
        assert "\x1b" not in str(caught.value.where or "")


def test_hostile_keys_are_refused_and_printed_escaped() -> None:
    """A country, event or material key holding a control character is refused; the key path in the
    message shows it escaped, so the terminal never receives a raw ESC, NUL or bidi control."""
    for table, name in KEY_CASES:
        raw = copy.deepcopy(RAW)
        source = {"countries": [], "events": raw["events"]["china-sb-ban"], "materials": raw["materials"]["Sb"]}
        raw[table][name] = source[table]
        with deadline(), pytest.raises(InputError) as caught:
            scenario_from_dict(raw, source="attack.toml")
        message = "\n".join(e.message for e in getattr(caught.value, "errors", [caught.value]))
        from stockpile.scenario.text import terminal_safe

        assert terminal_safe(message) == message or "\n" in name or "\t" in name, (table, name)


def test_cli_messages_never_carry_terminal_escapes(tmp_path: Path) -> None:
    scenario = tmp_path / "escape.toml"
    scenario.write_text(EXAMPLE.read_text(encoding="utf-8").replace(
        'name = "Antimony"', 'name = "Anti\\u001bmony"\n"\\u001b[31mbad\\u0000key" = 1'), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 2
    assert "\x1b" not in result.output and "\x00" not in result.output and "\\x1b" in result.output


def test_friendly_names_round_trip_through_the_workbook(tmp_path: Path) -> None:
    """Unusual but printable names (accents, CJK, Arabic, formula-like) come back from the workbook
    exactly, and verify passes the audit on them."""
    raw = with_value(RAW, ("name",), FRIENDLY_NAMES[0])
    raw = with_value(raw, ("materials", "Sb", "name"), FRIENDLY_NAMES[1])
    for i, name in enumerate(FRIENDLY_NAMES[2:]):
        raw = with_value(raw, ("supply", i, "name"), name)
    scenario = scenario_from_dict(raw)
    plan = plan_scenario(scenario)
    from stockpile.outputs.workbook.read import read_workbook
    from stockpile.outputs.workbook.write import write_workbook

    path = tmp_path / "names.xlsx"
    write_workbook(plan, path)
    again, tables = read_workbook(path)
    assert again == scenario
    assert set(tables["orders"].option) <= {o.name for o in scenario.options}
    assert runner.invoke(app, ["verify", str(path)]).exit_code == 0


# --------------------------------------------------------------------------- files that are not files

def hostile_files(folder: Path) -> dict[str, Path]:
    """Paths that are not readable regular files of a sane size."""
    fifo = folder / "fifo.toml"
    os.mkfifo(fifo)
    loop = folder / "loop.toml"
    loop.symlink_to(folder / "loop2.toml")
    (folder / "loop2.toml").symlink_to(loop)
    big = folder / "big.toml"
    with big.open("wb") as handle:
        handle.truncate(63_000_000)  # sparse: instant to make, 63 MB to read
    (folder / "folder.toml").mkdir()
    zero = folder / "zero.toml"
    zero.symlink_to("/dev/zero")
    return {"fifo": fifo, "symlink loop": loop, "63 MB": big, "folder": folder / "folder.toml",
            "/dev/zero": Path("/dev/zero"), "link to /dev/zero": zero, "/dev/null": Path("/dev/null"),
            "long path": folder / ("x" * 300 + ".toml"), "missing": folder / "missing.toml"}


def test_scenario_and_extends_targets_that_are_not_files(tmp_path: Path) -> None:
    files = hostile_files(tmp_path)
    cases = 0
    for label, path in files.items():
        with deadline(5):
            with pytest.raises(InputError):
                load_scenario(path)
        child = tmp_path / f"child-{cases}.toml"
        target = str(path) if path.is_absolute() and label.startswith("/dev") else path.name
        child.write_text(f'extends = {json.dumps(target)}\nname = "child"\n', encoding="utf-8")
        with deadline(5):  # a hang guard, not a timing: a FIFO or /dev/zero once blocked forever
            with pytest.raises(InputError) as caught:
                load_scenario(child)
        assert caught.value.file is not None, label
        cases += 2
    child = tmp_path / "nul.toml"
    child.write_text('extends = "a\\u0000b"\nname = "child"\n', encoding="utf-8")
    with pytest.raises(InputError, match="extends"):
        load_scenario(child)


def test_workbooks_that_are_not_files(tmp_path: Path) -> None:
    """An input workbook (a scenario named .xlsx) and a compared plan that are a FIFO, a folder,
    a symlink loop or /dev/zero behind an .xlsx name: exit 2 naming the file, never a hang (the
    input-workbook reader once opened a FIFO and waited for a writer)."""
    fifo = tmp_path / "fifo.xlsx"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.xlsx"
    loop.symlink_to(tmp_path / "loop2.xlsx")
    (tmp_path / "loop2.xlsx").symlink_to(loop)
    (tmp_path / "folder.xlsx").mkdir()
    zero = tmp_path / "zero.xlsx"
    zero.symlink_to("/dev/zero")
    for path in (fifo, loop, tmp_path / "folder.xlsx", zero):
        for args in (["validate", str(path)], ["compare", str(path), str(EXAMPLE)]):
            with deadline(5):  # a hang guard, not a timing
                result = runner.invoke(app, args)
            assert result.exit_code == 2, (args, result.output)
            assert str(path) in result.output and "Traceback" not in result.output


def test_data_files_that_are_not_files(tmp_path: Path) -> None:
    """Each data CSV replaced in turn by a FIFO, /dev/zero, a symlink loop, a folder or 63 MB."""
    import shutil

    for kind in ("fifo", "zero", "loop", "folder", "big"):
        data = tmp_path / kind
        shutil.copytree(DEFAULT_DATA_DIR, data)
        victim = data / f"{next(iter(FILES))}.csv"
        victim.unlink()
        if kind == "fifo":
            os.mkfifo(victim)
        elif kind == "zero":
            victim.symlink_to("/dev/zero")
        elif kind == "loop":
            victim.symlink_to(victim)
        elif kind == "folder":
            victim.mkdir()
        else:
            with victim.open("wb") as handle:
                handle.truncate(63_000_000)
        with deadline(5), pytest.raises(InputError) as caught:
            load_data(data)
        assert victim.name in str(caught.value), kind
        if kind == "big":
            assert "limited to 5,000,000 bytes" in str(caught.value)  # refused by the cap, not after reading it


def test_outputs_that_are_not_regular_files_are_never_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "plan.xlsx"
    os.mkfifo(fifo)
    target = tmp_path / "real.json"
    target.write_text("keep me")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    (tmp_path / "folder.xlsx").mkdir()
    for args in (["-o", str(fifo)], ["--json", str(link)], ["--json", "/dev/null"], ["-o", str(tmp_path / "folder.xlsx")],
                 ["-o", str(tmp_path / "missing" / "plan.xlsx")], ["-o", str(tmp_path / ("x" * 300 + ".xlsx"))]):
        result = runner.invoke(app, ["solve", str(EXAMPLE), *args, "--force"])
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
    assert fifo.is_fifo() and link.is_symlink() and target.read_text() == "keep me"
    assert Path("/dev/null").is_char_device()


@pytest.mark.parametrize("errno_code, words", [(30, "read-only"), (13, "permission denied"), (28, "no space")])
def test_unwritable_folders_are_refused_before_solving(tmp_path: Path, monkeypatch, errno_code, words) -> None:
    """EROFS, EACCES and ENOSPC on the first write in the folder: exit 2 naming the file, before any
    solve (the machine's tests run as root, so the errors are injected where the OS raises them)."""
    from stockpile.outputs import files

    def refuse(*args, **kwargs):
        raise OSError(errno_code, os.strerror(errno_code))

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    solved = []
    monkeypatch.setattr("stockpile.plan.pipeline.solve_scenario", lambda *a, **k: solved.append(1))
    result = runner.invoke(app, ["solve", str(EXAMPLE), "-o", str(tmp_path / "plan.xlsx")])
    assert result.exit_code == 2 and words in result.output and "plan.xlsx" in result.output
    assert not solved


def test_small_ones() -> None:
    result = runner.invoke(app, ["solve", str(EXAMPLE), "--time-limit", "inf", "--json", "-"])
    assert result.exit_code == 2 and "--time-limit" in result.output
    from stockpile.analysis import executor

    ran = executor.run_tasks(math.sqrt, [(4.0,), (9.0,)], lambda i, r: None, workers=40)
    assert ran.startswith("2 processes"), ran


# --------------------------------------------------------------------------- hostile workbooks

@pytest.fixture(scope="module")
def plan_workbook(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("plan") / "plan.xlsx"
    result = runner.invoke(app, ["solve", str(EXAMPLE), "-o", str(path), "--no-policy-costs"])
    assert result.exit_code == 0, result.output
    return path


def _table(wb, name: str):
    """A plan table's sheet and cells, by the name the writer gave it (a defined name)."""
    ws, ref = named_ranges(wb)[name]
    return ws, list(ws[ref])


def _set_scenario(wb, text):
    ws = wb["_scenario"]
    for row in ws.iter_rows():
        for cell in row:
            cell.value = None
    ws["A1"] = text


def _horizon_shorter(wb):
    ws = wb["_scenario"]
    text = "".join(row[0] or "" for row in ws.iter_rows(values_only=True))
    raw = json.loads(text)
    raw["horizon"]["last_fy"] -= 1
    _set_scenario(wb, json.dumps(raw))


def _fy_header(value):
    def edit(wb):
        _, cells = _table(wb, "Fund")
        cells[0][1].value = value
    return edit


def _cell_edit(table: str, row: int, label: str, value):
    def edit(wb):
        _, cells = _table(wb, table)
        column = [c.value for c in cells[0]].index(label)
        cells[row][column].value = value
    return edit


WORKBOOK_EDITS = {
    "scenario not JSON": lambda wb: _set_scenario(wb, "{not json"),
    "scenario empty": lambda wb: _set_scenario(wb, None),
    "scenario a number": lambda wb: _set_scenario(wb, 42),
    "scenario a JSON list": lambda wb: _set_scenario(wb, "[1, 2]"),
    "scenario deeply nested": lambda wb: _set_scenario(wb, "[" * 20_000 + "]" * 20_000),
    "header renamed": _cell_edit("Orders", 0, "Tonnes", "Tons"),
    "header duplicated": _cell_edit("Orders", 0, "Option", "Material"),
    "text in a tonnes cell": _cell_edit("Orders", 1, "Tonnes", "lots"),
    "a bool in a tonnes cell": _cell_edit("Orders", 1, "Tonnes", True),
    "material renamed in a table": _cell_edit("Orders", 1, "Material", "S\nb"),
    "FY text in the FY column": _cell_edit("Orders", 1, "FY", "FYabc"),
    "Fund label changed": _cell_edit("Fund", 1, "Item ($M)", "Opening"),
    "blank FY header": _fy_header(None),
    "FYabc header": _fy_header("FYabc"),
    "horizon changed": _horizon_shorter,
}


def edited_workbooks(plan_workbook: Path, folder: Path, edits: dict) -> dict[str, Path]:
    """One file per edit, from one loaded copy: each edit is saved, then every value it could
    have touched (the embedded scenario, the Orders and Fund sheets) is put back."""
    from openpyxl import load_workbook
    from openpyxl.cell.cell import MergedCell

    wb = load_workbook(plan_workbook)
    sheets = {"_scenario", _table(wb, "Orders")[0].title, _table(wb, "Fund")[0].title}
    saved = {(title, cell.coordinate): cell.value for title in sheets for row in wb[title].iter_rows() for cell in row
             if not isinstance(cell, MergedCell)}
    paths = {}
    for label, edit in edits.items():
        edit(wb)
        paths[label] = folder / f"{label.replace(' ', '-')}.xlsx"
        wb.save(paths[label])
        for title in sheets:
            for row in wb[title].iter_rows():
                for cell in row:
                    if not isinstance(cell, MergedCell):
                        cell.value = saved.get((title, cell.coordinate))
    return paths


COMPARED_EDITS = ("scenario not JSON", "header renamed", "text in a tonnes cell", "horizon changed")
"""compare reads each side with the same reader as verify; these edits also go through compare."""


def test_edited_workbooks_exit_2_naming_sheet_and_cell(plan_workbook: Path, tmp_path: Path) -> None:
    """Each edit a planner might make: verify (and compare, for a few) exits 2 with the sheet!cell
    (or the embedded scenario's cell), no traceback."""
    for label, path in edited_workbooks(plan_workbook, tmp_path, WORKBOOK_EDITS).items():
        runs = [["verify", str(path)]] + ([["compare", str(plan_workbook), str(path)]] if label in COMPARED_EDITS else [])
        for args in runs:
            with deadline():
                result = runner.invoke(app, args)
            assert result.exit_code == 2, (label, args[0], result.output)
            assert "!" in result.output or "embedded scenario" in result.output, (label, result.output)
            assert isinstance(result.exception, (SystemExit, type(None))), label


def test_a_tampered_number_fails_verify_and_compare(plan_workbook: Path, tmp_path: Path) -> None:
    """A plausible number changed: verify's audit fails (exit 3, as documented for verify), and
    compare refuses the tampered side (exit 2) instead of comparing it as sound."""
    path = edited_workbooks(plan_workbook, tmp_path, {"tampered": _cell_edit("Orders", 1, "Tonnes", 1e6)})["tampered"]
    assert runner.invoke(app, ["verify", str(path)]).exit_code == 3
    result = runner.invoke(app, ["compare", str(plan_workbook), str(path)])
    assert result.exit_code == 2 and "fails its audit" in result.output


def _zip(path: Path, parts: list[tuple[str, bytes, int, int]]) -> None:
    """A zip written by hand: (name, deflated data, declared inflated size, crc) per part, so a
    part can claim any size (a bomb, or one that lies)."""
    body, directory = b"", b""
    for name, data, size, crc in parts:
        encoded = name.encode()
        offset = len(body)
        body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data), size, len(encoded), 0)
        body += encoded + data
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(data), size,
                                 len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(parts), len(parts), len(directory), len(body), 0)
    path.write_bytes(body + directory + end)


def _deflated_whitespace(mebibytes: int) -> bytes:
    """Deflate data inflating to ``mebibytes`` MiB of spaces, built in milliseconds: after a full
    flush a deflate stream forgets its history, so one compressed MiB repeats."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(b" " * (1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(b" " * (1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return block + again * (mebibytes - 1) + compressor.flush()


def workbook_bombs(folder: Path) -> dict[str, Path]:
    header = b'<?xml version="1.0"?><worksheet><sheetData>'
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    cells = header + b"<row>" + b"<c/>" * (MAX_WORKBOOK_CELLS + 10) + b"</row></sheetData></worksheet>"
    many_cells = compressor.compress(cells) + compressor.flush()
    bombs = {
        "3.9 GiB of whitespace": [("xl/worksheets/sheet1.xml", _deflated_whitespace(3900), 3900 << 20, 0)],
        "lies about its size": [("xl/worksheets/sheet1.xml", _deflated_whitespace(300), 1000, 0)],
        "over two million cells": [("xl/worksheets/sheet1.xml", many_cells, len(cells), zlib.crc32(cells))],
        "not a zip": None,
    }
    paths = {}
    for label, parts in bombs.items():
        path = folder / f"{label.replace(' ', '-')}.xlsx"
        if parts is None:
            path.write_bytes(b"PK\x03\x04 not really")
        else:
            _zip(path, parts)
        paths[label] = path
    return paths


def test_workbook_bombs_are_refused_fast_and_small(tmp_path: Path) -> None:
    """Each bomb: verify exits 2 naming the file, refused from the zip's directory or the cell count
    (the alarm is a hang guard; measured: milliseconds); read in a child process, the whole of it
    (Python, imports, the refusals) stays under 200 MB."""
    for label, path in workbook_bombs(tmp_path).items():
        with deadline():
            result = runner.invoke(app, ["verify", str(path)])
        assert result.exit_code == 2 and path.name in result.output, (label, result.output)
    script = ("import resource, sys\nfrom stockpile.errors import InputError\n"
              "from stockpile.outputs.workbook.read import read_workbook\n"
              "for path in sys.argv[1:]:\n    try:\n        read_workbook(path)\n    except InputError:\n        pass\n"
              "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    (tmp_path / "again").mkdir()
    child = subprocess.run([sys.executable, "-c", script, *map(str, workbook_bombs(tmp_path / "again").values())],
                           capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert child.returncode == 0, child.stderr
    assert int(child.stdout.split()[-1]) < 200_000, f"{child.stdout} kB"  # ru_maxrss is in kB on Linux


CASE_COUNTS = {"numbers": len(NUMBER_CASES), "names": len(NAME_CASES) + len(KEY_CASES) + len(FRIENDLY_NAMES),
               "files": 2 * 9 + 1 + 5 + 6 + 3, "workbooks": len(WORKBOOK_EDITS) + len(COMPARED_EDITS) + 2 + 2 * 4, "small": 2}
"""Cases per class, for the closing note (files: scenario and extends targets, data CSVs, outputs
and unwritable folders; workbooks: each edit through verify and compare, a tampered number, bombs)."""

