"""Which policy ban keeps which supplier out, for the Sourcing sheet and ``explain``.

An option is kept out by a ban when the ban hits it (stockpile.scenario.rules.bans_hitting: the
ban's tag among the option's effective tags, or its country among the ban's countries) in some
FY the option could otherwise be ordered. What each ban costs is measured elsewhere, by
re-solving without it (stockpile.analysis.policy_costs); :func:`kept_out_by_bans` joins that
table on the ban's key when it is given.
"""

from __future__ import annotations

import pandas as pd

from stockpile.scenario import rules
from stockpile.scenario.schema import ALL, Scenario

KEPT_OUT_COLUMNS = ["key", "reason", "material", "option", "country", "from_fy",
                    "weighted_shortfall", "shortfall_tonne_years", "discounted_net_cost"]
"""The ban's key and reason, the supplier it keeps out (material, option, country), the first
FY it does, and (when measured) what the ban costs: with-minus-without weighted shortfall,
tonne-years of shortfall and discounted net cost ($)."""


def kept_out_by_bans(scenario: Scenario, policy_costs: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (ban, supplier it keeps out), in ban order, then option order."""
    s = scenario
    rows = []
    costs = {}
    if policy_costs is not None and not policy_costs.empty:
        costs = {row.key: row for row in policy_costs.itertuples()}
    for i, ban in enumerate(s.policy.bans, start=1):
        key = f"policy.bans[{i}]"
        cost = costs.get(key)
        for option in s.options:
            if ban.material not in (ALL, option.material):
                continue
            hit = [fy for fy in rules.orderable_fys(s, option) if i in rules.bans_hitting(s, option, fy)]
            if not hit:
                continue
            rows.append(dict(key=key, reason=ban.reason, material=option.material, option=option.name,
                             country=option.country, from_fy=min(hit),
                             weighted_shortfall=getattr(cost, "weighted_shortfall", None),
                             shortfall_tonne_years=getattr(cost, "shortfall_tonne_years", None),
                             discounted_net_cost=getattr(cost, "discounted_net_cost", None)))
    return pd.DataFrame(rows, columns=KEPT_OUT_COLUMNS)
