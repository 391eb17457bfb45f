"""The audit's own reading of a scenario: the documented semantics, written a second time.

Deliberately separate from the model's :mod:`stockpile.scenario.rules` (and the tag helpers of
:mod:`stockpile.scenario.references`): nothing here is imported from them or from the model, so a
mistake in how the model reads a rule (a price without escalation, a doubled capacity, a ban
missed) shows up as a plan the audit fails, instead of being repeated by the check. Written from
the README and the shared contract, not from the model's code:

* an option is orderable in FY y when y is within the horizon and its ``first_fy``..``last_fy``
  window, and y + lead time is within the horizon; it delivers in y + lead time;
* its unit price in y: price(y) x (1 + escalation)^(y - first FY of the horizon) (a recycling
  stream: cost(y)), x ``prices.multiplier``(y), x the price of every event in force; tier k of a
  tiered option costs factor_k x that, tiers filled cheapest first;
* its capacity in y: capacity(y) (a stream: feedstock(y) x recovery_yield(y)) x the availability
  of every event in force;
* two stages (contract S3): origin = ``country``, refiner = ``refiner`` (None: the country;
  streams: the country); the effective tags at a stage are the kind, the option's own tags and
  the tags of that stage's country;
* an event (``country`` or all, ``material`` or all, ``from_fy``..``to_fy`` or open) is in force
  for an option when its country matches the country of its ``stage`` ("any": either; applied
  once even if both match); availability defaults to 1 and price to 1 (S1);
* a ban (``material`` or all, from ``from_fy``) hits an option when, at its ``stage`` ("any":
  either), ``tag`` is among the effective tags or the stage's country is in ``countries`` (S2);
* an option is trusted when the effective tags of every stage ``policy.trusted_stages`` requires
  ("both", "origin" or "refiner") meet ``policy.trusted_tags``;
* the trusted-share floor ``policy.trusted_share[m](y)`` (0 when absent), the single-country cap
  ``policy.concentration_cap(y)`` on every foreign origin country, and ``policy.refiner_cap(y)``
  likewise on every foreign refining country, each a share of the material's orders in that FY.

Schema fields another helper adds (refiner, stages, refiner_cap, release weights) are read with
``getattr`` and the contract's defaults, so the audit reads files from before and after them.
"""

from __future__ import annotations

from dataclasses import dataclass

from stockpile.scenario.schema import RecyclingStream, Scenario

EVERY = "all"
"""What an event's or ban's ``country``/``material`` says to cover every one (the schema's ALL)."""
STAGES = ("origin", "refiner")


def is_stream(option) -> bool:
    return isinstance(option, RecyclingStream)


def kind(option) -> str:
    return "recycling" if is_stream(option) else option.kind


def stage_country(option, stage: str) -> str:
    """The option's country at a stage: its origin, or its refiner (the origin when none)."""
    if stage == "origin" or is_stream(option):
        return option.country
    return getattr(option, "refiner", None) or option.country


def stage_tags(scenario: Scenario, option, stage: str) -> frozenset[str]:
    """The kind, the option's own tags and the tags of the stage's country."""
    return frozenset({kind(option), *option.tags, *scenario.countries.get(stage_country(option, stage), ())})


def tag_text(scenario: Scenario, option) -> str:
    """The tags as the Orders table lists them: effective at either stage, sorted, comma-separated."""
    return ", ".join(sorted(stage_tags(scenario, option, "origin") | stage_tags(scenario, option, "refiner")))


def stages_of(setting: str) -> tuple[str, ...]:
    """The stages an event's, a ban's or trust's stage setting names ("any"/"both": both)."""
    return STAGES if setting in ("any", "both") else (setting,)


def window(scenario: Scenario, option) -> range:
    """The FYs the option can be ordered in and delivered within the horizon."""
    first = max(scenario.horizon.first_fy, option.first_fy if option.first_fy is not None else -10**9)
    last = min(scenario.horizon.last_fy - option.lead_time,
               option.last_fy if option.last_fy is not None else 10**9)
    return range(first, last + 1)


def in_force(item, fy: int) -> bool:
    to_fy = getattr(item, "to_fy", None)
    return item.from_fy <= fy and (to_fy is None or fy <= to_fy)


def events_on(scenario: Scenario, option, fy: int) -> list:
    """The events in force for the option in ``fy``, by id (each once)."""
    found = []
    for event_id in sorted(scenario.events):
        event = scenario.events[event_id]
        if event.material not in (EVERY, option.material) or not in_force(event, fy):
            continue
        countries = {stage_country(option, stage) for stage in stages_of(getattr(event, "stage", "any"))}
        if event.country == EVERY or event.country in countries:
            found.append(event)
    return found


def event_availability(event) -> float:
    return getattr(event, "availability", 1.0)


def event_price(event) -> float:
    return getattr(event, "price", 1.0)


def first_tier_price(scenario: Scenario, option, fy: int) -> float:
    """Dollars per tonne of the first tier in ``fy``."""
    if is_stream(option):
        base = option.cost.at(fy)
    else:
        base = option.price.at(fy) * (1.0 + option.escalation) ** (fy - scenario.horizon.first_fy)
    factor = scenario.prices.multiplier.at(fy)
    for event in events_on(scenario, option, fy):
        factor *= event_price(event)
    return base * factor


@dataclass(frozen=True)
class Tier:
    tonnes: float | None
    """Width in tonnes per FY (None: unbounded)."""
    factor: float


def price_tiers(option) -> list[Tier]:
    """The option's tiers as widths (one unbounded tier at factor 1 when it has none)."""
    spec = getattr(option, "tiers", ())
    if not spec:
        return [Tier(None, 1.0)]
    out, below = [], 0.0
    for tier in spec:
        out.append(Tier(None if tier.up_to is None else tier.up_to - below, tier.factor))
        if tier.up_to is not None:
            below = tier.up_to
    return out


def purchase_cost(scenario: Scenario, option, fy: int, tonnes: float) -> float:
    """Dollars for ``tonnes`` in ``fy``, cheapest tier first."""
    price, left, cost = first_tier_price(scenario, option, fy), max(tonnes, 0.0), 0.0
    for tier in price_tiers(option):
        take = left if tier.tonnes is None else min(left, tier.tonnes)
        cost += take * price * tier.factor
        left -= take
    return cost


def tier_ceiling(option) -> float | None:
    """Tonnes per FY the tiers allow in all (None: no ceiling)."""
    widths = [tier.tonnes for tier in price_tiers(option)]
    return None if any(w is None for w in widths) else sum(widths)


def orderable_tonnes(scenario: Scenario, option, fy: int) -> float:
    """Capacity (or feedstock x yield) x the availability of the events in force."""
    if is_stream(option):
        base = option.feedstock.at(fy) * option.recovery_yield.at(fy)
    else:
        base = option.capacity.at(fy)
    for event in events_on(scenario, option, fy):
        base *= event_availability(event)
    return base


def bans_on(scenario: Scenario, option, fy: int) -> list[int]:
    """Positions (from 1) of the bans in force on the option in ``fy``."""
    hits = []
    for position, ban in enumerate(scenario.policy.bans, start=1):
        if ban.material not in (EVERY, option.material) or not in_force(ban, fy):
            continue
        tag = getattr(ban, "tag", None)
        for stage in stages_of(getattr(ban, "stage", "any")):
            if (tag is not None and tag in stage_tags(scenario, option, stage)) or \
                    stage_country(option, stage) in getattr(ban, "countries", ()):
                hits.append(position)
                break
    return hits


def trusted(scenario: Scenario, option) -> bool:
    wanted = frozenset(scenario.policy.trusted_tags)
    required = stages_of(getattr(scenario.policy, "trusted_stages", "both"))
    return all(wanted & stage_tags(scenario, option, stage) for stage in required)


def covered(scenario: Scenario, option) -> bool:
    """Whether either stage carries the ``covered`` tag: mined or refined in a covered nation (the
    Sourcing table's covered share)."""
    return any("covered" in stage_tags(scenario, option, stage) for stage in STAGES)


def floor_share(scenario: Scenario, material: str, fy: int) -> float:
    share = scenario.policy.trusted_share.get(material)
    return 0.0 if share is None else share.at(fy)


def origin_cap(scenario: Scenario, fy: int) -> float | None:
    cap = scenario.policy.concentration_cap
    return None if cap is None else cap.at(fy)


def refiner_cap(scenario: Scenario, fy: int) -> float | None:
    cap = getattr(scenario.policy, "refiner_cap", None)
    return None if cap is None else cap.at(fy)


def foreign(scenario: Scenario, country: str) -> bool:
    return country != scenario.policy.home_country


def discount(scenario: Scenario, fy: int) -> float:
    return (1.0 + scenario.objective.discount_rate) ** -(fy - scenario.horizon.first_fy)
