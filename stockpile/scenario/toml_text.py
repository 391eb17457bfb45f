"""A resolved scenario written back as a commented TOML file (``stockpile template --from
inputs.xlsx -o scenario.toml``), for version control: it loads to the same scenario (the same
SHA-256). Each section opens with its model's description and each key carries its unit, type
and limits (the header comments of the input workbook, :mod:`stockpile.scenario.layout`).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from stockpile.scenario.layout import SHEETS, TableSheet, sheet_entries
from stockpile.scenario.merge import NAMED_LISTS
from stockpile.scenario.schema import Scenario, to_plain

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
ARRAY_OF_TABLES = NAMED_LISTS + ("policy.bans", "uncertainty.sample.disruptions")
"""Lists of tables written as ``[[supply]]`` blocks; any other list of tables is written inline."""


def scenario_toml(scenario: Scenario, note: str = "") -> str:
    """The scenario as TOML text, comments first (``note``: where it came from)."""
    helps = _helps()
    lines = [f"# {line}".rstrip() for line in (note or "").splitlines()]
    lines += ["# Written by `stockpile template`: the scenario resolved (extends and [data] applied).",
              "# Money in dollars, quantities in tonnes of contained metal, years are fiscal years.", ""]
    _table(lines, (), to_plain(scenario), helps)
    return "\n".join(lines).rstrip() + "\n"


def _helps() -> dict[tuple[str, ...], str]:
    """Each field's help by its key-path pattern (``("materials", "*", "weight")``; entries of a
    list share their list's path, as a [[supply]] block's keys do)."""
    found: dict[tuple[str, ...], str] = {}
    for sheet in SHEETS:
        if isinstance(sheet, TableSheet):
            base = sheet.group + ("*",) + sheet.path if sheet.group else sheet.path
            base = base + ("*",) if sheet.key else base
        else:
            base = ()
        for entry in sheet_entries(sheet):
            found[base + entry.path] = entry.help()
            for part in entry.parts:
                found[base + entry.path + part.path] = part.help()
    return found


def _help_of(path: tuple[str, ...], helps: dict[tuple[str, ...], str]) -> str:
    return next((text for pattern, text in helps.items() if len(pattern) == len(path)
                 and all(p in ("*", c) for p, c in zip(pattern, path))), "")


def key(name: str) -> str:
    return name if BARE_KEY.match(name) else json.dumps(name, ensure_ascii=False)


def value_text(value: Any) -> str:
    """One value as TOML: strings quoted (JSON escapes are TOML's), floats exact, tables inline."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} cannot be written to a scenario file")
        text = repr(value)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        pairs = [f"{key(str(k))} = {value_text(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(pairs) + " }" if pairs else "{}"
    raise TypeError(f"cannot write {value!r} as TOML")


def _is_subtable(value: Any) -> bool:
    """Whether a dict is written as its own [table] (a section or a named entry) rather than
    inline (a per-FY table, a ramp, an empty table)."""
    if not isinstance(value, dict) or not value:
        return False
    return not (set(value) == {"ramp"} or all(str(k).isdigit() for k in value))


def _table(lines: list[str], path: tuple[str, ...], data: dict, helps: dict[tuple[str, ...], str]) -> None:
    # TOML has no null: an absent value (no limit, no window) is left out, which means the same.
    data = {k: v for k, v in data.items() if v is not None}
    simple = {k: v for k, v in data.items() if not _is_subtable(v)
              and not (".".join(path + (k,)) in ARRAY_OF_TABLES and isinstance(v, list) and v)}
    for name, value in simple.items():
        comment = _help_of(path + (name,), helps)
        line = f"{key(name)} = {value_text(value)}"
        lines.append(f"{line}  # {comment}" if comment and "\n" not in line else line)
    for name, value in data.items():
        here = path + (name,)
        dotted = ".".join(key(p) for p in here)
        if name in simple:
            continue
        if isinstance(value, list):
            for item in value:
                lines += ["", f"[[{dotted}]]"]
                _table(lines, here, item, helps)
            continue
        doc = _doc_of(here)
        lines += [""] + ([f"# {doc}"] if doc else [])
        if not all(_is_subtable(v) for v in value.values()):  # else the [a.b] headers below say it
            lines.append(f"[{dotted}]")
        _table(lines, here, value, helps)


def _doc_of(path: tuple[str, ...]) -> str:
    """The first line of the model's docstring for a top-level section."""
    if len(path) != 1:
        return ""
    annotation = Scenario.model_fields.get(path[0])
    model = getattr(annotation, "annotation", None)
    doc = getattr(model, "__doc__", None) if isinstance(model, type) else None
    return (doc or "").strip().splitlines()[0] if doc else ""

