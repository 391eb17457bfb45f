"""The input workbook a planner edits (``stockpile template``): the scenario, fully resolved, one
sheet per section in the layout of :mod:`stockpile.scenario.layout`, which
:mod:`stockpile.scenario.workbook` reads back into the same scenario.

Every header carries a comment with its unit and a one-line help; names that refer to something
defined elsewhere (materials, countries, tags) and fixed choices (option kinds, solver names)
get drop-down lists; figures drawn from ``data/`` carry their source and status in a comment,
amber for assumptions and inferred figures, as on the plan's Inputs sheet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from stockpile.outputs.excel.cells import put, safe_sheet_name
from stockpile.outputs.excel.saving import save_workbook
from stockpile.outputs.excel.styles import HEADER_FILL, HEADER_FONT, NOTE_FONT, WARN_FILL
from stockpile.outputs.files import atomic_write
from stockpile.scenario.defaults import PROVENANCE_COLUMNS
from stockpile.scenario.layout import (FORMS, NO, NONE_WORD, REFERENCE_LISTS, SHEETS, UNCERTAINTY_SHEETS, YES,
                                       Entry, KeyRowsSheet, TableSheet, fy_header, indexed, sheet_entries)
from stockpile.scenario.references import known_tags
from stockpile.scenario.schema import OPTION_KINDS, SOLVERS, Scenario, to_plain
from stockpile.scenario.workbook import table_items, table_keypath

VALIDATED_ROWS = 500
"""Rows below the last entry that get the drop-down lists, for the entries a planner adds."""
AUTHOR = "stockpile"
WEAK_STATUSES = ("assumption", "inferred")


def write_template(scenario: Scenario, path: Path, source: str | None = None, force: bool = False) -> None:
    """Write ``scenario`` as an input workbook at ``path`` (atomically: all or nothing)."""
    wb = build_template(scenario, source)
    atomic_write(Path(path), lambda tmp: save_workbook(wb, tmp), force)


def build_template(scenario: Scenario, source: str | None = None) -> Workbook:
    plain = to_plain(scenario)
    fys = list(scenario.fys)
    wb = Workbook()
    wb.remove(wb.active)
    cells: dict[str, Any] = {}
    lists = _lists_sheet_values(scenario)
    for sheet in SHEETS:
        if sheet.title in UNCERTAINTY_SHEETS and scenario.uncertainty is None:
            continue
        ws = wb.create_sheet(safe_sheet_name(sheet.title))
        if isinstance(sheet, TableSheet):
            _write_table(ws, sheet, plain, fys, cells, lists)
        else:
            _write_key_rows(ws, sheet, plain, fys, cells, lists)
    _write_lists(wb, lists)
    _write_sources(wb, scenario, plain, cells, source)
    return wb


# --- drop-down lists ---------------------------------------------------------------------------

def _lists_sheet_values(scenario: Scenario) -> dict[str, list[str]]:
    return {"materials": list(scenario.materials), "countries": list(scenario.countries),
            "tags": sorted(known_tags(scenario)), "option kinds": list(OPTION_KINDS), "solvers": list(SOLVERS)}


def _write_lists(wb: Workbook, lists: dict[str, list[str]]) -> None:
    ws = wb.create_sheet("Lists")
    for col, (title, values) in enumerate(lists.items(), start=1):
        _header(ws, 1, col, title, f"The {title} the drop-down lists offer (read from the other sheets when "
                                   f"this workbook was written; stockpile does not read this sheet).")
        for row, value in enumerate(values, start=2):
            put(ws, row, col, value)
        ws.column_dimensions[get_column_letter(col)].width = max([len(title) + 2] + [len(v) + 2 for v in values])


def _validation(entry: Entry, lists: dict[str, list[str]], form: bool = False) -> DataValidation | None:
    """A drop-down list for a column: fixed choices inline, names defined elsewhere from Lists."""
    if form:
        return DataValidation(type="list", formula1=f'"{",".join(FORMS)}"', allow_blank=True, showErrorMessage=False)
    if entry.shape != "value":
        return None
    if entry.choices:
        return DataValidation(type="list", formula1=f'"{",".join(entry.choices)}"', allow_blank=True)
    if entry.base is bool:
        return DataValidation(type="list", formula1=f'"{YES},{NO}"', allow_blank=True)
    source = REFERENCE_LISTS.get(entry.name)
    if source:
        column = get_column_letter(list(lists).index(source) + 1)
        # Not enforced: "all" and names being added elsewhere in the same edit are allowed.
        return DataValidation(type="list", formula1=f"Lists!${column}$2:${column}${len(lists[source]) + 1}",
                              allow_blank=True, showErrorMessage=False)
    return None


def _validate(ws: Worksheet, validation: DataValidation | None, col: int, first: int, last: int) -> None:
    if validation is None:
        return
    letter = get_column_letter(col)
    validation.add(f"{letter}{first}:{letter}{last}")
    ws.add_data_validation(validation)


# --- cells -------------------------------------------------------------------------------------

def _header(ws: Worksheet, row: int, col: int, text: str, help_text: str) -> None:
    cell = put(ws, row, col, text)
    cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    if help_text:
        cell.comment = Comment(help_text, AUTHOR, width=320, height=110)


def _scalar_cell(entry: Entry, value: Any) -> Any:
    if value is MISSING:
        return None
    if value is None:
        return NONE_WORD if entry.none_differs else None
    if entry.shape == "names":
        return ", ".join(value)
    if isinstance(value, bool):
        return YES if value else NO
    return value


def _series_cells(entry: Entry, value: Any, fys: list[int]) -> tuple[Any, dict[int, float]]:
    """(form cell, FY cells) of a per-FY value or schedule in its plain form."""
    if value is MISSING:
        return None, {}
    if value is None:
        return (NONE_WORD if entry.none_differs else None), {}
    if not isinstance(value, dict):
        return value, {}
    if set(value) == {"ramp"}:
        return "ramp", {int(fy): v for fy, v in value["ramp"].items()}
    return ("step" if entry.shape == "per_fy" else None), {int(fy): v for fy, v in value.items()}


MISSING = object()
"""What :func:`_get` gives for a field under an absent model (no CVaR section): a blank cell."""


def _get(item: dict, path: tuple[str, ...]) -> Any:
    for name in path:
        if not isinstance(item, dict) or name not in item:
            return MISSING
        item = item[name]
    return item


# --- table sheets ------------------------------------------------------------------------------

def _table_columns(sheet: TableSheet, items: list[tuple[Any, Any, dict]], fys: list[int]) -> list[tuple]:
    """(header, help, what) for each column; ``what`` says which value of an item it holds."""
    columns: list[tuple] = []
    if sheet.group_key:
        columns.append((sheet.group_key, "The future this event belongs to (Futures sheet).", ("group",)))
    if sheet.key:
        columns.append((sheet.key, f"The {sheet.key} (a table key); required.", ("key",)))
    for entry in sheet_entries(sheet):
        if entry.shape in ("value", "names"):
            columns.append((entry.key, entry.help(), ("value", entry)))
        elif entry.shape == "pair":
            for i in range(entry.length):
                columns.append((indexed(entry.key, i + 1), entry.help(), ("pair", entry, i)))
        elif entry.shape == "models":
            slots = max([len(v) for _, _, item in items if isinstance(v := _get(item, entry.path), list)] + [1])
            for slot in range(slots):
                for part in entry.parts:
                    columns.append((indexed(entry.key, slot + 1, part.key), part.help(),
                                    ("model", entry, slot, part)))
        else:
            if entry.shape == "per_fy":
                columns.append((entry.key, entry.help(), ("form", entry)))
            for fy in fys:
                columns.append((fy_header(entry.key, fy), entry.help(), ("fy", entry, fy)))
    return columns


def _write_table(ws: Worksheet, sheet: TableSheet, plain: dict, fys: list[int], cells: dict,
                 lists: dict[str, list[str]]) -> None:
    items = table_items(sheet, plain)
    columns = _table_columns(sheet, items, fys)
    for col, (header, help_text, _) in enumerate(columns, start=1):
        _header(ws, 1, col, header, help_text)
    for row, (group, key, item) in enumerate(items, start=2):
        where = table_keypath(sheet, row - 2, group, key)
        for col, (_, _, what) in enumerate(columns, start=1):
            value, keypath = _table_cell(what, group, key, item, where)
            cell = put(ws, row, col, value, "number")
            if keypath:
                cells[keypath] = cell
    last = len(items) + 1 + VALIDATED_ROWS
    for col, (header, _, what) in enumerate(columns, start=1):
        if what[0] in ("value", "form"):
            _validate(ws, _validation(what[1], lists, form=what[0] == "form"), col, 2, last)
        width = 12 if what[0] == "fy" else max(10, min(40, len(header) + 3))
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=2, column=2 if not sheet.group_key else 3)


def _table_cell(what: tuple, group: Any, key: Any, item: Any, where: str) -> tuple[Any, str | None]:
    kind = what[0]
    if kind == "group":
        return group, None
    if kind == "key":
        return key, where
    entry: Entry = what[1]
    value = item if not isinstance(item, dict) else _get(item, entry.path)  # a country's tags: a list
    if kind == "value":
        return _scalar_cell(entry, value), f"{where}.{entry.key}"
    if kind == "pair":
        return (value[what[2]] if isinstance(value, list) else None), f"{where}.{entry.key}"
    if kind == "model":
        slot, part = what[2], what[3]
        tier = value[slot] if isinstance(value, list) and slot < len(value) else None
        return (_scalar_cell(part, _get(tier, part.path)) if tier is not None else None), None
    form, by_fy = _series_cells(entry, value, [])
    if kind == "form":
        return form, f"{where}.{entry.key}"
    return by_fy.get(what[2]), None


# --- key-row sheets ----------------------------------------------------------------------------

def _write_key_rows(ws: Worksheet, sheet: KeyRowsSheet, plain: dict, fys: list[int], cells: dict,
                    lists: dict[str, list[str]]) -> None:
    headers = [("key", "The key path of the value (as in a scenario file and in error messages)."),
               ("value", "The value; for a per-FY value a number (every FY), or step or ramp over the FY cells.")]
    headers += [(fy_header(None, fy), f"The value in FY{fy} (per-FY values and schedules).") for fy in fys]
    headers += [("help", "Unit, type and limits (stockpile does not read this column).")]
    for col, (text, help_text) in enumerate(headers, start=1):
        _header(ws, 1, col, text, help_text)
    row = 2
    for entry in sheet_entries(sheet):
        value = _get(plain, entry.path)
        if entry.shape == "dict":
            value = value if isinstance(value, dict) else {}
            names = list(value)
            if entry.name == "trusted_share":  # a row per material, so a planner sees where to set one
                names += [code for code in plain.get("materials", {}) if code not in names]
            rows = [(f"{entry.key}.{name}", value.get(name, MISSING)) for name in names]
        else:
            rows = [(entry.key, value)]
        for key, row_value in rows:
            key_cell = put(ws, row, 1, key)
            key_cell.comment = Comment(entry.help(), AUTHOR, width=320, height=90)
            if entry.shape in ("per_fy", "schedule", "dict"):
                form, by_fy = _series_cells(entry if entry.shape != "dict" else _as_per_fy(entry), row_value, fys)
                cells[key] = put(ws, row, 2, form, "number")
                for col, fy in enumerate(fys, start=3):
                    put(ws, row, col, by_fy.get(fy), "number")
                if entry.shape != "schedule":
                    _validate(ws, _validation(entry, lists, form=True), 2, row, row)
            else:
                cells[key] = put(ws, row, 2, _scalar_cell(entry, row_value), "number")
                _validate(ws, _validation(entry, lists), 2, row, row)
            help_cell = put(ws, row, len(headers), entry.help())
            help_cell.font = NOTE_FONT
            row += 1
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 28
    for col in range(3, len(headers)):
        ws.column_dimensions[get_column_letter(col)].width = 12
    ws.column_dimensions[get_column_letter(len(headers))].width = 60
    ws.freeze_panes = "C2"


def _as_per_fy(entry: Entry) -> Entry:
    return Entry(entry.path, "per_fy", owner=entry.owner)


# --- where figures came from -------------------------------------------------------------------

def _write_sources(wb: Workbook, scenario: Scenario, plain: dict, cells: dict, source: str | None) -> None:
    """A Sources sheet listing every figure drawn from data/, and a comment on each cell holding one."""
    ws = wb.create_sheet("Sources")
    columns = PROVENANCE_COLUMNS
    for col, name in enumerate(columns, start=1):
        _header(ws, 1, col, name, "")
    put(ws, 1, len(columns) + 2, f"Written from {source}" if source else "Written by stockpile").font = NOTE_FONT
    provenance = scenario.provenance
    if provenance is None or provenance.empty:
        put(ws, 2, 1, "None: every figure is written in the scenario itself.")
        return
    for row, record in enumerate(provenance.to_dict("records"), start=2):
        for col, name in enumerate(columns, start=1):
            cell = put(ws, row, col, record[name], "number")
            if record["status"] in WEAK_STATUSES:
                cell.fill = WARN_FILL
        target = cells.get(_provenance_keypath(record["what"], plain))
        if target is not None and _same_figure(target.value, record["value"]):
            target.comment = Comment(f"From data/{record['file'] or ''}: {record['source']} "
                                     f"({record['status']}). {record['note'] or ''}".strip(), AUTHOR,
                                     width=360, height=120)
            if record["status"] in WEAK_STATUSES:
                target.fill = WARN_FILL
    for col, width in enumerate((44, 14, 10, 50, 12, 60, 18, 6), start=1):
        ws.column_dimensions[get_column_letter(col)].width = width


PROVENANCE_FIELDS = {"capacity": "capacity", "price": "price", "lead time": "lead_time", "first FY": "first_fy",
                     "feedstock": "feedstock", "recovery yield": "recovery_yield", "cost": "cost"}


def _provenance_keypath(what: str, plain: dict) -> str | None:
    """The key path of the value a provenance row describes (``supply 'Stibnite' capacity`` ->
    ``supply[7].capacity``), or None for figures that only went into one (a country's output)."""
    if what.startswith(("materials.", "fund.")):
        return what
    for section in ("supply", "recycling"):
        prefix = f"{section} '"
        if what.startswith(prefix) and "' " in what:
            name, field = what[len(prefix):].split("' ", 1)
            for i, item in enumerate(plain.get(section, []), start=1):
                if item.get("name") == name and field in PROVENANCE_FIELDS:
                    return f"{section}[{i}].{PROVENANCE_FIELDS[field]}"
    return None


def _same_figure(cell_value: Any, recorded: Any) -> bool:
    """Whether the cell still holds the recorded figure (a scenario's override replaces it);
    an inferred ramp, recorded as its description, is kept when the cell says ramp."""
    if isinstance(recorded, str):
        return cell_value == "ramp"
    try:
        return abs(float(cell_value) - float(recorded)) <= 1e-9 * max(1.0, abs(float(recorded)))
    except (TypeError, ValueError):
        return False

