"""Why a plan buys where it buys: the limits that bind, the options left unused, the cost of policy.

* :func:`binding_limits`: every hard limit with a nonzero marginal value (a dual of the readiness
  stage, or of the cost stage when the plan meets every goal), in planner's words and units, with
  the scenario key that sets it, ranked by the first-order effect of loosening it by 10% of its
  value, so limits in tonnes, dollars and shares compare on one scale;
* :func:`unused_options`: for each material, the cheapest option the plan does not use, and why
  (its order window or lead time, a ban, a disruption event, the trusted-share floor, the
  single-country cap, an AMP or obligation limit, money, or no need);
* :func:`explain_scenario`: both, with the policy costs of :mod:`stockpile.analysis.policy_costs`, as the
  report ``stockpile explain`` prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from stockpile.scenario import rules
from stockpile.model.families import row_family
from stockpile.solve.relaxations import LimitContext, Relaxation, row_relaxations
from stockpile.solve.units import format_value
from stockpile.model.build import MONEY_SCALE, StockpileModel
from stockpile.plan.read import ZERO_DOLLARS, ZERO_TONNES, Plan
from stockpile.scenario.schema import Scenario
from stockpile.solve.lexicographic import Solution

DUAL_TOL = 1e-9
"""A dual below this is zero: the limit does not bind."""
MONEY_STAGES = ("deficit", "cost")
"""Stages whose objective is money ($M in the model): their marginal values are shown in dollars."""
STEP = 0.10
"""Limits are ranked by the effect of loosening them by this share of their value."""


@dataclass
class Binding:
    """One binding limit: how much the stage's objective improves per planner's unit of it."""

    key: str
    row: str
    what: str
    current: float
    unit: str
    """Unit of ``current``: "$", "t", "share", "availability", "FY"."""
    per: str
    """The planner's unit of a move: "$1M more", "tonne more", "percentage point lower", ..."""
    value: float
    """Objective improvement per ``per`` (weighted shortfall, or $ of discounted cost)."""
    effect: float
    """Improvement from loosening the limit by 10% of its value (first order): the ranking key."""
    stage: str
    fy: int | None = None
    group: tuple = ()
    """Bindings with the same group differ only in FY (shown as one line when their values agree)."""

    def gain(self) -> str:
        gain = (f"reduces weighted shortfall by {self.value:.4g}" if self.stage == "shortfall"
                else f"reduces the weighted objective by {self.value:.4g}" if self.stage == "weighted"
                else f"reduces the Fund's total deficit by {_dollars(self.value)}" if self.stage == "deficit"
                else f"saves {_dollars(self.value)} of discounted cost")
        if self.value < 0:
            gain = (f"raises weighted shortfall by {-self.value:.4g}" if self.stage == "shortfall"
                    else f"raises the weighted objective by {-self.value:.4g}" if self.stage == "weighted"
                    else f"raises the Fund's total deficit by {_dollars(-self.value)}" if self.stage == "deficit"
                    else f"costs {_dollars(-self.value)} more")
        return gain

    def sentence(self) -> str:
        return (f"{self.what} binds ({self.key} = {format_value(self.current, self.unit)}): "
                f"each {self.per} {self.gain()}")


def grouped_sentences(bindings: list[Binding]) -> list[str]:
    """One line per binding, except that bindings differing only in FY, with the same marginal value
    (within 1e-6), share a line naming their FYs (e.g. the FY2027-FY2030 appropriations)."""
    groups: list[list[Binding]] = []
    index: dict[tuple, int] = {}
    for b in bindings:
        tag = (b.group, b.per, f"{b.value:.6g}") if b.group and b.fy is not None else None
        if tag is not None and tag in index:
            groups[index[tag]].append(b)
            continue
        if tag is not None:
            index[tag] = len(groups)
        groups.append([b])
    lines = []
    for members in groups:
        first = members[0]
        if len(members) == 1:
            lines.append(first.sentence())
            continue
        fys = sorted(b.fy for b in members)
        span = _fy_ranges(fys)
        what = first.what.replace(f"FY{first.fy}", span)
        key = first.key
        if key.endswith(f".{first.fy}"):
            key = key[: -len(str(first.fy))] + ("{" + ",".join(str(fy) for fy in fys) + "}"
                                                if len(fys) <= 3 else f"{fys[0]}..{fys[-1]}")
        currents = {b.current for b in members}
        value = f" = {format_value(first.current, first.unit)} each" if len(currents) == 1 else ""
        lines.append(f"{what} binds ({key}{value}): each {first.per} in any of these FYs {first.gain()}")
    return lines


def _dollars(value: float) -> str:
    return f"${value:,.0f}" if abs(value) < 1e6 else f"${value / 1e6:,.2f}M"


def _stage_duals(solution: Solution, stage: str) -> list[float] | None:
    if stage in ("shortfall", "weighted"):
        return solution.readiness_duals
    for name, run in solution.stages:
        if name == stage:
            return run.duals
    return None


def binding_limits(model: StockpileModel, solution: Solution, stage: str = "shortfall") -> list[Binding]:
    """Every binding hard limit (and each FY's appropriation and Fund floor) of one stage, ranked."""
    s, lp = model.scenario, model.lp
    duals = _stage_duals(solution, stage)
    if duals is None:
        return []
    if stage == "shortfall" and s.objective.mode == "weighted":
        stage = "weighted"
    x = solution.x
    scale = MONEY_SCALE if stage in MONEY_STAGES else 1.0  # their duals are $M per unit: show $
    ctx = LimitContext.of(s, lp)
    out: list[Binding] = []
    for row in range(min(lp.n_rows, len(duals))):
        dual = duals[row]
        if abs(dual) <= DUAL_TOL:
            continue
        family = row_family(lp.row_family[row])
        if family.hard or family.money:
            out.append(_limit_binding(ctx, row, dual * scale, x, stage))
    return sorted(out, key=lambda b: (-abs(b.effect), b.key, b.row))


@dataclass(frozen=True)
class Move:
    """How one move of a limit reads: its unit, and what else the words of a family need."""

    per: str
    """The planner's unit of one move: "extra tonne available", "percentage point lower", ..."""
    what: Callable[[LimitContext, dict, Relaxation], str] | None = None
    """The limit in words, where its scenario key's description will not do."""
    tonnes: Callable[[LimitContext, dict], float] | None = None
    """The tonnes a 10% move is taken of, where not the limit's own value."""


def _option_capacity(ctx: LimitContext, key: dict) -> float:
    """The option's capacity in that FY after disruption events (its nominal one where they cut it to 0)."""
    option = ctx.option(key["option"])
    available = rules.capacity(ctx.scenario, option, key["fy"])
    return available if available > 0 else (
        option.capacity.at(key["fy"]) if hasattr(option, "capacity") else option.feedstock.at(key["fy"]))


def _available_capacity(ctx: LimitContext, key: dict) -> float:
    return rules.capacity(ctx.scenario, ctx.option(key["option"]), key["fy"])


def _recovery(ctx: LimitContext, key: dict, limit: Relaxation) -> str:
    option, fy = key["option"], key["fy"]
    return f"recovery from {option!r} in FY{fy} (at {ctx.option(option).recovery_yield.at(fy):.0%} yield)"


def _country_cap(ctx: LimitContext, key: dict, limit: Relaxation) -> str:
    return (f"the single-country cap on {ctx.material(key['material'])} mined in {key['country']} "
            f"in FY{key['fy']}")


def _refiner_cap(ctx: LimitContext, key: dict, limit: Relaxation) -> str:
    return (f"the single-refiner cap on {ctx.material(key['material'])} refined in {key['country']} "
            f"in FY{key['fy']}")


def _ban_on(ctx: LimitContext, key: dict, limit: Relaxation) -> str:
    return f"{limit.what}, on {key['option']!r} in FY{key['fy']}"


MOVES: dict[str, Move] = {
    "fund": Move("extra $1M"),
    "fund_floor": Move("$1M lower"),
    "capacity": Move("extra tonne available", tonnes=_option_capacity),
    "recycling": Move("extra tonne recovered", _recovery, _option_capacity),
    "partner_share": Move("percentage point lower"),
    "concentration": Move("percentage point higher", _country_cap),
    "refiner_cap": Move("percentage point higher", _refiner_cap),
    "ban": Move("tonne allowed", _ban_on, _available_capacity),
    "obligation_cap": Move("extra $1M"),
    "amp_limit": Move("extra tonne"),
    "fixed_order": Move("tonne more"),
}
"""The words of each limit :func:`binding_limits` ranks (every hard row and money row of the model)."""


def _limit_binding(ctx: LimitContext, row: int, dual: float, x: list[float], stage: str) -> Binding:
    """A row's dual in planner's units: per tonne, per $1M, per percentage point.

    Loosening a row (raising a ceiling's right-hand side, lowering a floor's) by one unit improves
    the objective by -dual (dual for a >= row). A share limit (a floor or cap on a share of a
    year's orders) moves by a point at a time: 1% of that year's orders of the material."""
    s, lp = ctx.scenario, ctx.lp
    family = row_family(lp.row_family[row])
    key = family.fields(lp.row_key[row])
    limit: Relaxation = row_relaxations(ctx, row)[0]
    move = MOVES[family.name]
    value = dual if lp.row_sense[row] == ">=" else -dual
    if family.unit == "share":
        total = sum(ctx.order(x, o, key["fy"]) for o in rules.options_of(s, key["material"]))
        value = value * total * 0.01
        step = max(STEP * limit.current * 100, 1.0)
    elif family.money:
        step = max(STEP * abs(limit.current), 1e6) / 1e6
    else:
        step = max(STEP * (move.tonnes(ctx, key) if move.tonnes else limit.current), 1.0)
    what = move.what(ctx, key, limit) if move.what else limit.what
    if not what.startswith("the "):
        what = "the " + what
    group = (family.name, *lp.row_key[row][:-1]) if family.per_fy else ()
    return Binding(limit.key, lp.row_name(row), what, limit.current, limit.unit, move.per, value, value * step,
                   stage, key["fy"], group)


# ---------------------------------------------------------------------------------------------
# The cheapest option left unused

@dataclass
class Unused:
    material: str
    option: str | None
    key: str | None
    mean_price: float | None
    reasons: list[str] = field(default_factory=list)
    tied: list[str] = field(default_factory=list)
    """Other unused options at the same average price (the plan's choice among them is arbitrary)."""

    def sentence(self, s: Scenario) -> str:
        label = f"{s.materials[self.material].name} ({self.material})"
        if self.option is None:
            return f"{label}: " + ("every option is used" if self.reasons == [] else self.reasons[0])
        verb = "is" if len(self.tied) == 1 else "are"
        tied = f" (so {verb} {', '.join(repr(name) for name in self.tied)}, at the same price)" if self.tied else ""
        return (f"{label}: {self.option!r} ({self.key}, ${self.mean_price:,.0f}/t on average) is left unused{tied}: "
                + "; ".join(self.reasons))


def _fy_ranges(fys: list[int]) -> str:
    fys = sorted(fys)
    parts, start = [], fys[0]
    for previous, current in zip(fys, fys[1:] + [None]):
        if current != previous + 1 if current is not None else True:
            parts.append(f"FY{start}" if start == previous else f"FY{start}-FY{previous}")
            start = current
    return ", ".join(parts)


def unused_options(model: StockpileModel, solution: Solution, plan: Plan) -> list[Unused]:
    """Per material, the cheapest option with no orders in the plan, and why, FY by FY."""
    s, lp = model.scenario, model.lp
    ctx = LimitContext.of(s, lp)
    orders = plan.tables["orders"]
    used = set(orders.loc[orders.tonnes > ZERO_TONNES, "option"]) if not orders.empty else set()
    binding_rows = _binding_rows(lp, solution)
    money_binds = any(row_family(lp.row_family[r]).money for r in binding_rows)
    out = []
    for code in s.materials:
        options = [o for o in rules.options_of(s, code) if o.name not in used]
        if not options:
            none = [] if rules.options_of(s, code) else ["no supply option or recycling stream"]
            out.append(Unused(code, None, None, None, none))
            continue

        def mean_price(option) -> float:
            fys = rules.orderable_fys(s, option) or list(s.fys)
            return sum(rules.unit_price(s, option, fy) for fy in fys) / len(fys)

        def why(option) -> dict[str, list[int]]:
            by_reason: dict[str, list[int]] = {}
            for fy in s.fys:
                by_reason.setdefault(_why_not(ctx, option, fy, plan, binding_rows, money_binds), []).append(fy)
            return by_reason

        def hard_fys(by_reason: dict[str, list[int]]) -> int:
            """FYs a hard limit (ban, event, share, cap) keeps the option out, not price or need."""
            return sum(len(fys) for reason, fys in by_reason.items() if not reason.startswith(SOFT_REASONS))

        cheapest = min(mean_price(o) for o in options)
        tied = sorted((o for o in options if mean_price(o) <= cheapest * (1 + 1e-9)), key=lambda o: o.name)
        # Equal prices are common (one USGS unit value per material); which of them the solver's
        # vertex leaves out is arbitrary, so show the one a hard limit keeps out longest.
        option, by_reason = max(((o, why(o)) for o in tied), key=lambda pair: hard_fys(pair[1]))
        section, i = ctx.where[option.name]
        reasons = [f"{_fy_ranges(fys)}: {reason}" for reason, fys in sorted(by_reason.items(), key=lambda kv: kv[1][0])]
        out.append(Unused(code, option.name, f"{section}[{i + 1}]", mean_price(option), reasons,
                          [o.name for o in tied if o is not option]))
    return out


SOFT_REASONS = ("not needed", "money", "lead time", "price")


def _binding_rows(lp, solution: Solution) -> set[int]:
    """Rows with a nonzero dual in the readiness or the cost stage."""
    rows: set[int] = set()
    for duals in (solution.readiness_duals, _stage_duals(solution, "cost")):
        if duals:
            rows.update(r for r in range(min(lp.n_rows, len(duals))) if abs(duals[r]) > DUAL_TOL)
    return rows


def _why_not(ctx: LimitContext, option, fy: int, plan: Plan, binding_rows: set[int], money_binds: bool) -> str:
    s, lp = ctx.scenario, ctx.lp
    code = option.material
    last = s.horizon.last_fy
    if fy not in rules.orderable_fys(s, option):
        if option.first_fy is not None and fy < option.first_fy:
            return f"lead time: not orderable before FY{option.first_fy} (its first_fy)"
        if option.last_fy is not None and fy > option.last_fy:
            return f"not orderable after FY{option.last_fy} (its last_fy)"
        return f"lead time: an order would arrive after FY{last} ({option.lead_time}-FY lead time)"
    hits = rules.bans_hitting(s, option, fy)
    if hits:
        ban = s.policy.bans[hits[0] - 1]
        return f"ban: policy.bans[{hits[0]}]" + (f" ({ban.reason.split(':')[0]})" if ban.reason else "")
    if rules.capacity(s, option, fy) <= 0:
        zero = [event_id for event_id, event in rules.events_hitting(s, option, fy) if event.availability == 0]
        if zero:
            return f"capacity: event {zero[0]!r} cuts availability to 0 (events.{zero[0]}.availability)"
        return "capacity: none in this FY"

    def binds(family: str, *key) -> bool:
        return any(lp.row_family[r] == family and lp.row_key[r] == key for r in binding_rows)

    if not rules.is_trusted(s, option) and binds("partner_share", code, fy):
        return f"share cap: untrusted while the trusted-share floor binds (policy.trusted_share.{code})"
    if rules.is_foreign(s, option) and binds("concentration", code, option.country, fy):
        return f"share cap: {option.country} (origin) is at the single-country cap (policy.concentration_cap)"
    if rules.is_refined_abroad(s, option) and binds("refiner_cap", code, rules.refiner(option), fy):
        return (f"share cap: {rules.refiner(option)} (refiner) is at the single-refiner cap "
                f"(policy.refiner_cap)")
    if binds("amp_limit", code, fy):
        return f"AMP limit: materials.{code}.amp_limit binds"
    if binds("obligation_cap", fy):
        return "obligation cap: fund.obligation_cap binds"
    inventory = plan.tables["inventory"]
    delivery = fy + option.lead_time
    row = inventory[(inventory.material == code) & (inventory.fy == delivery)]
    short = not row.empty and float(row.shortfall.iloc[0]) > ZERO_TONNES
    if short and money_binds:
        return "money: the Fund's dollars buy more readiness elsewhere (the appropriation binds)"
    if short:
        return "price: other options deliver the same readiness for less"
    return "not needed: the goal is met without it"


# ---------------------------------------------------------------------------------------------
# The whole explanation

@dataclass
class Explanation:
    plan: Plan
    bindings: list[Binding]
    stage: str
    unused: list[Unused]
    policy_costs: pd.DataFrame | None

    def text(self, top: int = 15) -> str:
        s = self.plan.scenario
        from stockpile.scenario.title import scenario_title

        lines = [scenario_title(s), self.plan.headline, ""]
        objective = {"shortfall": "the weighted shortfall (sum of weight x shortfall / goal)",
                     "weighted": "the weighted objective", "cost": "the discounted net cost",
                     "deficit": "the Fund's total deficit"}[self.stage]
        if not self.bindings:
            lines.append("No limit binds: no appropriation, capacity, floor, ban or cap changes the plan's "
                         "objectives at the margin.")
        else:
            if self.stage == "cost":
                lines.append("The plan meets every goal, so nothing binds readiness; the limits that bind its cost:")
            elif self.stage == "deficit":
                lines.append(f"The Fund is in deficit (${self.plan.kpis['total_deficit'] / 1e6:,.1f}M in all), so "
                             f"solvency comes first: the limits that bind it (the deficit stage's marginal values):")
            sentences = grouped_sentences(self.bindings)
            lines.append(f"Binding limits ({len(sentences)}), ranked by how much a 10% looser limit would "
                         f"reduce {objective} (to first order):")
            lines += [f"  {i}. {sentence}" for i, sentence in enumerate(sentences[:top], start=1)]
            if len(sentences) > top:
                lines.append(f"  ... and {len(sentences) - top} more (--top {len(sentences)} lists all)")
        lines += ["", "Cheapest option left unused, per material, and why:"]
        lines += [f"  {u.sentence(s)}" for u in self.unused]
        if self.policy_costs is not None:
            from stockpile.outputs.policy_cost_text import policy_cost_sentences

            lines += ["", "Cost of each policy (the scenario re-solved without it):"]
            sentences = policy_cost_sentences(self.policy_costs)
            lines += [f"  {sentence}" for sentence in sentences] or ["  the scenario sets no policy to measure"]
        return "\n".join(lines)


def explain_scenario(scenario: Scenario, solver: str | None = None, time_limit: float | None = None,
                     policy_costs: bool = True) -> Explanation:
    """Solve ``scenario`` and explain its plan (raises InfeasibleError with a diagnosis if none)."""
    from stockpile.plan.pipeline import solve_scenario
    from stockpile.analysis.policy_costs import policy_cost_table

    plan, model, solution = solve_scenario(scenario, solver, time_limit)
    stage = "shortfall"
    bindings = binding_limits(model, solution, stage)
    if scenario.objective.mode == "weighted":
        stage = "weighted"
    elif solution.objective_values.get("deficit", 0.0) * MONEY_SCALE > ZERO_DOLLARS and (
            deficit_bindings := binding_limits(model, solution, "deficit")):
        # With a deficit, readiness is solved with solvency held: its duals say nothing of what
        # would restore the Fund, which is what the headline's "more appropriation" is about.
        stage, bindings = "deficit", deficit_bindings
    elif not bindings or plan.kpis["weighted_shortfall"] <= 1e-9:
        stage, bindings = "cost", binding_limits(model, solution, "cost")
    costs = (policy_cost_table(scenario, plan, solver, time_limit, model=model, solution=solution)
             if policy_costs else None)
    return Explanation(plan, bindings, stage, unused_options(model, solution, plan), costs)
