"""The sweep workbook: one row per point with its headline figures (Sweep), each material's
shortfall and trusted share per point (Sweep by material), and the frontier tables and charts
(Frontier). Parameters are named in the planner's words (:func:`parameter_label`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl.chart import Reference

from stockpile.scenario.schema import Scenario
from stockpile.outputs.excel.charts import line_chart, place_charts
from stockpile.outputs.excel.saving import save_workbook
from stockpile.outputs.excel.streaming import new_workbook
from stockpile.outputs.excel.sheet import Sheet, records
from stockpile.outputs.excel.styles import NUMBER_FORMATS, Column

HOW_TO_READ = (
    "One row per point of the sweep: the parameters set at that point, then the plan's headline "
    "figures. Each point is a full lexicographic solve (solvency first, then readiness, then cost). "
    "The first, middle and last points passed the independent audit, as any plan does (every point "
    "with --audit-all); the others were checked against every row and bound of their own LP (the "
    "CSV's audit column says which). 'Warm' points were re-solved from a neighbouring point's basis; the others "
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


PARAMETER_WORDS = {
    "fund.appropriation": ("Appropriation", "$M per FY"), "fund.floor": ("Fund floor", "$M"),
    "fund.other_revenue": ("Other revenue", "$M per FY"), "fund.operating_cost": ("Operating cost", "$M per FY"),
    "fund.opening_balance": ("Opening Fund balance", "$M"), "prices.multiplier": ("Price multiplier", "x base"),
    "policy.concentration_cap": ("Single-country cap", "share of orders"),
}
MATERIAL_WORDS = {"trusted_share": ("trusted-share floor", "share of orders"), "goal": ("goal", "t"),
                  "draw": ("draw", "t"), "loss_rate": ("loss rate", "per FY"), "weight": ("weight", "")}
OPTION_WORDS = {"capacity": ("capacity", "t per FY"), "price": ("price", "$/t"), "feedstock": ("feedstock", "t"),
                "recovery_yield": ("recovery yield", "share"), "cost": ("cost", "$/t")}


def parameter_label(column: str, base: Scenario) -> str:
    """A sweep parameter in the planner's words with its unit: ``policy.trusted_share.Sb`` is
    "Antimony trusted-share floor (share of orders)", ``fund.appropriation.2028`` "Appropriation
    in FY2028 ($M per FY)"; a scaled parameter reads "(x base)"."""
    scaled = column.endswith(" (x base)")
    path = column.removesuffix(" (x base)")
    parts = path.split(".")
    fy = parts.pop() if parts and parts[-1].isdigit() else None
    key = ".".join(parts)
    words, unit = PARAMETER_WORDS.get(key, (None, ""))
    if words is None and len(parts) == 3 and parts[0] == "policy" and parts[2] in base.materials:
        words, unit = f"{base.materials[parts[2]].name} {MATERIAL_WORDS.get(parts[1], (parts[1], ''))[0]}", \
            MATERIAL_WORDS.get(parts[1], ("", ""))[1]
    elif words is None and len(parts) == 3 and parts[0] == "materials" and parts[1] in base.materials:
        name, unit = MATERIAL_WORDS.get(parts[2], (parts[2].replace("_", " "), ""))
        words = f"{base.materials[parts[1]].name} {name}"
    elif words is None and len(parts) >= 3 and parts[0] in ("supply", "recycling"):
        name, unit = OPTION_WORDS.get(parts[-1], (parts[-1].replace("_", " "), ""))
        words = f"{'.'.join(parts[1:-1])} {name}"
    elif words is None and len(parts) == 3 and parts[0] == "events":
        words = f"Event {parts[1]}: {parts[2].replace('_', ' ')}"
        unit = "FY" if parts[2].endswith("fy") else ("share" if parts[2] == "availability" else "x")
    elif words is None:
        words = path.replace("_", " ")
    if fy is not None:
        words += f" in FY{fy}"
    unit = "x base" if scaled else unit
    return f"{words} ({unit})" if unit else words


def sweep_columns(table: pd.DataFrame, parameters: list[str], base: Scenario) -> list[Column]:
    return point_columns(parameters, base) + HEADLINE_COLUMNS


def point_columns(parameters: list[str], base: Scenario) -> list[Column]:
    """What identifies a point: its run number and the parameters set at it."""
    return [Column("run", "Run", "integer")] + [Column(p, parameter_label(p, base), parameter_kind(p))
                                                 for p in parameters]


def material_columns(base: Scenario) -> list[Column]:
    columns = [Column(f"shortfall_{m}", f"{base.materials[m].name} shortfall (t-yr)", "tonnes") for m in base.materials]
    columns += [Column(f"unmet_release_{m}", f"{base.materials[m].name} unmet release (t)", "tonnes")
                for m in base.materials]
    return columns + [Column(f"trusted_share_{m}", f"{base.materials[m].name} trusted share", "share")
                      for m in base.materials]


HEADLINE_COLUMNS = [
        Column("status", "Status"),
        Column("solvent_through_fy", "Solvent through", "fy"), Column("first_shortfall_fy", "First shortfall", "fy"),
        Column("first_deficit_fy", "First deficit", "fy"),
        Column("weighted_shortfall", "Weighted shortfall", "marginal"),
        Column("total_shortfall_tonne_years", "Shortfall (t-yr)", "tonnes"),
        Column("total_deficit", "Fund deficit", "money"), Column("total_purchase_cost", "Purchases", "money"),
        Column("discounted_net_cost", "Discounted net cost", "money"),
        Column("end_fund_balance", "End Fund balance", "money"),
        Column("warm", "Warm"), Column("reason", "Reason (failed points)"),
]


def write_sweep_workbook(table: pd.DataFrame, parameters: list[str], base: Scenario, path: Path) -> None:
    wb = new_workbook()
    frame = table.copy()
    frame["warm"] = frame["warm"].map(lambda v: "yes" if v is True else ("no" if v is False else ""))
    sheet = Sheet(wb, "Sweep", f"Sweep of {base.name}", HOW_TO_READ)
    columns = sweep_columns(table, parameters, base)
    placed = sheet.table("SweepResults", columns, records(frame, columns))
    sheet.finish(repeat=placed, key_columns=1 + len(parameters))

    sheet = Sheet(wb, "Sweep by material", "Each material at each point",
                  "Shortfall (tonne-years short of goal) and trusted share of orders per material, point by point.")
    columns = point_columns(parameters, base) + material_columns(base)
    placed = sheet.table("SweepByMaterial", columns, records(frame.reindex(columns=[c.key for c in columns]), columns))
    sheet.finish(repeat=placed, key_columns=1 + len(parameters))

    sheet = Sheet(wb, "Frontier", f"The frontier against {parameter_label(parameters[0], base)}",
                  "Each chart reads a headline figure against the first parameter; with two parameters, one line "
                  "per value of the second.")
    charts = []
    x_key, x_label = parameters[0], parameter_label(parameters[0], base)
    for key, title, y_title, kind in FRONTIER:
        view = _frontier_table(sheet, frame, parameters, key, title, kind, base)
        chart = line_chart(f"{title} against {x_label}", y_title, NUMBER_FORMATS[kind], x_label)
        x_kind = parameter_kind(x_key)  # whole percentages, so a category label fits on one line
        chart.x_axis.number_format = "0%" if x_kind == "share" else NUMBER_FORMATS[x_kind]
        data = Reference(sheet.ws, min_col=view.left + 1, max_col=view.right, min_row=view.header_row,
                         max_row=view.last_row)
        chart.add_data(data, titles_from_data=True)
        for series in chart.series:
            series.smooth = False
        chart.set_categories(Reference(sheet.ws, min_col=view.left, min_row=view.first_row, max_row=view.last_row))
        if kind == "fy":  # an FY axis spans the horizon, not 0 to 2040
            chart.y_axis.scaling.min, chart.y_axis.scaling.max = base.horizon.first_fy - 1, base.horizon.last_fy
            chart.y_axis.majorUnit = max(1, (base.horizon.last_fy - base.horizon.first_fy + 1) // 7)
        if view.right == view.left + 1:
            chart.legend = None
        charts.append(chart)
    sheet.finish()
    place_charts(sheet, charts)
    save_workbook(wb, path)


FRONTIER = (
    ("weighted_shortfall", "Weighted shortfall", "relative shortfall", "marginal"),
    ("solvent_through_fy", "Solvent through", "FY", "fy"),
    ("discounted_net_cost", "Discounted net cost", "$M", "money"),
)


def _frontier_table(sheet: Sheet, frame: pd.DataFrame, parameters: list[str], key: str, title: str, kind: str,
                    base: Scenario):
    """``key`` by the first parameter (down) and the second (across): the data a chart reads."""
    x_key = parameters[0]
    xs = list(dict.fromkeys(frame[x_key]))
    if len(parameters) < 2:
        across = [("value", title, frame)]
    else:
        second = parameter_label(parameters[1], base)
        across = [(f"v{i}", f"{second} = {value:g}", frame[frame[parameters[1]] == value])
                  for i, value in enumerate(dict.fromkeys(frame[parameters[1]]))]
    x_label = parameter_label(x_key, base)
    columns = [Column("x", x_label, parameter_kind(x_key))] + [Column(k, label, kind) for k, label, _ in across]
    rows = []
    for x in xs:
        row = [x]
        for _, _, part in across:
            match = part.loc[part[x_key] == x, key]
            value = match.iloc[0] if len(match) else None
            row.append(None if value is None or (isinstance(value, float) and pd.isna(value)) else value)
        rows.append(row)
    top = sheet.section(f"{title} by {x_label}")
    return sheet.table(f"Frontier_{key}", columns, rows, top=top)
