"""How a scenario's rules apply to one option in one FY.

These functions interpret the scenario (windows, disruption events, prices, bans, trust). The
model builder and the independent audit both call them, so the audit checks the solver's plan
against the scenario's rules without ever reading the LP the solver saw.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable

from stockpile.scenario.references import effective_tags, option_kind, refiner_of, stage_countries
from stockpile.scenario.schema import ALL, Ban, Event, RecyclingStream, Scenario, SupplyOption

Option = SupplyOption | RecyclingStream


class _Index:
    """What the rules below look up again and again for one scenario, computed once.

    A scenario is frozen (its models reject assignment and nothing mutates it after loading), so
    the events that can touch an option, its effective tags, trust and the bans that can cover it
    never change. The model builder asks about every option in every FY, and re-deriving these
    each time made building quadratic in the number of events and options.
    """

    __slots__ = ("events", "by_material", "by_chain", "options", "trusted_tags", "trusted_stages",
                 "of_material", "fys")

    def __init__(self, scenario: Scenario):
        self.fys = tuple(scenario.fys)
        self.events = sorted(scenario.events.items())
        self.by_material: dict[str, list[tuple[str, Event]]] = {}
        self.by_chain: dict[tuple[str, str, str], list[tuple[str, Event]]] = {}
        self.options: dict[int, tuple[Option, tuple[str, ...], bool, list[tuple[int, int]]]] = {}
        self.trusted_tags = frozenset(scenario.policy.trusted_tags)
        stages = scenario.policy.trusted_stages
        self.trusted_stages = ("origin", "refiner") if stages == "both" else (stages,)
        self.of_material: dict[str, list[Option]] = {}
        for option in scenario.options:
            self.of_material.setdefault(option.material, []).append(option)

    def events_for(self, option: Option) -> list[tuple[str, Event]]:
        """Events whose material matches and whose country is the option's country at the event's
        stage (or ``all``), by id, whatever their FYs; an event matching both stages is listed once."""
        material, origin, refiner = option.material, option.country, refiner_of(option)
        found = self.by_chain.get((material, origin, refiner))
        if found is None:
            of_material = self.by_material.get(material)
            if of_material is None:
                of_material = [(event_id, event) for event_id, event in self.events
                               if event.material in (ALL, material)]
                self.by_material[material] = of_material
            found = [(event_id, event) for event_id, event in of_material
                     if event.country == ALL or event.country in stage_countries(option, event.stage)]
            self.by_chain[(material, origin, refiner)] = found
        return found

    def option(self, scenario: Scenario, option: Option):
        """(option, effective tags at either stage, trusted, [(ban position, ban from_fy)] that
        cover it in some FY)."""
        entry = self.options.get(id(option))
        if entry is None or entry[0] is not option:
            tags = effective_tags(scenario, option, "any")
            bans = [(i, ban.from_fy) for i, ban in enumerate(scenario.policy.bans, start=1)
                    if ban.material in (ALL, option.material) and _ban_covers(scenario, ban, option)]
            trusted = all(self.trusted_tags.intersection(effective_tags(scenario, option, stage))
                          for stage in self.trusted_stages)
            entry = (option, tags, trusted, bans)
            self.options[id(option)] = entry
        return entry


def _ban_covers(scenario: Scenario, ban: Ban, option: Option) -> bool:
    """Whether ``ban`` names the option's country at the ban's stage, or a tag of that stage's
    effective tags (stage ``any``: either stage)."""
    for stage in (("origin", "refiner") if ban.stage == "any" else (ban.stage,)):
        if ban.tag is not None and ban.tag in effective_tags(scenario, option, stage):
            return True
        if stage_countries(option, stage)[0] in ban.countries:
            return True
    return False


_INDEXES: dict[int, tuple[weakref.ref, _Index]] = {}


def _index(scenario: Scenario) -> _Index:
    """The scenario's :class:`_Index`, kept while the scenario lives (by identity, never by value)."""
    key = id(scenario)
    entry = _INDEXES.get(key)
    if entry is not None and entry[0]() is scenario:
        return entry[1]
    index = _Index(scenario)
    _INDEXES[key] = (weakref.ref(scenario, lambda _, key=key: _INDEXES.pop(key, None)), index)
    return index


def orderable_fys(scenario: Scenario, option: Option) -> list[int]:
    """FYs in which ``option`` may be ordered: its window within the horizon, delivered by its end."""
    first = max(scenario.horizon.first_fy, option.first_fy or scenario.horizon.first_fy)
    last = min(scenario.horizon.last_fy - option.lead_time, option.last_fy or scenario.horizon.last_fy)
    # Sliced from one tuple of the horizon's FYs, so the keys of a large model share their ints.
    fys = _index(scenario).fys
    return list(fys[first - fys[0]:last - fys[0] + 1]) if fys and last >= first else []


def events_hitting(scenario: Scenario, option: Option, fy: int) -> list[tuple[str, Event]]:
    """Disruption events in force in ``fy`` for the option's material and its country at each
    event's stage, by id (once each, even when both stages match)."""
    return [
        (event_id, event)
        for event_id, event in _index(scenario).events_for(option)
        if event.from_fy <= fy <= (event.to_fy if event.to_fy is not None else fy)
    ]


def availability(scenario: Scenario, option: Option, fy: int) -> float:
    """Product of the availability multipliers of the events in force (1 when none), by event id."""
    result = 1.0
    for _, event in _index(scenario).events_for(option):
        if event.from_fy <= fy <= (event.to_fy if event.to_fy is not None else fy):
            result *= event.availability
    return result


def capacity(scenario: Scenario, option: Option, fy: int) -> float:
    """Tonnes orderable in ``fy``: capacity (or feedstock x yield) times availability."""
    if isinstance(option, RecyclingStream):
        base = option.feedstock.at(fy) * option.recovery_yield.at(fy)
    else:
        base = option.capacity.at(fy)
    return base * availability(scenario, option, fy)


def unit_price(scenario: Scenario, option: Option, fy: int) -> float:
    """Dollars per tonne of the first price tier in ``fy``.

    price(fy) x (1 + escalation)^(fy - first FY of the horizon) x prices.multiplier(fy) x the
    price multipliers of the events in force.
    """
    if isinstance(option, RecyclingStream):
        base = option.cost.at(fy)
    else:
        base = option.price.at(fy) * (1.0 + option.escalation) ** (fy - scenario.horizon.first_fy)
    multiplier = scenario.prices.multiplier.at(fy)
    for _, event in _index(scenario).events_for(option):
        if event.from_fy <= fy <= (event.to_fy if event.to_fy is not None else fy):
            multiplier *= event.price
    return base * multiplier


def tiers(option: Option) -> list[tuple[float | None, float]]:
    """(width in tonnes or None for unbounded, price factor) per tier; one unbounded tier if none."""
    spec = getattr(option, "tiers", ())
    if not spec:
        return [(None, 1.0)]
    result, lower = [], 0.0
    for tier in spec:
        width = None if tier.up_to is None else tier.up_to - lower
        result.append((width, tier.factor))
        lower = tier.up_to if tier.up_to is not None else lower
    return result


def tiered_cost(option: Option, price: float, tonnes: float) -> float:
    """Cost of ``tonnes`` on the option's convex price curve, cheapest tier first."""
    cost, left = 0.0, tonnes
    for width, factor in tiers(option):
        take = left if width is None else min(left, width)
        cost += take * price * factor
        left -= take
        if left <= 0:
            break
    return cost


def tier_limit(option: Option) -> float | None:
    """Tonnes per FY the tiers allow in all (None when the last tier is unbounded)."""
    widths = [width for width, _ in tiers(option)]
    return None if any(w is None for w in widths) else sum(widths)


def bans_hitting(scenario: Scenario, option: Option, fy: int) -> list[int]:
    """Positions (from 1) of the policy bans that forbid ordering ``option`` in ``fy``."""
    return [i for i, from_fy in _index(scenario).option(scenario, option)[3] if fy >= from_fy]


def is_trusted(scenario: Scenario, option: Option) -> bool:
    """Whether, at every stage policy.trusted_stages requires (both, origin or refiner), one of the
    option's effective tags at that stage is in policy.trusted_tags."""
    return _index(scenario).option(scenario, option)[2]


def is_covered(scenario: Scenario, option: Option) -> bool:
    """Whether either stage's effective tags include ``covered`` (mined or refined in a covered nation)."""
    return "covered" in _index(scenario).option(scenario, option)[1]


def is_foreign(scenario: Scenario, option: Option) -> bool:
    """Whether the option's origin (mine) country is not policy.home_country."""
    return option.country != scenario.policy.home_country


def refiner(option: Option) -> str:
    """The option's refining country (its origin when it names none)."""
    return refiner_of(option)


def is_refined_abroad(scenario: Scenario, option: Option) -> bool:
    """Whether the option's refining country is not policy.home_country."""
    return refiner_of(option) != scenario.policy.home_country


def trusted_floor(scenario: Scenario, material: str, fy: int) -> float:
    share = scenario.policy.trusted_share.get(material)
    return share.at(fy) if share is not None else 0.0


def concentration_cap(scenario: Scenario, fy: int) -> float | None:
    """policy.concentration_cap in ``fy`` (the cap on one foreign origin country), or None."""
    cap = scenario.policy.concentration_cap
    return None if cap is None else cap.at(fy)


def refiner_cap(scenario: Scenario, fy: int) -> float | None:
    """policy.refiner_cap in ``fy`` (the cap on one foreign refining country), or None."""
    cap = scenario.policy.refiner_cap
    return None if cap is None else cap.at(fy)


def discount_factor(scenario: Scenario, fy: int) -> float:
    return (1.0 + scenario.objective.discount_rate) ** -(fy - scenario.horizon.first_fy)


def shortfall_weight(scenario: Scenario, material: str, fy: int) -> float:
    """Readiness weight of one tonne short: w_m / max(goal[m,y], 1 t) (relative shortfall).

    A draw does not enter it: unmet releases are a priority of their own (release_weight)."""
    item = scenario.materials[material]
    return item.weight / max(item.goal.at(fy), 1.0)


def release_weight(scenario: Scenario, material: str, fy: int) -> float:
    """Weight of one tonne of a draw left unreleased: w_m / max(draw[m,y], 1 t) (relative)."""
    item = scenario.materials[material]
    return item.weight / max(item.draw.at(fy), 1.0)


def option_named(scenario: Scenario, name: str) -> Option:
    return next(option for option in scenario.options if option.name == name)


def options_of(scenario: Scenario, material: str) -> list[Option]:
    """The material's purchase options and recycling streams, in scenario order."""
    return list(_index(scenario).of_material.get(material, ()))


def kind_of(option: Option) -> str:
    return option_kind(option)


def country_at(option: Option, stage: str) -> str:
    """The option's country at ``stage``: ``origin`` (where it is mined) or ``refiner``."""
    return option.country if stage == "origin" else refiner_of(option)


def foreign_countries_at(scenario: Scenario, options: Iterable[Option], stage: str) -> list[str]:
    """The options' countries at ``stage`` other than policy.home_country, sorted."""
    return sorted({country_at(option, stage) for option in options} - {scenario.policy.home_country})
