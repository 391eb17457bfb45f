"""The audit's table checks: recompute a plan from the scenario and the plan's tables alone.

It never reads the LP or the solver's output. Every balance, goal, capacity, Fund movement,
share, ban and cap is recomputed from the orders, inventory and Fund tables and the scenario's
rules, and each disagreement is a violation naming the family and the row. A plan that fails its
audit is a defect in stockpile, and ``stockpile solve`` refuses to write it.
"""

from __future__ import annotations

import math

import pandas as pd

from stockpile.plan.audit import semantics as sem
from stockpile.plan.audit.report import AuditReport, Check, Tolerances, near
from stockpile.plan.tables import group_positions, group_sums
from stockpile.scenario.schema import Scenario


def audit_tables(scenario: Scenario, tables: dict[str, pd.DataFrame]) -> AuditReport:
    """Recompute every constraint family from the plan's tables; return each check's result."""
    s = scenario
    orders, inventory, fund = tables["orders"], tables["inventory"], tables["fund"]
    options = {o.name: o for o in s.options}
    tol = Tolerances.of(s)
    checks: list[Check] = []

    def check(family: str, description: str) -> Check:
        checks.append(Check(family, description))
        return checks[-1]

    # orders: known option, window, lead time, price, capacity, bans
    known = check("orders", "each order names an option of the scenario, in its order window, "
                            "delivered after its lead time, at its tiered price")
    cap = check("capacity", "tonnes <= capacity x availability (purchase options)")
    rec = check("recycling", "tonnes <= feedstock x recovery yield x availability (recycling)")
    ban = check("ban", "no order from an option a policy ban covers in that FY")
    valid_orders = []
    for i, row in enumerate(orders.itertuples(), start=1):
        known.checked += 1
        where = f"orders row {i} ({row.option}, FY{row.fy})"
        option = options.get(row.option)
        if option is None:
            known.violations.append(f"{where}: no such option")
            continue
        problems = []
        if (row.material != option.material or row.country != option.country or row.kind != sem.kind(option)
                or getattr(row, "refiner", option.country) != (getattr(option, "refiner", None) or option.country)):
            problems.append("material, country, refiner or kind differ from the scenario")
        if row.fy not in sem.window(s, option):
            problems.append("FY outside the option's order window")
        if row.delivery_fy != row.fy + option.lead_time:
            problems.append(f"delivery FY{row.delivery_fy} is not FY{row.fy} + lead time {option.lead_time}")
        tonnes_tol = tol.tonnes_of(option.material)
        if row.tonnes < -tonnes_tol:
            problems.append("negative tonnes")
        expected = sem.purchase_cost(s, option, row.fy, row.tonnes)
        if not near(row.cost, expected, tol.dollars):
            problems.append(f"cost ${row.cost:,.0f} differs from the tiered price ${expected:,.0f}")
        if not near(row.unit_price * row.tonnes, row.cost, tol.dollars):
            problems.append(f"unit price ${row.unit_price:,.2f}/t x {row.tonnes:,.3f} t is not the cost")
        tags = sem.tag_text(s, option)
        if row.tags != tags:
            problems.append(f"tags {row.tags!r} differ from the scenario's {tags!r}")
        limit = sem.tier_ceiling(option)
        if limit is not None and row.tonnes > limit + tonnes_tol:
            problems.append(f"{row.tonnes:,.3f} t exceeds the price tiers' {limit:,.3f} t")
        known.violations.extend(f"{where}: {p}" for p in problems)
        family = rec if sem.is_stream(option) else cap
        family.checked += 1
        limit = sem.orderable_tonnes(s, option, row.fy)
        if row.tonnes > limit + tonnes_tol + 1e-7 * limit:
            family.violations.append(f"{where}: {row.tonnes:,.3f} t > limit {limit:,.3f} t")
        ban.checked += 1
        hit = sem.bans_on(s, option, row.fy)
        if hit and row.tonnes > tonnes_tol:
            ban.violations.append(f"{where}: {row.tonnes:,.3f} t ordered despite policy.bans[{hit[0]}]")
        valid_orders.append((row, option))

    _audit_inventory(s, orders, inventory, check)
    _audit_fund(s, orders, inventory, fund, check)
    _audit_sourcing(s, valid_orders, check, tables.get("sourcing"))
    _audit_fixed_orders(s, orders, check)
    return AuditReport(checks)


def _audit_inventory(s: Scenario, orders: pd.DataFrame, inventory: pd.DataFrame, check) -> None:
    balance = check("balance", "closing = (1 - loss) x opening + deliveries + pipeline - disposals - draws, "
                               "opening = last FY's closing, closing >= 0")
    goal = check("goal", "shortfall = max(goal - closing, 0) with the scenario's goal")
    disposal = check("disposal", "disposals only where allowed, within max_per_fy")
    tol = Tolerances.of(s)
    expected_rows = {(code, fy) for code in s.materials for fy in s.fys}
    seen = set()
    # Each (material, FY)'s first closing, and the tonnes orders deliver per (material, FY), found
    # in one pass over each table rather than by filtering the whole table for every row.
    first_closing: dict[tuple, float] = {}
    for key, closing in zip(zip(inventory["material"].tolist(), inventory["fy"].tolist()),
                            inventory["closing"].tolist()):
        first_closing.setdefault(key, closing)
    delivered_by = group_sums(orders["tonnes"].to_numpy(), orders["material"].tolist(),
                              orders["delivery_fy"].tolist())
    for i, row in enumerate(inventory.itertuples(), start=1):
        key = (row.material, row.fy)
        where = f"inventory row {i} ({row.material}, FY{row.fy})"
        if key not in expected_rows or key in seen:
            balance.violations.append(f"{where}: unexpected or repeated row")
            continue
        seen.add(key)
        material = s.materials[row.material]
        tonnes_tol = tol.tonnes_of(row.material)
        balance.checked += 1
        if row.fy == s.horizon.first_fy:
            opening = material.opening_inventory
        elif (row.material, row.fy - 1) in first_closing:
            opening = float(first_closing[(row.material, row.fy - 1)])
        else:
            # The previous FY's row is missing (reported below): check the rest from this row's opening.
            balance.violations.append(f"{where}: no row for FY{row.fy - 1}, so the opening cannot be checked")
            opening = float(row.opening)
        delivered = delivered_by.get((row.material, row.fy), 0.0)
        draw = material.draw.at(row.fy)
        computed = ((1 - material.loss_rate.at(row.fy)) * opening + delivered + material.pipeline.at(row.fy)
                    - row.disposals - (draw - row.unmet_draw))
        problems = []
        if not near(row.opening, opening, tonnes_tol):
            problems.append(f"opening {row.opening:,.3f} t but last closing {opening:,.3f} t")
        if not near(row.deliveries, delivered, tonnes_tol):
            problems.append(f"deliveries {row.deliveries:,.3f} t but orders deliver {delivered:,.3f} t")
        if not near(row.closing, computed, tonnes_tol):
            problems.append(f"closing {row.closing:,.3f} t but the balance gives {computed:,.3f} t")
        if row.closing < -tonnes_tol:
            problems.append("negative inventory")
        if not near(row.loss, material.loss_rate.at(row.fy) * opening, tonnes_tol):
            problems.append(f"loss {row.loss:,.3f} t is not the loss rate x the opening stock")
        if not near(row.pipeline, material.pipeline.at(row.fy), tonnes_tol):
            problems.append(f"pipeline {row.pipeline:,.3f} t but the scenario delivers "
                            f"{material.pipeline.at(row.fy):,.3f} t")
        if not (-tonnes_tol <= row.unmet_draw <= draw + tonnes_tol) or not near(row.draws + row.unmet_draw, draw, tonnes_tol):
            problems.append(f"draws {row.draws:,.3f} + unmet {row.unmet_draw:,.3f} t do not make the "
                            f"scenario's draw {draw:,.3f} t")
        balance.violations.extend(f"{where}: {p}" for p in problems)
        goal.checked += 1
        target = material.goal.at(row.fy)
        expected_short = max(target - row.closing, 0.0)
        if not near(row.goal, target, tonnes_tol) or not near(row.shortfall, expected_short, tonnes_tol):
            goal.violations.append(f"{where}: shortfall {row.shortfall:,.3f} t against goal {target:,.3f} t "
                                   f"and closing {row.closing:,.3f} t (expected {expected_short:,.3f} t)")
        coverage = row.closing / target if target > 0 else None
        if (coverage is None) != _missing(row.coverage) or (coverage is not None
                                                           and not near(row.coverage, coverage, 1e-9)):
            goal.violations.append(f"{where}: coverage {row.coverage} is not closing / goal")
        disposal.checked += 1
        limit = material.disposal.max_per_fy
        if row.disposals > tonnes_tol and not material.disposal.allowed:
            disposal.violations.append(f"{where}: {row.disposals:,.3f} t sold, disposals not allowed")
        elif limit is not None and row.disposals > limit.at(row.fy) + tonnes_tol:
            disposal.violations.append(f"{where}: {row.disposals:,.3f} t sold > max_per_fy {limit.at(row.fy):,.3f} t")
        elif row.disposals < -tonnes_tol:
            disposal.violations.append(f"{where}: negative disposals")
    missing = expected_rows - seen
    if missing:
        balance.violations.append(f"missing inventory rows: {sorted(missing)[:5]}")


def _audit_fund(s: Scenario, orders: pd.DataFrame, inventory: pd.DataFrame, fund: pd.DataFrame, check) -> None:
    balance = check("fund", "closing = opening + appropriation + revenue + sales - purchases - committed - "
                            "operating - holding cost x inventory; opening = last closing")
    floor = check("fund_floor", "deficit = max(floor - closing, 0)")
    obligation = check("obligation_cap", "purchases + committed payments <= obligation cap; "
                                         "tonnes ordered <= AMP limit")
    f = s.fund
    tol = Tolerances.of(s)
    if list(fund.fy) != list(s.fys):
        balance.violations.append(f"Fund table FYs {list(fund.fy)} differ from the horizon")
        return
    opening = f.opening_balance
    purchases_by = group_sums(orders["cost"].to_numpy(), orders["fy"].tolist())
    # Each FY's inventory rows, in table order (as inventory[inventory.fy == fy] gives them).
    stock_rows = group_positions(inventory["fy"].tolist())
    stock_material, stock_disposals = inventory["material"].tolist(), inventory["disposals"].tolist()
    stock_closing = inventory["closing"].to_numpy()
    for i, row in enumerate(fund.itertuples(), start=1):
        fy, where = row.fy, f"fund row {i} (FY{row.fy})"
        balance.checked += 1
        stock = stock_rows.get((fy,), [])
        purchases = purchases_by.get((fy,), 0.0)
        sales = sum(stock_disposals[j] * s.materials[stock_material[j]].disposal.price.at(fy) for j in stock)
        holding = f.holding_cost.at(fy) * float(stock_closing[stock].sum())
        computed = (opening + f.appropriation.at(fy) + f.other_revenue.at(fy) + sales - purchases
                    - f.committed_payments.at(fy) - f.operating_cost.at(fy) - holding)
        expected = dict(opening=opening, appropriation=f.appropriation.at(fy), other_revenue=f.other_revenue.at(fy),
                        sales=sales, purchases=purchases, committed_payments=f.committed_payments.at(fy),
                        operating_cost=f.operating_cost.at(fy), holding_cost=holding, closing=computed)
        for column, value in expected.items():
            if not near(getattr(row, column), value, tol.dollars):
                balance.violations.append(f"{where}: {column} ${getattr(row, column):,.0f} but recomputed ${value:,.0f}")
        floor.checked += 1
        deficit = max(f.floor.at(fy) - row.closing, 0.0)
        if not near(row.deficit, deficit, tol.dollars) or not near(row.floor, f.floor.at(fy), tol.dollars):
            floor.violations.append(f"{where}: deficit ${row.deficit:,.0f} but floor ${f.floor.at(fy):,.0f} "
                                    f"- closing ${row.closing:,.0f} gives ${deficit:,.0f}")
        if f.obligation_cap is not None:
            obligation.checked += 1
            cap = f.obligation_cap.at(fy)
            if purchases + f.committed_payments.at(fy) > cap + tol.dollars + 1e-7 * cap:
                obligation.violations.append(f"{where}: obligations ${purchases + f.committed_payments.at(fy):,.0f} "
                                             f"> cap ${cap:,.0f}")
        opening = row.closing
    ordered_by = group_sums(orders["tonnes"].to_numpy(), orders["material"].tolist(), orders["fy"].tolist())
    for code, material in s.materials.items():
        if material.amp_limit is None:
            continue
        for fy in s.fys:
            obligation.checked += 1
            tonnes = ordered_by.get((code, fy), 0.0)
            if tonnes > material.amp_limit.at(fy) + tol.tonnes_of(code):
                obligation.violations.append(f"{code} FY{fy}: {tonnes:,.3f} t ordered > AMP limit "
                                             f"{material.amp_limit.at(fy):,.3f} t")


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _audit_sourcing(s: Scenario, valid_orders: list, check, table: pd.DataFrame | None) -> None:
    share = check("partner_share", "trusted tonnes >= trusted_share x tonnes ordered, per material and FY")
    concentration = check("concentration", "no foreign origin country above concentration_cap x tonnes ordered")
    report = check("sourcing", "the Sourcing table's shares, largest country and limits, recomputed from the orders")
    refiners = (check("refiner_cap", "no foreign refining country above refiner_cap x tonnes ordered")
                if getattr(s.policy, "refiner_cap", None) is not None else None)
    tol = Tolerances.of(s)
    reported = {} if table is None else {(r["material"], r["fy"]): r for r in table.to_dict("records")}
    by_key: dict[tuple, list] = {}
    for row, option in valid_orders:
        by_key.setdefault((row.material, row.fy), []).append((row, option))
    for code in s.materials:
        for fy in s.fys:
            these = by_key.get((code, fy), [])
            total = sum(row.tonnes for row, _ in these)
            alpha = sem.floor_share(s, code, fy)
            if alpha > 0:
                share.checked += 1
                trusted = sum(row.tonnes for row, option in these if sem.trusted(s, option))
                if trusted < alpha * total - tol.tonnes_of(code):
                    share.violations.append(f"{code} FY{fy}: trusted {trusted:,.3f} t is below "
                                            f"{alpha:.1%} of {total:,.3f} t")
            beta = sem.origin_cap(s, fy)
            by_country: dict[str, float] = {}
            by_refiner: dict[str, float] = {}
            for row, option in these:
                if sem.foreign(s, option.country):
                    by_country[option.country] = by_country.get(option.country, 0.0) + row.tonnes
                refiner = sem.stage_country(option, "refiner")
                if sem.foreign(s, refiner):
                    by_refiner[refiner] = by_refiner.get(refiner, 0.0) + row.tonnes
            if table is not None:
                report.checked += 1
                _compare_sourcing_row(s, code, fy, these, total, by_country, alpha, beta, reported.get((code, fy)),
                                      report, tol.tonnes_of(code), by_refiner)
            if refiners is not None:
                _audit_refiner_cap(s, code, fy, by_refiner, total, refiners, tol.tonnes_of(code))
            if beta is None:
                continue
            for country, tonnes in sorted(by_country.items()):
                concentration.checked += 1
                if tonnes > beta * total + tol.tonnes_of(code):
                    concentration.violations.append(f"{code} FY{fy}: {country} {tonnes:,.3f} t is above "
                                                    f"{beta:.1%} of {total:,.3f} t")


def _audit_refiner_cap(s: Scenario, code: str, fy: int, by_refiner: dict[str, float], total: float, check: Check,
                       tonnes_tol: float) -> None:
    """policy.refiner_cap (contract S3): the single-country cap by refining country, same base
    (``by_refiner``: tonnes per foreign refining country in the FY)."""
    cap = sem.refiner_cap(s, fy)
    if cap is None:
        return
    for country, tonnes in sorted(by_refiner.items()):
        check.checked += 1
        if tonnes > cap * total + tonnes_tol:
            check.violations.append(f"{code} FY{fy}: refined in {country} {tonnes:,.3f} t is above "
                                    f"{cap:.1%} of {total:,.3f} t")


def _compare_sourcing_row(s: Scenario, code: str, fy: int, these: list, total: float, by_country: dict,
                          alpha: float, beta: float | None, row: dict | None, report, tonnes_tol: float,
                          by_refiner: dict | None = None) -> None:
    where = f"sourcing {code} FY{fy}"
    if row is None:
        report.violations.append(f"{where}: no row")
        return
    trusted = sum(r.tonnes for r, option in these if sem.trusted(s, option))
    covered = sum(r.tonnes for r, option in these if sem.covered(s, option))
    top = max(by_country.values(), default=0.0)
    expected = {"ordered": total, "trusted_floor": alpha,
                "trusted_share": trusted / total if total > 0 else None,
                "covered_share": covered / total if total > 0 else None,
                "largest_share": top / total if total > 0 else None, "concentration_cap": beta}
    _compare_values(report, where, row, expected)
    _compare_largest(report, where, row, "largest_country", "largest country", by_country, tonnes_tol)
    if by_refiner is None or "largest_refiner_share" not in row:
        return
    top = max(by_refiner.values(), default=0.0)
    _compare_values(report, where, row, {"largest_refiner_share": top / total if total > 0 else None,
                                         "refiner_cap": sem.refiner_cap(s, fy)})
    _compare_largest(report, where, row, "largest_refiner", "largest refiner", by_refiner, tonnes_tol)


def _compare_values(report, where: str, row: dict, expected: dict) -> None:
    """Each Sourcing column against its value recomputed from the orders (None: blank)."""
    for column, value in expected.items():
        shown = row.get(column)
        if (value is None) != _missing(shown) or (value is not None and not near(shown, value, 1e-6)):
            report.violations.append(f"{where}: {column} {shown} but the orders give {value}")


def _compare_largest(report, where: str, row: dict, column: str, noun: str, by_holder: dict[str, float],
                     tonnes_tol: float) -> None:
    """The Sourcing row names one of the countries holding the most tonnes (any of a tie), or none."""
    top = max(by_holder.values(), default=0.0)
    leaders = {c for c, tonnes in by_holder.items() if tonnes >= top - tonnes_tol} if top > 0 else set()
    if (row.get(column) in leaders) != bool(leaders) and not (not leaders and _missing(row.get(column))):
        report.violations.append(f"{where}: {noun} {row.get(column)!r}, the orders give {sorted(leaders) or 'none'}")


def _audit_fixed_orders(s: Scenario, orders: pd.DataFrame, check) -> None:
    """Only for scenarios with fixed orders (most have none: no empty check in their report)."""
    if not any(option.fixed.points for option in s.options):
        return
    fixed = check("fixed_order", "tonnes ordered = the option's fixed order in each FY it lists")
    ordered_by = group_sums(orders["tonnes"].to_numpy(), orders["option"].tolist(), orders["fy"].tolist())
    for option in s.options:
        for fy, tonnes in option.fixed.points:
            fixed.checked += 1
            ordered = ordered_by.get((option.name, fy), 0.0)
            if not near(ordered, tonnes, Tolerances.of(s).tonnes_of(option.material)):
                fixed.violations.append(f"{option.name} FY{fy}: {ordered:,.3f} t ordered, fixed order "
                                        f"{tonnes:,.3f} t")
