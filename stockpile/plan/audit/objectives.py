"""The audit recomputes every objective value and the headline KPIs from the plan's tables.

The tables have passed the table checks (:mod:`stockpile.plan.audit.checks`) by then, so these
are the figures a planner reads, recomputed from what the plan lists and the scenario, never
from the solver's objective: a plan whose reported objectives or KPIs drift from its own tables
fails.

    deficit    sum_y deficit[y] / 1e6                                             ($M)
    shortfall  sum_{m,y} w_m (short + unmet_draw) / max(goal, draw, 1 t)          (relative)
               or, where the plan reports a ``release`` objective (contract S4):
               shortfall = sum w_m short / max(goal, 1 t), release = sum w_m unmet_draw / max(draw, 1 t)
    cost       sum_y (1+r)^-(y-y0) (purchases + holding - sales)[y] / 1e6          ($M)
"""

from __future__ import annotations

import math

import pandas as pd

from stockpile.plan.audit import semantics as sem
from stockpile.plan.audit.report import Check, Tolerances
from stockpile.scenario.schema import Scenario

SHORTFALL_TONNES = 1e-3
"""README: a shortfall counts against solvency from 1 kg (the plan reader's threshold; a test
holds the two equal)."""
ZERO_DOLLARS = 1.0
"""A deficit counts from $1 (likewise)."""
OBJECTIVE_RELATIVE = 1e-6
"""Objectives agree to this share of their magnitude (the tables round solver noise below 1e-6 t
and $1 to zero)."""


def objective_values(s: Scenario, tables: dict[str, pd.DataFrame], with_release: bool) -> dict[str, float]:
    inventory, fund = tables["inventory"], tables["fund"]
    out = {"deficit": float(fund.deficit.sum()) / 1e6}
    shortfall = release = 0.0
    for row in inventory.itertuples():
        material = s.materials.get(row.material)
        if material is None:
            continue
        goal, draw, weight = material.goal.at(row.fy), material.draw.at(row.fy), material.weight
        if with_release:
            shortfall += weight * row.shortfall / max(goal, 1.0)
            release += weight * row.unmet_draw / max(draw, 1.0)
        else:
            shortfall += weight * (row.shortfall + row.unmet_draw) / max(goal, draw, 1.0)
    out["shortfall"] = shortfall
    if with_release:
        out["release"] = release
    out["cost"] = sum(sem.discount(s, int(row.fy)) * (row.purchases + row.holding_cost - row.sales)
                      for row in fund.itertuples()) / 1e6
    return out


def audit_objectives(s: Scenario, tables: dict[str, pd.DataFrame], reported: dict[str, float], check) -> None:
    """Each objective the plan reports against its value recomputed from the tables."""
    objectives = check("objectives", "each objective value the plan reports, recomputed from its tables")
    recomputed = objective_values(s, tables, "release" in reported)
    floor = {"deficit": Tolerances.of(s).dollars / 1e6 * len(s.fys), "cost": Tolerances.of(s).dollars / 1e6 * len(s.fys)}
    for name, value in reported.items():
        objectives.checked += 1
        if name not in recomputed:
            objectives.violations.append(f"{name}: the plan reports an objective the audit does not know")
            continue
        expected = recomputed[name]
        if abs(value - expected) > OBJECTIVE_RELATIVE * max(abs(value), abs(expected)) + floor.get(name, 1e-9):
            objectives.violations.append(f"{name}: the plan reports {value:.10g}, its tables give {expected:.10g}")


def _first_fy(rows: pd.DataFrame) -> int | None:
    return int(rows.fy.min()) if not rows.empty else None


def audit_kpis(s: Scenario, tables: dict[str, pd.DataFrame], kpis: dict, reported_objectives: dict[str, float],
               check: Check) -> None:
    """The headline KPIs the plan reports, recomputed from its tables (those the audit knows)."""
    kpi = check("kpis", "the headline KPIs (solvency FYs, totals, end balance, tonnes, coverage), recomputed")
    inventory, fund, orders = tables["inventory"], tables["fund"], tables["orders"]
    tol = Tolerances.of(s)
    with_release = "release" in reported_objectives
    short = inventory.shortfall > SHORTFALL_TONNES
    unmet = inventory.unmet_draw > SHORTFALL_TONNES
    if not with_release:
        short = short | unmet
    first_short = _first_fy(inventory[short])
    first_unmet = _first_fy(inventory[unmet]) if with_release else None
    first_deficit = _first_fy(fund[fund.deficit > ZERO_DOLLARS])
    # README: solvent in an FY when its deficit, every shortfall and every unmet release are zero.
    failing = [fy for fy in (first_short, first_unmet, first_deficit) if fy is not None]
    through = (min(failing) - 1) if failing else s.horizon.last_fy
    objectives = objective_values(s, tables, with_release)
    last = s.horizon.last_fy
    coverage = {}
    for code in s.materials:
        rows = inventory[(inventory.material == code) & (inventory.fy == last)]
        goal = s.materials[code].goal.at(last)
        coverage[code] = None if rows.empty or goal <= 0 else float(rows.closing.iloc[0]) / goal
    tonnes = {code: float(orders.loc[orders.material == code, "tonnes"].sum()) if not orders.empty else 0.0
              for code in s.materials}
    money = tol.dollars * len(s.fys)
    expected = {
        "first_shortfall_fy": (first_short, 0),
        "first_deficit_fy": (first_deficit, 0),
        "solvent_through_fy": (through if through >= s.horizon.first_fy else None, 0),
        "total_deficit": (float(fund.deficit.sum()), money),
        "total_purchase_cost": (float(orders.cost.sum()) if not orders.empty else 0.0, money),
        "end_fund_balance": (float(fund.closing.iloc[-1]) if not fund.empty else 0.0, money),
        "weighted_shortfall": (objectives["shortfall"], 1e-9),
        "discounted_net_cost": (objectives["cost"] * 1e6, money),
    }
    tonne_years = sum(tol.tonnes.values()) * len(s.fys)
    if not with_release:
        expected["total_shortfall_tonne_years"] = (float(inventory.shortfall.sum() + inventory.unmet_draw.sum()),
                                                   tonne_years)
    else:
        expected["first_unmet_release_fy"] = (first_unmet, 0)
        expected["total_shortfall_tonne_years"] = (float(inventory.shortfall.sum()), tonne_years)
        expected["total_unmet_release_tonnes"] = (float(inventory.unmet_draw.sum()), tonne_years)
        expected["total_released_tonnes"] = (float(inventory.draws.sum()), tonne_years)
        expected["weighted_unmet_release"] = (objectives["release"], 1e-9)
    for name, (value, absolute) in expected.items():
        if name not in kpis:
            continue
        kpi.checked += 1
        if not _same(kpis[name], value, absolute):
            kpi.violations.append(f"{name}: the plan reports {kpis[name]!r}, its tables give {value!r}")
    for name, values in (("tonnes_ordered", tonnes), ("end_coverage", coverage)):
        if name not in kpis:
            continue
        for code, value in values.items():
            kpi.checked += 1
            absolute = tol.tonnes_of(code) * len(s.fys) if name == "tonnes_ordered" else 1e-9
            if not _same(kpis[name].get(code), value, absolute):
                kpi.violations.append(f"{name}.{code}: the plan reports {kpis[name].get(code)!r}, "
                                      f"its tables give {value!r}")


def _same(reported, value, absolute: float) -> bool:
    if value is None or reported is None:
        return (value is None) == (reported is None or (isinstance(reported, float) and math.isnan(reported)))
    if isinstance(value, int) and not isinstance(value, bool) and absolute == 0:
        return reported == value
    return abs(float(reported) - float(value)) <= absolute + OBJECTIVE_RELATIVE * max(abs(float(reported)), abs(value))
