"""The hedge workbook: what to buy now, how each future turns out, and what hedging is worth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl.chart import BarChart, Reference

from stockpile.analysis.hedge.tree import HedgeResult
from stockpile.model.build import MONEY_SCALE  # the tree reports money in the LP's unit, $M; cells hold dollars
from stockpile.outputs.excel.cells import plain_value
from stockpile.outputs.excel.charts import chart_title, place_charts, readable
from stockpile.outputs.excel.saving import save_workbook
from stockpile.outputs.excel.streaming import new_workbook
from stockpile.outputs.excel.sheet import Sheet, records
from stockpile.outputs.excel.styles import BAD_FILL, GOOD_FILL, Column

VALUE_NOTE = (
    "Read each priority on its own, in its units, first row first (solvency, then readiness, then cost). "
    "RP is the hedged plan's expected outcome; WS what it would be if each future were known in advance; "
    "EEV what planning for the average future (its FY orders before the decision fixed) yields across the "
    "futures. VSS = EEV - RP is what hedging buys over planning for the average; EVPI = RP - WS is what "
    "perfect foresight would be worth, the most worth paying for better information. Both are at least zero "
    "in the first priority where they differ (lexicographic order), so a negative cost VSS can come with a "
    "positive shortfall VSS: hedging spends money to avoid shortfall.")

MEASURES = [Column("priority", "Priority"), Column("unit", "Unit"),
            Column("hedged_RP", "Hedged plan (RP)", "marginal"), Column("wait_and_see_WS", "Foresight (WS)", "marginal"),
            Column("average_future_EEV", "Average-future plan (EEV)", "marginal"),
            Column("VSS", "VSS = EEV - RP", "marginal"), Column("EVPI", "EVPI = RP - WS", "marginal")]
SHARED = [Column("fy", "FY", "fy"), Column("material", "Material"), Column("option", "Option"),
          Column("country", "Country"), Column("tonnes", "Tonnes", "tonnes"), Column("delivery_fy", "Delivery", "fy"),
          Column("unit_price", "Unit price", "price"), Column("cost", "Cost", "money")]
OUTCOMES = [Column("future", "Future"), Column("probability", "Probability", "share"),
            Column("description", "Description"), Column("headline", "Solvency horizon"),
            Column("shortfall", "Weighted shortfall", "marginal"),
            Column("own_optimum_shortfall", "Own optimum", "marginal"),
            Column("total_shortfall_tonne_years", "Shortfall (t-yr)", "tonnes"),
            Column("total_deficit", "Fund deficit", "money"), Column("total_purchase_cost", "Purchases", "money"),
            Column("cost", "Discounted cost ($M)", "money"), Column("own_optimum_cost", "Own optimum ($M)", "money"),
            Column("end_fund_balance", "End Fund balance", "money"), Column("audit", "Audit")]
HISTOGRAM_BINS = 12
"""The most bins a histogram has; fewer when the futures take fewer distinct values."""


def hedge_title(name: str) -> str:
    """The workbook's title from the scenario's own name: "Hedge: antimony ban, ..." reads
    "Hedged plan: antimony ban, ..." rather than "Hedged plan: Hedge: ..."."""
    for prefix in ("hedge:", "hedged plan:", "hedge -", "hedge"):
        if name.lower().startswith(prefix) and len(name) > len(prefix):
            return "Hedged plan: " + name[len(prefix):].strip(" :-")
    return f"Hedged plan: {name}"


def write_hedge_workbook(result: HedgeResult, path: Path) -> None:
    wb = new_workbook()
    s = result.scenario
    audited = all(p.audit.ok for p in result.plans.values())
    summary = Sheet(wb, "Summary", hedge_title(s.name),
                    f"Orders before FY{result.decision_fy} are decided now and shared by all {len(result.futures)} "
                    f"futures; later orders adapt to each. See 'Shared orders' for what to buy now.")
    rows = [("Scenario", s.name, "text"), ("Description", s.description, "text"),
            ("Decision FY", result.decision_fy, "fy"), ("Futures", len(result.futures), "integer"),
            ("Shared (here-and-now) purchases", float(result.shared_orders.cost.sum()), "money"),
            ("Expected weighted unmet release", result.expected["release"], "marginal"),
            ("Expected Fund deficit ($M)", result.expected["deficit"] * MONEY_SCALE, "money"),
            ("Expected weighted shortfall", result.expected["shortfall"], "marginal"),
            ("Expected discounted cost ($M)", result.expected["cost"] * MONEY_SCALE, "money"),
            ("Solver", result.solution.solver_version, "text"),
            ("Audit", "passed in every future" if audited else "FAILED in some future", "text"),
            ("Scenario SHA-256", s.sha256, "text")]
    about = summary.key_values("Hedge", rows, top=summary.section("The hedged plan"))
    summary.restyle(about.first_row + len(rows) - 2, about.col("value"), fill=GOOD_FILL if audited else BAD_FILL)
    if not result.measures.empty:
        top = summary.section("What hedging is worth: VSS and EVPI", VALUE_NOTE)
        rows, kinds = _measure_rows(result.measures)
        summary.table("ValueOfHedging", MEASURES, rows, top=top, row_kinds=kinds)
    summary.finish()

    shared = Sheet(wb, "Shared orders", f"What to buy now: orders placed before FY{result.decision_fy}",
                   "The same in every future: placed before the uncertainty resolves.")
    placed = shared.table("SharedOrders", SHARED, records(result.shared_orders, SHARED))
    shared.finish(repeat=placed)

    futures = Sheet(wb, "Futures", "Each future under the hedged plan",
                    "Weighted shortfall and discounted cost of the hedged plan in each future, against that future's "
                    "own optimum (its plan had the future been known); the gap is the price of not knowing.")
    outcomes = result.outcomes.reindex(columns=[c.key for c in OUTCOMES])
    outcomes[["cost", "own_optimum_cost"]] = outcomes[["cost", "own_optimum_cost"]] * MONEY_SCALE
    placed = futures.table("Futures", OUTCOMES, records(outcomes, OUTCOMES))
    futures.finish(repeat=placed)

    distribution = Sheet(wb, "Distribution", "Shortfall and cost across futures",
                         "How many futures (weighted by probability) fall in each range of weighted shortfall and "
                         "of discounted cost under the hedged plan.")
    charts = []
    for key, title, kind in (("shortfall", "Weighted shortfall", "marginal"), ("cost", "Discounted cost ($M)", "money")):
        view = _histogram(distribution, result.outcomes, key, title, kind)
        chart = BarChart()
        chart.type = "col"
        chart.title = chart_title(f"{title} across futures")
        chart.legend = None
        readable(chart, title, "probability")
        chart.y_axis.number_format = "0%"
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 1
        chart.add_data(Reference(distribution.ws, min_col=view.col("probability"), min_row=view.first_row,
                                 max_row=view.last_row))
        chart.set_categories(Reference(distribution.ws, min_col=view.col("range"), min_row=view.first_row,
                                       max_row=view.last_row))
        charts.append(chart)
    distribution.finish(freeze=None)
    place_charts(distribution, charts)
    wb.active = 0
    save_workbook(wb, path)


def _measure_rows(measures: pd.DataFrame) -> tuple[list[list], list[dict | None]]:
    """The VSS/EVPI rows, money rows ($M in the tree) as dollars shown in $M, the others as they are."""
    rows, kinds = [], []
    for row in records(measures, MEASURES):
        money = row[1] == "$M"
        rows.append(row[:2] + [v * MONEY_SCALE if money and isinstance(v, (int, float)) else v for v in row[2:]])
        kinds.append({c.key: "money" for c in MEASURES[2:]} if money else None)
    return rows, kinds


def _histogram(sheet: Sheet, outcomes: pd.DataFrame, key: str, title: str, kind: str):
    """The probability of each range of ``key`` across futures: one bin per distinct value when
    there are at most HISTOGRAM_BINS of them (labelled by the value), else HISTOGRAM_BINS equal
    ranges labelled by their ends, each in the figure's own format."""
    values = outcomes[key].to_numpy(dtype=float) * (MONEY_SCALE if kind == "money" else 1.0)
    weights = outcomes["probability"].to_numpy(dtype=float)
    shown = [_shown(v, kind) for v in values]
    distinct = list(dict.fromkeys(sorted(set(shown), key=lambda text: values[shown.index(text)])))
    if len(distinct) <= HISTOGRAM_BINS:
        rows = [[text, float(weights[[s == text for s in shown]].sum())] for text in distinct]
    else:
        edges = np.linspace(values.min(), values.max(), HISTOGRAM_BINS + 1)
        counts, _ = np.histogram(values, bins=edges, weights=weights)
        rows = [[f"{_shown(a, kind)} to {_shown(b, kind)}", float(c)] for a, b, c in zip(edges, edges[1:], counts)]
    columns = [Column("range", title), Column("probability", "Probability", "share")]
    return sheet.table(f"Histogram_{key}", columns, [[plain_value(v) for v in row] for row in rows],
                       top=sheet.section(f"{title}: distribution"))


def _shown(value: float, kind: str) -> str:
    """A figure as its cells show it: $M with one decimal for money, four decimals otherwise."""
    return f"${value / 1e6:,.1f}M" if kind == "money" else f"{value:,.4f}"
