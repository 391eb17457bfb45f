"""Reading a plan back: the scenario and plan tables saved in a workbook written by
:func:`stockpile.outputs.workbook.write.write_workbook` (for ``stockpile verify`` and ``compare``)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import load_workbook

from stockpile.errors import InputError
from stockpile.outputs.excel.sheet import named_ranges
from stockpile.outputs.excel.styles import FLOAT_KINDS, NUMERIC_KINDS, Column
from stockpile.outputs.workbook.fund_sheet import FUND_ROWS, FUND_TABLE
from stockpile.outputs.workbook.inventory_sheet import INVENTORY, INVENTORY_TABLE
from stockpile.outputs.workbook.marginal_values_sheet import (
    APPROPRIATION_ROW, APPROPRIATION_TABLE, CAPACITY_TABLE, CAPACITY_VALUE,
)
from stockpile.outputs.workbook.orders_sheet import ORDERS, ORDERS_TABLE
from stockpile.outputs.workbook.sourcing_sheet import SOURCING, SOURCING_TABLE
from stockpile.outputs.workbook.write import SCENARIO_SHEET
from stockpile.scenario.limits import check_workbook_archive
from stockpile.scenario.load import scenario_from_dict
from stockpile.scenario.schema import Scenario

LONG_TABLES = {"orders": (ORDERS_TABLE, ORDERS), "inventory": (INVENTORY_TABLE, INVENTORY),
               "sourcing": (SOURCING_TABLE, SOURCING)}
"""The plan's long tables, by their Excel table names (views beside them are not read)."""


MAX_SCENARIO_DEPTH = 64
"""The embedded scenario nests a few levels (uncertainty.futures.NAME.events.ID.price); deeper is
not one stockpile wrote."""


def read_workbook(path: Path) -> tuple[Scenario, dict[str, pd.DataFrame]]:
    """The scenario and plan tables saved in a workbook written by ``write_workbook``.

    The file is bounded before it is parsed (:func:`stockpile.scenario.limits.check_workbook_archive`),
    and every edit a planner can make to it (a table header renamed, text in a number cell, an FY
    label changed, the embedded scenario broken) is an InputError naming ``sheet!cell``."""
    path = Path(path)
    check_workbook_archive(path)
    try:
        wb = load_workbook(path, data_only=True)  # not read_only: older plans hold Excel tables, which it skips
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign file
        raise InputError(path, None, f"not a readable .xlsx workbook ({exc.__class__.__name__})") from None
    scenario = _embedded_scenario(path, wb)
    reader = _TableReader(path, wb)
    horizon = list(range(scenario.horizon.first_fy, scenario.horizon.last_fy + 1))
    tables = {}
    for key, (name, columns) in LONG_TABLES.items():
        tables[key] = reader.long_table(name, columns, horizon)

    labels, body = reader.grid(FUND_TABLE)
    fys = reader.fy_headers(FUND_TABLE, labels, 1, horizon)
    by_label: dict[str, list[Any]] = {}
    for row in body:
        label = row[0].value
        if label in by_label:
            raise reader.error(FUND_TABLE, row[0], f"the row {label!r} appears twice")
        by_label[label] = row[1:]
    for c in FUND_ROWS:
        if c.label not in by_label:
            raise reader.error(FUND_TABLE, labels[0], f"no row labelled {c.label!r} (a label was changed)")
    fund_rows = [[fy] + [reader.number(FUND_TABLE, by_label[c.label][i], c) for c in FUND_ROWS]
                 for i, fy in enumerate(fys)]
    tables["fund"] = _frame(fund_rows, [Column("fy", "FY", "fy")] + FUND_ROWS)

    labels, body = reader.grid(APPROPRIATION_TABLE)
    fys = reader.fy_headers(APPROPRIATION_TABLE, labels, 1, horizon)
    values = [reader.number(APPROPRIATION_TABLE, cell, APPROPRIATION_ROW) for cell in body[0][1:]] if body else []
    tables["marginal_appropriation"] = _frame([[fy, value] for fy, value in zip(fys, values)],
                                              [Column("fy", "FY", "fy"), APPROPRIATION_ROW])

    labels, body = reader.grid(CAPACITY_TABLE)
    cap_fys = reader.fy_headers(CAPACITY_TABLE, labels, 2, horizon)
    melted = [[reader.text(CAPACITY_TABLE, row[0]), reader.text(CAPACITY_TABLE, row[1]), fy,
               reader.number(CAPACITY_TABLE, cell, CAPACITY_VALUE)]
              for row in body for fy, cell in zip(cap_fys, row[2:]) if cell.value is not None]
    tables["marginal_capacity"] = _frame(melted, [Column("material", "Material"), Column("option", "Option"),
                                                  Column("fy", "FY", "fy"), CAPACITY_VALUE])
    _check_names(path, scenario, tables)
    return scenario, tables


def _embedded_scenario(path: Path, wb) -> Scenario:
    where = f"{SCENARIO_SHEET}!A1"
    if SCENARIO_SHEET not in wb.sheetnames:
        raise InputError(path, SCENARIO_SHEET, "no embedded scenario: not a plan written by stockpile")
    cells = [row[0] for row in wb[SCENARIO_SHEET].iter_rows(values_only=True) if row]
    if any(cell is not None and not isinstance(cell, str) for cell in cells):
        raise InputError(path, where, "the embedded scenario holds a number, not the scenario's JSON text")
    text = "".join(cell or "" for cell in cells)
    if not text.strip():
        raise InputError(path, where, "the embedded scenario is empty")
    if _nesting(text) > MAX_SCENARIO_DEPTH:
        raise InputError(path, where, f"the embedded scenario nests over {MAX_SCENARIO_DEPTH} levels deep")
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(path, where, f"the embedded scenario is not JSON ({exc.__class__.__name__})") from None
    if not isinstance(raw, dict):
        raise InputError(path, where, f"the embedded scenario is a JSON {type(raw).__name__}, not a table of keys")
    return scenario_from_dict(raw, source=f"{path} (embedded scenario)")


def _nesting(text: str) -> int:
    """How deep JSON brackets nest (strings skipped), without parsing."""
    depth = deepest = 0
    for token in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif bracket in "]}":
            depth -= 1
    return deepest


class _TableReader:
    """Reads the named tables (defined names, or Excel tables in older plans) of a plan workbook, each problem an InputError at sheet!cell."""

    def __init__(self, path: Path, wb):
        self.path = path
        self.grids = named_ranges(wb)

    def error(self, table: str, cell, reason: str) -> InputError:
        ws = self.grids[table][0]
        return InputError(self.path, f"{ws.title}!{cell.coordinate}", reason)

    def grid(self, name: str) -> tuple[list[Any], list[list[Any]]]:
        """The header cells and the non-empty body rows of cells of one named table."""
        if name not in self.grids:
            raise InputError(self.path, name, "table is missing: not a plan written by this version of stockpile")
        ws, ref = self.grids[name]
        try:
            cells = [list(row) for row in ws[ref]]
        except (ValueError, TypeError):
            raise InputError(self.path, f"{ws.title}", f"table {name!r} has a damaged range {ref!r}") from None
        if not cells or not isinstance(cells[0], list):
            raise InputError(self.path, f"{ws.title}", f"table {name!r} is empty")
        body = [row for row in cells[1:] if any(c.value is not None for c in row)]
        return cells[0], body

    def long_table(self, name: str, columns: Sequence[Column], horizon: list[int]) -> pd.DataFrame:
        header, body = self.grid(name)
        labels = [cell.value for cell in header]
        order = []
        for c in columns:
            found = [i for i, label in enumerate(labels) if label == c.label]
            if len(found) != 1:
                raise self.error(name, header[found[1]] if found else header[0],
                                 f"column {c.label!r} is {'repeated' if found else 'missing'} in the header")
            order.append(found[0])
        rows = []
        for row in body:
            values = []
            for i, c in zip(order, columns):
                cell = row[i]
                if c.kind == "fy":
                    fy = self.fy(name, cell, horizon, optional=c.key != "fy")
                    if c.key == "fy" and fy not in horizon:
                        raise self.error(name, cell, f"FY{fy} is outside the embedded scenario's horizon {_span(horizon)}")
                    values.append(fy)
                elif c.kind in NUMERIC_KINDS:
                    values.append(self.number(name, cell, c))
                else:
                    values.append(self.text(name, cell, optional=True))
            rows.append(values)
        return _frame(rows, columns)

    def fy_headers(self, name: str, header: list[Any], skip: int, horizon: list[int]) -> list[int]:
        fys = [self.fy(name, cell, horizon) for cell in header[skip:]]
        if fys != horizon:
            raise self.error(name, header[skip] if len(header) > skip else header[0],
                             f"the FY columns are {_span(fys)} but the embedded scenario's horizon is {_span(horizon)}")
        return fys

    def fy(self, name: str, cell, horizon: list[int], optional: bool = False) -> int | None:
        value = cell.value
        if value is None and optional:
            return None
        if isinstance(value, str):
            text = value.strip().upper().removeprefix("FY")
            number = int(text) if text.isdigit() and len(text) <= 4 else None
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
            number = int(value)
        else:
            number = None
        if number is None:
            raise self.error(name, cell, f"{value!r} is not a fiscal year (FY2030)")
        return number

    def number(self, name: str, cell, column: Column) -> float | int | None:
        value = cell.value
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.error(name, cell, f"{value!r} in the {column.label!r} column is not a finite number")
        return value

    def text(self, name: str, cell, optional: bool = False) -> str | None:
        value = cell.value
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise self.error(name, cell, f"{value!r} is not text")
        return value


def _span(fys: list[int]) -> str:
    return f"FY{fys[0]}..FY{fys[-1]} ({len(fys)} years)" if fys else "none"


def _check_names(path: Path, scenario: Scenario, tables: dict[str, pd.DataFrame]) -> None:
    """Every material and option the tables name is one of the embedded scenario's (an edited name
    would otherwise reach the audit as an unknown key)."""
    options = {o.name for o in scenario.options}
    for key, frame in tables.items():
        for column, known in (("material", scenario.materials), ("option", options)):
            if column in frame:
                unknown = sorted({v for v in frame[column].dropna() if v not in known})
                if unknown:
                    raise InputError(path, f"table {key}", f"{column} {unknown[0]!r} is not in the embedded scenario")


def _frame(rows: list[list[Any]], columns: Sequence[Column]) -> pd.DataFrame:
    """Rows read from Excel as the plan's DataFrame: Excel stores 600.0 as 600, so numbers are
    cast back to the kind of their column; pandas then infers the same dtypes the plan has."""
    cast: dict[str, Callable[[Any], Any]] = {kind: float for kind in FLOAT_KINDS}
    cast.update(fy=int, integer=int, years=int)
    typed = [[None if v is None else cast.get(c.kind, lambda x: x)(v) for v, c in zip(row, columns)]
             for row in rows]
    return pd.DataFrame(typed, columns=[c.key for c in columns])
