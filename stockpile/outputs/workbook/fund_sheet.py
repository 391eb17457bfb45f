"""The Fund sheet: the NDS Transaction Fund FY across, one row per line item, with a chart of
the balance against its floor."""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from stockpile.outputs.excel.cells import plain_value
from stockpile.outputs.excel.charts import DASHED_RED, SOLID_BLUE, line_chart, place_charts, plot_rows
from stockpile.outputs.excel.sheet import Sheet, fy_columns, highlight
from stockpile.outputs.excel.styles import BOLD_FONT, Column
from stockpile.plan.read import FUND_COLUMNS, ZERO_DOLLARS, Plan

FUND_TABLE = "Fund"
"""The Excel table read_workbook reads back."""
FUND_ROWS = [
    Column("opening", "Opening balance", "money"), Column("appropriation", "Appropriation", "money"),
    Column("other_revenue", "Other revenue", "money"), Column("sales", "Sales of excess material", "money"),
    Column("purchases", "Purchases", "money"), Column("committed_payments", "Committed payments", "money"),
    Column("operating_cost", "Operating cost", "money"), Column("holding_cost", "Holding cost", "money"),
    Column("closing", "Closing balance", "money"), Column("floor", "Floor", "money"),
    Column("deficit", "Deficit below floor", "money"),
]
"""The Fund table is printed FY across: one row per line item."""
assert ["fy"] + [c.key for c in FUND_ROWS] == FUND_COLUMNS


def write_fund_sheet(wb: Workbook, plan: Plan) -> None:
    fund = plan.tables["fund"]
    sheet = Sheet(wb, "Fund", "NDS Transaction Fund",
                  "FY by FY, in $M. Red: the balance falls below its floor (a deficit).")
    fys = [int(fy) for fy in fund.fy]
    rows = [[column.label] + [plain_value(v) for v in fund[column.key]] for column in FUND_ROWS]
    placed = sheet.table(FUND_TABLE, [Column("item", "Item ($M)")] + fy_columns(fys, "money"), rows)
    keys = [c.key for c in FUND_ROWS]
    deficit_row, closing_row, floor_row = (placed.first_row + keys.index(k) for k in ("deficit", "closing", "floor"))
    first, last = get_column_letter(placed.left + 1), get_column_letter(placed.right)
    highlight(sheet.ws, f"{first}{deficit_row}:{last}{deficit_row}", f"{first}{deficit_row}>{ZERO_DOLLARS}")
    highlight(sheet.ws, f"{first}{closing_row}:{last}{closing_row}",
              f"{first}{closing_row}<{first}{floor_row}-{ZERO_DOLLARS}")
    for col in range(placed.left, placed.right + 1):
        sheet.restyle(closing_row, col, font=BOLD_FONT)
    sheet.finish(repeat=placed)

    chart = line_chart("Fund balance against its floor", "$M", '"$"#,##0,,"M"', "FY")
    plot_rows(chart, placed, [closing_row, floor_row], "item", [SOLID_BLUE, DASHED_RED])
    place_charts(sheet, [chart])
