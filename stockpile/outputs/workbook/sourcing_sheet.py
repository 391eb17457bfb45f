"""The Sourcing sheet: shares of each FY's orders from trusted sources, covered nations and the
largest single foreign country, by origin and by refiner, against the policy limits; then the Sourcing by FY
sheet: the same FY across, with a chart of each material's trusted share against its floor; then the
Bans sheet: the suppliers each ban keeps out, and what each ban costs."""

from __future__ import annotations

from openpyxl import Workbook

from stockpile.outputs.excel.charts import DASHED_RED, SOLID_BLUE, line_chart, place_charts, plot_rows
from stockpile.outputs.excel.sheet import Sheet, fy_cells, highlight
from stockpile.outputs.excel.styles import WARN_FILL, Column
from stockpile.outputs.workbook.sheet_parts import (
    VIEW_KEY_COLUMNS, long_table_sheet, material_label, measure_row_cells, measures_view,
)
from stockpile.plan.bans import kept_out_by_bans
from stockpile.plan.read import SOURCING_COLUMNS, Plan

SHARE_TOLERANCE = 1e-6
"""A share equal to its limit is within it; only shares past it by more than this are coloured."""

SOURCING_TABLE = "Sourcing"
"""The table read_workbook reads back (the view on Sourcing by FY is not read)."""
SOURCING = [
    Column("material", "Material"), Column("fy", "FY", "fy"), Column("ordered", "Ordered (t)", "tonnes"),
    Column("trusted_share", "Trusted share", "share"), Column("trusted_floor", "Trusted floor", "share"),
    Column("covered_share", "Covered-nation share", "share"),
    Column("largest_country", "Largest foreign origin"),
    Column("largest_share", "Largest foreign share", "share"),
    Column("concentration_cap", "Single-country cap", "share"),
    Column("largest_refiner", "Largest foreign refiner"),
    Column("largest_refiner_share", "Largest refiner share", "share"),
    Column("refiner_cap", "Single-refiner cap", "share"),
]
assert [c.key for c in SOURCING] == SOURCING_COLUMNS

SOURCING_MEASURES = [Column("trusted_share", "Trusted share", "share"),
                     Column("trusted_floor", "Trusted floor", "share"),
                     Column("largest_share", "Largest foreign share", "share"),
                     Column("concentration_cap", "Single-country cap", "share"),
                     Column("largest_refiner_share", "Largest refiner share", "share"),
                     Column("refiner_cap", "Single-refiner cap", "share"),
                     Column("covered_share", "Covered-nation share", "share")]
"""The rows of the FY-across view, per material: a share with a limit has it on the row below (the
highlights read it there), and the first two are what its chart draws."""


def write_sourcing_sheet(wb: Workbook, plan: Plan) -> None:
    s, sourcing = plan.scenario, plan.tables["sourcing"]
    sheet, placed = long_table_sheet(
        wb, "Sourcing", "Sourcing", "Shares of each FY's orders (blank: nothing ordered). Red: a trusted share below "
        "its floor or one foreign country (origin or refiner) above its single-country cap. Amber: orders from covered nations. "
        "The same FY by FY, with a chart per material: sheet Sourcing by FY; the suppliers each ban keeps out: sheet Bans.",
        SOURCING_TABLE, SOURCING, sourcing)
    ws = sheet.ws

    def at(key: str) -> str:
        return f"${placed.letter(key)}{placed.first_row}"

    highlight(ws, placed.cells("trusted_share"),
              f"AND(ISNUMBER({at('trusted_share')}),{at('trusted_share')}<{at('trusted_floor')}-{SHARE_TOLERANCE})")
    highlight(ws, placed.cells("largest_share"),
              f"AND(ISNUMBER({at('largest_share')}),ISNUMBER({at('concentration_cap')}),"
              f"{at('largest_share')}>{at('concentration_cap')}+{SHARE_TOLERANCE})")
    highlight(ws, placed.cells("largest_refiner_share"),
              f"AND(ISNUMBER({at('largest_refiner_share')}),ISNUMBER({at('refiner_cap')}),"
              f"{at('largest_refiner_share')}>{at('refiner_cap')}+{SHARE_TOLERANCE})")
    highlight(ws, placed.cells("covered_share"), f"N({at('covered_share')})>{SHARE_TOLERANCE}", WARN_FILL, None)
    sheet.finish(repeat=placed)

    sheet = Sheet(wb, "Sourcing by FY", "Sourcing FY by FY",
                  "Each material's shares of orders against the policy limits in each FY (from the Sourcing sheet), "
                  "and a chart per material of its trusted share against its floor. Red: past a limit.")
    ws = sheet.ws

    view = measures_view(sheet, "SourcingByFY", "Shares against policy limits, FY by FY", s, sourcing,
                         SOURCING_MEASURES)
    measure, column, cell = measure_row_cells(view)
    below = f"{column}{view.first_row + 1}"
    below_floor = f'AND({measure}="Trusted share",ISNUMBER({cell}),{cell}<N({below})-{SHARE_TOLERANCE})'
    above_cap = (f'AND(OR({measure}="Largest foreign share",{measure}="Largest refiner share"),'
                 f"ISNUMBER({cell}),ISNUMBER({below}),{cell}>{below}+{SHARE_TOLERANCE})")
    highlight(ws, fy_cells(view), f"OR({below_floor},{above_cap})")
    sheet.finish(key_columns=VIEW_KEY_COLUMNS)

    with_floor = [code for code in s.materials if (sourcing[sourcing.material == code].trusted_floor > 0).any()]
    charts = []
    for code in with_floor or list(s.materials):
        first = view.first_row + list(s.materials).index(code) * len(SOURCING_MEASURES)
        charts.append(line_chart(f"{material_label(s, code)}: trusted share against its floor",
                                 "share of tonnes", "0%", "FY"))
        plot_rows(charts[-1], view, [first, first + 1], "label", [SOLID_BLUE, DASHED_RED])
        charts[-1].y_axis.scaling.min, charts[-1].y_axis.scaling.max = 0, 1
    place_charts(sheet, charts)

    _write_bans_sheet(wb, plan)


def _write_bans_sheet(wb: Workbook, plan: Plan) -> None:
    """The Bans sheet: which ban keeps which supplier out, and what each ban costs. A sheet of its
    own, so its header (not the FY view's) prints on each of its pages."""
    s = plan.scenario
    sheet = Sheet(wb, "Bans", "Suppliers kept out by bans",
                  "Each ban and the suppliers it keeps out; what a ban costs is measured by re-solving the "
                  "scenario without it (blank: not measured).")
    kept_out = kept_out_by_bans(s, plan.policy_costs)
    if kept_out.empty:
        sheet.note(sheet.next_row, "No ban keeps any supplier out of this scenario.")
        sheet.finish()
        return
    placed = sheet.table("KeptOutByBans", [
        Column("key", "Ban"), Column("reason", "Reason (citation)"), Column("material", "Material"),
        Column("option", "Supplier kept out"), Column("country", "Country"), Column("from_fy", "From FY", "fy"),
        Column("weighted_shortfall", "Ban costs: weighted shortfall", "marginal"),
        Column("shortfall_tonne_years", "Ban costs: shortfall (t-yr)", "tonnes"),
        Column("discounted_net_cost", "Ban costs: discounted net cost ($M)", "money")],
        [list(row) for row in kept_out.itertuples(index=False)])
    sheet.finish(repeat=placed)
