"""Rows to scenario keys: the one place a row family is mapped back to what a planner set.

Each hard row family (:mod:`stockpile.model.families` says which; the diagnosis's elastic copy
adds one, tier_width, for the bounded last price tier) and each of the Fund's rows has a function
in :data:`RELAXATIONS` that turns one of its rows into the scenario key(s) behind it, as
:class:`Relaxation` records; given the diagnosis's elastic solution, also the value each key must
take so that the row holds. The diagnosis (:mod:`stockpile.solve.diagnose`) and ``explain``
(:mod:`stockpile.analysis.explain`) both read rows through :func:`row_relaxations`;
:func:`apply_relaxations` writes the values back into a scenario's raw data."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stockpile.scenario import rules
from stockpile.model.families import ROW_FAMILIES, SLACK
from stockpile.model.lp import LinearProgram
from stockpile.model.build import MONEY_SCALE
from stockpile.scenario.schema import RecyclingStream, Scenario, SupplyOption
from stockpile.scenario.series import parse_fy, per_fy
from stockpile.solve.units import format_change, format_value


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
    def setting(self) -> str:
        """The key without its FY: ``policy.trusted_share.Co``, ``policy.bans[2].from_fy``."""
        text = ""
        for part in self.path:
            text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else str(part))
        return text

    @property
    def key(self) -> str:
        return f"{self.setting}.{self.fy}" if self.fy is not None else self.setting

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
        delta = "" if self.unit == "FY" else f" ({format_change(self.change, self.unit)})"
        text = (f"{verb} {self.key} ({self.what}) from {format_value(self.current, self.unit)} to "
                f"{format_value(self.required, self.unit)}{delta}")
        if self.details:
            text += ": " + "; ".join(self.details[:4]) + ("; ..." if len(self.details) > 4 else "")
        return text


# ---------------------------------------------------------------------------------------------
# Rows to scenario keys

@dataclass
class LimitContext:
    """A scenario and an LP built from it (or its elastic copy), for reading rows back as keys."""

    scenario: Scenario
    lp: LinearProgram
    where: dict[str, tuple[str, int]]
    """Option name -> (section, position from 0)."""

    @classmethod
    def of(cls, scenario: Scenario, lp: LinearProgram) -> LimitContext:
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


def _option_limit(ctx: LimitContext, family: str, key: tuple, x: list[float] | None) -> list[Relaxation]:
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


def _partner_share(ctx: LimitContext, family: str, key: tuple, x: list[float] | None) -> list[Relaxation]:
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


def _ban(ctx: LimitContext, family: str, key: tuple, x: list[float] | None) -> list[Relaxation]:
    """ban[m,s,y]: every ban covering the option in FY y must start after y (policy.bans[i].from_fy)."""
    s = ctx.scenario
    code, name, fy = key
    option = ctx.option(name)
    out = []
    for i in rules.bans_hitting(s, option, fy):
        ban = s.policy.bans[i - 1]
        scope = f"tag {ban.tag}" if ban.tag else "countries " + ", ".join(ban.countries)
        if ban.stage != "any":
            scope += f" at the {ban.stage} stage"
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


def _concentration(ctx: LimitContext, family: str, key: tuple, x: list[float] | None) -> list[Relaxation]:
    """concentration[m,c,y]: the single-country cap policy.concentration_cap in FY y."""
    return _single_country_cap(ctx, key, x, "origin", rules.concentration_cap, "concentration_cap",
                               "single-country cap", "mined")


def _refiner_cap(ctx: LimitContext, family: str, key: tuple, x: list[float] | None) -> list[Relaxation]:
    """refiner_cap[m,c,y]: the single-refiner cap policy.refiner_cap in FY y."""
    return _single_country_cap(ctx, key, x, "refiner", rules.refiner_cap, "refiner_cap",
                               "single-refiner cap", "refined")


def _single_country_cap(ctx: LimitContext, key: tuple, x: list[float] | None, stage: str, cap_in,
                        setting: str, label: str, verb: str) -> list[Relaxation]:
    """Raise ``policy.<setting>`` in FY y to the share country c holds at ``stage`` in the plan
    that breaks it (with no plan, the cap as it is)."""
    s = ctx.scenario
    code, country, fy = key
    cap = cap_in(s, fy)
    required, details = cap, []
    if x is not None:
        options = rules.options_of(s, code)
        total = sum(ctx.order(x, o, fy) for o in options)
        held = sum(ctx.order(x, o, fy) for o in options if rules.country_at(o, stage) == country)
        if total > 0:
            required = max(cap, held / total)
            details = [f"{verb} in {country}: {held:,.1f} t of {total:,.1f} t of {ctx.material(code)} in FY{fy}"]
    return [Relaxation(("policy", setting), fy, "per_fy", f"{label} in FY{fy}", "share", "raise", cap, required,
                       details)]


def _amp_limit(ctx: LimitContext, family: str, key: tuple, x: list[float] | None) -> list[Relaxation]:
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


def _obligation_cap(ctx: LimitContext, family: str, key: tuple, x: list[float] | None, row: int | None = None
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
                    if lp.col_family[c] != SLACK.name) * MONEY_SCALE
        required = max(cap, spend + committed)
        details = [f"purchases {format_value(max(spend, 0.0), '$')} + committed payments "
                   f"{format_value(committed, '$')} in FY{fy}"]
    return [Relaxation(("fund", "obligation_cap"), fy, "per_fy", f"obligation cap in FY{fy}", "$", "raise", cap,
                       required, details)]


def _fixed_order(ctx: LimitContext, family: str, key: tuple, x: list[float] | None) -> list[Relaxation]:
    """fixed_order[m,s,y]: the option's fixed order in FY y."""
    _, name, fy = key
    option = ctx.option(name)
    section, i = ctx.where[name]
    tonnes = option.fixed.at(fy)
    required = ctx.order(x, option, fy) if x is not None else tonnes
    return [Relaxation((section, i, "fixed"), fy, "schedule", f"fixed order from {name!r} in FY{fy}", "t", "set",
                       tonnes, required)]


def _tier_width(ctx: LimitContext, family: str, key: tuple, x: list[float] | None) -> list[Relaxation]:
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


def _appropriation(ctx: LimitContext, family: str, key: tuple, x: list[float] | None) -> list[Relaxation]:
    """fund[y]: fund.appropriation in FY y, on the row's right-hand side (an elastic row: its key only)."""
    (fy,) = key
    current = ctx.scenario.fund.appropriation.at(fy)
    return [Relaxation(("fund", "appropriation"), fy, "per_fy", f"FY{fy} appropriation", "$", "raise", current,
                       current)]


def _fund_floor(ctx: LimitContext, family: str, key: tuple, x: list[float] | None) -> list[Relaxation]:
    """fund_floor[y]: fund.floor in FY y (an elastic row: its key only)."""
    (fy,) = key
    current = ctx.scenario.fund.floor.at(fy)
    return [Relaxation(("fund", "floor"), fy, "per_fy", f"Fund floor in FY{fy}", "$", "lower", current, current)]


RowToKeys = Callable[..., list[Relaxation]]

RELAXATIONS: dict[str, RowToKeys] = {
    "capacity": _option_limit,
    "recycling": _option_limit,
    "partner_share": _partner_share,
    "ban": _ban,
    "concentration": _concentration,
    "refiner_cap": _refiner_cap,
    "amp_limit": _amp_limit,
    "obligation_cap": _obligation_cap,
    "fixed_order": _fixed_order,
    "tier_width": _tier_width,
    "fund": _appropriation,
    "fund_floor": _fund_floor,
}
"""Every hard row family (and the Fund's rows), and the function that maps one of its rows to the
scenario key(s) behind it: with the elastic solution ``x``, the value each key must take so that
row holds."""


def row_relaxations(ctx: LimitContext, row: int, x: list[float] | None = None) -> list[Relaxation]:
    """The scenario keys behind one row of ``ctx.lp`` (with ``x``, the values they must take)."""
    family, key = ctx.lp.row_family[row], ctx.lp.row_key[row]
    handler = RELAXATIONS[family]
    if handler is _obligation_cap:
        return handler(ctx, family, key, x, row)
    return handler(ctx, family, key, x)


def rows_only_set_by(ctx: LimitContext, settings: list[str]) -> dict[str, list[int]]:
    """For each setting (a scenario key without its FY: ``policy.trusted_share.Co``,
    ``policy.bans[2]``, ``policy.concentration_cap``), the rows of ``ctx.lp`` that it alone sets.

    A row belongs to a setting when every key :func:`row_relaxations` finds behind it is the
    setting or lies under it (``policy.bans[2].from_fy`` under ``policy.bans[2]``): a ban row that
    two bans cover stays while either of them does. These are exactly the rows the scenario
    without that setting does not have (tests/test_explain.py builds both and compares), so
    freeing them turns the LP into the one of the scenario without it, with the same columns.
    Only the families whose registry key starts where a setting does are read.
    """
    tops = {setting.split(".")[0] for setting in settings}
    families = {name for name, family in ROW_FAMILIES.items()
                if name in RELAXATIONS and family.scenario_key.split(".")[0] in tops}
    found: dict[str, list[int]] = {setting: [] for setting in settings}
    lp = ctx.lp
    for row, family in enumerate(lp.row_family):
        if family not in families:
            continue
        behind = {relaxation.setting for relaxation in row_relaxations(ctx, row)}
        for setting in settings:
            if behind and all(key == setting or key.startswith(setting + ".") for key in behind):
                found[setting].append(row)
    return found


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
    for event_id, event in list((raw.get("events") or {}).items()):
        if event.get("availability", 1.0) == 1.0 and event.get("price", 1.0) == 1.0:
            del raw["events"][event_id]  # raised to full availability at no price change: no event left
    return raw
