"""A solved plan as tidy tables, headline KPIs and the solvency horizon.

Tables (pandas DataFrames, money in dollars, quantities in tonnes):

* ``orders``: fy, material, option, kind, country (origin, where mined), refiner (where refined),
  tags (effective at either stage), tonnes, delivery_fy, unit_price, cost
* ``inventory``: material, fy, opening, deliveries, pipeline, disposals, draws, unmet_draw, loss,
  closing, goal, shortfall, coverage
* ``fund``: fy, opening, appropriation, other_revenue, sales, purchases, committed_payments,
  operating_cost, holding_cost, closing, floor, deficit
* ``sourcing``: material, fy, ordered, trusted_share, trusted_floor, covered_share,
  largest_country, largest_share, concentration_cap (by origin), largest_refiner,
  largest_refiner_share, refiner_cap (by refining country)
* ``marginal_appropriation``: fy, shortfall_reduction_per_million (readiness dual of fund[y])
* ``marginal_capacity``: material, option, fy, shortfall_reduction_per_tonne
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from stockpile.scenario import rules
from stockpile.model.families import MARGINAL_ROWS, row_family
from stockpile.model.build import MONEY_SCALE, StockpileModel
from stockpile.scenario.references import effective_tags, option_kind
from stockpile.scenario.schema import Scenario
from stockpile.solve.lexicographic import Solution
from stockpile.plan.tables import group_positions, group_sums

ZERO_TONNES = 1e-6
"""Tonnes below which a solver value is noise (solver tolerances are about 1e-7 relative)."""
SHORTFALL_TONNES = 1e-3
"""A shortfall counts against solvency from 1 kg: far above solver noise (~1e-5 t), far below
anything a planner reads."""
ZERO_DOLLARS = 1.0
"""Dollars below which a deficit or balance difference is noise."""

TABLES = ("orders", "inventory", "fund", "sourcing", "marginal_appropriation", "marginal_capacity")


@dataclass
class Plan:
    scenario: Scenario
    tables: dict[str, pd.DataFrame]
    kpis: dict[str, Any]
    solver: str = ""
    solver_version: str = ""
    solve_seconds: float = 0.0
    objective_values: dict[str, float] = field(default_factory=dict)
    audit: Any = None
    """The :class:`~stockpile.audit.AuditReport`, once the plan has been audited."""
    provenance: pd.DataFrame | None = None
    """Data figures the scenario drew on: what, value, unit, source, status, note (or None)."""
    scenario_file: str | None = None
    policy_costs: pd.DataFrame | None = None
    """What each policy costs, measured by re-solving without it (stockpile.policy_cost), or None."""
    time_limit: float | None = None
    goals_out_of_reach: list | None = None
    """Goals no budget meets in some FY, each with its binding limit
    (stockpile.analysis.reach.goals_out_of_reach), or None when not computed."""

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    @property
    def headline(self) -> str:
        """The solvency horizon (first line of the printed headline)."""
        return self.kpis["solvency_horizon"]

    @property
    def headline_lines(self) -> list[str]:
        """The printed headline: the solvency horizon, then each material's readiness."""
        return [self.kpis["solvency_horizon"], self.kpis["readiness_summary"]]


def _clean(value: float, zero: float) -> float:
    """Solver noise to exact zero, and -0.0 to 0.0, so tables are stable run after run."""
    return 0.0 if abs(value) < zero else float(value)


def _order_cost(model: StockpileModel, option, fy: int, x: list[float]) -> float:
    """Dollars of one order as the solver priced it: its order column's (or its tier columns')
    coefficient in that FY's spend, times their values. Not re-derived from the scenario's rules,
    so the independent audit, which prices every order itself, checks the model's prices."""
    lp, spend = model.lp, model.spend_terms[fy]
    order = lp.col("order", option.material, option.name, fy)
    if order in spend:
        return spend[order] * x[order] * MONEY_SCALE
    cost, k = 0.0, 1
    while lp.has_col("buy", option.material, option.name, k, fy):
        buy = lp.col("buy", option.material, option.name, k, fy)
        cost += spend.get(buy, 0.0) * max(x[buy], 0.0) * MONEY_SCALE
        k += 1
    return cost


def read_plan(model: StockpileModel, solution: Solution) -> Plan:
    """Turn the solver's column values into the plan tables."""
    s, lp, x = model.scenario, model.lp, solution.x

    def value(family: str, *key, zero: float = ZERO_TONNES) -> float:
        return _clean(x[lp.col(family, *key)], zero) if lp.has_col(family, *key) else 0.0

    orders = []
    for option in s.options:
        for fy in rules.orderable_fys(s, option):
            tonnes = value("order", option.material, option.name, fy)
            if tonnes <= 0:
                continue
            cost = _order_cost(model, option, fy, x)
            orders.append(dict(
                fy=fy, material=option.material, option=option.name, kind=option_kind(option),
                country=option.country, refiner=rules.refiner(option),
                tags=", ".join(effective_tags(s, option)), tonnes=tonnes,
                delivery_fy=fy + option.lead_time, unit_price=cost / tonnes, cost=cost))
    orders_df = pd.DataFrame(orders, columns=ORDER_COLUMNS)
    if not orders_df.empty:
        orders_df = orders_df.sort_values(["fy", "material", "option"], kind="stable").reset_index(drop=True)

    # Sums over groups of rows, each taken as pandas took it on a filtered column (numpy's sum of
    # the group's values in row order), so the figures are the same to the last bit.
    delivered_by = (group_sums(orders_df["tonnes"].to_numpy(), orders_df["material"].tolist(),
                               orders_df["delivery_fy"].tolist()) if not orders_df.empty else {})
    inventory = []
    for code, material in s.materials.items():
        opening = material.opening_inventory
        for fy in s.fys:
            delivered = delivered_by.get((code, fy), 0.0)
            closing = value("inv", code, fy)
            goal = material.goal.at(fy)
            draw = material.draw.at(fy)
            unmet = value("unmet_draw", code, fy)
            inventory.append(dict(
                material=code, fy=fy, opening=opening, deliveries=delivered,
                pipeline=material.pipeline.at(fy), disposals=value("sell", code, fy),
                draws=draw - unmet, unmet_draw=unmet, loss=opening * material.loss_rate.at(fy),
                closing=closing, goal=goal, shortfall=value("short", code, fy),
                coverage=closing / goal if goal > 0 else None))
            opening = closing
    inventory_df = pd.DataFrame(inventory, columns=INVENTORY_COLUMNS)

    f = s.fund
    fund = []
    opening = f.opening_balance
    purchases_by = (group_sums(orders_df["cost"].to_numpy(), orders_df["fy"].tolist())
                    if not orders_df.empty else {})
    stock_rows = group_positions(inventory_df["fy"].tolist())
    stock_closing = inventory_df["closing"].to_numpy()
    for fy in s.fys:
        purchases = purchases_by.get((fy,), 0.0)
        stock = [inventory[i] for i in stock_rows.get((fy,), ())]
        sales = sum(row["disposals"] * s.materials[row["material"]].disposal.price.at(fy) for row in stock)
        closing = _clean(value("fund", fy, zero=0.0) * MONEY_SCALE, ZERO_DOLLARS)
        fund.append(dict(
            fy=fy, opening=opening, appropriation=f.appropriation.at(fy),
            other_revenue=f.other_revenue.at(fy), sales=sales, purchases=purchases,
            committed_payments=f.committed_payments.at(fy), operating_cost=f.operating_cost.at(fy),
            holding_cost=f.holding_cost.at(fy) * float(stock_closing[stock_rows.get((fy,), [])].sum()),
            closing=closing,
            floor=f.floor.at(fy), deficit=_clean(value("deficit", fy, zero=0.0) * MONEY_SCALE, ZERO_DOLLARS)))
        opening = closing
    fund_df = pd.DataFrame(fund, columns=FUND_COLUMNS)

    tables = {
        "orders": orders_df,
        "inventory": inventory_df,
        "fund": fund_df,
        "sourcing": sourcing_table(s, orders_df),
        **marginal_tables(model, solution),
    }
    plan = Plan(scenario=s, tables=tables, kpis={}, solver=solution.solver,
                solver_version=solution.solver_version, solve_seconds=solution.seconds,
                objective_values=dict(solution.objective_values))
    plan.kpis = headline_kpis(s, tables, solution.objective_values)
    return plan


ORDER_COLUMNS = ["fy", "material", "option", "kind", "country", "refiner", "tags", "tonnes", "delivery_fy",
                 "unit_price", "cost"]
INVENTORY_COLUMNS = ["material", "fy", "opening", "deliveries", "pipeline", "disposals", "draws",
                     "unmet_draw", "loss", "closing", "goal", "shortfall", "coverage"]
FUND_COLUMNS = ["fy", "opening", "appropriation", "other_revenue", "sales", "purchases",
                "committed_payments", "operating_cost", "holding_cost", "closing", "floor", "deficit"]
SOURCING_COLUMNS = ["material", "fy", "ordered", "trusted_share", "trusted_floor", "covered_share",
                    "largest_country", "largest_share", "concentration_cap", "largest_refiner",
                    "largest_refiner_share", "refiner_cap"]


def sourcing_table(s: Scenario, orders: pd.DataFrame) -> pd.DataFrame:
    """Per material and FY: trusted, covered and largest single foreign country shares of orders,
    the country by origin (where mined) and by refiner (where refined)."""
    by_name = {o.name: o for o in s.options}
    if orders.empty:
        groups, totals, names, countries, tonnes = {}, {}, [], [], []
    else:
        groups = group_positions(orders["material"].tolist(), orders["fy"].tolist())
        totals = {key: float(orders["tonnes"].to_numpy()[positions].sum()) for key, positions in groups.items()}
        names, countries, tonnes = orders["option"].tolist(), orders["country"].tolist(), orders["tonnes"].tolist()
    rows = []
    for code in s.materials:
        for fy in s.fys:
            these = groups.get((code, fy), ())
            total = totals.get((code, fy), 0.0)
            trusted = covered = 0.0
            by_country: dict[str, float] = {}
            by_refiner: dict[str, float] = {}
            for i in these:
                option = by_name[names[i]]
                trusted += tonnes[i] if rules.is_trusted(s, option) else 0.0
                covered += tonnes[i] if rules.is_covered(s, option) else 0.0
                if rules.is_foreign(s, option):
                    by_country[countries[i]] = by_country.get(countries[i], 0.0) + tonnes[i]
                if rules.is_refined_abroad(s, option):
                    refiner = rules.refiner(option)
                    by_refiner[refiner] = by_refiner.get(refiner, 0.0) + tonnes[i]
            largest = max(sorted(by_country.items()), key=lambda item: item[1], default=(None, 0.0))
            top_refiner = max(sorted(by_refiner.items()), key=lambda item: item[1], default=(None, 0.0))
            rows.append(dict(
                material=code, fy=fy, ordered=total,
                trusted_share=trusted / total if total > 0 else None,
                trusted_floor=rules.trusted_floor(s, code, fy),
                covered_share=covered / total if total > 0 else None,
                largest_country=largest[0], largest_share=largest[1] / total if total > 0 else None,
                concentration_cap=rules.concentration_cap(s, fy), largest_refiner=top_refiner[0],
                largest_refiner_share=top_refiner[1] / total if total > 0 else None,
                refiner_cap=rules.refiner_cap(s, fy)))
    return pd.DataFrame(rows, columns=SOURCING_COLUMNS)


def marginal_tables(model: StockpileModel, solution: Solution) -> dict[str, pd.DataFrame]:
    """Duals of the readiness solve, in planner's units.

    ``shortfall_reduction_per_million``: how much the weighted relative shortfall falls with $1M
    more appropriation in that FY (minus the dual of fund[y], whose right-hand side holds the
    appropriation in $M). ``shortfall_reduction_per_tonne``: the same for one more tonne of an
    option's capacity in an FY. Zero where the limit does not bind. Which row families fill
    which table is each family's ``marginal_table`` (:mod:`stockpile.model.families`).
    """
    lp, duals = model.lp, solution.readiness_duals or [0.0] * model.lp.n_rows
    scope = len(lp.scope)  # in a two-stage model, only the rows of the future being read
    records: dict[str, list[dict]] = {table: [] for table in MARGINAL_TABLES}
    for row in lp.rows_in_scope(MARGINAL_ROWS):
        family = row_family(lp.row_family[row])
        record = family.fields(lp.row_key[row][scope:])
        record[MARGINAL_TABLES[family.marginal_table][-1]] = _clean(-duals[row], 1e-9)
        records[family.marginal_table].append(record)
    return {table: pd.DataFrame(records[table], columns=columns) for table, columns in MARGINAL_TABLES.items()}


MARGINAL_TABLES = {
    "marginal_appropriation": ["fy", "shortfall_reduction_per_million"],
    "marginal_capacity": ["material", "option", "fy", "shortfall_reduction_per_tonne"],
}
"""Each marginal table's columns: the key fields of its row families, then the marginal value."""


def headline_kpis(s: Scenario, tables: dict[str, pd.DataFrame], objectives: dict[str, float]) -> dict[str, Any]:
    """Headline figures and the solvency horizon, computed from the tables alone.

    Unmet releases (draws the stock could not supply) are counted apart from goal shortfall:
    ``total_shortfall_tonne_years`` is goal shortfall only, ``total_unmet_release_tonnes`` the
    tonnes of draws left unreleased. Either one, or a deficit, ends the solvency horizon.
    """
    inventory, fund, orders = tables["inventory"], tables["fund"], tables["orders"]
    short_rows = inventory[inventory.shortfall > SHORTFALL_TONNES]
    unmet_rows = inventory[inventory.unmet_draw > SHORTFALL_TONNES]
    deficit_rows = fund[fund.deficit > ZERO_DOLLARS]
    first_short = int(short_rows.fy.min()) if not short_rows.empty else None
    first_unmet = int(unmet_rows.fy.min()) if not unmet_rows.empty else None
    first_deficit = int(deficit_rows.fy.min()) if not deficit_rows.empty else None
    needed = appropriation_to_avoid_deficit(fund)
    failing = [fy for fy in (first_short, first_unmet, first_deficit) if fy is not None]
    solvent_through = (min(failing) - 1) if failing else s.horizon.last_fy
    readiness = readiness_by_material(s, inventory)
    return {
        "solvency_horizon": solvency_horizon(s, inventory, first_short, first_deficit, needed, first_unmet),
        "readiness_summary": readiness_summary(s, readiness),
        "solvent_through_fy": solvent_through if solvent_through >= s.horizon.first_fy else None,
        "first_shortfall_fy": first_short,
        "first_unmet_release_fy": first_unmet,
        "first_deficit_fy": first_deficit,
        "total_shortfall_tonne_years": float(inventory.shortfall.sum()),
        "total_released_tonnes": float(inventory.draws.sum()),
        "total_unmet_release_tonnes": float(inventory.unmet_draw.sum()),
        "weighted_unmet_release": float(objectives.get("release", 0.0)),
        "weighted_shortfall": float(objectives.get("shortfall", 0.0)),
        "total_deficit": float(fund.deficit.sum()),
        "appropriation_to_avoid_deficit": needed,
        "total_purchase_cost": float(orders.cost.sum()) if not orders.empty else 0.0,
        "discounted_net_cost": float(objectives.get("cost", 0.0)) * MONEY_SCALE,
        "end_fund_balance": float(fund.closing.iloc[-1]),
        "tonnes_ordered": _tonnes_ordered(s, orders),
        "end_coverage": {code: _coverage(inventory, code, s.horizon.last_fy) for code in s.materials},
        "readiness": readiness,
    }


def readiness_by_material(s: Scenario, inventory: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per material, the readiness figures that tell plans apart:

    goal_met_share       1 - sum_y short[m,y] / sum_y goal[m,y]: the share of the goal held,
                         tonne-years over the horizon (None when no FY has a goal)
    tonne_years_short    sum_y short[m,y]
    goal_met_from_fy     the first FY from which every later FY meets its goal (None when the
                         last FY is short)
    released_tonnes      draws released from stock; unmet_release_tonnes those it could not supply
    """
    result = {}
    for code in s.materials:
        rows = inventory[inventory.material == code]
        goal_total = float(rows.goal.sum())
        short = float(rows.shortfall.sum())
        met_from = None
        for row in rows.iloc[::-1].itertuples():
            if row.shortfall > SHORTFALL_TONNES:
                break
            met_from = int(row.fy)
        result[code] = {
            "goal_met_share": (1.0 - short / goal_total) if goal_total > 0 else None,
            "tonne_years_short": short,
            "goal_met_from_fy": met_from,
            "released_tonnes": float(rows.draws.sum()),
            "unmet_release_tonnes": float(rows.unmet_draw.sum()),
        }
    return result


def readiness_summary(s: Scenario, readiness: dict[str, dict[str, Any]]) -> str:
    """"readiness: antimony 61.2% of goal, 41,230 t-yr short, goal met from FY2036; cobalt 100%
    of goal"; a release the stock could not supply is added as "; unmet release: cobalt 1,200 t"."""
    parts, unmet = [], []
    for code, r in readiness.items():
        name = s.materials[code].name.lower()
        if r["goal_met_share"] is None:
            parts.append(f"{name} no goal")
            continue
        if r["tonne_years_short"] <= SHORTFALL_TONNES:
            parts.append(f"{name} 100% of goal")
        else:
            met = (f"goal met from FY{r['goal_met_from_fy']}" if r["goal_met_from_fy"] is not None
                   else f"goal not met in FY{s.horizon.last_fy}")
            share = min(r["goal_met_share"], 0.999)  # never round a shortfall up to 100%
            parts.append(f"{name} {share:.1%} of goal, {_tonnes(r['tonne_years_short'])} t-yr short, {met}")
        if r["unmet_release_tonnes"] > SHORTFALL_TONNES:
            unmet.append(f"{name} {_tonnes(r['unmet_release_tonnes'])} {s.materials[code].unit}")
    text = "readiness: " + "; ".join(parts)
    if unmet:
        text += "; unmet release: " + ", ".join(unmet)
    return text


def _tonnes_ordered(s: Scenario, orders: pd.DataFrame) -> dict[str, float]:
    """Tonnes ordered over the horizon per material (0 for a material with no orders)."""
    if orders.empty:
        return {code: 0.0 for code in s.materials}
    sums = group_sums(orders["tonnes"].to_numpy(), orders["material"].tolist())
    return {code: sums.get((code,), 0.0) for code in s.materials}


def appropriation_to_avoid_deficit(fund: pd.DataFrame) -> dict[int, float]:
    """Extra appropriation per FY that removes every deficit of this plan, keeping its orders
    (:func:`appropriation_needed` of the Fund table's FYs and deficits)."""
    return appropriation_needed(zip(fund.fy.tolist(), fund.deficit.tolist()))


def appropriation_needed(deficits: Iterable[tuple[int, float]]) -> dict[int, float]:
    """Extra appropriation per FY that removes every deficit of a plan, keeping its orders, from
    its (FY, deficit) pairs in FY order.

    Money carries forward, so FY y needs a cumulative extra of R(y) = max over y' <= y of
    deficit[y']; the extra in FY y is R(y) - R(y-1). With the same orders the Fund then ends each
    FY at its balance plus R(y) >= floor, so the plan re-solved with it has no deficit. It is the
    least such schedule for these orders (each FY's extra arrives no earlier than needed).
    """
    needed, running = {}, 0.0
    for fy, deficit in deficits:
        if deficit > running:
            needed[int(fy)] = float(deficit - running)
            running = float(deficit)
    return needed


def _coverage(inventory: pd.DataFrame, code: str, fy: int) -> float | None:
    row = inventory[(inventory.material == code) & (inventory.fy == fy)].iloc[0]
    return None if row.goal <= 0 else float(row.closing / row.goal)


def _tonnes(value: float) -> str:
    """1,230 or 0.4: small shortfalls keep a decimal so they do not read as zero."""
    return f"{value:,.0f}" if value >= 9.95 else f"{value:,.1f}"


def solvency_horizon(s: Scenario, inventory: pd.DataFrame, first_short: int | None,
                     first_deficit: int | None, needed: dict[int, float] | None = None,
                     first_unmet: int | None = None) -> str:
    """The solvency horizon of a plan's inventory table (:func:`horizon_sentence`)."""
    at: dict[str, list[tuple[str, float]]] = {"shortfall": [], "unmet_draw": []}
    for fy, column in ((first_short, "shortfall"), (first_unmet, "unmet_draw")):
        if fy is not None:
            rows = inventory[(inventory.fy == fy) & (inventory[column] > SHORTFALL_TONNES)]
            at[column] = [(r.material, getattr(r, column)) for r in rows.itertuples()]
    return horizon_sentence(s, first_short, first_deficit, needed, first_unmet, at["shortfall"], at["unmet_draw"],
                            float(inventory.shortfall.sum()))


def horizon_sentence(s: Scenario, first_short: int | None, first_deficit: int | None,
                     needed: dict[int, float] | None, first_unmet: int | None,
                     short_at_first: list[tuple[str, float]], unmet_at_first: list[tuple[str, float]],
                     total_short: float) -> str:
    """"solvent through FY2040", or "solvent through FY2028; first shortfall FY2029: cobalt
    1,230 t (5,400 t-yr short in all); unmet release FY2031: cobalt 400 t; Fund deficit from
    FY2031".

    ``short_at_first`` and ``unmet_at_first``: (material, tonnes) short, or of a release left
    unmet, in the first FY of each (in the materials' order); ``total_short``: tonne-years short
    over the horizon."""
    if first_short is None and first_deficit is None and first_unmet is None:
        return f"solvent through FY{s.horizon.last_fy}"
    parts = []
    first_failure = min(fy for fy in (first_short, first_deficit, first_unmet) if fy is not None)
    if first_failure > s.horizon.first_fy:
        parts.append(f"solvent through FY{first_failure - 1}")
    else:
        parts.append(f"not solvent in FY{s.horizon.first_fy}")
    for fy, rows, label in ((first_short, short_at_first, "first shortfall"),
                            (first_unmet, unmet_at_first, "unmet release")):
        if fy is None:
            continue
        what = ", ".join(f"{s.materials[code].name.lower()} {_tonnes(tonnes)} {s.materials[code].unit}"
                         for code, tonnes in rows)
        if label == "first shortfall":  # how large, over the horizon: what tells apart plans short from the same FY
            what += f" ({_tonnes(total_short)} t-yr short in all)"
        parts.append(f"{label} FY{fy}: {what}")
    if first_deficit is not None:
        text = f"Fund deficit from FY{first_deficit}"
        if needed:
            text += (f" (${sum(needed.values()) / 1e6:,.1f}M more appropriation by "
                     f"FY{max(needed)} avoids it)")
        parts.append(text)
    return "; ".join(parts)
