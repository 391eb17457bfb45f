"""Writing the planner's workbook: the sheets in order (SHEET_ORDER), then the hidden ``_scenario`` sheet
holding the resolved scenario as canonical JSON (what read_workbook and ``stockpile verify`` read)."""

from __future__ import annotations

from pathlib import Path

from stockpile.outputs.excel.cells import is_formula_like
from stockpile.outputs.excel.saving import save_workbook
from stockpile.outputs.excel.streaming import add_worksheet, new_workbook, style, write_rows
from stockpile.outputs.workbook.audit_sheet import write_audit_sheet
from stockpile.outputs.workbook.fund_sheet import write_fund_sheet
from stockpile.outputs.workbook.inputs_sheet import write_inputs_sheet
from stockpile.outputs.workbook.inventory_sheet import write_inventory_sheet
from stockpile.outputs.workbook.marginal_values_sheet import write_marginal_values_sheet
from stockpile.outputs.workbook.orders_sheet import write_orders_sheet
from stockpile.outputs.workbook.sourcing_sheet import write_sourcing_sheet
from stockpile.outputs.workbook.summary_sheet import write_summary_sheet
from stockpile.plan.read import Plan

SCENARIO_SHEET = "_scenario"
CELL_CHUNK = 30_000  # Excel holds at most 32,767 characters in a cell

SHEET_ORDER = ("Summary", "Orders", "Orders by FY", "Inventory", "Inventory by FY", "Fund", "Sourcing",
               "Sourcing by FY", "Bans", "Marginal values", "Inputs", "Inputs by FY", "Supply options", "Data figures", "Audit")


def write_workbook(plan: Plan, path: Path, streamed: bool = True) -> None:
    """Write the planner's workbook for ``plan`` to ``path`` (callers use stockpile.outputs.files.atomic_write);
    ``streamed=False`` writes the same cells through ordinary openpyxl worksheets (for the tests)."""
    wb = new_workbook(streamed)
    write_summary_sheet(wb, plan)
    write_orders_sheet(wb, plan)
    write_inventory_sheet(wb, plan)
    write_fund_sheet(wb, plan)
    write_sourcing_sheet(wb, plan)
    write_marginal_values_sheet(wb, plan)
    write_inputs_sheet(wb, plan)
    write_audit_sheet(wb, plan)
    hidden = add_worksheet(wb, SCENARIO_SHEET)
    hidden.sheet_state = "hidden"
    text = plan.scenario.plain_json()
    chunks = [text[start:start + CELL_CHUNK] for start in range(0, len(text), CELL_CHUNK)]
    write_rows(hidden, ((row, [(1, chunk, style(quote_prefix=is_formula_like(chunk)))])
                        for row, chunk in enumerate(chunks, start=1)))
    wb.active = 0
    save_workbook(wb, path)
