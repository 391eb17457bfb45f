"""What each policy costs: the scenario re-solved without it, compared with the plan.

A policy is one of the scenario's sourcing rules: a material's trusted-share floor
(``policy.trusted_share.Co``), a ban (``policy.bans[1]``) or the single-country cap
(``policy.concentration_cap``). Its cost is the plan with it minus the plan without it, in each of
the lexicographic objectives: Fund deficit, readiness (weighted shortfall and tonne-years of
shortfall) and discounted net cost, plus the undiscounted purchases. A policy that costs
readiness is reported by that first: without it the plan may spend more, to buy what it lacked.

:func:`policy_cost_table` is the table for the workbook and ``stockpile explain``; its sentences in
planner's words are :func:`stockpile.outputs.policy_cost_text.policy_cost_sentences`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pandas as pd

from stockpile.errors import StockpileError
from stockpile.plan.read import Plan
from stockpile.scenario.schema import ALL, Scenario

POLICY_COST_COLUMNS = ["policy", "key", "status", "deficit", "weighted_shortfall", "shortfall_tonne_years",
                       "discounted_net_cost", "purchase_cost"]
"""policy, key, status ("optimal" or why it could not be measured), then with-minus-without:
deficit ($), weighted_shortfall, shortfall_tonne_years (t-yr), discounted_net_cost ($), purchase_cost ($)."""

def policies(scenario: Scenario) -> Iterator[tuple[str, str, Scenario]]:
    """(planner's name, scenario key, the scenario without that policy) for each policy it sets."""
    s, policy = scenario, scenario.policy
    for code, share in policy.trusted_share.items():
        if not any(share.at(fy) > 0 for fy in s.fys):
            continue
        rest = {c: v for c, v in policy.trusted_share.items() if c != code}
        material = s.materials[code].name.lower() if code in s.materials else code
        yield (f"the trusted-share floor on {material}", f"policy.trusted_share.{code}",
               _without(s, trusted_share=rest))
    for i, ban in enumerate(policy.bans, start=1):
        material = "every material" if ban.material == ALL else (
            s.materials[ban.material].name.lower() if ban.material in s.materials else ban.material)
        source = (f"{ban.tag}-country" if ban.tag else ", ".join(ban.countries))
        if ban.stage != "any":
            source += f" ({ban.stage})"
        yield (f"the {source} ban on {material}", f"policy.bans[{i}]",
               _without(s, bans=policy.bans[:i - 1] + policy.bans[i:]))
    if policy.concentration_cap is not None:
        yield "the single-country cap", "policy.concentration_cap", _without(s, concentration_cap=None)
    if policy.refiner_cap is not None:
        yield "the single-refiner cap", "policy.refiner_cap", _without(s, refiner_cap=None)


def _without(scenario: Scenario, **policy_update) -> Scenario:
    return scenario.model_copy(update={"policy": scenario.policy.model_copy(update=policy_update)})


def _measures(plan: Plan) -> dict[str, float]:
    k = plan.kpis
    return dict(deficit=k["total_deficit"], weighted_shortfall=k["weighted_shortfall"],
                shortfall_tonne_years=k["total_shortfall_tonne_years"],
                discounted_net_cost=k["discounted_net_cost"], purchase_cost=k["total_purchase_cost"])


def policy_cost_table(scenario: Scenario, plan: Plan, solver: str | None = None,
                      time_limit: float | None = None,
                      progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """One row per policy: its cost, measured by re-solving the scenario without it.
    ``progress(done, total)`` is told before the first re-solve and after each."""
    from stockpile.plan.pipeline import plan_scenario

    base = _measures(plan)
    rows = []
    measured = list(policies(scenario))
    for label, key, without in measured:
        if progress:
            progress(len(rows), len(measured))
        try:
            other = _measures(plan_scenario(without, solver, time_limit))
        except StockpileError as exc:
            rows.append(dict(policy=label, key=key, status=f"not measured: {str(exc).splitlines()[0]}"))
            continue
        rows.append(dict(policy=label, key=key, status="optimal",
                         **{name: base[name] - other[name] for name in base}))
    if progress:
        progress(len(rows), len(measured))
    return pd.DataFrame(rows, columns=POLICY_COST_COLUMNS)
