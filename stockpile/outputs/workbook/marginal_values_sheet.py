"""The Marginal values sheet: what one more $1M of appropriation or one more tonne of an option's
capacity would do for readiness, FY across, and (when measured) what each policy costs."""

from __future__ import annotations

import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import ColorScaleRule

from stockpile.outputs.excel.cells import plain_value
from stockpile.outputs.excel.sheet import Sheet, fy_cells, fy_columns, records
from stockpile.outputs.excel.styles import Column
from stockpile.outputs.policy_cost_text import policy_cost_sentences
from stockpile.plan.read import Plan

# The Excel tables read_workbook reads back (the policy costs are not read).
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


def write_marginal_values_sheet(wb: Workbook, plan: Plan) -> None:
    appropriation, capacity = plan.tables["marginal_appropriation"], plan.tables["marginal_capacity"]
    sheet = Sheet(wb, "Marginal values", "Marginal values: what one more dollar or tonne would buy",
                  "Each figure is how much the plan's weighted shortfall (tonne-years short of goal, relative "
                  "to goal and weighted by material) would fall with one more unit of that limit. 0 means "
                  "that limit is not what holds readiness back; green marks where more would help most.")
    fys = [int(fy) for fy in appropriation.fy]
    money = sheet.table(APPROPRIATION_TABLE, [Column("item", "Limit")] + fy_columns(fys, "marginal"),
                        [[APPROPRIATION_ROW.label] + [plain_value(v) for v in appropriation[APPROPRIATION_ROW.key]]],
                        top=sheet.section("Appropriation: shortfall reduction per extra $1M in each FY"))

    cap_fys = sorted({int(fy) for fy in capacity.fy}) or fys
    rows, index = [], {}
    for row in capacity.itertuples(index=False):
        key = (row.material, row.option)
        if key not in index:  # first-appearance order, so read_workbook restores the plan's order
            index[key] = len(rows)
            rows.append([row.material, row.option] + [None] * len(cap_fys))
        rows[index[key]][2 + cap_fys.index(int(row.fy))] = plain_value(row.shortfall_reduction_per_tonne)
    tonnes = sheet.table(CAPACITY_TABLE, [Column("material", "Material"), Column("option", "Option")]
                         + fy_columns(cap_fys, "marginal"), rows,
                         top=sheet.section("Capacity: shortfall reduction per extra tonne of an option's "
                                           "capacity in each FY", "Blank: the option cannot be ordered in that FY."))
    for placed in (money, tonnes):
        sheet.ws.conditional_formatting.add(fy_cells(placed), ColorScaleRule(
            start_type="num", start_value=0, start_color="FFFFFF", end_type="max", end_color="63BE7B"))
    if plan.policy_costs is not None:
        _policy_cost_table(sheet, plan.policy_costs)
    sheet.finish(freeze="B4")


def _policy_cost_table(sheet: Sheet, costs: pd.DataFrame) -> None:
    """Each policy's cost: the plan with it minus the plan re-solved without it."""
    top = sheet.section("What each policy costs", "The scenario re-solved without each policy in turn: what the "
                        "policy adds in shortfall and cost (negative: it saves). " + " ".join(
                            policy_cost_sentences(costs)))
    sheet.table("PolicyCosts", POLICY_COSTS, records(costs, POLICY_COSTS), top=top)
