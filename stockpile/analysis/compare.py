"""Two plans side by side, for the planner's question "what does this change buy us?".

Each side is a saved plan workbook (its tables read back, its headline figures recomputed from
them) or a scenario file (solved and audited here). The comparison workbook shows the headline,
orders, inventory and Fund of plan A and plan B with the change B - A beside them, coloured green
where B is better and red where it is worse. It is written with the plan workbook's table writer,
so it has the same formatting, text safety and fixed timestamps.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from stockpile.errors import InputError
from stockpile.plan.read import headline_kpis
from stockpile.scenario import rules
from stockpile.scenario.schema import Scenario
from stockpile.outputs.excel.cells import plain_value
from stockpile.outputs.excel.charts import line_chart, place_charts, plot_rows
from stockpile.outputs.excel.saving import save_workbook
from stockpile.outputs.excel.streaming import new_workbook
from stockpile.outputs.excel.sheet import Placed, Sheet, fy_columns, highlight, records
from stockpile.outputs.excel.styles import BAD_FILL, GOOD_FILL, Column
from stockpile.outputs.workbook.sheet_parts import material_label
from stockpile.outputs.workbook.inventory_sheet import SHORTFALL_HIGHLIGHT_TONNES

OBJECTIVE_KPIS = ("weighted_unmet_release", "weighted_shortfall", "discounted_net_cost")
"""Headline figures that come from the solver's objective values, which a saved plan does not
hold; a plan read from a workbook has them recomputed from its tables and scenario
(:func:`recomputed_objectives`)."""


@dataclass
class PlanSide:
    """One of the two plans being compared."""

    label: str  # "A" or "B"
    source: Path
    scenario: Scenario
    tables: dict[str, pd.DataFrame]
    kpis: dict[str, Any]
    how: str  # "saved plan" or the solver that made it

    @property
    def title(self) -> str:
        return f"Plan {self.label}"


def is_workbook(path: Path) -> bool:
    """A plan workbook (an .xlsx, or any zip file) rather than a scenario file."""
    return path.suffix.lower() in (".xlsx", ".xlsm") or (path.is_file() and zipfile.is_zipfile(path))


def load_side(label: str, path: Path, solver: str | None = None) -> PlanSide:
    """Read a saved plan workbook, or solve a scenario file (raising StockpileError on bad input)."""
    path = Path(path)
    from stockpile.scenario.workbook_safety import is_input_workbook

    if is_workbook(path) and not is_input_workbook(path):  # an input workbook is a scenario
        from stockpile.outputs.workbook.read import read_workbook

        from stockpile.plan.audit import audit_plan

        scenario, tables = read_workbook(path)
        audit = audit_plan(scenario, tables)  # as verify does: an edited plan is not compared as if sound
        if not audit.ok:
            raise InputError(path, None, f"the saved plan fails its audit ({audit.summary}); "
                                         f"`stockpile verify {path}` lists the failing checks")
        kpis = headline_kpis(scenario, tables, {})
        kpis.update(recomputed_objectives(scenario, tables))
        return PlanSide(label, path, scenario, tables, kpis, "saved plan")
    from stockpile.plan.pipeline import plan_scenario
    from stockpile.scenario.load import load_scenario

    plan = plan_scenario(load_scenario(path), solver)
    return PlanSide(label, path, plan.scenario, plan.tables, plan.kpis, plan.solver_version)


def recomputed_objectives(s: Scenario, tables: dict[str, pd.DataFrame]) -> dict[str, float]:
    """The weighted shortfall and discounted net cost of a saved plan, from its tables alone, as
    the model's objectives define them (model.build.define_objectives, with the same rules):

        weighted shortfall   sum_{m,y} shortfall_weight(m, y) x (shortfall[m,y] + unmet_draw[m,y])
        discounted net cost  sum_y discount_factor(y) x (purchases[y] + holding_cost[y] - sales[y])
    """
    inventory, fund = tables["inventory"], tables["fund"]
    weighted = sum(rules.shortfall_weight(s, row.material, int(row.fy)) * (row.shortfall + row.unmet_draw)
                   for row in inventory.itertuples() if row.material in s.materials)
    cost = sum(rules.discount_factor(s, int(row.fy)) * (row.purchases + row.holding_cost - row.sales)
               for row in fund.itertuples())
    return {"weighted_shortfall": float(weighted), "discounted_net_cost": float(cost)}


# ---------------------------------------------------------------------------------------------
# Headline figures

@dataclass(frozen=True)
class Figure:
    """A compared headline figure. ``more_is_better`` (None: neither) colours the change;
    ``missing`` is what an absent FY means, shown as text and ranked as ``missing_rank``."""

    label: str
    kind: str
    more_is_better: bool | None
    missing: str = ""
    missing_rank: float | None = None


FIGURES = {
    "solvent_through_fy": Figure("Solvent through", "fy", True, "not solvent", -math.inf),
    "first_shortfall_fy": Figure("First shortfall", "fy", True, "none", math.inf),
    "first_deficit_fy": Figure("First Fund deficit", "fy", True, "none", math.inf),
    "total_shortfall_tonne_years": Figure("Total shortfall (tonne-years)", "tonnes", False),
    "total_unmet_release_tonnes": Figure("Unmet release (t)", "tonnes", False),
    "weighted_shortfall": Figure("Weighted relative shortfall (objective)", "marginal", False),
    "total_deficit": Figure("Total Fund deficit ($M)", "money", False),
    "total_purchase_cost": Figure("Total purchase cost ($M)", "money", False),
    "discounted_net_cost": Figure("Discounted net cost ($M)", "money", False),
    "end_fund_balance": Figure("Fund balance at end ($M)", "money", True),
}
CHANGE_KIND = {"fy": "years", "tonnes": "tonnes_change", "money": "money_change", "share": "share_change",
               "marginal": "marginal", "text": "text"}
SHOWN_PRECISION = {"tonnes_change": 0.5, "money_change": 0.05e6, "share_change": 0.0005, "marginal": 0.00005}
"""Changes smaller than these show as zero in their number format (whole tonnes, $0.1M, 0.1%),
so they are set to zero: solver noise would otherwise show as "-0" and be coloured."""


def _shown(change: float | None, change_kind: str) -> float | None:
    if change is None or pd.isna(change):
        return None
    return 0.0 if abs(change) < SHOWN_PRECISION.get(change_kind, 0.0) else float(change)


def compared_figures(a: PlanSide, b: PlanSide) -> list[dict[str, Any]]:
    """The headline comparison: label, A, B, change, kinds and whether B is better, per figure."""
    horizon_a, horizon_b = a.kpis["solvency_horizon"], b.kpis["solvency_horizon"]
    rows = [dict(label="Solvency horizon", a=horizon_a, b=horizon_b, kind="text", change_kind="text",
                 change="same" if horizon_a == horizon_b else "changed", better=None)]
    ready_a, ready_b = a.kpis["readiness_summary"], b.kpis["readiness_summary"]
    rows.append(dict(label="Readiness", a=ready_a, b=ready_b, kind="text", change_kind="text",
                     change="same" if ready_a == ready_b else "changed", better=None))
    for key, figure in FIGURES.items():
        if key in a.kpis and key in b.kpis:
            rows.append(_compare(figure, a.kpis[key], b.kpis[key]))
    for code in dict.fromkeys([*a.scenario.materials, *b.scenario.materials]):
        name = material_label(a.scenario if code in a.scenario.materials else b.scenario, code)
        rows.append(_compare(Figure(f"Tonnes ordered: {name}", "tonnes", None),
                             a.kpis["tonnes_ordered"].get(code), b.kpis["tonnes_ordered"].get(code)))
        rows.append(_compare(Figure(f"Coverage at end: {name}", "share", True),
                             a.kpis["end_coverage"].get(code), b.kpis["end_coverage"].get(code)))
    return rows


def _compare(figure: Figure, a: Any, b: Any) -> dict[str, Any]:
    change_kind = CHANGE_KIND[figure.kind]
    change = _shown(b - a, change_kind) if a is not None and b is not None else None
    rank_a = a if a is not None else figure.missing_rank
    rank_b = b if b is not None else figure.missing_rank
    better = None
    if figure.more_is_better is not None and rank_a is not None and rank_b is not None and rank_a != rank_b:
        if change != 0.0:  # both present and different as shown, or one FY missing ("none")
            better = (rank_b > rank_a) == figure.more_is_better
    return dict(label=figure.label, a=a if a is not None else figure.missing or None,
                b=b if b is not None else figure.missing or None,
                change=change, kind=figure.kind, change_kind=change_kind, better=better)


# ---------------------------------------------------------------------------------------------
# The comparison workbook

def write_comparison(a: PlanSide, b: PlanSide, path: Path) -> None:
    """Write the side-by-side workbook (callers use stockpile.outputs.files.atomic_write)."""
    wb = new_workbook()
    _headline_sheet(wb, a, b)
    _orders_sheet(wb, a, b)
    _inventory_sheet(wb, a, b)
    _fund_sheet(wb, a, b)
    wb.active = 0
    save_workbook(wb, path)


def _side_columns(key: str, label: str, kind: str, change_kind: str) -> list[Column]:
    return [Column(f"{key}_a", f"{label} A", kind), Column(f"{key}_b", f"{label} B", kind),
            Column(f"{key}_change", f"{label} change", change_kind)]


def _headline_sheet(wb: Workbook, a: PlanSide, b: PlanSide) -> None:
    sheet = Sheet(wb, "Headline", "What does the change buy us?",
                  f"Plan A: {a.scenario.name} ({a.source.name}). Plan B: {b.scenario.name} ({b.source.name}). "
                  "Change = B - A; green where plan B is better, red where it is worse.")
    figures = compared_figures(a, b)
    columns = [Column("figure", "Figure"), Column("a", a.title, "number"), Column("b", b.title, "number"),
               Column("change", "Change (B - A)", "number")]
    placed = sheet.table("Headline", columns, [[f["label"], f["a"], f["b"], f["change"]] for f in figures],
                         top=sheet.section("Headline figures"),
                         row_kinds=[{"a": f["kind"], "b": f["kind"], "change": _unsigned(f["change_kind"])}
                                    for f in figures])
    for i, figure in enumerate(figures):  # the verdict is known now, so the colour is plain fill
        if figure["better"] is not None:
            sheet.restyle(placed.first_row + i, placed.col("change"), fill=GOOD_FILL if figure["better"] else BAD_FILL)

    sheet.table("Plans", [Column("item", "Item"), Column("a", a.title), Column("b", b.title)], [
        ["Scenario", a.scenario.name, b.scenario.name],
        ["File", str(a.source), str(b.source)],
        ["Scenario SHA-256", a.scenario.sha256, b.scenario.sha256],
        ["Horizon", f"FY{a.scenario.horizon.first_fy} to FY{a.scenario.horizon.last_fy}",
         f"FY{b.scenario.horizon.first_fy} to FY{b.scenario.horizon.last_fy}"],
        ["Made by", a.how, b.how]], top=sheet.section("The two plans"))
    sheet.finish()


def _unsigned(kind: str) -> str:
    """A change's kind without red for negative numbers: colour says better or worse, not the sign."""
    return {"money_change": "money_delta"}.get(kind, kind)


def _merge(a: pd.DataFrame, b: pd.DataFrame, keys: list[str], values: list[str], change_kinds: list[str],
           missing_is_zero: bool) -> pd.DataFrame:
    """Rows of either plan matched on ``keys``, each value as ``<value>_a``, ``_b`` and ``_change``.

    With ``missing_is_zero`` a row only one plan has counts as zero in the other (an order it
    does not place is 0 t); otherwise its change is left blank.
    """
    def side(frame: pd.DataFrame, suffix: str) -> pd.DataFrame:
        frame = frame.reindex(columns=keys + values).astype({"fy": "int64"})  # an empty table has no dtypes
        return frame.astype({v: "float64" for v in values}).rename(columns={v: f"{v}_{suffix}" for v in values})

    merged = side(a, "a").merge(side(b, "b"), on=keys, how="outer", sort=True)
    for value, kind in zip(values, change_kinds):
        before, after = merged[f"{value}_a"], merged[f"{value}_b"]
        change = after.fillna(0.0) - before.fillna(0.0) if missing_is_zero else after - before
        merged[f"{value}_change"] = [_shown(v, kind) for v in change]
    return merged


def _orders_sheet(wb: Workbook, a: PlanSide, b: PlanSide) -> None:
    sheet = Sheet(wb, "Orders", "Orders in plan A and plan B",
                  "Each order of either plan, matched on FY and option. Blank: that plan does not place it.")
    orders_a, orders_b = a.tables["orders"], b.tables["orders"]
    merged = _merge(orders_a, orders_b, ["fy", "material", "option"], ["tonnes", "cost"],
                    ["tonnes_change", "money_change"], missing_is_zero=True)
    country = {row.option: row.country for frame in (orders_b, orders_a) for row in frame.itertuples()}
    merged["country"] = [country.get(option) for option in merged.option]
    table = [Column("fy", "FY", "fy"), Column("material", "Material"), Column("option", "Option"),
             Column("country", "Country"), *_side_columns("tonnes", "Tonnes", "tonnes", "tonnes_change"),
             *_side_columns("cost", "Cost ($M)", "money", "money_delta")]
    placed = sheet.table("OrdersCompared", table, records(merged, table))
    sheet.finish(repeat=placed)
    sheet = Sheet(wb, "Orders by FY", "Tonnes ordered in plan A and plan B, FY by FY",
                  "Per material and FY; change = B - A.")

    fys = sorted(set(a.scenario.fys) | set(b.scenario.fys))
    rows = []
    for code in dict.fromkeys([*a.scenario.materials, *b.scenario.materials]):
        tonnes_a, tonnes_b = ([float(orders.loc[(orders.material == code) & (orders.fy == fy), "tonnes"].sum())
                               if not orders.empty else 0.0 for fy in fys]
                              for orders in (a.tables["orders"], b.tables["orders"]))
        name = material_label(a.scenario if code in a.scenario.materials else b.scenario, code)
        rows += [[name, a.title] + tonnes_a, [name, b.title] + tonnes_b,
                 [name, "Change"] + [_shown(y - x, "tonnes_change") for x, y in zip(tonnes_a, tonnes_b)]]
    sheet.table("TonnesCompared", [Column("material", "Material"), Column("plan", "Plan")]
                + fy_columns(fys, "tonnes"), rows, top=sheet.section("Tonnes ordered by material and FY"),
                row_kinds=["tonnes", "tonnes", "tonnes_change"] * (len(rows) // 3))
    sheet.finish(key_columns=2)


def _inventory_sheet(wb: Workbook, a: PlanSide, b: PlanSide) -> None:
    sheet = Sheet(wb, "Inventory", "Inventory in plan A and plan B",
                  "Closing stock, shortfall and coverage per material and FY. Red: a shortfall.")
    merged = _merge(a.tables["inventory"], b.tables["inventory"], ["material", "fy"],
                    ["closing", "shortfall", "coverage"], ["tonnes_change", "tonnes_change", "share_change"],
                    missing_is_zero=False)
    order = {code: i for i, code in enumerate(dict.fromkeys([*a.scenario.materials, *b.scenario.materials]))}
    merged = merged.sort_values(["material", "fy"], key=lambda c: c.map(order) if c.name == "material" else c,
                                kind="stable")
    table = [Column("material", "Material"), Column("fy", "FY", "fy"),
             *_side_columns("closing", "Closing (t)", "tonnes", "tonnes_change"),
             *_side_columns("shortfall", "Shortfall (t)", "tonnes", "tonnes_change"),
             *_side_columns("coverage", "Coverage", "share", "share_change")]
    placed = sheet.table("InventoryCompared", table, records(merged, table))
    for key in ("shortfall_a", "shortfall_b"):
        highlight(sheet.ws, placed.cells(key), f"{placed.letter(key)}{placed.first_row}>={SHORTFALL_HIGHLIGHT_TONNES}")
    _colour_changes(sheet, placed, "shortfall_change", more_is_better=False, threshold=SHORTFALL_HIGHLIGHT_TONNES)
    _colour_changes(sheet, placed, "closing_change", more_is_better=True, threshold=SHORTFALL_HIGHLIGHT_TONNES)
    _colour_changes(sheet, placed, "coverage_change", more_is_better=True, threshold=0.0005)
    sheet.finish(repeat=placed)


FUND_ITEMS = [("closing", "Closing balance"), ("appropriation", "Appropriation"), ("purchases", "Purchases"),
              ("sales", "Sales of excess material"), ("deficit", "Deficit below floor")]


def _fund_sheet(wb: Workbook, a: PlanSide, b: PlanSide) -> None:
    sheet = Sheet(wb, "Fund", "The Fund in plan A and plan B", "FY by FY, in $M; change = B - A.")
    fund_a, fund_b = (side.tables["fund"].set_index("fy") for side in (a, b))
    fys = sorted(set(fund_a.index) | set(fund_b.index))
    rows, kinds = [], []
    for key, label in FUND_ITEMS:
        values_a = [plain_value(fund_a[key].get(fy)) for fy in fys]
        values_b = [plain_value(fund_b[key].get(fy)) for fy in fys]
        change = [_shown(y - x, "money_change") if x is not None and y is not None else None
                  for x, y in zip(values_a, values_b)]
        rows += [[label, a.title] + values_a, [label, b.title] + values_b, [label, "Change"] + change]
        kinds += ["money", "money", "money_delta"]
    placed = sheet.table("FundCompared", [Column("item", "Item ($M)"), Column("plan", "Plan")]
                         + fy_columns(fys, "money"), rows, row_kinds=kinds)
    for i, (key, _) in enumerate(FUND_ITEMS):  # the change row, coloured by whether B is better
        row = placed.first_row + 3 * i + 2
        first, last = get_column_letter(placed.left + 2), get_column_letter(placed.right)
        _colour_changes(sheet, placed, None, FUND_MORE_IS_BETTER[key], ZERO_SHOWN_DOLLARS,
                        cells=f"{first}{row}:{last}{row}", cell=f"{first}{row}")
    sheet.finish(repeat=placed, key_columns=2)
    chart = line_chart("Fund balance: plan A and plan B", "$M", '"$"#,##0,,"M"', "FY")
    plot_rows(chart, placed, [placed.first_row, placed.first_row + 1], "plan",
              [{"color": "1F4E78"}, {"color": "E69F00", "dashed": True}])
    place_charts(sheet, [chart])


FUND_MORE_IS_BETTER = {"closing": True, "appropriation": None, "purchases": None, "sales": None, "deficit": False}
"""Which way a Fund line's change is better (None: neither, left uncoloured)."""
ZERO_SHOWN_DOLLARS = 0.05e6


def _colour_changes(sheet: Sheet, placed: Placed, key: str | None, more_is_better: bool | None, threshold: float,
                    cells: str | None = None, cell: str | None = None) -> None:
    """Green where the change in ``key``'s cells (or ``cells``, top-left ``cell``) is better, red where worse."""
    if more_is_better is None:
        return
    cell = cell or f"{placed.letter(key)}{placed.first_row}"
    cells = cells or placed.cells(key)
    good, bad = (f"{cell}>={threshold}", f"{cell}<=-{threshold}")
    if not more_is_better:
        good, bad = bad, good
    highlight(sheet.ws, cells, good, GOOD_FILL, None)
    highlight(sheet.ws, cells, bad, BAD_FILL, None)


def change_lines(a: PlanSide, b: PlanSide) -> list[str]:
    """A few lines for the terminal: each plan's horizon and the main changes."""
    lines = [f"A: {a.scenario.name}: {a.kpis['solvency_horizon']}",
             f"B: {b.scenario.name}: {b.kpis['solvency_horizon']}"]
    for key, unit in (("total_shortfall_tonne_years", "t-yr"), ("total_unmet_release_tonnes", "t"), ("total_deficit", "$M"),
                      ("total_purchase_cost", "$M"), ("end_fund_balance", "$M")):
        x, y = a.kpis[key], b.kpis[key]
        scale = 1e6 if unit == "$M" else 1.0
        lines.append(f"{FIGURES[key].label.split(' (')[0]}: {x / scale:,.1f} -> {y / scale:,.1f} {unit} "
                     f"({(y - x) / scale:+,.1f})")
    return lines
