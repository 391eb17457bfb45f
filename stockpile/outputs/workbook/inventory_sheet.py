"""The Inventory sheet: each material's stock FY by FY (opening, deliveries, disposals, draws,
closing, goal, shortfall); then the Inventory by FY sheet: closing stock against goal FY across,
with a chart per material."""

from __future__ import annotations

from openpyxl import Workbook

from stockpile.outputs.excel.charts import DASHED_RED, SOLID_BLUE, line_chart, place_charts, plot_rows
from stockpile.outputs.excel.sheet import Sheet, fy_cells, highlight
from stockpile.outputs.excel.styles import NUMBER_FORMATS, Column
from stockpile.outputs.workbook.sheet_parts import (
    VIEW_KEY_COLUMNS, long_table_sheet, material_label, measure_row_cells, measures_view,
)
from stockpile.plan.read import INVENTORY_COLUMNS, Plan

SHORTFALL_HIGHLIGHT_TONNES = 0.5
"""Shortfalls are coloured once they show on the sheet (tonnes display without decimals), so
solver noise of a few grams is not painted red."""

INVENTORY_TABLE = "Inventory"
"""The table read_workbook reads back (the view on Inventory by FY is not read)."""
INVENTORY = [
    Column("material", "Material"), Column("fy", "FY", "fy"), Column("opening", "Opening (t)", "tonnes"),
    Column("deliveries", "Deliveries (t)", "tonnes"), Column("pipeline", "Pipeline (t)", "tonnes"),
    Column("disposals", "Disposals (t)", "tonnes"), Column("draws", "Released (t)", "tonnes"),
    Column("unmet_draw", "Unmet release (t)", "tonnes"), Column("loss", "Loss (t)", "tonnes"),
    Column("closing", "Closing (t)", "tonnes"), Column("goal", "Goal (t)", "tonnes"),
    Column("shortfall", "Shortfall (t)", "tonnes"), Column("coverage", "Coverage", "share"),
]
assert [c.key for c in INVENTORY] == INVENTORY_COLUMNS

INVENTORY_MEASURES = [Column("closing", "Closing stock (t)", "tonnes"), Column("goal", "Goal (t)", "tonnes"),
                      Column("shortfall", "Shortfall (t)", "tonnes"), Column("coverage", "Coverage", "share"),
                      Column("draws", "Released (t)", "tonnes"), Column("unmet_draw", "Unmet release (t)", "tonnes")]
"""The rows of the FY-across view, per material: the first two are what its chart draws; releases
(draws met from stock) and unmet releases (what the stock could not supply) come last."""


def write_inventory_sheet(wb: Workbook, plan: Plan) -> None:
    s, inventory = plan.scenario, plan.tables["inventory"]
    sheet, placed = long_table_sheet(
        wb, "Inventory", "Inventory", "Stock of each material in each FY, in tonnes. Red: closing stock below goal, or a release the "
        "stock could not supply. "
        "Closing stock against goal FY by FY, with a chart per material: sheet Inventory by FY.", INVENTORY_TABLE,
        INVENTORY, inventory)
    shortfall = f"${placed.letter('shortfall')}{placed.first_row}>={SHORTFALL_HIGHLIGHT_TONNES}"
    for key in ("shortfall", "coverage"):
        highlight(sheet.ws, placed.cells(key), shortfall)
    highlight(sheet.ws, placed.cells("unmet_draw"),
              f"{placed.letter('unmet_draw')}{placed.first_row}>={SHORTFALL_HIGHLIGHT_TONNES}")
    sheet.finish(repeat=placed)

    sheet = Sheet(wb, "Inventory by FY", "Inventory FY by FY",
                  "Each material's closing stock, goal, shortfall and coverage in each FY (from the Inventory "
                  "sheet), and a chart per material of stock against goal. Red: a shortfall.")
    view = measures_view(sheet, "InventoryByFY", "Closing stock against goal, FY by FY", s, inventory,
                         INVENTORY_MEASURES)
    measure, column, cell = measure_row_cells(view)
    above = f"{column}{view.first_row - 1}"
    # A shortfall colours itself and the coverage below it.
    highlight(sheet.ws, fy_cells(view), f'OR(AND({measure}="Shortfall (t)",{cell}>={SHORTFALL_HIGHLIGHT_TONNES}),'
                                        f'AND({measure}="Coverage",N({above})>={SHORTFALL_HIGHLIGHT_TONNES}))')
    sheet.finish(key_columns=VIEW_KEY_COLUMNS)

    charts = []
    for i, code in enumerate(s.materials):
        closing_row = view.first_row + i * len(INVENTORY_MEASURES)
        charts.append(line_chart(f"{material_label(s, code)}: stock against goal", "tonnes",
                                 NUMBER_FORMATS["tonnes"], "FY"))
        plot_rows(charts[-1], view, [closing_row, closing_row + 1], "label", [SOLID_BLUE, DASHED_RED])
    place_charts(sheet, charts)
