"""The Summary sheet: the solvency horizon, the headline figures, each material at a glance,
how the plan was made (and what reproducing it takes), and how to read the workbook."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook

from stockpile.outputs.excel.cells import plain_value
from stockpile.outputs.excel.sheet import Sheet, highlight
from stockpile.outputs.excel.styles import BAD_FILL, BANNER_BAD_FILL, BANNER_FONT, BANNER_GOOD_FILL, GOOD_FILL, Column
from stockpile.outputs.summary import package_version
from stockpile.outputs.workbook.sheet_parts import material_label
from stockpile.outputs.workbook.inventory_sheet import SHORTFALL_HIGHLIGHT_TONNES
from stockpile.plan.read import Plan, appropriation_to_avoid_deficit
from stockpile.plan.reproduce import record
from stockpile.scenario.schema import Scenario

HOW_TO_READ = [
    ("Summary", "This page: the solvency horizon, headline figures, the scenario and how the plan was made."),
    ("Orders", "Every order the plan places: FY, option, country, tonnes, delivery FY and cost."),
    ("Orders by FY", "Tonnes by country and cost by material FY by FY, and a stacked bar chart per material."),
    ("Inventory", "Stock of each material each FY: opening, deliveries, disposals, draws, closing, goal "
                  "and shortfall."),
    ("Inventory by FY", "Closing stock against goal FY by FY, with a chart per material."),
    ("Fund", "The NDS Transaction Fund FY by FY: balance, appropriation, revenue, spending and costs, "
             "with a chart of the balance against its floor."),
    ("Sourcing", "Shares of each year's orders from trusted sources, covered nations and the largest "
                 "single foreign country, against the policy limits."),
    ("Sourcing by FY", "The same shares FY by FY, and a chart per material of the trusted share against its floor."),
    ("Bans", "Each ban, the suppliers it keeps out and what it costs (measured by re-solving without it)."),
    ("Marginal values", "What one more $1M of appropriation or one more tonne of capacity would do for "
                        "readiness; blank or 0 means it would not help."),
    ("Inputs", "The scenario as solved (after extends and data defaults): materials, countries, bans, events."),
    ("Inputs by FY", "Every per-FY value of the scenario, FY by FY, as the model used it."),
    ("Supply options", "Every supply option and recycling stream: tags, country, lead time, FYs, price tiers."),
    ("Data figures", "Every figure drawn from the data files, with its source and status."),
    ("Audit", "Each check the independent audit ran on this plan, and its result."),
    ("Conventions", "Money in $M (cells hold exact dollars: select one to see it); quantities in tonnes "
                    "of contained metal; FY = U.S. fiscal year. Red marks a shortfall, a Fund deficit "
                    "or a share past its policy limit."),
]


def headline_rows(kpis: dict[str, Any], s: Scenario) -> list[tuple[str, Any, str]]:
    """The headline KPIs as (label, value, kind) rows, shared with the comparison workbook."""
    first, last = s.horizon.first_fy, s.horizon.last_fy

    def fy_or(value: int | None, otherwise: str) -> tuple[Any, str]:
        return (value, "fy") if value is not None else (otherwise, "text")

    rows = [("Solvent through", *fy_or(kpis.get("solvent_through_fy"), f"not solvent in FY{first}")),
            ("First shortfall", *fy_or(kpis.get("first_shortfall_fy"), f"none through FY{last}")),
            ("First unmet release", *fy_or(kpis.get("first_unmet_release_fy"), f"none through FY{last}")),
            ("First Fund deficit", *fy_or(kpis.get("first_deficit_fy"), f"none through FY{last}")),
            ("Total shortfall (tonne-years)", kpis.get("total_shortfall_tonne_years"), "tonnes")]
    if "total_unmet_release_tonnes" in kpis:
        rows += [("Released from stock (t)", kpis.get("total_released_tonnes"), "tonnes"),
                 ("Unmet release (t)", kpis["total_unmet_release_tonnes"], "tonnes")]
    if "weighted_shortfall" in kpis:
        rows.append(("Weighted relative shortfall (objective)", kpis["weighted_shortfall"], "marginal"))
    rows += [("Total Fund deficit ($M)", kpis.get("total_deficit"), "money"),
             ("Total purchase cost ($M)", kpis.get("total_purchase_cost"), "money")]
    if "discounted_net_cost" in kpis:
        rows.append(("Discounted net cost ($M)", kpis["discounted_net_cost"], "money"))
    rows.append((f"Fund balance at end of FY{last} ($M)", kpis.get("end_fund_balance"), "money"))
    return rows


def write_summary_sheet(wb: Workbook, plan: Plan) -> None:
    s, kpis = plan.scenario, plan.kpis
    sheet = Sheet(wb, "Summary", s.name)
    solvent = kpis.get("first_shortfall_fy") is None and kpis.get("first_deficit_fy") is None
    below = sheet.note(2, f"Solvency horizon: {plan.headline}", BANNER_FONT,
                       BANNER_GOOD_FILL if solvent else BANNER_BAD_FILL)
    sheet.note(below, kpis["readiness_summary"][:1].upper() + kpis["readiness_summary"][1:])

    sheet.key_values("Headline", headline_rows(kpis, s), top=sheet.section("Headline figures"),
                     labels=("Figure", "Value"))
    deficit_note = _deficit_note(plan)
    if deficit_note:
        sheet.note(sheet.next_row - 2, deficit_note)

    inventory, orders = plan.tables["inventory"], plan.tables["orders"]
    last = s.horizon.last_fy
    by_material, by_readiness = [], []
    readiness = kpis["readiness"]
    for code in s.materials:
        stock = inventory[inventory.material == code]
        end = stock[stock.fy == last].iloc[0]
        mine = orders[orders.material == code] if not orders.empty else orders
        r = readiness[code]
        by_material.append([material_label(s, code), float(mine.tonnes.sum()) if not mine.empty else 0.0,
                            float(mine.cost.sum()) if not mine.empty else 0.0, end.closing, end.goal,
                            plain_value(end.coverage), float(stock.shortfall.sum())])
        by_readiness.append([material_label(s, code), plain_value(r["goal_met_share"]), r["tonne_years_short"],
                             r["goal_met_from_fy"] if r["goal_met_from_fy"] is not None else "not met",
                             r["released_tonnes"], r["unmet_release_tonnes"]])
    placed = sheet.table("ByMaterial", [
        Column("material", "Material"), Column("ordered", "Ordered (t)", "tonnes"),
        Column("cost", "Cost ($M)", "money"), Column("closing", f"Stock FY{last} (t)", "tonnes"),
        Column("goal", f"Goal FY{last} (t)", "tonnes"), Column("coverage", f"Coverage FY{last}", "share"),
        Column("shortfall", "Shortfall (t-yr)", "tonnes")], by_material, top=sheet.section("By material"))
    highlight(sheet.ws, placed.cells("shortfall"),
              f"{placed.letter('shortfall')}{placed.first_row}>={SHORTFALL_HIGHLIGHT_TONNES}")
    sheet.table("Readiness", [
        Column("material", "Material"), Column("held", "Goal held over the horizon", "share"),
        Column("shortfall", "Shortfall (t-yr)", "tonnes"), Column("met_from", "Goal met from FY", "fy"),
        Column("released", "Released (t)", "tonnes"), Column("unmet", "Unmet release (t)", "tonnes")],
        by_readiness, top=sheet.section("Readiness by material",
                                        "The share of each goal held over the horizon (tonne-years), the FY "
                                        "from which it is met in every later FY, and the draws released."))

    if plan.goals_out_of_reach:
        sheet.table("OutOfReach", [Column("material", "Material"), Column("reach", "Out of reach at any budget")],
                    [[material_label(s, entry.material), entry.sentence] for entry in plan.goals_out_of_reach],
                    top=sheet.section("Goals out of reach at any budget",
                                      "Computed by solving the scenario again with unlimited money: the limits "
                                      "named are the ones whose marginal values are largest."))

    about_rows = [
        ("Scenario", s.name, "text"), ("Description", s.description, "text"),
        ("Scenario file", plan.scenario_file or "", "text"), ("Scenario SHA-256", s.sha256, "text"),
        ("Horizon", f"FY{s.horizon.first_fy} to FY{s.horizon.last_fy}", "text"),
        ("Objective", s.objective.mode, "text"), ("Solver", plan.solver, "text"),
        ("Solver version", plan.solver_version, "text"), ("Solve time (seconds)", plan.solve_seconds, "seconds"),
        ("Audit", plan.audit.summary if plan.audit is not None else "not run", "text"),
        ("Written by", f"stockpile {package_version()}", "text")]
    about_rows += _reproducibility_rows(plan)
    about = sheet.key_values("About", about_rows, top=sheet.section("About this plan"))
    audit_row = about.first_row + [label for label, _, _ in about_rows].index("Audit")
    audited = plan.audit is not None and plan.audit.ok
    sheet.restyle(audit_row, about.col("value"), fill=GOOD_FILL if audited else BAD_FILL)

    sheet.table("HowToRead", [Column("sheet", "Sheet"), Column("what", "What it shows")], HOW_TO_READ,
                top=sheet.section("How to read this workbook"))
    sheet.finish()


def _deficit_note(plan: Plan) -> str:
    """How the total Fund deficit and the appropriation that avoids it relate (two different sums)."""
    fund = plan.tables["fund"]
    deficits = fund[fund.deficit > 0]
    if deficits.empty:
        return ""
    needed = appropriation_to_avoid_deficit(fund)
    text = (f"The total Fund deficit adds up each FY's gap below the floor: "
            f"${deficits.deficit.sum() / 1e6:,.1f}M over {len(deficits)} FYs.")
    if needed:
        text += (f" Money carries from one FY to the next, so a dollar added once closes the gap in every later "
                 f"FY: ${sum(needed.values()) / 1e6:,.1f}M more appropriation by FY{max(needed)}, the largest "
                 f"single FY's gap, avoids every deficit with the same orders.")
    return text


def _reproducibility_rows(plan: Plan) -> list[tuple[str, Any, str]]:
    """What a later reader needs to reproduce the plan: data hash, package versions, settings."""
    rec = record(plan, plan.time_limit)
    rows = [("Data SHA-256", rec["data_sha256"] or "(no data/ figures used)", "text")]
    rows += [(f"Version of {name}", version, "text") for name, version in rec["packages"].items()]
    settings = rec["solver_settings"]
    rows += [("Time limit (seconds)", settings["time_limit"], "seconds"),
             ("Lexicographic tolerances", f"relative {settings['relative_tolerance']:g}, absolute "
                                          f"{settings['absolute_tolerance']:g}", "text")]
    return rows
