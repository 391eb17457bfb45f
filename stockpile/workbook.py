"""The plan as an Excel workbook (plain: one sheet per plan table) and reading it back.

A hidden sheet ``_scenario`` holds the resolved scenario as JSON, so ``stockpile verify`` can
re-audit a saved plan without the original scenario file.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
from openpyxl import Workbook, load_workbook

from .errors import InputError
from .plan import TABLES, Plan
from .scenario import Scenario, scenario_from_dict

SHEETS = {
    "orders": "Orders",
    "inventory": "Inventory",
    "fund": "Fund",
    "sourcing": "Sourcing",
    "marginal_appropriation": "Marginal appropriation",
    "marginal_capacity": "Marginal capacity",
}
SCENARIO_SHEET = "_scenario"
CELL_CHUNK = 30_000  # Excel holds at most 32,767 characters in a cell
FIXED_TIMESTAMP = dt.datetime(2000, 1, 1)


def write_workbook(plan: Plan, path: Path) -> None:
    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    for key, value in [("Scenario", plan.scenario.name), ("Solvency horizon", plan.headline),
                       ("Solver", plan.solver_version),
                       ("Audit", plan.audit.summary if plan.audit is not None else "not run")]:
        summary.append([key, value])
    for name in TABLES:
        sheet = wb.create_sheet(SHEETS[name])
        table = plan.tables[name]
        sheet.append(list(table.columns))
        for row in table.itertuples(index=False):
            sheet.append([None if pd.isna(v) else v for v in row])
    hidden = wb.create_sheet(SCENARIO_SHEET)
    text = plan.scenario.canonical_json()
    for start in range(0, len(text), CELL_CHUNK):
        hidden.append([text[start:start + CELL_CHUNK]])
    hidden.sheet_state = "hidden"
    wb.properties.created = wb.properties.modified = FIXED_TIMESTAMP
    wb.save(path)


def read_workbook(path: Path) -> tuple[Scenario, dict[str, pd.DataFrame]]:
    """The scenario and plan tables saved in a workbook written by :func:`write_workbook`."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, None, "file not found")
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign file
        raise InputError(path, None, f"not a readable .xlsx workbook ({exc.__class__.__name__})") from None
    if SCENARIO_SHEET not in wb.sheetnames:
        raise InputError(path, SCENARIO_SHEET, "no embedded scenario: not a plan written by stockpile")
    text = "".join(row[0] or "" for row in wb[SCENARIO_SHEET].iter_rows(values_only=True))
    scenario = scenario_from_dict(json.loads(text), source=f"{path} (embedded scenario)")
    tables = {}
    for name, title in SHEETS.items():
        if title not in wb.sheetnames:
            raise InputError(path, title, "sheet is missing")
        rows = list(wb[title].iter_rows(values_only=True))
        tables[name] = pd.DataFrame(rows[1:], columns=rows[0]) if rows else pd.DataFrame()
    return scenario, tables
