"""The Audit sheet: each check the independent audit ran on the plan, and its result."""

from __future__ import annotations

import pandas as pd
from openpyxl import Workbook

from stockpile.outputs.excel.sheet import highlight
from stockpile.outputs.excel.styles import GOOD_FILL, GOOD_FONT, Column
from stockpile.outputs.workbook.sheet_parts import long_table_sheet
from stockpile.plan.read import Plan

AUDIT = [
    Column("family", "Family"), Column("check", "Check"), Column("rows_checked", "Rows checked", "integer"),
    Column("result", "Result"), Column("first_violation", "First violation"),
]


def write_audit_sheet(wb: Workbook, plan: Plan) -> None:
    report = plan.audit
    summary = report.summary if report is not None else "not run"
    frame = report.table() if report is not None else pd.DataFrame(columns=[c.key for c in AUDIT])
    sheet, placed = long_table_sheet(
        wb, "Audit", "Independent audit",
        f"The plan recomputed from the scenario and these tables alone, never from the solver: {summary}.",
        "Audit", AUDIT, frame)
    result = f"${placed.letter('result')}{placed.first_row}"
    highlight(sheet.ws, placed.body, f'LEFT({result},4)="FAIL"')
    highlight(sheet.ws, placed.cells("result"), f'{placed.letter("result")}{placed.first_row}="pass"',
              GOOD_FILL, GOOD_FONT)
    sheet.finish(repeat=placed)
