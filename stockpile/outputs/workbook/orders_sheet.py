"""The Orders sheet: every order the plan places (origin and refining country); then the Orders by FY
sheet: tonnes by origin country, by refining country and cost by material FY by FY, and a stacked bar
chart of each material's orders by origin country."""

from __future__ import annotations

from openpyxl import Workbook

from stockpile.outputs.excel.cells import plain_value
from stockpile.outputs.excel.charts import HOME_COLOUR, PALETTE, place_charts, plot_rows, stacked_bar_chart
from stockpile.outputs.excel.sheet import Sheet
from stockpile.outputs.excel.styles import Column
from stockpile.outputs.workbook.sheet_parts import VIEW_KEY_COLUMNS, by_fy_view, long_table_sheet, material_label
from stockpile.plan.read import ORDER_COLUMNS, Plan

ORDERS_TABLE = "Orders"
"""The table read_workbook reads back (the views on Orders by FY are not read)."""
ORDERS = [
    Column("fy", "FY", "fy"), Column("material", "Material"), Column("option", "Option"),
    Column("kind", "Kind"), Column("country", "Origin (mined in)"),
    Column("refiner", "Refiner (refined in)"), Column("tags", "Tags"),
    Column("tonnes", "Tonnes", "tonnes"), Column("delivery_fy", "Delivery FY", "fy"),
    Column("unit_price", "Unit price ($/t)", "price"), Column("cost", "Cost ($M)", "money"),
]
assert [c.key for c in ORDERS] == ORDER_COLUMNS


def write_orders_sheet(wb: Workbook, plan: Plan) -> None:
    s, orders = plan.scenario, plan.tables["orders"]
    fys = list(s.fys)
    sheet, placed = long_table_sheet(
        wb, "Orders", "Orders", "Each row is one order placed in an FY; its tonnes arrive in the delivery FY. "
        "Tonnes by origin country, by refining country and cost by material, FY by FY, with a chart per material: sheet Orders by FY.",
        ORDERS_TABLE, ORDERS, orders)
    sheet.finish(repeat=placed)
    sheet = Sheet(wb, "Orders by FY", "Orders FY by FY",
                  "Tonnes ordered by origin country, by refining country and cost by material in each FY, and a chart per material of "
                  "its orders by country (from the Orders sheet).")

    rows, blocks = [], {}  # blocks: material -> (first, end) row offsets in the view, for its chart
    by_country = _tonnes_by(s, orders, "country", fys)
    for code, countries in by_country.items():
        blocks[code] = (len(rows), len(rows) + len(countries))
        rows += [[material_label(s, code), country] + values for country, values in countries]
    view = by_fy_view(sheet, "OrdersByCountry", "Tonnes ordered by origin country and FY", "Origin", rows, fys,
                      "tonnes")
    by_fy_view(sheet, "OrdersByRefiner", "Tonnes ordered by refining country and FY", "Refiner",
               [[material_label(s, code), refiner] + values
                for code, refiners in _tonnes_by(s, orders, "refiner", fys).items() for refiner, values in refiners],
               fys, "tonnes")
    cost = {key: float(group.sum()) for key, group in orders.groupby(["material", "fy"], sort=False).cost} \
        if not orders.empty else {}
    cost_rows = [[material_label(s, code), "all options"] + [cost.get((code, fy), 0.0) for fy in fys]
                 for code in s.materials]
    by_fy_view(sheet, "CostByMaterial", "Cost of orders by material and FY ($M)", "Options", cost_rows, fys,
               "money")
    sheet.finish(key_columns=VIEW_KEY_COLUMNS)

    charts = []
    for code, (first, end) in blocks.items():
        foreign = iter(PALETTE * (1 + (end - first) // len(PALETTE)))
        colours = [HOME_COLOUR if row[1] == s.policy.home_country else next(foreign) for row in rows[first:end]]
        charts.append(stacked_bar_chart(f"{material_label(s, code)}: tonnes ordered by country", "tonnes"))
        plot_rows(charts[-1], view, range(view.first_row + first, view.first_row + end), "label",
                  [{"color": colour} for colour in colours])
    place_charts(sheet, charts)


def _tonnes_by(s, orders, key: str, fys: list[int]) -> dict[str, list[tuple[str, list]]]:
    """Per material (that orders any), the tonnes ordered from each ``key`` (origin or refining
    country) FY by FY (None: nothing that FY), the largest first: the view reads top down and
    its chart stacks from the bottom."""
    if orders.empty:
        return {}
    tonnes = orders.pivot_table(index=["material", key], columns="fy", values="tonnes", aggfunc="sum", sort=False)
    totals = tonnes.sum(axis=1).to_dict()
    values = tonnes.reindex(columns=fys).to_numpy()
    row_of = {pair: i for i, pair in enumerate(tonnes.index)}
    found: dict[str, list[tuple[str, list]]] = {}
    for code in s.materials:
        names = sorted((name for material, name in tonnes.index if material == code),
                       key=lambda name: (-totals[(code, name)], name))
        if names:
            found[code] = [(name, [plain_value(v) for v in values[row_of[(code, name)]]]) for name in names]
    return found
