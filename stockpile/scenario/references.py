"""Cross-reference checks run after a scenario validates, and the option tags they use.

Names that must match (materials, countries, tags) and FYs that must lie within the horizon,
each problem as a (key path, reason) pair the loader reports with the file's name.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from stockpile.scenario.schema import (ALL, MAX_MATERIALS, MAX_OPTIONS, OPTION_KINDS, RecyclingStream, Scenario,
                                       SupplyOption)
from stockpile.scenario.series import Series

BUILT_IN_TAGS = frozenset(OPTION_KINDS)


def refiner_of(option: SupplyOption | RecyclingStream) -> str:
    """The option's processing (refinery) country: its ``refiner``, or its ``country`` when it has
    none (a recycling stream is recovered, and so refined, in its own country)."""
    return getattr(option, "refiner", None) or option.country


def stage_countries(option: SupplyOption | RecyclingStream, stage: str) -> tuple[str, ...]:
    """The option's country at ``stage``: (origin,), (refiner,), or both for ``any`` (once when
    they are the same country)."""
    origin, refiner = option.country, refiner_of(option)
    if stage == "origin":
        return (origin,)
    if stage == "refiner":
        return (refiner,)
    return (origin,) if origin == refiner else (origin, refiner)


def effective_tags(scenario: Scenario, option: SupplyOption | RecyclingStream, stage: str = "any") -> tuple[str, ...]:
    """An option's effective tags at ``stage``, sorted: its kind, its own tags and the tags of its
    country at that stage (``any``: the tags of both stages' countries together)."""
    tags = {option_kind(option), *option.tags}
    for country in stage_countries(option, stage):
        tags.update(scenario.countries.get(country, ()))
    return tuple(sorted(tags))


def option_kind(option: SupplyOption | RecyclingStream) -> str:
    """``import``, ``domestic`` or ``partner_project`` for a supply option; ``recycling`` for a stream."""
    return getattr(option, "kind", "recycling")


def known_tags(scenario: Scenario) -> set[str]:
    """Every tag the scenario may refer to: the kinds, its countries' tags and its options' own."""
    tags = set(BUILT_IN_TAGS)
    for country_tags in scenario.countries.values():
        tags.update(country_tags)
    for option in scenario.options:
        tags.update(option.tags)
    return tags


def check_references(scenario: Scenario) -> list[tuple[str, str]]:
    """Every cross-reference and FY in the scenario, as (key path, reason) problems."""
    problems: list[tuple[str, str]] = []
    materials = set(scenario.materials)
    countries = set(scenario.countries)
    tags = known_tags(scenario)
    first, last = scenario.horizon.first_fy, scenario.horizon.last_fy

    def known(kind: str, value: str, pool: set[str], where: str, allow_all: bool = False) -> None:
        if allow_all and value == ALL:
            return
        if value not in pool:
            listed = ", ".join(sorted(pool)) or "none defined"
            problems.append((where, f"unknown {kind} {value!r} (known: {listed})"))

    def within_horizon(series: Any, where: str) -> None:
        if not isinstance(series, Series):
            return
        for fy in series.fys:
            if not first <= fy <= last:
                problems.append((f"{where}.{fy}", f"FY{fy} is outside the horizon FY{first}..FY{last}"))
        if series.kind in ("step", "ramp") and series.fys and series.fys[0] > first:
            problems.append((where, f"the table starts at FY{series.fys[0]}; give a value for the "
                                    f"first FY of the horizon, FY{first}"))

    def series_fields(model: BaseModel, where: str) -> None:
        for field in type(model).model_fields:
            value = getattr(model, field)
            if isinstance(value, Series):
                within_horizon(value, f"{where}.{field}")
            elif isinstance(value, BaseModel):
                series_fields(value, f"{where}.{field}")

    if len(scenario.materials) > MAX_MATERIALS:
        problems.append(("materials", f"{len(scenario.materials)} materials is more than the "
                                      f"{MAX_MATERIALS} accepted"))
    if len(scenario.options) > MAX_OPTIONS:
        problems.append(("supply", f"{len(scenario.options)} supply options and recycling streams "
                                   f"is more than the {MAX_OPTIONS} accepted"))
    for code, material in scenario.materials.items():
        series_fields(material, f"materials.{code}")
    seen_names: dict[str, str] = {}
    for section in ("supply", "recycling"):
        for i, option in enumerate(getattr(scenario, section), start=1):
            where = f"{section}[{i}]"
            if option.name in seen_names:
                problems.append((f"{where}.name", f"name {option.name!r} is already used by "
                                                  f"{seen_names[option.name]}"))
            seen_names[option.name] = where
            known("material", option.material, materials, f"{where}.material")
            known("country", option.country, countries, f"{where}.country")
            if getattr(option, "refiner", None) is not None:
                known("country", option.refiner, countries, f"{where}.refiner")
            series_fields(option, where)
            # An order window may extend past the horizon, but must overlap it.
            if option.first_fy is not None and option.first_fy > last:
                problems.append((f"{where}.first_fy", f"FY{option.first_fy} is after the horizon's last FY{last}"))
            if option.last_fy is not None and option.last_fy < first:
                problems.append((f"{where}.last_fy", f"FY{option.last_fy} is before the horizon's first FY{first}"))
            window = (max(first, option.first_fy or first), min(last - option.lead_time, option.last_fy or last))
            for fy in option.fixed.fys:
                if first <= fy <= last and not window[0] <= fy <= window[1]:
                    problems.append((f"{where}.fixed.{fy}", f"a fixed order in FY{fy} is outside the FYs this "
                                                            f"option can be ordered in and delivered within the "
                                                            f"horizon (FY{window[0]}..FY{window[1]})"))
    series_fields(scenario.fund, "fund")
    series_fields(scenario.prices, "prices")
    policy = scenario.policy
    for i, tag in enumerate(policy.trusted_tags, start=1):
        known("tag", tag, tags, f"policy.trusted_tags[{i}]")
    for code, share in policy.trusted_share.items():
        known("material", code, materials, f"policy.trusted_share.{code}")
        within_horizon(share, f"policy.trusted_share.{code}")
        if not policy.trusted_tags:
            problems.append((f"policy.trusted_share.{code}",
                             "a trusted share needs policy.trusted_tags to say what counts as trusted"))
    within_horizon(policy.concentration_cap, "policy.concentration_cap")
    within_horizon(policy.refiner_cap, "policy.refiner_cap")
    known("country", policy.home_country, countries, "policy.home_country")
    for i, ban in enumerate(policy.bans, start=1):
        where = f"policy.bans[{i}]"
        known("material", ban.material, materials, f"{where}.material", allow_all=True)
        if ban.tag is not None:
            known("tag", ban.tag, tags, f"{where}.tag")
        for j, country in enumerate(ban.countries, start=1):
            known("country", country, countries, f"{where}.countries[{j}]")
        if ban.tag is None and not ban.countries:
            problems.append((where, "a ban needs a tag or a list of countries"))
    for event_id, event in scenario.events.items():
        where = f"events.{event_id}"
        known("country", event.country, countries, f"{where}.country", allow_all=True)
        known("material", event.material, materials, f"{where}.material", allow_all=True)
    tree = scenario.uncertainty
    if tree is not None:
        if not first < tree.decision_fy <= last:
            problems.append(("uncertainty.decision_fy", f"FY{tree.decision_fy} must be after the first FY "
                                                        f"FY{first} and at most FY{last}"))
        for name, future in tree.futures.items():
            for event_id, event in future.events.items():
                where = f"uncertainty.futures.{name}.events.{event_id}"
                known("country", event.country, countries, f"{where}.country", allow_all=True)
                known("material", event.material, materials, f"{where}.material", allow_all=True)
            if future.prices is not None:
                series_fields(future.prices, f"uncertainty.futures.{name}.prices")
        for i, disruption in enumerate(tree.sample.disruptions if tree.sample else (), start=1):
            where = f"uncertainty.sample.disruptions[{i}]"
            known("country", disruption.country, countries, f"{where}.country")
            known("material", disruption.material, materials, f"{where}.material", allow_all=True)
    for country, country_tags in scenario.countries.items():
        if len(set(country_tags)) != len(country_tags):
            problems.append((f"countries.{country}", "a tag is listed twice"))
    return problems
