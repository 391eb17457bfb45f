"""Why a scenario has no plan: the smallest set of its hard limits that must move, and by how much.

The model is elastic in its soft parts (shortfall, unmet drawdowns, Fund deficit), so only the hard
limits a scenario sets can make it infeasible: capacities and recycling feedstock (with the
disruption events that cut them), trusted-share floors, bans, the single-country cap, AMP limits,
obligation caps, fixed orders and the width of a bounded last price tier. The diagnosis, after
Switch's ``diagnose_infeasibility``:

1. copies the LP and gives every hard row a nonnegative slack (two for an equality), penalised per
   unit in comparable terms: tonnes relative to the material's largest goal, $M relative to the
   Fund's largest annual appropriation or cap, so a tonne of cobalt and a dollar weigh alike;
2. minimises the total penalised violation;
3. shrinks the limits that moved to an irreducible set (a deletion filter: each limit in turn is
   held at its scenario value, and dropped from the set for good when the rest still suffice), so
   no limit in the report could stay where it is while the others move as reported;
4. minimises the violation again over that set, and turns each violated row into the value its
   scenario key must take (in the key's own units: tonnes, dollars, shares, an FY);
5. applies those values to the scenario and re-solves it, to confirm the report.

Each row family maps to its scenario keys in one place, :data:`LIMIT_FAMILIES`.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from stockpile.scenario import rules
from stockpile.errors import SolveError
from stockpile.model.lp import INF, LinearProgram
from stockpile.model.build import MONEY_SCALE, StockpileModel, build
from stockpile.scenario.schema import RecyclingStream, Scenario, SupplyOption, scenario_from_dict, to_plain
from stockpile.scenario.series import parse_fy, per_fy
from stockpile.solve.status import SolveStatus, StageFailed

VIOLATION_TOL = 1e-7
"""A slack below this (relative to its row's reference scale) is solver noise, not a violation."""
MAX_FILTER_LIMITS = 200
"""The deletion filter re-solves once per candidate limit; past this many it is skipped."""
DIAGNOSIS_SOLVER = "highs"
"""The elastic LPs are always solved by HiGHS (a dependency of stockpile, so always present)."""


class InfeasibleError(SolveError):
    """No plan meets every hard limit; ``diagnosis`` says which limits to move and by how much."""

    def __init__(self, diagnosis: Diagnosis):
        self.diagnosis = diagnosis
        super().__init__(diagnosis.report())


# ---------------------------------------------------------------------------------------------
# What must move

@dataclass
class Relaxation:
    """One scenario key that must move: from its current value to at least (or exactly) ``required``."""

    path: tuple
    """Where the key lives in the raw scenario: ("supply", 2, "capacity") for supply[3].capacity."""
    fy: int | None
    """The FY of a per-FY value or schedule entry (None for a plain value)."""
    kind: str
    """How to write the new value: "per_fy", "schedule" or "value"."""
    what: str
    unit: str
    """"t", "$", "share", "availability" or "FY"."""
    direction: str
    """"raise" (a ceiling), "lower" (a floor), "later" (a ban's first FY) or "set" (a fixed order)."""
    current: float
    required: float
    details: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        text = ""
        for part in self.path:
            text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else str(part))
        return f"{text}.{self.fy}" if self.fy is not None else text

    @property
    def change(self) -> float:
        return self.required - self.current

    def merge(self, other: Relaxation) -> None:
        """Two rows asking for the same key: keep the larger move."""
        pick = {"raise": max, "later": max, "lower": min, "set": lambda a, b: b}[self.direction]
        self.required = pick(self.required, other.required)
        self.details.extend(d for d in other.details if d not in self.details)

    def sentence(self) -> str:
        verb = {"raise": "raise", "lower": "lower", "later": "move", "set": "change"}[self.direction]
        delta = "" if self.unit == "FY" else f" ({fmt_change(self.change, self.unit)})"
        text = (f"{verb} {self.key} ({self.what}) from {fmt(self.current, self.unit)} to "
                f"{fmt(self.required, self.unit)}{delta}")
        if self.details:
            text += ": " + "; ".join(self.details[:4]) + ("; ..." if len(self.details) > 4 else "")
        return text


@dataclass
class Diagnosis:
    scenario: Scenario
    relaxations: list[Relaxation]
    total_violation: float
    """The least total penalised violation (tonnes per material-goal scale plus $M per budget scale)."""
    minimal: bool
    """True when the deletion filter ran to the end, so no reported limit could be left out."""
    confirmed: bool | None = None
    """True when the scenario with every relaxation applied was re-solved and is feasible."""
    seconds: float = 0.0

    def report(self) -> str:
        s = self.scenario
        n = len(self.relaxations)
        lines = [f"scenario {s.name!r} is infeasible: its hard limits cannot all be met.",
                 f"The {'smallest' if self.minimal else 'following'} set of limits to move "
                 f"({n} limit{'s' if n != 1 else ''}), each by the least amount found:"]
        lines += [f"  {i}. {r.sentence()}" for i, r in enumerate(self.relaxations, start=1)]
        if not self.minimal:
            lines.append("  (the search for a smaller set was cut short; some of these may not be needed)")
        if self.confirmed:
            lines.append("With these values the scenario solves (checked by re-solving it).")
        elif self.confirmed is False:
            lines.append("Warning: the scenario with these values was re-solved and is still infeasible; "
                         "please report this with the scenario.")
        return "\n".join(lines)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([dict(key=r.key, limit=r.what, unit=r.unit, current=r.current, required=r.required,
                                  change=r.change if r.unit != "FY" else None, detail="; ".join(r.details))
                             for r in self.relaxations],
                            columns=["key", "limit", "unit", "current", "required", "change", "detail"])

    def apply(self, raw: dict) -> dict:
        """``raw`` (a scenario as plain data, e.g. :func:`~stockpile.scenario.to_plain`) with every
        relaxation applied."""
        return apply_relaxations(raw, self.relaxations, list(self.scenario.fys))


# ---------------------------------------------------------------------------------------------
# Formatting in planner's units

def fmt(value: float, unit: str) -> str:
    if unit == "$":
        return f"${value / 1e6:,.2f}M" if abs(value) < 1e7 else f"${value / 1e6:,.1f}M"
    if unit == "t":
        return f"{value:,.1f} t" if abs(value) < 1e5 else f"{value:,.0f} t"
    if unit in ("share", "availability"):
        return f"{value:.2%}"
    if unit == "FY":
        return f"FY{int(value)}"
    return f"{value:,.4g}"


def fmt_change(delta: float, unit: str) -> str:
    sign = "+" if delta >= 0 else "-"
    if unit in ("share", "availability"):
        return f"{sign}{abs(delta) * 100:.2f} points"
    return sign + fmt(abs(delta), unit)


def _round_loose(value: float, direction: str, unit: str) -> float:
    """The required value rounded to 4 significant figures in the direction that loosens the limit
    (solver noise removed first); a fixed order is only cleaned of noise."""
    if unit == "FY":
        return float(math.ceil(value - 1e-9))
    value = float(f"{value:.9g}")
    if direction == "set":
        return round(value, 6) + 0.0
    if value == 0:
        return 0.0
    exponent = math.floor(math.log10(abs(value))) - 3
    scaled = value / 10.0 ** exponent
    digits = math.ceil(scaled - 1e-6) if direction in ("raise", "later") else math.floor(scaled + 1e-6)
    rounded = float(f"{digits}e{exponent}")
    if unit in ("share", "availability"):
        rounded = min(max(rounded, 0.0), 1.0)
    return rounded


# ---------------------------------------------------------------------------------------------
# Rows to scenario keys: the one place a hard row family is mapped back to what a planner set

@dataclass
class _Context:
    scenario: Scenario
    lp: LinearProgram
    where: dict[str, tuple[str, int]]
    """Option name -> (section, position from 0)."""

    @classmethod
    def of(cls, scenario: Scenario, lp: LinearProgram) -> _Context:
        where = {o.name: ("supply", i) for i, o in enumerate(scenario.supply)}
        where.update({o.name: ("recycling", i) for i, o in enumerate(scenario.recycling)})
        return cls(scenario, lp, where)

    def option(self, name: str) -> SupplyOption | RecyclingStream:
        section, i = self.where[name]
        return getattr(self.scenario, section)[i]

    def order(self, x: list[float], option, fy: int) -> float:
        lp = self.lp
        return max(x[lp.col("order", option.material, option.name, fy)], 0.0) \
            if lp.has_col("order", option.material, option.name, fy) else 0.0

    def material(self, code: str) -> str:
        return self.scenario.materials[code].name.lower()


def _option_limit(ctx: _Context, family: str, key: tuple, x: list[float] | None) -> list[Relaxation]:
    """capacity[m,s,y] and recycling[m,r,y]: orders <= base x availability of the events in force.

    The key is the option's capacity (or a stream's feedstock) in that FY; when an event cuts
    availability to zero, the event's availability (and the capacity too, if even full availability
    is not enough)."""
    s = ctx.scenario
    _, name, fy = key
    option = ctx.option(name)
    section, i = ctx.where[name]
    hits = rules.events_hitting(s, option, fy)
    zero = [event_id for event_id, event in hits if event.availability == 0]
    others = math.prod(event.availability for _, event in hits if event.availability > 0)
    recycling = isinstance(option, RecyclingStream)
    feed = option.feedstock.at(fy) if recycling else 0.0
    yld = option.recovery_yield.at(fy) if recycling else 0.0
    base = feed * yld if recycling else option.capacity.at(fy)
    needed = ctx.order(x, option, fy) if x is not None else None
    detail = [f"{needed:,.1f} t from {name!r} in FY{fy}"] if needed is not None else []

    def event(event_id: str, required: float) -> Relaxation:
        e = s.events[event_id]
        what = f"availability under event {event_id!r}" + (f", {e.description}" if e.description else "")
        return Relaxation(("events", event_id, "availability"), None, "value", what, "availability", "raise",
                          e.availability, required, list(detail))

    def own(field_name: str, what: str, unit: str, current: float, required: float) -> Relaxation:
        return Relaxation((section, i, field_name), fy, "per_fy", f"{what} of {name!r} in FY{fy}", unit, "raise",
                          current, required, list(detail))

    if needed is None:  # the keys only
        if zero:
            return [event(event_id, 0.0) for event_id in zero]
        return [own("feedstock", "feedstock", "t", feed, feed) if recycling
                else own("capacity", "capacity", "t", base, base)]
    out: list[Relaxation] = []
    if zero:
        if len(zero) == 1 and base * others >= needed:
            return [event(zero[0], needed / (base * others))]
        out += [event(event_id, 1.0) for event_id in zero]
    if base * others >= needed:
        return out
    need_base = needed / others
    if not recycling:
        out.append(own("capacity", "capacity", "t", base, need_base))
    elif yld > 0:
        out.append(own("feedstock", "feedstock", "t", feed, need_base / yld))
    elif feed > 0 and need_base <= feed:
        out.append(own("recovery_yield", "recovery yield", "share", yld, need_base / feed))
    else:
        out.append(own("recovery_yield", "recovery yield", "share", yld, 1.0))
        out.append(own("feedstock", "feedstock", "t", feed, need_base))
    return out


def _partner_share(ctx: _Context, family: str, key: tuple, x: list[float] | None) -> list[Relaxation]:
    """partner_share[m,y]: the trusted-share floor policy.trusted_share.m in FY y."""
    s = ctx.scenario
    code, fy = key
    alpha = rules.trusted_floor(s, code, fy)
    required, details = alpha, []
    if x is not None:
        options = rules.options_of(s, code)
        total = sum(ctx.order(x, o, fy) for o in options)
        trusted = sum(ctx.order(x, o, fy) for o in options if rules.is_trusted(s, o))
        if total > 0:
            required = min(alpha, trusted / total)
            details = [f"{trusted:,.1f} t trusted of {total:,.1f} t ordered in FY{fy}"]
    return [Relaxation(("policy", "trusted_share", code), fy, "per_fy",
                       f"trusted-share floor on {ctx.material(code)} in FY{fy}", "share", "lower", alpha, required,
                       details)]


def _ban(ctx: _Context, family: str, key: tuple, x: list[float] | None) -> list[Relaxation]:
    """ban[m,s,y]: every ban covering the option in FY y must start after y (policy.bans[i].from_fy)."""
    s = ctx.scenario
    code, name, fy = key
    option = ctx.option(name)
    out = []
    for i in rules.bans_hitting(s, option, fy):
        ban = s.policy.bans[i - 1]
        scope = f"tag {ban.tag}" if ban.tag else "countries " + ", ".join(ban.countries)
        what = (f"first FY of the ban on {ctx.material(code) if ban.material != 'all' else 'every material'} "
                f"from {scope}" + (f", {ban.reason}" if ban.reason else ""))
        required, details = float(ban.from_fy), []
        if x is not None:
            tonnes = ctx.order(x, option, fy)
            required = float(fy + 1)
            details = [f"{tonnes:,.1f} t from {name!r} in FY{fy}"]
        out.append(Relaxation(("policy", "bans", i - 1, "from_fy"), None, "value", what, "FY", "later",
                              float(ban.from_fy), required, details))
    return out


def _concentration(ctx: _Context, family: str, key: tuple, x: list[float] | None) -> list[Relaxation]:
    """concentration[m,c,y]: the single-country cap policy.concentration_cap in FY y."""
    s = ctx.scenario
    code, country, fy = key
    beta = rules.concentration_cap(s, fy)
    required, details = beta, []
    if x is not None:
        options = rules.options_of(s, code)
        total = sum(ctx.order(x, o, fy) for o in options)
        mine = sum(ctx.order(x, o, fy) for o in options if o.country == country)
        if total > 0:
            required = max(beta, mine / total)
            details = [f"{country} {mine:,.1f} t of {total:,.1f} t of {ctx.material(code)} in FY{fy}"]
    return [Relaxation(("policy", "concentration_cap"), fy, "per_fy", f"single-country cap in FY{fy}", "share",
                       "raise", beta, required, details)]


def _amp_limit(ctx: _Context, family: str, key: tuple, x: list[float] | None) -> list[Relaxation]:
    """amp_limit[m,y]: materials.m.amp_limit in FY y."""
    s = ctx.scenario
    code, fy = key
    limit = s.materials[code].amp_limit.at(fy)
    required = limit
    if x is not None:
        required = max(limit, sum(ctx.order(x, o, fy) for o in rules.options_of(s, code)))
    return [Relaxation(("materials", code, "amp_limit"), fy, "per_fy",
                       f"Annual Materials Plan limit on {ctx.material(code)} in FY{fy}", "t", "raise", limit,
                       required)]


def _obligation_cap(ctx: _Context, family: str, key: tuple, x: list[float] | None, row: int | None = None
                    ) -> list[Relaxation]:
    """obligation_cap[y]: fund.obligation_cap in FY y (purchases plus committed payments)."""
    s = ctx.scenario
    (fy,) = key
    cap = s.fund.obligation_cap.at(fy)
    committed = s.fund.committed_payments.at(fy)
    required, details = cap, []
    if x is not None and row is not None:
        lp = ctx.lp
        spend = sum(a * x[c] for c, a in zip(lp.row_cols[row], lp.row_coefs[row])
                    if lp.col_family[c] != "slack") * MONEY_SCALE
        required = max(cap, spend + committed)
        details = [f"purchases {fmt(max(spend, 0.0), '$')} + committed payments {fmt(committed, '$')} in FY{fy}"]
    return [Relaxation(("fund", "obligation_cap"), fy, "per_fy", f"obligation cap in FY{fy}", "$", "raise", cap,
                       required, details)]


def _fixed_order(ctx: _Context, family: str, key: tuple, x: list[float] | None) -> list[Relaxation]:
    """fixed_order[m,s,y]: the option's fixed order in FY y."""
    _, name, fy = key
    option = ctx.option(name)
    section, i = ctx.where[name]
    tonnes = option.fixed.at(fy)
    required = ctx.order(x, option, fy) if x is not None else tonnes
    return [Relaxation((section, i, "fixed"), fy, "schedule", f"fixed order from {name!r} in FY{fy}", "t", "set",
                       tonnes, required)]


def _tier_width(ctx: _Context, family: str, key: tuple, x: list[float] | None) -> list[Relaxation]:
    """tier_width[m,s,y] (the elastic copy's row for a bounded last price tier): its up_to."""
    _, name, fy = key
    option = ctx.option(name)
    section, i = ctx.where[name]
    last = len(option.tiers)
    up_to = option.tiers[-1].up_to
    required, details = up_to, []
    if x is not None:
        width = rules.tiers(option)[-1][0]
        bought = x[ctx.lp.col("buy", option.material, name, last, fy)]
        required = max(up_to, up_to + bought - width)
        details = [f"{ctx.order(x, option, fy):,.1f} t from {name!r} in FY{fy}"]
    return [Relaxation((section, i, "tiers", last - 1, "up_to"), None, "value",
                       f"top of {name!r}'s last price tier", "t", "raise", up_to, required, details)]


LimitFamily = Callable[..., list[Relaxation]]

LIMIT_FAMILIES: dict[str, LimitFamily] = {
    "capacity": _option_limit,
    "recycling": _option_limit,
    "partner_share": _partner_share,
    "ban": _ban,
    "concentration": _concentration,
    "amp_limit": _amp_limit,
    "obligation_cap": _obligation_cap,
    "fixed_order": _fixed_order,
    "tier_width": _tier_width,
}
"""Every hard row family, and the function that maps one of its rows to the scenario key(s) behind
it: with the elastic solution ``x``, the value each key must take so that row holds."""

MONEY_FAMILIES = ("obligation_cap",)


def row_relaxations(ctx: _Context, row: int, x: list[float] | None = None) -> list[Relaxation]:
    family, key = ctx.lp.row_family[row], ctx.lp.row_key[row]
    handler = LIMIT_FAMILIES[family]
    if handler is _obligation_cap:
        return handler(ctx, family, key, x, row)
    return handler(ctx, family, key, x)


# ---------------------------------------------------------------------------------------------
# The elastic LP

@dataclass
class _Elastic:
    lp: LinearProgram
    slacks: list[tuple[int, int, float]]
    """(slack column, elastic row, penalty per unit)."""
    row_keys: dict[int, list[str]]
    """Elastic hard row -> the scenario keys it belongs to."""


def _references(s: Scenario) -> tuple[dict[str, float], float]:
    """Scales that make violations comparable: tonnes per material, $M for money rows."""
    tonnes = {}
    for code, material in s.materials.items():
        tonnes[code] = max([1.0, material.opening_inventory] + [material.goal.at(fy) for fy in s.fys])
    f = s.fund
    money = [1e6, abs(f.opening_balance)] + [f.appropriation.at(fy) for fy in s.fys]
    if f.obligation_cap is not None:
        money += [f.obligation_cap.at(fy) for fy in s.fys]
    return tonnes, max(money) / MONEY_SCALE


def elastic_program(model: StockpileModel) -> _Elastic:
    """A copy of the model's LP with a penalised slack on every hard row (and bounded last tier)."""
    s, lp = model.scenario, model.lp
    ctx = _Context.of(s, lp)
    tonnes_ref, money_ref = _references(s)
    e = LinearProgram(name=f"{lp.name}_elastic")
    for c in range(lp.n_cols):
        e.add_column(lp.col_family[c], lp.col_key[c], lp.col_lower[c], lp.col_upper[c])
    slacks: list[tuple[int, int, float]] = []
    row_keys: dict[int, list[str]] = {}

    def add(family: str, key: tuple, terms: dict[int, float], sense: str, rhs: float, penalty: float) -> None:
        row = e.n_rows
        if sense in ("<=", "="):
            col = e.add_column("slack", (row, "over"))
            terms[col] = -1.0
            slacks.append((col, row, penalty))
        if sense in (">=", "="):
            col = e.add_column("slack", (row, "under"))
            terms[col] = 1.0
            slacks.append((col, row, penalty))
        e.add_row(family, key, terms, sense, rhs)
        row_keys[row] = sorted({r.key for r in row_relaxations(_Context(s, e, ctx.where), row)})

    for r in range(lp.n_rows):
        family, key = lp.row_family[r], lp.row_key[r]
        terms = dict(zip(lp.row_cols[r], lp.row_coefs[r]))
        if family in LIMIT_FAMILIES:
            scale = money_ref if family in MONEY_FAMILIES else tonnes_ref[key[0]]
            add(family, key, terms, lp.row_sense[r], lp.row_rhs[r], 1.0 / scale)
        else:
            e.add_row(family, key, terms, lp.row_sense[r], lp.row_rhs[r])
    for option in s.supply:
        width = rules.tiers(option)[-1][0] if option.tiers else None
        if width is None:
            continue
        last = len(option.tiers)
        for fy in rules.orderable_fys(s, option):
            col = e.col("buy", option.material, option.name, last, fy)
            e.col_upper[col] = INF
            add("tier_width", (option.material, option.name, fy), {col: 1.0}, "<=", width,
                1.0 / tonnes_ref[option.material])
    return _Elastic(e, slacks, row_keys)


def _solve(elastic: _Elastic, allowed: set[str] | None, deadline: float):
    """Least penalised violation with slack only on rows all of whose keys are ``allowed`` (None: all)."""
    from stockpile.solve.backends.factory import make_backend

    lp = elastic.lp
    upper = list(lp.col_upper)
    objective = {}
    for col, row, penalty in elastic.slacks:
        if allowed is not None and not set(elastic.row_keys[row]) <= allowed:
            lp.col_upper[col] = 0.0
        else:
            objective[col] = penalty
    try:
        run = make_backend(lp, DIAGNOSIS_SOLVER).solve(objective, max(deadline - time.perf_counter(), 0.5))
    finally:
        lp.col_upper[:] = upper
    return run if run.status.is_ok else None, run


def _violated(elastic: _Elastic, x: list[float]) -> dict[int, float]:
    """Elastic row -> its weighted slack, for rows with a slack past the noise tolerance."""
    out: dict[int, float] = {}
    for col, row, penalty in elastic.slacks:
        if x[col] * penalty > VIOLATION_TOL:
            out[row] = out.get(row, 0.0) + x[col] * penalty
    return out


def diagnose(scenario: Scenario, time_limit: float | None = None) -> Diagnosis | None:
    """The diagnosis of an infeasible scenario, or None when its hard limits can all be met."""
    started = time.perf_counter()
    deadline = started + (time_limit or scenario.solver.time_limit)
    model = build(scenario)
    elastic = elastic_program(model)
    best, run = _solve(elastic, None, deadline)
    if best is None:
        raise SolveError(f"scenario {scenario.name!r}: the infeasibility diagnosis could not be completed "
                         f"({run.status}: {run.detail})")
    violated = _violated(elastic, best.x)
    if not violated:
        return None
    weight: dict[str, float] = {}
    for row, amount in violated.items():
        for key in elastic.row_keys[row]:
            weight[key] = weight.get(key, 0.0) + amount
    kept = set(weight)
    minimal = len(kept) <= MAX_FILTER_LIMITS
    if minimal:
        # Deletion filter: try to hold each limit at its scenario value, smallest moves first.
        for key in sorted(weight, key=lambda k: (weight[k], k)):
            if time.perf_counter() > deadline:
                minimal = False
                break
            trial, _ = _solve(elastic, kept - {key}, deadline)
            if trial is not None:
                kept.discard(key)
                best = trial
    final, _ = _solve(elastic, kept, deadline)
    best = final or best
    relaxations = _relaxations(scenario, elastic, best.x)
    diagnosis = Diagnosis(scenario, relaxations, float(best.objective or 0.0), minimal)
    diagnosis.confirmed = _confirm(diagnosis, deadline)
    diagnosis.seconds = time.perf_counter() - started
    return diagnosis


def _relaxations(scenario: Scenario, elastic: _Elastic, x: list[float]) -> list[Relaxation]:
    ctx = _Context.of(scenario, elastic.lp)
    merged: dict[str, Relaxation] = {}
    for row in sorted(_violated(elastic, x)):
        for relaxation in row_relaxations(ctx, row, x):
            relaxation.required = _round_loose(relaxation.required, relaxation.direction, relaxation.unit)
            if relaxation.key in merged:
                merged[relaxation.key].merge(relaxation)
            else:
                merged[relaxation.key] = relaxation
    moved = [r for r in merged.values()
             if abs(r.required - r.current) > 1e-9 * max(1.0, abs(r.current))]
    return sorted(moved, key=lambda r: _key_order(r))


def _key_order(r: Relaxation) -> tuple:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in r.path) + ((r.fy or 0,),)


def _confirm(diagnosis: Diagnosis, deadline: float) -> bool | None:
    """Re-solve the scenario with every relaxation applied (first stage only: feasibility)."""
    from stockpile.solve.backends.factory import make_backend

    try:
        relaxed = scenario_from_dict(diagnosis.apply(to_plain(diagnosis.scenario)), source="<relaxed scenario>")
    except Exception:  # noqa: BLE001 - a relaxation that does not validate is reported as unconfirmed
        return False
    model = build(relaxed)
    run = make_backend(model.lp, DIAGNOSIS_SOLVER).solve(model.lp.objectives.get("deficit", {}),
                                                         max(deadline - time.perf_counter(), 0.5))
    if run.status.is_ok:
        return True
    return False if run.status == SolveStatus.INFEASIBLE else None


# ---------------------------------------------------------------------------------------------
# Applying a relaxation to a scenario's raw data

_PER_FY = per_fy()


def _with_fy(value: Any, fy: int, new: float, fys: list[int]) -> dict[str, float]:
    """A per-FY value as a full step table over the horizon, with ``fy`` set to ``new``."""
    from pydantic import TypeAdapter

    series = TypeAdapter(_PER_FY).validate_python(value)
    table = {str(f): series.at(f) for f in fys}
    table[str(fy)] = new
    return table


def apply_relaxations(raw: dict, relaxations: list[Relaxation], fys: list[int]) -> dict:
    """A deep copy of ``raw`` with each relaxation's key set to its required value."""
    raw = copy.deepcopy(raw)
    for r in relaxations:
        container: Any = raw
        for part in r.path[:-1]:
            container = container[part]
        name = r.path[-1]
        if r.kind == "per_fy":
            container[name] = _with_fy(container.get(name), r.fy, r.required, fys)
        elif r.kind == "schedule":
            table = {k: v for k, v in (container.get(name) or {}).items() if parse_fy(k) != r.fy}
            table[str(r.fy)] = r.required
            container[name] = table
        elif r.unit == "FY":
            container[name] = int(r.required)
        else:
            container[name] = r.required
    return raw


def diagnose_failure(scenario: Scenario, exc: SolveError, time_limit: float | None = None) -> SolveError:
    """The error to report for a failed solve: the diagnosis when the hard limits conflict, else ``exc``.

    A solve stopped by its time limit or an interrupt is reported as it is (a diagnosis would take
    as long again); so is a failure the elastic copy shows is not about hard limits, and one that
    is not a stage's (no solver status to go by).
    """
    if not isinstance(exc, StageFailed) or exc.status.stopped_early:
        return exc
    try:
        diagnosis = diagnose(scenario, time_limit)
    except SolveError:
        return exc
    return exc if diagnosis is None else InfeasibleError(diagnosis)
