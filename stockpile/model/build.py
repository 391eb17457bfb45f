"""The planning LP, one function per constraint family (see ``../shared/MODEL.md``).

:func:`build` calls the ``define_*`` functions in a fixed order. Each adds one family of rows,
named ``family[key...]`` (``balance[Sb,2028]``, ``capacity[Co,Canada import,2029]``), so a dual
maps back to the limit a planner set. The math of each family is in its docstring; its record
(key fields, hard or elastic, units, the scenario key that sets it) in :mod:`stockpile.model.families`.

Units inside the model: tonnes of contained metal, and millions of dollars ($M), so that
tonnages and billion-dollar budgets sit within a few orders of magnitude of each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stockpile.scenario import rules
from stockpile.model.families import (AMP_LIMIT, BALANCE, BAN, BUY, CAPACITY, CONCENTRATION, DEFICIT, FIXED_ORDER, FUND,
                                      FUND_BALANCE, FUND_FLOOR, GOAL, INV, OBLIGATION_CAP, ORDER, PARTNER_SHARE,
                                      RECYCLING, REFINER_CAP, SELL, SHORT, TIERS, UNMET_DRAW, RowFamily)
from stockpile.model.lp import INF, LinearProgram
from stockpile.scenario.schema import RecyclingStream, Scenario

MONEY_SCALE = 1e6
"""Dollars per model money unit: the model counts money in $M."""

OBJECTIVES = ("release", "deficit", "shortfall", "cost")
"""The four priorities, in the order the lexicographic solve minimises them (see define_objectives).
Code that loops over priorities iterates this tuple; none names a count of them."""


@dataclass
class StockpileModel:
    scenario: Scenario
    lp: LinearProgram
    spend_terms: dict[int, dict[int, float]] = field(default_factory=dict)
    """Per FY, the purchase cost of that FY's orders in $M as {column: coefficient}."""


def build(scenario: Scenario, lp: LinearProgram | None = None, definers: dict | None = None) -> StockpileModel:
    """The whole LP of a scenario: variables, the constraint families, and the objectives (OBJECTIVES).

    Given ``lp``, the scenario is built into it under the LP's current scope (one future of a
    two-stage model, see stockpile.analysis.hedge.tree) instead of into a new one. Given
    ``definers``, each row family is recorded in it with the function of DEFINITIONS that adds it.
    """
    model = StockpileModel(scenario, lp if lp is not None else LinearProgram(name=_lp_name(scenario.name)))
    for define in DEFINITIONS:
        first = model.lp.n_rows
        define(model)
        if definers is not None:
            for family in model.lp.row_family[first:]:
                definers.setdefault(family, define)
    return model


def _lp_name(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name)[:60] or "stockpile"


def define_variables(model: StockpileModel) -> None:
    """Decision variables, all >= 0 except the Fund balance.

    order[m,s,y]     tonnes ordered from option s in FY y (delivered in y + L_s), for the FYs
                     the option may be ordered and delivered within the horizon
    buy[m,s,k,y]     tonnes bought in price tier k (only for options with tiers; width-bounded)
    sell[m,y]        tonnes disposed of (only where disposals are allowed; <= max_per_fy)
    inv[m,y]         tonnes held at the end of FY y
    short[m,y]       tonnes below the goal (only where the goal is positive)
    unmet_draw[m,y]  tonnes of a drawdown the stock could not supply (<= draw[m,y])
    fund[y]          Transaction Fund balance at the end of FY y, $M, free
    deficit[y]       $M by which fund[y] is below its floor
    """
    s, lp = model.scenario, model.lp
    for option in s.options:
        for fy in rules.orderable_fys(s, option):
            lp.add_column(ORDER.name, (option.material, option.name, fy))
            tier_list = rules.tiers(option)
            if len(tier_list) > 1:
                for k, (width, _) in enumerate(tier_list, start=1):
                    lp.add_column(BUY.name, (option.material, option.name, k, fy),
                                  upper=INF if width is None else width)
    for code, material in s.materials.items():
        for fy in s.fys:
            lp.add_column(INV.name, (code, fy))
            if material.disposal.allowed:
                limit = material.disposal.max_per_fy
                lp.add_column(SELL.name, (code, fy), upper=INF if limit is None else limit.at(fy))
            if material.goal.at(fy) > 0:
                lp.add_column(SHORT.name, (code, fy))
            if material.draw.at(fy) > 0:
                lp.add_column(UNMET_DRAW.name, (code, fy), upper=material.draw.at(fy))
    for fy in s.fys:
        lp.add_column(FUND_BALANCE.name, (fy,), lower=-INF)
        lp.add_column(DEFICIT.name, (fy,))


def define_price_tiers(model: StockpileModel) -> None:
    """tiers[m,s,y]: order[m,s,y] = sum_k buy[m,s,k,y], with 0 <= buy[m,s,k,y] <= width_k.

    Tier k costs factor_k x the unit price, factors non-decreasing (validated), so the cost is
    convex and the cost-minimising solve fills the cheaper tiers first without integer variables.
    Also collects each FY's purchase cost (``spend[y]`` below) for the Fund and the objective:

        spend[y] = sum_{m,s} price[s,y] * (order[m,s,y]                 without tiers
                                          or sum_k factor_k buy[m,s,k,y]) with tiers
    """
    s, lp = model.scenario, model.lp
    for fy in s.fys:
        model.spend_terms[fy] = {}
    for option in s.options:
        tier_list = rules.tiers(option)
        for fy in rules.orderable_fys(s, option):
            price = rules.unit_price(s, option, fy) / MONEY_SCALE
            order = lp.col("order", option.material, option.name, fy)
            if len(tier_list) == 1:
                model.spend_terms[fy][order] = price
                continue
            terms = {order: 1.0}
            for k, (_, factor) in enumerate(tier_list, start=1):
                buy = lp.col("buy", option.material, option.name, k, fy)
                terms[buy] = -1.0
                model.spend_terms[fy][buy] = price * factor
            lp.add_row(TIERS.name, (option.material, option.name, fy), terms, "=", 0.0)


def define_balance(model: StockpileModel) -> None:
    """balance[m,y]: inventory carried, delivered, sold and drawn.

        inv[m,y] = (1 - loss[m,y]) * inv[m,y-1] + sum_s order[m,s,y-L_s] + pipeline[m,y]
                   - sell[m,y] - (draw[m,y] - unmet_draw[m,y])

    with inv[m,y0-1] the opening inventory (a constant, so it moves to the right-hand side).
    """
    s, lp = model.scenario, model.lp
    deliveries: dict[tuple[str, int], list[int]] = {}
    for option in s.options:
        for fy in rules.orderable_fys(s, option):
            deliveries.setdefault((option.material, fy + option.lead_time), []).append(
                lp.col("order", option.material, option.name, fy))
    for code, material in s.materials.items():
        for fy in s.fys:
            keep = 1.0 - material.loss_rate.at(fy)
            terms = {lp.col("inv", code, fy): 1.0}
            rhs = material.pipeline.at(fy) - material.draw.at(fy)
            if fy == s.horizon.first_fy:
                rhs += keep * material.opening_inventory
            else:
                terms[lp.col("inv", code, fy - 1)] = -keep
            for order in deliveries.get((code, fy), []):
                terms[order] = -1.0
            if lp.has_col("sell", code, fy):
                terms[lp.col("sell", code, fy)] = 1.0
            if lp.has_col("unmet_draw", code, fy):
                terms[lp.col("unmet_draw", code, fy)] = -1.0
            lp.add_row(BALANCE.name, (code, fy), terms, "=", rhs)


def define_goal(model: StockpileModel) -> None:
    """goal[m,y]: inv[m,y] + short[m,y] >= goal[m,y] (elastic: the model is always feasible)."""
    s, lp = model.scenario, model.lp
    for code, material in s.materials.items():
        for fy in s.fys:
            goal = material.goal.at(fy)
            if goal > 0:
                lp.add_row(GOAL.name, (code, fy),
                           {lp.col("inv", code, fy): 1.0, lp.col("short", code, fy): 1.0}, ">=", goal)


def define_capacity(model: StockpileModel) -> None:
    """capacity[m,s,y]: order[m,s,y] <= cap[s,y] * avail[s,y] for purchase options.

    avail[s,y] is the product of the availability multipliers of the disruption events in force
    for the option's country and material (1 when none; an export ban sets it to 0).
    """
    _define_option_limit(model, CAPACITY, recycling=False)


def define_recycling(model: StockpileModel) -> None:
    """recycling[m,r,y]: order[m,r,y] <= feedstock[r,y] * yield[r,y] * avail[r,y] per stream r."""
    _define_option_limit(model, RECYCLING, recycling=True)


def _define_option_limit(model: StockpileModel, family: RowFamily, recycling: bool) -> None:
    s, lp = model.scenario, model.lp
    for option in s.options:
        if isinstance(option, RecyclingStream) != recycling:
            continue
        for fy in rules.orderable_fys(s, option):
            order = lp.col("order", option.material, option.name, fy)
            lp.add_row(family.name, (option.material, option.name, fy), {order: 1.0}, "<=",
                       rules.capacity(s, option, fy))


def define_fund(model: StockpileModel) -> None:
    """fund[y] and fund_floor[y]: the Transaction Fund, in $M.

        fund[y] = fund[y-1] + appropriation[y] + other_revenue[y] + sum_m sale_price[m,y] sell[m,y]
                  - spend[y] - committed_payments[y] - operating_cost[y]
                  - holding_cost[y] * sum_m inv[m,y]
        fund[y] + deficit[y] >= floor[y]

    with fund[y0-1] the opening balance. The appropriation is on the right-hand side of fund[y],
    so that row's dual is the marginal value of one more $M of appropriation in FY y.
    """
    s, lp = model.scenario, model.lp
    f = s.fund
    for fy in s.fys:
        terms = {lp.col("fund", fy): 1.0}
        rhs = (f.appropriation.at(fy) + f.other_revenue.at(fy) - f.committed_payments.at(fy)
               - f.operating_cost.at(fy)) / MONEY_SCALE
        if fy == s.horizon.first_fy:
            rhs += f.opening_balance / MONEY_SCALE
        else:
            terms[lp.col("fund", fy - 1)] = -1.0
        for col, price in model.spend_terms[fy].items():
            terms[col] = terms.get(col, 0.0) + price
        holding = f.holding_cost.at(fy) / MONEY_SCALE
        for code, material in s.materials.items():
            terms[lp.col("inv", code, fy)] = holding
            if lp.has_col("sell", code, fy):
                terms[lp.col("sell", code, fy)] = -material.disposal.price.at(fy) / MONEY_SCALE
        lp.add_row(FUND.name, (fy,), terms, "=", rhs)
        lp.add_row(FUND_FLOOR.name, (fy,), {lp.col("fund", fy): 1.0, lp.col("deficit", fy): 1.0},
                   ">=", f.floor.at(fy) / MONEY_SCALE)


def define_obligation_cap(model: StockpileModel) -> None:
    """Optional ceilings (Annual Materials Plan and obligations), hard limits:

        amp_limit[m,y]:       sum_s order[m,s,y] <= amp_limit[m,y]
        obligation_cap[y]:    spend[y] <= obligation_cap[y] - committed_payments[y]
    """
    s, lp = model.scenario, model.lp
    for code, material in s.materials.items():
        if material.amp_limit is None:
            continue
        for fy in s.fys:
            terms = {lp.col("order", o.material, o.name, fy): 1.0
                     for o in rules.options_of(s, code) if lp.has_col("order", o.material, o.name, fy)}
            lp.add_row(AMP_LIMIT.name, (code, fy), terms, "<=", material.amp_limit.at(fy))
    cap = s.fund.obligation_cap
    if cap is not None:
        for fy in s.fys:
            lp.add_row(OBLIGATION_CAP.name, (fy,), dict(model.spend_terms[fy]), "<=",
                       (cap.at(fy) - s.fund.committed_payments.at(fy)) / MONEY_SCALE)


def define_partner_share(model: StockpileModel) -> None:
    """partner_share[m,y]: sum_{s trusted} order[m,s,y] >= alpha[m,y] * sum_s order[m,s,y].

    Written as sum_s (trusted_s - alpha) order[m,s,y] >= 0. An option is trusted when, at every
    stage policy.trusted_stages requires (both: origin and refiner; or one of them), one of its
    effective tags at that stage (kind, own tags, that stage's country's tags) is in
    policy.trusted_tags:

        trusted_s = AND_{g in stages} [ (kind_s + tags_s + tags(country_s at g)) meets trusted_tags ]
    """
    s, lp = model.scenario, model.lp
    for code in s.materials:
        options = rules.options_of(s, code)
        for fy in s.fys:
            alpha = rules.trusted_floor(s, code, fy)
            if alpha <= 0:
                continue
            terms = {lp.col("order", o.material, o.name, fy): (1.0 if rules.is_trusted(s, o) else 0.0) - alpha
                     for o in options if lp.has_col("order", o.material, o.name, fy)}
            if terms:
                lp.add_row(PARTNER_SHARE.name, (code, fy), terms, ">=", 0.0)


def define_covered_ban(model: StockpileModel) -> None:
    """ban[m,s,y]: order[m,s,y] <= 0 for options a policy ban covers from its FY on.

    A ban names a tag (``covered`` for 10 U.S.C. 4872 countries) or countries, a material (or
    all), the FY it takes effect and a stage. It covers option s when, at the ban's stage g
    (origin = the mine country, refiner = the refining country, any = either):

        tag in (kind_s + tags_s + tags(country_s at g))  or  country_s at g in ban.countries

    Kept as rows, not bounds, so their duals price the ban.
    """
    s, lp = model.scenario, model.lp
    for option in s.options:
        for fy in rules.orderable_fys(s, option):
            if rules.bans_hitting(s, option, fy):
                lp.add_row(BAN.name, (option.material, option.name, fy),
                           {lp.col("order", option.material, option.name, fy): 1.0}, "<=", 0.0)


def define_concentration_cap(model: StockpileModel) -> None:
    """concentration[m,c,y]: sum_{s in c} order[m,s,y] <= beta[y] * sum_s order[m,s,y]

    for every foreign origin country c (an option's ``country``, where it is mined; not
    policy.home_country) with an option for material m: no single foreign country above beta of
    a year's orders of that material. The refining stage has its own cap, define_refiner_cap.
    """
    _define_single_country_cap(model, CONCENTRATION, "origin", rules.concentration_cap)


def define_refiner_cap(model: StockpileModel) -> None:
    """refiner_cap[m,c,y]: sum_{s refined in c} order[m,s,y] <= gamma[y] * sum_s order[m,s,y]

    for every foreign refining country c (not policy.home_country) with an option for material
    m, gamma = policy.refiner_cap: the single-country cap of define_concentration_cap applied to
    the refining stage (an option's refiner, its origin country when it names none), on the same
    base, all of the material's orders in the FY.
    """
    _define_single_country_cap(model, REFINER_CAP, "refiner", rules.refiner_cap)


def _define_single_country_cap(model: StockpileModel, family: RowFamily, stage: str, cap_in) -> None:
    """The rows of the two caps above: ``cap_in(scenario, fy)`` on each foreign country at ``stage``
    (no rows in an FY without a cap or with a cap of 1)."""
    s, lp = model.scenario, model.lp
    for code in s.materials:
        options = rules.options_of(s, code)
        for fy in s.fys:
            cap = cap_in(s, fy)
            if cap is None or cap >= 1.0:
                continue
            orderable = [o for o in options if lp.has_col("order", o.material, o.name, fy)]
            for country in rules.foreign_countries_at(s, orderable, stage):
                terms = {lp.col("order", o.material, o.name, fy):
                         (1.0 if rules.country_at(o, stage) == country else 0.0) - cap for o in orderable}
                lp.add_row(family.name, (code, country, fy), terms, "<=", 0.0)


def define_fixed_order(model: StockpileModel) -> None:
    """fixed_order[m,s,y]: order[m,s,y] = fixed[s,y] for each FY an option's ``fixed`` lists.

    A hard limit: with a ban, a floor or a cap it can leave no feasible plan, which the
    infeasibility diagnosis (stockpile/solve/diagnose.py) then names as ``supply[i].fixed.FY``.
    """
    s, lp = model.scenario, model.lp
    for option in s.options:
        for fy, tonnes in option.fixed.points:
            if lp.has_col("order", option.material, option.name, fy):
                lp.add_row(FIXED_ORDER.name, (option.material, option.name, fy),
                           {lp.col("order", option.material, option.name, fy): 1.0}, "=", tonnes)


def define_objectives(model: StockpileModel) -> None:
    """The priorities, each a named objective (minimised in the order of OBJECTIVES when lexicographic):

        release    sum_{m,y} w_m unmet_draw[m,y] / max(draw[m,y], 1 t)                 (relative)
        deficit    sum_y deficit[y]                                                  ($M)
        shortfall  sum_{m,y} w_m short[m,y] / max(goal[m,y], 1 t)                      (relative)
        cost       sum_y (1+r)^-(y-y0) (spend[y] + holding_cost[y] sum_m inv[m,y]
                                        - sum_m sale_price[m,y] sell[m,y])           ($M)

    A draw is an order to release material: releasing it comes before solvency, readiness and
    cost, so the plan never keeps a tonne in stock that a draw asked for and the stock could
    supply (rules.release_weight, rules.shortfall_weight). The weighted mode minimises
    release_weight x release + deficit_weight x deficit + shortfall_weight x shortfall + cost in
    one solve.
    """
    s, lp = model.scenario, model.lp
    release: dict[int, float] = {}
    shortfall: dict[int, float] = {}
    for code in s.materials:
        for fy in s.fys:
            if lp.has_col("unmet_draw", code, fy):
                release[lp.col("unmet_draw", code, fy)] = rules.release_weight(s, code, fy)
            if lp.has_col("short", code, fy):
                shortfall[lp.col("short", code, fy)] = rules.shortfall_weight(s, code, fy)
    lp.add_objective_terms("release", release)
    lp.add_objective_terms("deficit", {lp.col("deficit", fy): 1.0 for fy in s.fys})
    lp.add_objective_terms("shortfall", shortfall)
    cost: dict[int, float] = {}
    for fy in s.fys:
        discount = rules.discount_factor(s, fy)
        for col, price in model.spend_terms[fy].items():
            cost[col] = cost.get(col, 0.0) + discount * price
        holding = s.fund.holding_cost.at(fy) / MONEY_SCALE
        for code, material in s.materials.items():
            cost[lp.col("inv", code, fy)] = discount * holding
            if lp.has_col("sell", code, fy):
                cost[lp.col("sell", code, fy)] = -discount * material.disposal.price.at(fy) / MONEY_SCALE
    lp.add_objective_terms("cost", cost)


DEFINITIONS = (define_variables, define_price_tiers, define_balance, define_goal, define_capacity, define_recycling,
               define_fund, define_obligation_cap, define_partner_share, define_covered_ban, define_concentration_cap,
               define_refiner_cap, define_fixed_order, define_objectives)
"""What :func:`build` calls, in its order: the columns first, then each family of rows (the price
tiers before the Fund, whose rows and the objectives take their purchase costs), the objectives
last. A sweep point re-runs only those whose rows its parameters move (stockpile.analysis.sweep.patching)."""
