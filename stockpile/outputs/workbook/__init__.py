"""The planner's workbook: the plan as formatted Excel tables and charts, and reading it back.

Sheets, in order (``write.SHEET_ORDER``): Summary, Orders, Orders by FY, Inventory, Inventory by
FY, Fund, Sourcing, Sourcing by FY, Bans, Marginal values, Inputs, Inputs by FY, Supply options, Data
figures, Audit, and a hidden ``_scenario`` sheet holding the resolved scenario as canonical JSON, so
``stockpile verify`` can re-audit a saved plan without the original scenario file. One module per
sheet (``summary_sheet``, ``orders_sheet``, ...), each with the column specs of the tables it
shows; ``sheet_parts`` what several sheets share (material labels, a sheet headed by a long table,
the FY-across views below it); ``write`` the whole workbook
(:func:`~stockpile.outputs.workbook.write.write_workbook`); ``read`` the reader
(:func:`~stockpile.outputs.workbook.read.read_workbook`).

Every table is a named range (a defined name) whose cells hold the plan's exact values (dollars, tonnes,
fractions); number formats only change how they look ($M with one decimal, thousands
separators, percentages). That is what lets ``read_workbook`` give back the plan's tables
exactly. Tables a planner reads across time (Fund, marginal values) have FYs as columns;
``read_workbook`` turns them back into the plan's long tables. Each long table (Orders,
Inventory, Sourcing) has a sheet of its own, its header printed on every page; the "by FY" sheet
after it holds the FY-across views that the charts draw from (for reading only). Everything on a
sheet is stacked in one column band and printed at 8 pt or more (:mod:`stockpile.outputs.excel.sheet`),
and charts come last, kept whole by page breaks.

Every string from a scenario is written as text, never as a formula, and the file is written
with fixed metadata and zip timestamps, so the same plan gives the same bytes run after run
(the toolkit in :mod:`stockpile.outputs.excel` does both).
"""
