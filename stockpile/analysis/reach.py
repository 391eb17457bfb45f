"""Which goals are out of reach at any budget, and the physical limit that holds them there.

A goal that money cannot meet by some FY is a fact a planner must state, not a shortfall to
fund. It is computed, not guessed: the scenario is solved again with money unlimited (the
deficit priority dropped, so the Fund may go as far below its floor as the plan needs, and any
obligation cap removed), keeping every physical and policy limit: capacities, disruption events,
lead times and order windows, bans, the trusted-share floor, the single-country cap and AMP
limits. Whatever goal shortfall is left in that plan no budget removes. For each material short
in it:

* ``reachable_from_fy``: the first FY from which the unlimited-money plan meets the goal in
  every later FY (None: not even in the last FY);
* ``binding``: the hard limits on that material whose readiness duals are largest, summed over
  the FYs it is short (a dual is how much one more unit of the limit would lower the weighted
  shortfall), named by the scenario key that sets them (:mod:`stockpile.model.families`);
* ``most_delivered_per_fy``: the most tonnes the unlimited-money plan takes delivery of in any
  FY it is short: what the binding limits allow.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from stockpile.model.build import build
from stockpile.model.families import HARD_ROWS, row_family
from stockpile.plan.read import SHORTFALL_TONNES, read_plan
from stockpile.scenario.load import scenario_from_dict
from stockpile.scenario.schema import Scenario, to_plain
from stockpile.solve.lexicographic import solve_model

DUAL_NOISE = 1e-9
"""Readiness duals below this are solver noise, not a binding limit."""
LIMIT_WORDS = {"capacity": "supply capacity", "recycling": "recycling feedstock", "ban": "bans",
               "partner_share": "the trusted-share floor", "concentration": "the single-country cap",
               "amp_limit": "the AMP limit", "fixed_order": "fixed orders"}
"""Planner's words for the hard limits that can hold a goal out of reach."""


@dataclass
class OutOfReach:
    material: str
    name: str
    first_short_fy: int
    reachable_from_fy: int | None
    tonne_years_short: float
    most_delivered_per_fy: float
    binding: list[tuple[str, str, float]] = field(default_factory=list)
    """(limit in planner's words, scenario key, summed readiness dual), largest first."""
    options: dict[str, list[str]] = field(default_factory=dict)
    """Per binding limit, the options whose rows bind most, largest dual first."""

    @property
    def sentence(self) -> str:
        """"antimony: goal out of reach before FY2034 at any budget: ... at most 6,100 t a year"."""
        when = (f"before FY{self.reachable_from_fy}" if self.reachable_from_fy is not None
                else "in any FY from FY" + str(self.first_short_fy))
        limits = " and ".join(self._limit(words, key) for words, key, _ in self.binding[:2]) or "lead times"
        return (f"{self.name}: goal out of reach {when} at any budget "
                f"({self.tonne_years_short:,.0f} t-yr short with unlimited money): deliveries reach at most "
                f"{self.most_delivered_per_fy:,.0f} t a year, held by {limits}")

    def _limit(self, words: str, key: str) -> str:
        named = self.options.get(words, [])
        shown = ", ".join(named[:2]) + (f" and {len(named) - 2} more" if len(named) > 2 else "")
        return f"{words} ({key}{': ' + shown if shown else ''})"

    def as_dict(self) -> dict:
        return {"material": self.material, "first_short_fy": self.first_short_fy,
                "reachable_from_fy": self.reachable_from_fy, "tonne_years_short": self.tonne_years_short,
                "most_delivered_per_fy": self.most_delivered_per_fy,
                "binding": [{"limit": words, "key": key, "marginal_value": value,
                             "options": self.options.get(words, [])} for words, key, value in self.binding],
                "sentence": self.sentence}


def unlimited_money(scenario: Scenario) -> Scenario:
    """The scenario without an obligation cap (money limits); the deficit is dropped in the solve."""
    plain = copy.deepcopy(to_plain(scenario))
    plain["fund"]["obligation_cap"] = None
    plain["name"] = f"{scenario.name} [unlimited money]"
    return scenario_from_dict(plain, source="the scenario with unlimited money")


def plan_goals_out_of_reach(plan, scenario: Scenario, solver: str | None = None,
                            time_limit: float | None = None) -> list[OutOfReach] | None:
    """What ``stockpile solve`` reports with a plan: the goals out of reach at any budget when
    the plan is short of some goal (:func:`goals_out_of_reach`), None when it is short of none
    (nothing to look for, and no second solve)."""
    if plan.kpis["first_shortfall_fy"] is None:
        return None
    return goals_out_of_reach(scenario, solver, time_limit)


def goals_out_of_reach(scenario: Scenario, solver: str | None = None,
                       time_limit: float | None = None) -> list[OutOfReach]:
    """The materials whose goal no budget meets in some FY, each with its binding limits."""
    relaxed = unlimited_money(scenario)
    model = build(relaxed)
    model.lp.objectives["deficit"] = {}
    solution = solve_model(model, solver, time_limit)
    plan = read_plan(model, solution)
    inventory = plan.tables["inventory"]
    duals = solution.readiness_duals or [0.0] * model.lp.n_rows
    lp = model.lp
    result = []
    for code, material in scenario.materials.items():
        rows = inventory[inventory.material == code]
        short = rows[rows.shortfall > SHORTFALL_TONNES]
        if short.empty:
            continue
        short_fys = set(int(fy) for fy in short.fy)
        reachable = None
        for row in rows.iloc[::-1].itertuples():
            if row.shortfall > SHORTFALL_TONNES:
                break
            reachable = int(row.fy)
        by_key: dict[tuple[str, str], float] = {}
        by_option: dict[str, dict[str, float]] = {}
        for r, family_name in enumerate(lp.row_family):
            if family_name not in HARD_ROWS or abs(duals[r]) <= DUAL_NOISE:
                continue
            family = row_family(family_name)
            fields = family.fields(lp.row_key[r])
            if fields.get("material") != code or fields.get("fy", min(short_fys)) > max(short_fys):
                continue
            words = LIMIT_WORDS.get(family_name, family.meaning)
            key = (words, _scenario_key(family.scenario_key, code))
            by_key[key] = by_key.get(key, 0.0) + abs(duals[r])
            if "option" in fields:
                named = by_option.setdefault(words, {})
                named[fields["option"]] = named.get(fields["option"], 0.0) + abs(duals[r])
        binding = sorted(((meaning, key, value) for (meaning, key), value in by_key.items()),
                         key=lambda item: (-item[2], item[1]))
        delivered = rows[rows.fy.isin(short_fys)]
        result.append(OutOfReach(
            material=code, name=material.name.lower(), first_short_fy=min(short_fys), reachable_from_fy=reachable,
            tonne_years_short=float(short.shortfall.sum()),
            most_delivered_per_fy=float((delivered.deliveries + delivered.pipeline).max()), binding=binding,
            options={words: [name for name, _ in sorted(named.items(), key=lambda item: (-item[1], item[0]))]
                     for words, named in by_option.items()}))
    return result


def _scenario_key(template: str, material: str) -> str:
    """``policy.trusted_share.m.FY`` -> ``policy.trusted_share.Sb`` (per material, any FY)."""
    if template.startswith("policy.bans"):
        return "policy.bans"
    key = template.replace(".m.", f".{material}.")
    return key[:-3] if key.endswith(".FY") else key
