"""The sweep workbook: one row per point with its headline figures, and frontier charts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import Reference

from stockpile.scenario.schema import Scenario
from stockpile.outputs.excel.charts import line_chart, place_charts
from stockpile.outputs.excel.saving import save_workbook
from stockpile.outputs.excel.sheet import Sheet, records
from stockpile.outputs.excel.styles import NUMBER_FORMATS, Column

HOW_TO_READ = (
    "One row per point of the sweep: the parameters set at that point, then the plan's headline "
    "figures. Each point is a full lexicographic solve (solvency first, then readiness, then cost) "
    "audited like any plan. 'Warm' points were re-solved from a neighbouring point's basis; the others "
    "from a fresh model (their LP had another shape). The charts read the frontier against the first "
    "parameter; with two parameters, one line per value of the second.")


def parameter_kind(path: str) -> str:
    if path.endswith("(x base)") or "multiplier" in path:
        return "number"
    if path.startswith("fund."):
        return "money"
    if "share" in path or "cap" in path or "availability" in path or "yield" in path:
        return "share"
    if path.endswith("_fy"):
        return "fy"
    return "number"


def sweep_columns(table: pd.DataFrame, parameters: list[str], base: Scenario) -> list[Column]:
    columns = [Column("run", "Run", "integer")]
    columns += [Column(p, p, parameter_kind(p)) for p in parameters]
    columns += [
        Column("status", "Status"), Column("solvency_horizon", "Solvency horizon"),
        Column("solvent_through_fy", "Solvent through", "fy"), Column("first_shortfall_fy", "First shortfall", "fy"),
        Column("first_deficit_fy", "First deficit", "fy"),
        Column("weighted_shortfall", "Weighted shortfall", "marginal"),
        Column("total_shortfall_tonne_years", "Shortfall (t-yr)", "tonnes"),
        Column("total_unmet_release_tonnes", "Unmet release (t)", "tonnes"),
    ]
    columns += [Column(f"shortfall_{m}", f"{base.materials[m].name} shortfall (t-yr)", "tonnes") for m in base.materials]
    columns += [
        Column("total_deficit", "Fund deficit", "money"), Column("total_purchase_cost", "Purchases", "money"),
        Column("discounted_net_cost", "Discounted net cost", "money"),
        Column("end_fund_balance", "End Fund balance", "money"),
    ]
    columns += [Column(f"trusted_share_{m}", f"{base.materials[m].name} trusted share", "share") for m in base.materials]
    columns += [Column("warm", "Warm"), Column("reason", "Reason (failed points)")]
    return columns


def write_sweep_workbook(table: pd.DataFrame, parameters: list[str], base: Scenario, path: Path) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    sheet = Sheet(wb, "Sweep", f"Sweep of {base.name}", HOW_TO_READ)
    columns = sweep_columns(table, parameters, base)
    frame = table.copy()
    frame["warm"] = frame["warm"].map(lambda v: "yes" if v is True else ("no" if v is False else ""))
    placed = sheet.table("SweepResults", columns, records(frame, columns))
    charts = []
    x_key = parameters[0]
    sheet.next_row = placed.last_row + 3
    for key, title, y_title, kind in FRONTIER:
        view = _frontier_table(sheet, frame, parameters, key, title, kind)
        chart = line_chart(f"{title} against {x_key}", y_title, NUMBER_FORMATS[kind])
        chart.x_axis.title = x_key
        chart.x_axis.number_format = NUMBER_FORMATS[parameter_kind(x_key)]
        data = Reference(sheet.ws, min_col=view.left + 1, max_col=view.right, min_row=view.header_row,
                         max_row=view.last_row)
        chart.add_data(data, titles_from_data=True)
        for series in chart.series:
            series.smooth = False
        chart.set_categories(Reference(sheet.ws, min_col=view.left, min_row=view.first_row, max_row=view.last_row))
        if view.right == view.left + 1:
            chart.legend = None
        charts.append(chart)
    sheet.finish("B5")
    place_charts(sheet, charts)
    save_workbook(wb, path)


FRONTIER = (
    ("weighted_shortfall", "Weighted shortfall", "relative shortfall", "marginal"),
    ("solvent_through_fy", "Solvent through", "FY", "fy"),
    ("discounted_net_cost", "Discounted net cost", "$M", "money"),
)


def _frontier_table(sheet: Sheet, frame: pd.DataFrame, parameters: list[str], key: str, title: str, kind: str):
    """``key`` by the first parameter (down) and the second (across): the data a chart reads."""
    x_key = parameters[0]
    xs = list(dict.fromkeys(frame[x_key]))
    if len(parameters) < 2:
        across = [("value", title, frame)]
    else:
        across = [(f"v{i}", f"{parameters[1]} = {value:g}", frame[frame[parameters[1]] == value])
                  for i, value in enumerate(dict.fromkeys(frame[parameters[1]]))]
    columns = [Column("x", x_key, parameter_kind(x_key))] + [Column(k, label, kind) for k, label, _ in across]
    rows = []
    for x in xs:
        row = [x]
        for _, _, part in across:
            match = part.loc[part[x_key] == x, key]
            value = match.iloc[0] if len(match) else None
            row.append(None if value is None or (isinstance(value, float) and pd.isna(value)) else value)
        rows.append(row)
    top = sheet.section(f"{title} by {x_key}")
    return sheet.table(f"Frontier_{key}", columns, rows, top=top)
