"""Outputs: what a plan is written as. Safe writing of any output file (``files``), the JSON
summary (``summary``), the Excel toolkit every workbook uses (``excel/``), the planner's workbook
and its reader (``workbook/``), and the policy costs in planner's words (``policy_cost_text``)."""
