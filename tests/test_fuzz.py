"""Fuzzing the readers: mutated scenario and data files end in a clean error or a valid plan.

Seeded mutations of the shipped scenario files (and the packaged example) and of the data CSVs:
truncation, byte flips and insertions, other encodings, huge numbers, NaN and infinity, wrong types,
deeply nested tables and arrays, 10 MB strings, unknown keys, out-of-range FYs, duplicated and
deleted lines, broken ``extends``. Each file is read in-process by ``load_scenario`` or
``load_data``; the outcome must be an :class:`~stockpile.errors.InputError` with a message, or a
valid result (a scenario is then built into its LP, and some are solved: a plan or a clean
:class:`~stockpile.errors.StockpileError`), each within a few seconds. A few go through the command
line in a separate process with a memory limit. Also here: the limits on what a scenario may ask
for (horizon, materials, options, tiers, lead times, file size), each with a clear message.
"""

from __future__ import annotations

import os
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from functools import lru_cache
from pathlib import Path

import pytest
from typer.testing import CliRunner

import stockpile.scenario.defaults
from stockpile.scenario import schema as scenario_module
from stockpile.cli.app import app
from stockpile.scenario.data import DEFAULT_DATA_DIR, FILES, load_data
from stockpile.errors import InputError, StockpileError
from stockpile.model.build import build
from stockpile.plan.pipeline import plan_scenario
from stockpile.scenario.load import load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
EXAMPLE = ROOT / "stockpile" / "examples" / "example.toml"
SCENARIO_CASES = 900
DATA_CASES = 300
SECONDS_PER_CASE = 5.0
runner = CliRunner()

NUMBER = re.compile(rb"(?<![\w.\"'])-?\d+(?:\.\d+)?(?:e-?\d+)?(?![\w\"'])")
STRANGE_NUMBERS = [b"1e308", b"1e400", b"-1e308", b"99999999999999999999999999", b"nan", b"inf", b"-inf",
                   b"-0.0", b"0", b"-1", b"1e-320", b"0x7fffffff", b"1_000_000_000_000", b'"12"', b"true",
                   b"[1, 2]", b"{}", b"2027-01-01"]


def _nest(kind: str, depth: int) -> bytes:
    if kind == "array":
        return b"deep = " + b"[" * depth + b"1" + b"]" * depth + b"\n"
    if kind == "inline":
        return b"deep = " + b"{a = " * depth + b"1" + b"}" * depth + b"\n"
    return b"[" + b".".join(b"t%d" % i for i in range(depth)) + b"]\nx = 1\n"


def mutate(text: bytes, rng: random.Random) -> bytes:
    """One seeded mutation of a file's bytes (sometimes two stacked)."""
    kind = rng.randrange(16)
    lines = text.split(b"\n")
    if kind == 0:  # truncated
        return text[: rng.randrange(len(text) + 1)]
    if kind == 1:  # flipped bytes
        data = bytearray(text)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if kind == 2:  # inserted random bytes
        at = rng.randrange(len(text) + 1)
        return text[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 40))) + text[at:]
    if kind == 3:  # other encodings
        decoded = text.decode("utf-8", errors="replace") + "\n# déjà vu — ünïcödé\n"
        return decoded.encode(rng.choice(["utf-16", "utf-32", "latin-1", "cp1252", "utf-8-sig"]), errors="replace")
    if kind in (4, 5, 6):  # a number replaced by something strange
        matches = list(NUMBER.finditer(text))
        if not matches:
            return text + b"\nx = nan\n"
        for m in rng.sample(matches, min(len(matches), rng.randint(1, 3))):
            text = text[: m.start()] + rng.choice(STRANGE_NUMBERS) + text[m.end():]
            break
        return text
    if kind == 7:  # deeply nested tables or arrays
        return text + b"\n" + _nest(rng.choice(["array", "inline", "table"]), rng.choice([50, 600, 5000, 100_000]))
    if kind == 8:  # a huge string
        size = rng.choice([10_000_000, 10_000_000, 6_000_000, 100_000])
        return b'description = "' + b"x" * size + b'"\n' + text
    if kind == 9:  # a line deleted or duplicated
        i = rng.randrange(len(lines))
        if rng.random() < 0.5:
            del lines[i]
        else:
            lines.insert(i, lines[i])
        return b"\n".join(lines)
    if kind == 10:  # lines swapped
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines)
    if kind == 11:  # a key renamed
        keys = [i for i, line in enumerate(lines) if b"=" in line and not line.lstrip().startswith(b"#")]
        if keys:
            i = rng.choice(keys)
            lines[i] = b"zz" + lines[i].lstrip()
        return b"\n".join(lines)
    if kind == 12:  # an FY out of range or malformed
        return re.sub(rb"20[2-4]\d", lambda m: rng.choice([b"20400", b"FY99", b"1949", b"2201", b"-2027",
                                                          b"\"FY2030\"", b"2027.5"]), text, count=rng.randint(1, 3))
    if kind == 13:  # the wrong shape: a table where a value was, or the reverse
        keys = [i for i, line in enumerate(lines) if b"=" in line and not line.lstrip().startswith(b"#")]
        if keys:
            i = rng.choice(keys)
            name = lines[i].split(b"=")[0]
            lines[i] = name + rng.choice([b"= { ramp = {} }", b"= []", b"= {2027 = {}}", b"= [[1]]", b'= "x"',
                                          b"= { ramp = { 2027 = 1, ramp = 2 } }"])
        return b"\n".join(lines)
    if kind == 14:  # a broken extends
        return rng.choice([b'extends = "nowhere.toml"\n', b"extends = 3\n", b'extends = "fuzz.toml"\n',
                           b'extends = ""\n', b'extends = "/"\n']) + re.sub(rb"(?m)^extends.*$", b"", text)
    return mutate(mutate(text, rng), rng)  # two stacked


@lru_cache(maxsize=1)
def _data():
    return load_data()


@pytest.fixture
def cached_data(monkeypatch):
    """Scenario fuzzing reads data/ once (the data readers are fuzzed on their own below)."""
    monkeypatch.setattr(stockpile.scenario.defaults, "load_data", lambda *a, **k: _data())


def _outcome(load, path: Path) -> str:
    """``load(path)``: "error" (a clean InputError), or the result, which must be valid."""
    started = time.perf_counter()
    try:
        result = load(path)
    except InputError as exc:
        message = str(exc)
        assert message and len(message) < 200_000, "an error message must be short enough to read"
        outcome = "error"
    else:
        outcome = result
    assert time.perf_counter() - started < SECONDS_PER_CASE, f"{path.name} took too long"
    return outcome


def test_mutated_scenario_files_end_in_a_clean_error_or_a_valid_plan(tmp_path: Path, cached_data) -> None:
    sources = [EXAMPLE] * 4 + SCENARIOS  # the example is quick to read: most mutations go to it
    for source in SCENARIOS:
        shutil.copy(source, tmp_path / source.name)
    counts = {"error": 0, "valid": 0, "solved": 0, "no plan": 0}
    for case in range(SCENARIO_CASES):
        rng = random.Random(case)
        source = rng.choice(sources)
        path = tmp_path / "fuzz.toml"
        path.write_bytes(mutate(source.read_bytes(), rng))
        outcome = _outcome(load_scenario, path)
        if outcome == "error":
            counts["error"] += 1
            continue
        counts["valid"] += 1
        started = time.perf_counter()
        model = build(outcome)
        assert model.lp.n_cols > 0
        if case % 10 == 0:
            try:
                plan = plan_scenario(outcome, time_limit=5)
            except StockpileError as exc:
                assert exc.exit_code in (1, 2), exc  # never an audit failure
                counts["no plan"] += 1
            else:
                assert plan.audit.ok
                counts["solved"] += 1
        assert time.perf_counter() - started < 3 * SECONDS_PER_CASE
    assert counts["error"] > SCENARIO_CASES / 4 and counts["valid"] > SCENARIO_CASES / 10, counts
    assert peak_memory_mb() < 2_000


def test_mutated_data_files_end_in_a_clean_error_or_valid_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, data_dir)
    names = sorted(FILES)
    counts = {"error": 0, "valid": 0}
    for case in range(DATA_CASES):
        rng = random.Random(10_000 + case)
        name = rng.choice(names)
        original = (DEFAULT_DATA_DIR / f"{name}.csv").read_bytes()
        target = data_dir / f"{name}.csv"
        target.write_bytes(mutate_csv(original, rng))
        try:
            outcome = _outcome(load_data, data_dir)
        finally:
            target.write_bytes(original)
        counts["error" if outcome == "error" else "valid"] += 1
    assert counts["error"] > DATA_CASES / 3, counts


def mutate_csv(text: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    lines = text.split(b"\n")
    if kind == 0:  # a cell replaced by something strange
        i = rng.randrange(1, max(len(lines) - 1, 2))
        cells = lines[i].split(b",")
        if cells:
            cells[rng.randrange(len(cells))] = rng.choice(STRANGE_NUMBERS + [b"", b'"', b'"a,b"', b"x" * 1000])
        lines[i] = b",".join(cells)
        return b"\n".join(lines)
    if kind == 1:  # an unclosed quote
        i = rng.randrange(len(lines))
        lines[i] = b'"' + lines[i]
        return b"\n".join(lines)
    if kind == 2:  # a huge cell
        return text + b"\n" + b"x" * rng.choice([100_000, 3_000_000]) + b"\n"
    if kind == 3:  # a header cell renamed or a column dropped
        header = lines[0].split(b",")
        header[rng.randrange(len(header))] = rng.choice([b"", b"zz", header[0]])
        lines[0] = b",".join(header)
        return b"\n".join(lines)
    return mutate(text, rng)


def peak_memory_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def test_a_ten_megabyte_string_fails_fast_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_bytes(b'name = "' + b"x" * 10_000_000 + b'"\n')
    started = time.perf_counter()
    with pytest.raises(InputError, match="limited to"):
        load_scenario(path)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("case", range(8))
def test_mutated_files_through_the_cli_in_a_bounded_process(tmp_path: Path, case: int) -> None:
    """The console script on mutated files, with 2 GB of address space and a minute: exit 0, 1 or 2,
    and a message, never a traceback."""
    rng = random.Random(50_000 + case)
    for source in SCENARIOS:
        shutil.copy(source, tmp_path / source.name)
    path = tmp_path / "fuzz.toml"
    path.write_bytes(mutate(rng.choice([EXAMPLE] + SCENARIOS).read_bytes(), rng))
    command = [sys.executable, "-m", "stockpile", "solve" if case % 3 == 0 else "validate", str(path)]

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))

    completed = subprocess.run(command, capture_output=True, text=True, timeout=60, preexec_fn=limit,
                               env={**os.environ, "PYTHONHASHSEED": "0"})
    assert completed.returncode in (0, 1, 2), completed.stderr
    assert "Traceback" not in completed.stderr + completed.stdout
    if completed.returncode:
        assert "fuzz.toml" in completed.stderr or "no plan" in completed.stderr


# ---------------------------------------------------------------------------------------------
# Limits on what a scenario may ask for

def _raw(**overrides) -> dict:
    raw = {"name": "limits", "horizon": {"first_fy": 2027, "last_fy": 2028},
           "countries": {"United States": ["domestic"]}, "materials": {"X": {"name": "X", "goal": 1.0}},
           "fund": {"opening_balance": 0.0}}
    raw.update(overrides)
    return raw


def _option(i: int, **extra) -> dict:
    return {"name": f"o{i}", "material": "X", "kind": "domestic", "country": "United States", "capacity": 1.0,
            "price": 1.0, **extra}


@pytest.mark.parametrize("raw, where, words", [
    (_raw(horizon={"first_fy": 2027, "last_fy": 2027 + scenario_module.MAX_HORIZON_FYS}), "horizon",
     f"longer than the {scenario_module.MAX_HORIZON_FYS} stockpile accepts"),
    (_raw(horizon={"first_fy": 2027, "last_fy": 20400}), "horizon.last_fy", "less than or equal to 2200"),
    (_raw(materials={f"M{i}": {"name": "m", "goal": 1.0} for i in range(scenario_module.MAX_MATERIALS + 1)}),
     "materials", f"more than the {scenario_module.MAX_MATERIALS} accepted"),
    (_raw(supply=[_option(i) for i in range(scenario_module.MAX_OPTIONS + 1)]), "supply",
     f"more than the {scenario_module.MAX_OPTIONS} accepted"),
    (_raw(supply=[_option(0, tiers=[{"up_to": float(k + 1)} for k in range(scenario_module.MAX_TIERS)]
                            + [{"factor": 1.0}])]), "supply[1]", "price tiers is more than"),
    (_raw(supply=[_option(0, lead_time=scenario_module.MAX_LEAD_TIME + 1)]), "supply[1].lead_time",
     f"less than or equal to {scenario_module.MAX_LEAD_TIME}"),
], ids=["horizon", "typo FY", "materials", "options", "tiers", "lead time"])
def test_limits_on_scenario_size_have_clear_messages(raw: dict, where: str, words: str) -> None:
    started = time.perf_counter()
    with pytest.raises(InputError) as caught:
        scenario_from_dict(raw, source="big.toml")
    message = str(caught.value)
    assert f"big.toml: {where}: " in message and words in message, message[:500]
    assert time.perf_counter() - started < 20


def test_a_fixed_order_outside_the_order_window_is_an_input_error() -> None:
    raw = _raw(supply=[_option(0, lead_time=1, fixed={"2028": 5.0})])
    with pytest.raises(InputError, match=r"supply\[1\]\.fixed\.2028: a fixed order in FY2028 is outside"):
        scenario_from_dict(raw, source="s.toml")
    raw = _raw(supply=[_option(0, fixed={"2031": 5.0})])
    with pytest.raises(InputError, match=r"supply\[1\]\.fixed\.2031: FY2031 is outside the horizon"):
        scenario_from_dict(raw, source="s.toml")


def test_the_cli_reports_a_scenario_too_large_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "long.toml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8").replace("last_fy = 2032", "last_fy = 2132"),
                    encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "horizon" in result.output and "longer than" in result.output
