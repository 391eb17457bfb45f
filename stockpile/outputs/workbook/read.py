"""Reading a plan back: the scenario and plan tables saved in a workbook written by
:func:`stockpile.outputs.workbook.write.write_workbook` (for ``stockpile verify`` and ``compare``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import load_workbook

from stockpile.errors import InputError
from stockpile.outputs.excel.sheet import named_ranges
from stockpile.outputs.excel.styles import FLOAT_KINDS, Column
from stockpile.outputs.workbook.fund_sheet import FUND_ROWS, FUND_TABLE
from stockpile.outputs.workbook.inventory_sheet import INVENTORY, INVENTORY_TABLE
from stockpile.outputs.workbook.marginal_values_sheet import (
    APPROPRIATION_ROW, APPROPRIATION_TABLE, CAPACITY_TABLE, CAPACITY_VALUE,
)
from stockpile.outputs.workbook.orders_sheet import ORDERS, ORDERS_TABLE
from stockpile.outputs.workbook.sourcing_sheet import SOURCING, SOURCING_TABLE
from stockpile.outputs.workbook.write import SCENARIO_SHEET
from stockpile.scenario.load import scenario_from_dict
from stockpile.scenario.schema import Scenario

LONG_TABLES = {"orders": (ORDERS_TABLE, ORDERS), "inventory": (INVENTORY_TABLE, INVENTORY),
               "sourcing": (SOURCING_TABLE, SOURCING)}
"""The plan's long tables, by their Excel table names (views beside them are not read)."""


def read_workbook(path: Path) -> tuple[Scenario, dict[str, pd.DataFrame]]:
    """The scenario and plan tables saved in a workbook written by ``write_workbook``."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, None, "file not found")
    try:
        wb = load_workbook(path, data_only=True)  # not read_only: older plans hold Excel tables, which it skips
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign file
        raise InputError(path, None, f"not a readable .xlsx workbook ({exc.__class__.__name__})") from None
    if SCENARIO_SHEET not in wb.sheetnames:
        raise InputError(path, SCENARIO_SHEET, "no embedded scenario: not a plan written by stockpile")
    text = "".join(row[0] or "" for row in wb[SCENARIO_SHEET].iter_rows(values_only=True))
    scenario = scenario_from_dict(json.loads(text), source=f"{path} (embedded scenario)")
    grids = named_ranges(wb)

    def grid(name: str) -> tuple[list[str], list[list[Any]]]:
        if name not in grids:
            raise InputError(path, name, "table is missing: not a plan written by this version of stockpile")
        ws, ref = grids[name]
        cells = [list(row) for row in ws[ref]]
        header = [str(c.value) for c in cells[0]]
        body = [[c.value for c in row] for row in cells[1:]]
        return header, [row for row in body if any(v is not None for v in row)]

    tables = {}
    for key, (name, columns) in LONG_TABLES.items():
        header, body = grid(name)
        order = [header.index(c.label) for c in columns]
        tables[key] = _frame([[row[i] for i in order] for row in body], columns)

    header, body = grid(FUND_TABLE)
    fys = [_parse_fy_label(label) for label in header[1:]]
    by_label = {row[0]: row[1:] for row in body}
    fund_rows = [[fy] + [by_label[c.label][i] for c in FUND_ROWS] for i, fy in enumerate(fys)]
    tables["fund"] = _frame(fund_rows, [Column("fy", "FY", "fy")] + FUND_ROWS)

    header, body = grid(APPROPRIATION_TABLE)
    values = body[0][1:] if body else []
    tables["marginal_appropriation"] = _frame(
        [[_parse_fy_label(label), value] for label, value in zip(header[1:], values)],
        [Column("fy", "FY", "fy"), APPROPRIATION_ROW])

    header, body = grid(CAPACITY_TABLE)
    cap_fys = [_parse_fy_label(label) for label in header[2:]]
    melted = [[row[0], row[1], fy, value] for row in body for fy, value in zip(cap_fys, row[2:]) if value is not None]
    tables["marginal_capacity"] = _frame(melted, [Column("material", "Material"), Column("option", "Option"),
                                                  Column("fy", "FY", "fy"), CAPACITY_VALUE])
    return scenario, tables


def _parse_fy_label(label: str) -> int:
    return int(str(label).removeprefix("FY"))


def _frame(rows: list[list[Any]], columns: Sequence[Column]) -> pd.DataFrame:
    """Rows read from Excel as the plan's DataFrame: Excel stores 600.0 as 600, so numbers are
    cast back to the kind of their column; pandas then infers the same dtypes the plan has."""
    cast: dict[str, Callable[[Any], Any]] = {kind: float for kind in FLOAT_KINDS}
    cast.update(fy=int, integer=int, years=int)
    typed = [[None if v is None else cast.get(c.kind, lambda x: x)(v) for v, c in zip(row, columns)]
             for row in rows]
    return pd.DataFrame(typed, columns=[c.key for c in columns])
