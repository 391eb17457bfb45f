"""Reading a scenario from an input workbook (``inputs.xlsx``), laid out as
:mod:`stockpile.scenario.layout` says, into the same data a TOML file gives, with the same checks.

A workbook is untrusted input: :mod:`stockpile.scenario.workbook_safety` opens it within size
limits, with no XML entity expanded and no formula evaluated.

Every problem names the file, the sheet and cell, and the key path:
``inputs.xlsx: Supply!F12 (supply[11].capacity.2029): must be greater than or equal to 0``.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl.utils import get_column_letter
from pydantic import ValidationError

from stockpile.scenario.defaults import PROVENANCE_COLUMNS
from stockpile.scenario.keypaths import format_loc, reason
from stockpile.scenario.layout import (FORMS, FY_HEADER, HELPER_SHEETS, INDEXED, NO, NONE_WORD, SHEETS, YES, Entry,
                                       KeyRowsSheet, TableSheet, holds_name_lists, sheet_entries,
                                       sheet_of_section)
from stockpile.scenario.references import check_references
from stockpile.scenario.schema import Scenario
from stockpile.scenario.workbook_safety import (MAX_CELLS, CellProblems, check_archive, formula_cells,
                                                open_workbook, sheet_cells)

# --- values ------------------------------------------------------------------------------------

class _Bad(ValueError):
    pass


def _describe(value: Any) -> str:
    return f"the text {value!r}" if isinstance(value, str) else repr(value)


def coerce(value: Any, entry: Entry) -> Any:
    """A cell's value as the schema's type wants it (a number for a float, a whole number for an
    int, yes/no for a flag), or :class:`_Bad` with the reason."""
    if isinstance(value, str) and value.strip().lower() == NONE_WORD:
        return None
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        raise _Bad(f"is a date or time ({value}); type a number or text")
    base = entry.base
    if base is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in (YES, "true", NO, "false"):
            return value.strip().lower() in (YES, "true")
        if value in (0, 1):
            return bool(value)
        raise _Bad(f"must be {YES} or {NO}, not {_describe(value)}")
    if base is float or entry.shape in ("per_fy", "schedule", "dict", "pair"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Bad(f"must be a number, not {_describe(value)}")
        return float(value)
    if base is int:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad(f"must be a whole number, not {_describe(value)}")
        return value
    if isinstance(value, bool):
        raise _Bad(f"must be text, not {value}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if entry.shape == "names":
        return [name.strip() for name in text.split(",") if name.strip()]
    return text


def _set(target: dict, path: tuple[str, ...], value: Any) -> None:
    for name in path[:-1]:
        target = target.setdefault(name, {})
    target[path[-1]] = value


def _series(form: Any, by_fy: dict[int, float], entry: Entry) -> Any:
    """A per-FY value from its form cell and FY cells, in the plain form a TOML file writes."""
    table = {str(fy): value for fy, value in sorted(by_fy.items())}
    if entry.shape == "schedule":
        return table if table else None
    if form is None:
        return table if table else None
    if isinstance(form, str) and form.strip().lower() == NONE_WORD:
        return None
    if isinstance(form, str) and form.strip().lower() in FORMS:
        if not table:
            raise _Bad(f"says {form.strip().lower()} but no FY cell has a value")
        return {"ramp": table} if form.strip().lower() == "ramp" else table
    if isinstance(form, bool) or not isinstance(form, (int, float)):
        raise _Bad(f"must be a number (the same in every FY), step or ramp, not {_describe(form)}")
    if table:
        raise _Bad("give either one number for every FY or values in the FY cells (with step or ramp), not both")
    return float(form)


# --- where things are --------------------------------------------------------------------------

def table_items(sheet: TableSheet, plain: dict) -> list[tuple[Any, Any, Any]]:
    """(group name, key, item) for every entry a table sheet shows, in the scenario's order."""
    def at(data: Any, path: tuple[str, ...]) -> Any:
        for name in path:
            data = data.get(name) if isinstance(data, dict) else None
        return data

    groups = [(None, plain)] if not sheet.group else list((at(plain, sheet.group) or {}).items())
    found = []
    for group, data in groups:
        collection = at(data, sheet.path)
        if isinstance(collection, dict):
            found.extend((group, key, item) for key, item in collection.items())
        elif isinstance(collection, list):
            found.extend((group, None, item) for item in collection)
    return found


def table_keypath(sheet: TableSheet, index: int, group: Any, key: Any) -> str:
    """``supply[3]``, ``materials.Sb``, ``uncertainty.futures.calm.events.x``: where an entry is."""
    if sheet.group:
        return ".".join(sheet.group + (str(group),) + sheet.path + (str(key),))
    base = ".".join(sheet.path)
    return f"{base}.{key}" if sheet.key else f"{base}[{index + 1}]"


class _Reader:
    def __init__(self, path: Path, problems: CellProblems, fys: range | None) -> None:
        self.path, self.problems, self.fys = path, problems, fys
        self.cells: dict[str, str] = {}

    def fy_of(self, header: str) -> tuple[str | None, int] | None:
        """(field, FY) of an FY column's header (``capacity FY2029``; key rows: ``FY2029``)."""
        match = FY_HEADER.match(header)
        return (match.group("field"), int(match.group("fy"))) if match else None

    def outside(self, fy: int) -> bool:
        return self.fys is not None and fy not in self.fys

    def outside_problem(self, cell: str, keypath: str, fy: int) -> None:
        """A value in an FY column outside the horizon (an empty one is harmless: the horizon may
        have been shortened on the About sheet)."""
        self.problems.add(cell, keypath, f"FY{fy} is outside the horizon FY{self.fys[0]}..FY{self.fys[-1]} "
                                         f"(About sheet); delete the value or the column")

    def table(self, sheet: TableSheet, grid: dict, raw: dict) -> None:
        title = sheet.title
        known = {e.key: e for e in sheet_entries(sheet)}
        columns: dict[int, tuple] = {}
        for (row, col), header in sorted(grid.items()):
            if row != 1:
                continue
            cell = f"{title}!{get_column_letter(col)}1"
            header = str(header).strip()
            fy = self.fy_of(header)
            indexed_match = INDEXED.match(header)
            if header == sheet.key:
                columns[col] = ("key",)
            elif header == sheet.group_key:
                columns[col] = ("group",)
            elif fy is not None and fy[0] in known and known[fy[0]].shape in ("per_fy", "schedule"):
                columns[col] = ("outside" if self.outside(fy[1]) else "fy", known[fy[0]], fy[1])
            elif header in known and known[header].shape in ("value", "names", "per_fy"):
                columns[col] = ("value" if known[header].shape != "per_fy" else "form", known[header])
            elif indexed_match and indexed_match.group("name") in known:
                entry = known[indexed_match.group("name")]
                index = int(indexed_match.group("index")) - 1
                sub = indexed_match.group("sub")
                part = next((p for p in entry.parts if p.key == sub), None)
                if entry.shape == "pair" and sub is None and index < entry.length:
                    columns[col] = ("pair", entry, index)
                elif entry.shape == "models" and part is not None and index < 100:
                    columns[col] = ("model", entry, index, part)
                else:
                    self.problems.add(cell, None, f"unknown column {header!r}")
            else:
                self.problems.add(cell, None, f"unknown column {header!r} (known: "
                                              f"{', '.join(sorted(known))})")
        rows = sorted({row for row, _ in grid if row > 1})
        collection: Any = {} if sheet.key else []
        seen: dict[str, str] = {}
        for index, row in enumerate(rows):
            values = {col: grid[(row, col)] for col in columns if (row, col) in grid}
            for col in {c for r, c in grid if r == row} - set(columns):
                self.problems.add(f"{title}!{get_column_letter(col)}{row}", None, "a value in a column with no header")
            key = self._text(values, columns, "key", title, row, sheet.key)
            group = self._text(values, columns, "group", title, row, sheet.group_key)
            where = table_keypath(sheet, index, group, key)
            if sheet.key:
                label = f"{group}/{key}"
                if label in seen:
                    self.problems.add(f"{title}!{self._col_of(columns, 'key')}{row}", where,
                                      f"{sheet.key} {key!r} is listed twice (also on row {seen[label]})")
                seen[label] = str(row)
            self.cells[where] = f"{title}!A{row}"
            item = self._item(values, columns, title, row, where, sheet)
            if sheet.group:
                futures = raw.setdefault(sheet.group[0], {}).setdefault(sheet.group[1], {})
                target = futures.setdefault(group, {})
                for name in sheet.path[:-1]:
                    target = target.setdefault(name, {})
                target.setdefault(sheet.path[-1], {})[key] = item
            elif sheet.key:
                collection[key] = item
            else:
                collection.append(item)
        if not sheet.group and collection:
            _set(raw, sheet.path, collection)

    @staticmethod
    def _col_of(columns: dict, kind: str) -> str:
        return next((get_column_letter(c) for c, what in columns.items() if what[0] == kind), "A")

    def _text(self, values: dict, columns: dict, kind: str, title: str, row: int, label: str | None) -> Any:
        if label is None:
            return None
        col = next((c for c, what in columns.items() if what[0] == kind), None)
        value = values.get(col)
        if value is None:
            self.problems.add(f"{title}!{get_column_letter(col or 1)}{row}", None,
                              f"empty required cell: the {label} of this row")
            return f"(row {row})"
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)

    def _item(self, values: dict, columns: dict, title: str, row: int, where: str, sheet: TableSheet) -> Any:
        item: dict = {}
        series: dict[str, list] = {}
        tiers: dict[str, dict[int, dict]] = {}
        pairs: dict[str, dict[int, Any]] = {}
        for col, what in columns.items():
            kind = what[0]
            if kind in ("key", "group"):
                continue
            entry: Entry = what[1]
            cell = f"{title}!{get_column_letter(col)}{row}"
            keypath = f"{where}.{entry.key}"
            value = values.get(col)
            if kind == "outside":
                if value is not None:
                    self.outside_problem(cell, f"{keypath}.{what[2]}", what[2])
                continue
            if kind in ("value", "form"):
                self.cells[keypath] = cell
            if kind == "fy":
                self.cells[f"{keypath}.{what[2]}"] = self.cells[f"{keypath}.ramp.{what[2]}"] = cell
                keypath = f"{keypath}.{what[2]}"
            if kind == "pair":
                self.cells[f"{keypath}[{what[2] + 1}]"] = cell
            if value is None and kind != "form":
                continue
            try:
                if kind == "value":
                    _set(item, entry.path, coerce(value, entry))
                elif kind == "form":
                    series.setdefault(entry.key, [entry, None, {}, cell])[1] = value
                elif kind == "fy":
                    series.setdefault(entry.key, [entry, None, {}, cell])[2][what[2]] = coerce(value, entry)
                elif kind == "pair":
                    pairs.setdefault(entry.key, {})[what[2]] = coerce(value, entry)
                else:
                    part: Entry = what[3]
                    self.cells[f"{where}.{entry.key}[{what[2] + 1}].{part.key}"] = cell
                    _set(tiers.setdefault(entry.key, {}).setdefault(what[2], {}), part.path, coerce(value, part))
            except _Bad as exc:
                self.problems.add(cell, keypath, str(exc))
        for key, (entry, form, by_fy, cell) in series.items():
            try:
                value = _series(form, by_fy, entry)
            except _Bad as exc:
                self.problems.add(cell, f"{where}.{key}", str(exc))
                continue
            if value is not None or (form is not None and entry.none_differs):
                _set(item, entry.path, value)
        for key, slots in tiers.items():
            entry = next(w[1] for w in columns.values() if w[0] == "model" and w[1].key == key)
            _set(item, entry.path, [slots.get(i, {}) for i in range(max(slots) + 1)])
        for key, by_index in pairs.items():
            entry = next(w[1] for w in columns.values() if w[0] == "pair" and w[1].key == key)
            _set(item, entry.path, [by_index.get(i) for i in range(entry.length)])
        if holds_name_lists(sheet):
            return item.get(sheet.value, [])
        return item

    def key_rows(self, sheet: KeyRowsSheet, grid: dict, raw: dict) -> None:
        title = sheet.title
        entries = {e.key: e for e in sheet_entries(sheet)}
        value_col, fy_cols, outside_cols = None, {}, {}
        for (row, col), header in sorted(grid.items()):
            if row != 1:
                continue
            header = str(header).strip()
            cell = f"{get_column_letter(col)}1"
            fy = self.fy_of(header)
            if header == "value":
                value_col = col
            elif fy is not None and fy[0] is None:
                (outside_cols if self.outside(fy[1]) else fy_cols)[col] = fy[1]
            elif header not in ("key", "help"):
                self.problems.add(f"{title}!{cell}", None, f"unknown column {header!r} (key, value, FY columns, help)")
        used = set(fy_cols) | set(outside_cols) | {1, value_col}
        help_col = next((c for (r, c), v in grid.items() if r == 1 and str(v).strip() == "help"), None)
        seen: dict[str, int] = {}
        for row in sorted({r for r, _ in grid if r > 1}):
            key = grid.get((row, 1))
            stray = [c for r, c in grid if r == row and c not in used and c != help_col]
            for col in stray:
                self.problems.add(f"{title}!{get_column_letter(col)}{row}", None, "a value in a column with no header")
            if key is None:
                if any((row, c) in grid for c in used if c != 1):
                    self.problems.add(f"{title}!A{row}", None, "empty required cell: the key of this row")
                continue
            key = str(key).strip()
            entry = entries.get(key)
            name = None
            if entry is None:
                parent = key.rsplit(".", 1)[0] if "." in key else ""
                entry = entries.get(parent) if entries.get(parent) and entries[parent].shape == "dict" else None
                name = key.rsplit(".", 1)[-1]
            if entry is None:
                self.problems.add(f"{title}!A{row}", key, f"unknown key (known: {', '.join(entries)})")
                continue
            if key in seen:
                self.problems.add(f"{title}!A{row}", key, f"listed twice (also on row {seen[key]})")
                continue
            seen[key] = row
            cell = f"{title}!{get_column_letter(value_col or 2)}{row}"
            self.cells[key] = cell
            for col, fy in outside_cols.items():
                if (row, col) in grid:
                    self.outside_problem(f"{title}!{get_column_letter(col)}{row}", f"{key}.{fy}", fy)
            path = entry.path + ((name,) if name else ())
            value = grid.get((row, value_col)) if value_col else None
            by_fy = {}
            try:
                for col, fy in fy_cols.items():
                    self.cells[f"{key}.{fy}"] = self.cells[f"{key}.ramp.{fy}"] = f"{title}!{get_column_letter(col)}{row}"
                    if (row, col) in grid:
                        try:
                            by_fy[fy] = coerce(grid[(row, col)], entry)
                        except _Bad as exc:
                            self.problems.add(f"{title}!{get_column_letter(col)}{row}", f"{key}.{fy}", str(exc))
                if entry.shape in ("per_fy", "schedule", "dict"):
                    shape_entry = entry if entry.shape != "dict" else Entry(entry.path, "per_fy", owner=entry.owner)
                    parsed = _series(value, by_fy, shape_entry)
                    if parsed is not None or (value is not None and entry.none_differs):
                        _set(raw, path, parsed)
                elif value is not None:
                    if by_fy:
                        raise _Bad("takes one value, not values by FY")
                    _set(raw, path, coerce(value, entry))
            except _Bad as exc:
                self.problems.add(cell, key, str(exc))


@functools.cache
def _sheet_of() -> dict[str, str]:
    """:func:`~stockpile.scenario.layout.sheet_of_section`, made on first use (it reads the schema's
    attribute docs from its source: 0.2 s, which no command should pay before it needs it)."""
    return sheet_of_section()


SOURCES_SHEET = "Sources"


def _sources(grid: dict | None) -> pd.DataFrame | None:
    """The data figures the Sources sheet lists (written with the workbook), for the plan's Inputs
    sheet; rows without a status (the note of a scenario with none) are not figures."""
    if not grid:
        return None
    headers = {col: str(value) for (row, col), value in grid.items() if row == 1}
    if not set(PROVENANCE_COLUMNS) <= set(headers.values()):
        return None
    records = []
    for row in sorted({r for r, _ in grid if r > 1}):
        record = {headers[col]: grid.get((row, col)) for col in headers if headers[col] in PROVENANCE_COLUMNS}
        if record.get("status"):
            records.append(record)
    return pd.DataFrame(records, columns=PROVENANCE_COLUMNS) if records else None


def read_workbook(path: str | Path) -> tuple[dict, dict[str, str], pd.DataFrame | None]:
    """The scenario data in an input workbook, where each key path's cell is, and the data
    figures its Sources sheet lists."""
    path = Path(path)
    check_archive(path)
    problems = CellProblems(path)
    values_book, formula_book = open_workbook(path, data_only=True), open_workbook(path, data_only=False)
    known = {s.title: s for s in SHEETS}
    budget = [MAX_CELLS]
    grids = {}
    try:
        for title in values_book.sheetnames:
            if title == SOURCES_SHEET:
                grids[title] = sheet_cells(values_book[title], problems, title, set(), budget)
                continue
            if title in HELPER_SHEETS:
                continue
            if title not in known:
                problems.add(f"{title}!A1", None, f"unknown sheet (stockpile reads {', '.join(known)}; "
                                                  f"rename or delete it)")
                continue
            grids[title] = sheet_cells(values_book[title], problems, title, formula_cells(formula_book[title]), budget)
    finally:
        values_book.close()
        formula_book.close()
    if "About" not in grids:
        problems.add("About!A1", None, "the About sheet (name, description, horizon) is missing")
        problems.raise_any()
    raw: dict = {}
    reader = _Reader(path, problems, None)
    reader.key_rows(known["About"], grids["About"], raw)
    horizon = raw.get("horizon", {})
    if isinstance(horizon.get("first_fy"), int) and isinstance(horizon.get("last_fy"), int):
        reader.fys = range(horizon["first_fy"], horizon["last_fy"] + 1)
    for sheet in SHEETS[1:]:
        if sheet.title in grids:
            (reader.table if isinstance(sheet, TableSheet) else reader.key_rows)(sheet, grids[sheet.title], raw)
    problems.raise_any()
    return raw, reader.cells, _sources(grids.get(SOURCES_SHEET))


def _locate(keypath: str, cells: dict[str, str]) -> str:
    """The cell holding a key path, or the nearest one holding a part of it; else its sheet."""
    probe = keypath
    while probe:
        if probe in cells:
            return cells[probe]
        cut = max(probe.rfind("."), probe.rfind("["))
        probe = probe[:cut] if cut > 0 else ""
    top = keypath.split(".")[0].split("[")[0]
    return f"{_sheet_of().get(top, 'About')} sheet"


def load_workbook_scenario(path: str | Path) -> Scenario:
    """Read, validate and cross-check the scenario in an input workbook (the checks of a TOML file)."""
    path = Path(path)
    raw, cells, provenance = read_workbook(path)
    problems = CellProblems(path)
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            keypath = format_loc(err["loc"], raw)
            why = "empty required cell" if err["type"] == "missing" else reason(err)
            problems.add(_locate(keypath, cells), keypath, why)
        problems.raise_any()
    for where, why in check_references(scenario):
        problems.add(_locate(where, cells), where, why)
    problems.raise_any()
    scenario.record_provenance(provenance)
    return scenario
