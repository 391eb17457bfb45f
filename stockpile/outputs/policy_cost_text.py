"""The policy costs of a plan (``plan.policy_costs``, the table
:func:`stockpile.analysis.policy_costs.policy_cost_table` measures) in planner's words: the
sentences the workbook's Marginal values sheet and ``stockpile explain`` show."""

from __future__ import annotations

import pandas as pd

TONNES_TOL = 1e-3
DOLLARS_TOL = 1.0
WEIGHTED_TOL = 1e-9
"""Changes smaller than these (tonne-years, dollars, weighted shortfall) are not worth a word."""


def _money(value: float) -> str:
    return f"${abs(value) / 1e6:,.1f}M"


def policy_cost_sentences(table: pd.DataFrame) -> list[str]:
    """Each row of :func:`stockpile.analysis.policy_costs.policy_cost_table` in planner's words."""
    out = []
    for row in table.itertuples(index=False):
        head = f"{row.policy} ({row.key})"
        if row.status != "optimal":
            out.append(f"{head}: {row.status}")
            continue
        parts = []
        if abs(row.deficit) > DOLLARS_TOL:
            parts.append(f"{'adds' if row.deficit > 0 else 'removes'} {_money(row.deficit)} of Fund deficit")
        if abs(row.weighted_shortfall) > WEIGHTED_TOL or abs(row.shortfall_tonne_years) > TONNES_TOL:
            verb = "raises" if row.weighted_shortfall >= 0 else "lowers"
            parts.append(f"{verb} weighted shortfall by {abs(row.weighted_shortfall):.4g} "
                         f"({row.shortfall_tonne_years:+,.0f} tonne-years of shortfall)")
        if abs(row.discounted_net_cost) > DOLLARS_TOL:
            verb = "raises" if row.discounted_net_cost > 0 else "lowers"
            parts.append(f"{verb} cost by {_money(row.discounted_net_cost)} over the horizon (discounted net "
                         f"cost; purchases {'+' if row.purchase_cost >= 0 else '-'}{_money(row.purchase_cost)})")
        if not parts:
            out.append(f"{head} costs nothing: the plan is as good without it")
        else:
            out.append(f"{head} " + ", and ".join(parts))
    return out
