"""The Inputs sheets: the scenario as solved (after extends and data defaults) on Inputs, every
per-FY value FY by FY as the model used it on Inputs by FY, the supply options and recycling
streams on Supply options, and every data figure drawn from the data files with its source on
Data figures. Each long table has a sheet of its own, so its header prints on every page."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook

from stockpile.outputs.excel.sheet import Sheet, fy_columns, highlight, records
from stockpile.outputs.excel.styles import WARN_FILL, Column
from stockpile.outputs.workbook.sheet_parts import material_label
from stockpile.plan.read import Plan
from stockpile.scenario.references import effective_tags, option_kind
from stockpile.scenario.schema import Scenario
from stockpile.scenario.series import Series
from stockpile.scenario.workbook_safety import is_workbook

PROVENANCE = [
    Column("what", "What"), Column("source", "Source"), Column("shown", "Value", align="right"),
    Column("status", "Status"), Column("note", "Note"),
]


def figure_text(value: Any, unit: str) -> str:
    """A data figure as a planner reads it: 60,000 t, $37,479/t, 45%, FY2028, $12.5M."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        text = str(value)
        try:
            value = float(text)
        except ValueError:
            return f"{text} {unit}".strip() if unit not in ("tag", "") else text
    unit = str(unit or "").strip()
    if unit == "fraction":
        return f"{value:.1%}".replace(".0%", "%")
    if unit == "FY":
        return f"FY{value:.0f}"
    if unit.startswith("$"):
        per = unit[1:]
        amount = f"${value / 1e6:,.1f}M" if abs(value) >= 1e6 else f"${value:,.0f}"
        return amount + per
    number = f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.4g}"
    return f"{number} {unit}".strip()

SERIES_KINDS = {
    "goal": "tonnes", "loss_rate": "share", "pipeline": "tonnes", "draw": "tonnes", "amp_limit": "tonnes",
    "capacity": "tonnes", "price": "price", "feedstock": "tonnes", "recovery_yield": "share", "cost": "price",
    "disposal price": "price", "disposal max_per_fy": "tonnes", "floor": "money", "appropriation": "money",
    "other_revenue": "money", "operating_cost": "money", "holding_cost ($/t-yr)": "price",
    "committed_payments": "money", "obligation_cap": "money", "multiplier": "number", "trusted_share": "share",
    "concentration_cap": "share", "fixed": "tonnes",
}


def _series_rows(s: Scenario) -> tuple[list[list[Any]], list[str]]:
    """Every per-FY value of the scenario, resolved FY by FY, as (item, parameter, FYs...) rows."""
    rows, kinds = [], []

    def add(item: str, parameter: str, series: Series | None) -> None:
        if series is None or (series.kind == "schedule" and not series.points):
            return  # an absent limit or an empty schedule says nothing
        rows.append([item, parameter] + [series.at(fy) for fy in s.fys])
        kinds.append(SERIES_KINDS.get(parameter, "number"))

    for code, m in s.materials.items():
        for key in ("goal", "loss_rate", "pipeline", "draw", "amp_limit"):
            add(material_label(s, code), key, getattr(m, key))
        if m.disposal.allowed:
            add(material_label(s, code), "disposal price", m.disposal.price)
            add(material_label(s, code), "disposal max_per_fy", m.disposal.max_per_fy)
    for option in s.supply:
        add(option.name, "capacity", option.capacity)
        add(option.name, "price", option.price)
    for stream in s.recycling:
        for key in ("feedstock", "recovery_yield", "cost"):
            add(stream.name, key, getattr(stream, key))
    for option in s.options:
        add(option.name, "fixed", option.fixed)
    for key in ("floor", "appropriation", "other_revenue", "operating_cost", "committed_payments", "obligation_cap"):
        add("Fund", key, getattr(s.fund, key))
    add("Fund", "holding_cost ($/t-yr)", s.fund.holding_cost)
    for code, share in s.policy.trusted_share.items():
        add(material_label(s, code), "trusted_share", share)
    add("All materials", "concentration_cap", s.policy.concentration_cap)
    add("All options", "multiplier", s.prices.multiplier)
    return rows, kinds


def _tiers_text(option) -> str:
    return "; ".join(f"{'up to ' + format(t.up_to, ',g') + ' t' if t.up_to is not None else 'beyond'}: "
                     f"x{t.factor:g}" for t in getattr(option, "tiers", ()))


def input_format(scenario_file: str | None) -> str:
    """Which kind of input the plan was solved from: a TOML scenario file or an input workbook."""
    if not scenario_file:
        return ""
    return "input workbook (stockpile template)" if is_workbook(scenario_file) else "TOML scenario file"


def write_inputs_sheet(wb: Workbook, plan: Plan) -> None:
    s = plan.scenario
    sheet = Sheet(wb, "Inputs", "Inputs: the scenario as solved",
                  "After extends and data defaults. Per-FY values: sheet Inputs by FY; supply options and "
                  "recycling streams: sheet Supply options; every figure from the data files with its source: "
                  "sheet Data figures.")
    # Tables share the sheet's columns, so each puts names in A and its longest text in B.
    sheet.key_values("Scenario", [
        ("Name", s.name, "text"), ("Description", s.description, "text"),
        ("Scenario file", plan.scenario_file or "", "text"), ("Input format", input_format(plan.scenario_file), "text"),
        ("Scenario SHA-256", s.sha256, "text"),
        ("First FY", s.horizon.first_fy, "fy"), ("Last FY", s.horizon.last_fy, "fy"),
        ("Fund opening balance ($M)", s.fund.opening_balance, "money"),
        ("Home country", s.policy.home_country, "text"), ("Trusted tags", ", ".join(s.policy.trusted_tags), "text"),
        ("Objective", s.objective.mode, "text"), ("Discount rate", s.objective.discount_rate, "share"),
        ("Solver", s.solver.name, "text"), ("Time limit (seconds)", s.solver.time_limit, "seconds")],
        top=sheet.section("Scenario"))

    sheet.table("Materials", [
        Column("code", "Code"), Column("name", "Name"), Column("unit", "Unit"), Column("weight", "Weight", "number"),
        Column("opening", "Opening inventory", "tonnes"), Column("disposal", "Disposal allowed")],
        [[code, m.name, m.unit, m.weight, m.opening_inventory, "yes" if m.disposal.allowed else "no"]
         for code, m in s.materials.items()], top=sheet.section("Materials"))
    sheet.table("Bans", [Column("material", "Material"), Column("reason", "Reason"), Column("tag", "Tag"),
                         Column("countries", "Countries"), Column("from_fy", "From FY", "fy")],
                [[b.material, b.reason, b.tag, ", ".join(b.countries), b.from_fy] for b in s.policy.bans],
                top=sheet.section("Policy bans"))
    sheet.table("Events", [
        Column("id", "Event"), Column("description", "Description"), Column("country", "Country"),
        Column("material", "Material"), Column("from_fy", "From FY", "fy"), Column("to_fy", "To FY", "fy"),
        Column("availability", "Availability", "share"), Column("price", "Price multiplier", "number")],
        [[key, e.description, e.country, e.material, e.from_fy, e.to_fy, e.availability, e.price]
         for key, e in s.events.items()], top=sheet.section("Events"))
    sheet.table("Countries", [Column("country", "Country"), Column("tags", "Tags")],
                [[country, ", ".join(tags)] for country, tags in s.countries.items()],
                top=sheet.section("Countries"))
    sheet.finish()

    by_fy = Sheet(wb, "Inputs by FY", "Inputs FY by FY",
                  "Every per-FY value of the scenario as the model used it (supply prices before escalation, "
                  "events, price tiers and the price multiplier).")
    rows, kinds = _series_rows(s)
    placed = by_fy.table("PerFYInputs", [Column("item", "Item"), Column("parameter", "Parameter")] + fy_columns(s.fys),
                         rows, row_kinds=kinds)
    by_fy.finish(repeat=placed, key_columns=2)

    options = Sheet(wb, "Supply options", "Supply options and recycling streams",
                    "Tags include the country's tags and the option's kind; lead time is in FYs; escalation is a "
                    "year.")
    placed = options.table("SupplyOptions", [
        Column("name", "Option"), Column("tags", "Tags"), Column("material", "Material"),
        Column("kind", "Kind"), Column("country", "Country"), Column("lead_time", "Lead time", "integer"),
        Column("first_fy", "First FY", "fy"), Column("last_fy", "Last FY", "fy"),
        Column("escalation", "Escalation", "share"), Column("tiers", "Price tiers")],
        [[o.name, ", ".join(effective_tags(s, o)), o.material, option_kind(o), o.country, o.lead_time,
          o.first_fy, o.last_fy, getattr(o, "escalation", None), _tiers_text(o)] for o in s.options])
    options.finish(repeat=placed)

    figures = Sheet(wb, "Data figures", "Data figures used",
                    "Every figure drawn from the data files, with its source and status. Amber: an inferred "
                    "figure or an assumption.")
    provenance = plan.provenance
    if provenance is None or provenance.empty:
        figures.put(figures.next_row, 1, "None: every figure in this scenario is written in the scenario file "
                    "itself.")
        figures.finish()
        return
    shown = provenance.assign(shown=[figure_text(v, u) for v, u in zip(provenance["value"], provenance["unit"])])
    placed = figures.table("DataFigures", PROVENANCE, records(shown, PROVENANCE))
    status = f"${placed.letter('status')}{placed.first_row}"
    highlight(figures.ws, placed.body, f'OR({status}="inferred",{status}="assumption")', WARN_FILL, None)
    figures.finish(repeat=placed)
