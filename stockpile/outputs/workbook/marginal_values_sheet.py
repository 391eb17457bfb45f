"""The Marginal values sheet: what one more $1M of appropriation or one more tonne of an option's
capacity would do for readiness, FY across, and (when measured) what each policy costs.

The capacity table shows the options whose capacity binds in some FY: every other option's value
is zero in every FY by definition (more of a limit that does not hold the plan back buys nothing),
and the sheet says how many were left out. The full table, zeros included, is the plan's
``marginal_capacity`` table (``stockpile.plan_scenario(...).tables``), which
``stockpile solve --marginal-csv FILE`` writes beside the workbook (:func:`write_marginal_csv`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils.cell import absolute_coordinate

from stockpile.outputs.excel.cells import plain_value
from stockpile.outputs.excel.sheet import Placed, Sheet, fy_cells, fy_columns, highlight, records
from stockpile.outputs.excel.styles import GOOD_FILL, STRONG_GOOD_FILL, Column
from stockpile.outputs.policy_cost_text import policy_cost_sentences
from stockpile.plan.read import Plan

# The tables read_workbook reads back (the policy costs are not read).
APPROPRIATION_TABLE = "MarginalAppropriation"
CAPACITY_TABLE = "MarginalCapacity"
APPROPRIATION_ROW = Column("shortfall_reduction_per_million", "Shortfall reduction per extra $1M", "marginal")
CAPACITY_VALUE = Column("shortfall_reduction_per_tonne", "per extra tonne", "marginal")
POLICY_COSTS = [
    Column("policy", "Policy"), Column("key", "Scenario key"), Column("status", "Re-solve"),
    Column("weighted_shortfall", "Weighted shortfall it adds", "marginal"),
    Column("shortfall_tonne_years", "Shortfall it adds (t-yr)", "tonnes"),
    Column("deficit", "Deficit it adds", "money"),
    Column("discounted_net_cost", "Discounted cost it adds", "money"),
    Column("purchase_cost", "Purchases it adds", "money"),
]


def binding_capacity(capacity: pd.DataFrame) -> pd.DataFrame:
    """The rows of the plan's marginal-capacity table for the (material, option) pairs whose
    capacity binds in some FY (a nonzero value): what the sheet shows and read_workbook gives back."""
    if capacity.empty:
        return capacity
    binds = capacity.shortfall_reduction_per_tonne.abs().gt(0).groupby(
        [capacity.material, capacity.option], sort=False).transform("any")
    return capacity[binds.to_numpy()]


def write_marginal_values_sheet(wb: Workbook, plan: Plan) -> None:
    appropriation, capacity = plan.tables["marginal_appropriation"], plan.tables["marginal_capacity"]
    sheet = Sheet(wb, "Marginal values", "Marginal values: what one more dollar or tonne would buy",
                  "Each figure is how much the plan's weighted shortfall (tonne-years short of goal, relative "
                  "to goal and weighted by material) would fall with one more unit of that limit. 0 means "
                  "that limit is not what holds readiness back; green marks where more would help, dark green "
                  "where it would help most.")
    fys = [int(fy) for fy in appropriation.fy]
    money = sheet.table(APPROPRIATION_TABLE, [Column("item", "Limit")] + fy_columns(fys, "marginal"),
                        [[APPROPRIATION_ROW.label] + [plain_value(v) for v in appropriation[APPROPRIATION_ROW.key]]],
                        top=sheet.section("Appropriation: shortfall reduction per extra $1M in each FY"))
    if plan.policy_costs is not None:
        _policy_cost_table(sheet, plan.policy_costs)

    shown = binding_capacity(capacity)
    cap_fys = sorted({int(fy) for fy in capacity.fy}) or fys
    rows, index = [], {}
    for row in shown.itertuples(index=False):
        key = (row.material, row.option)
        if key not in index:  # first-appearance order, so read_workbook restores the plan's order
            index[key] = len(rows)
            rows.append([row.material, row.option] + [None] * len(cap_fys))
        rows[index[key]][2 + cap_fys.index(int(row.fy))] = plain_value(row.shortfall_reduction_per_tonne)
    left_out = capacity[["material", "option"]].drop_duplicates().shape[0] - len(rows)
    note = "Blank: the option cannot be ordered in that FY."
    if left_out:
        note += (f" {left_out} other options and streams are left out: their capacity binds in no FY, so one more "
                 "tonne of it is worth 0 in every FY (every option: stockpile solve --marginal-csv FILE.csv).")
    tonnes = sheet.table(CAPACITY_TABLE, [Column("material", "Material"), Column("option", "Option")]
                         + fy_columns(cap_fys, "marginal"), rows,
                         top=sheet.section("Capacity: shortfall reduction per extra tonne of an option's "
                                           "capacity in each FY", note))
    for placed in (money, tonnes):
        _shade_by_value(sheet, placed)
    sheet.finish(repeat=tonnes if len(rows) > 20 else None)


def _shade_by_value(sheet: Sheet, placed: Placed) -> None:
    """Green where a value is positive, dark green in the top half of the table's range: two
    formula rules, which every client reads (Gnumeric ignores colour scales)."""
    cells = fy_cells(placed)
    first = cells.split(":")[0]
    span = ":".join(absolute_coordinate(part) for part in cells.split(":"))
    highlight(sheet.ws, cells, f"AND(ISNUMBER({first}),{first}>0,{first}>=MAX({span})/2)", STRONG_GOOD_FILL, None)
    highlight(sheet.ws, cells, f"AND(ISNUMBER({first}),{first}>0)", GOOD_FILL, None)


def _policy_cost_table(sheet: Sheet, costs: pd.DataFrame) -> None:
    """Each policy's cost: the plan with it minus the plan re-solved without it."""
    sentences = [sentence[:1].upper() + sentence[1:] + ("" if sentence.endswith(".") else ".")
                 for sentence in policy_cost_sentences(costs)]
    top = sheet.section("What each policy costs", "\n".join(
        ["The scenario re-solved without each policy in turn: what the policy adds in shortfall and cost "
         "(negative: it saves)."] + sentences))
    sheet.table("PolicyCosts", POLICY_COSTS, records(costs, POLICY_COSTS), top=top)


def write_marginal_csv(plan: Plan, path: Path) -> None:
    """The plan's whole marginal-capacity table as CSV (material, option, fy,
    shortfall_reduction_per_tonne; every option and stream in every FY it can be ordered, zeros
    included), values exact (shortest round-trip form): what the sheet leaves out."""
    plan.tables["marginal_capacity"].to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
