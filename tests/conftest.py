"""Shared builders and helpers for the engine tests.

``make_scenario(**overrides)`` returns a minimal valid *raw* scenario dict (what a TOML file
parses to): one material ``X`` ("Testium"), one import option ``A`` from Canada, FY2027..FY2029,
a Fund with plenty of money and no other flows. Tests deep-modify it, then ``solve(raw, solver)``
validates it with :func:`stockpile.scenario.scenario_from_dict` and runs the audited pipeline.

``rich_raw()`` is a scenario that makes every constraint family bind somewhere (tiers, recycling,
bans, a trusted-share floor, a concentration cap, disposals, an obligation cap and an AMP limit),
used by the audit and determinism tests. ``reconcile`` recomputes the derived columns of a plan's
tables after a test changed a primary figure, so that a corruption breaks one family only.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest

from stockpile.scenario import rules
from stockpile.plan.pipeline import plan_scenario
from stockpile.plan.read import Plan, sourcing_table
from stockpile.scenario.load import scenario_from_dict
from stockpile.scenario.schema import Scenario

SOLVERS = ("highs", "cbc")
EXAMPLE = Path(__file__).resolve().parent.parent / "stockpile" / "examples" / "example.toml"


@pytest.fixture(params=SOLVERS)
def solver(request) -> str:
    """Every test that takes ``solver`` runs once with HiGHS and once with CBC."""
    return request.param


# ---------------------------------------------------------------------------------------------
# Building scenarios

def deep_merge(base: dict, override: dict) -> dict:
    """``base`` with ``override`` merged in: dicts merge key by key, anything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def make_scenario(**overrides) -> dict:
    """A minimal valid raw scenario, with ``overrides`` deep-merged into it.

    Defaults: FY2027..FY2029; material X with goal 100 t every FY, no opening stock, weight 1;
    option A (import from Canada, tagged fta by its country) with 1,000 t/FY at $50,000/t and no
    lead time; Fund opening balance $1,000M, floor 0, no appropriation, revenue or costs;
    discount rate 0, lexicographic objective. Note a dict override merges (e.g.
    ``materials={"X": {"goal": 120}}`` keeps X's name), a list override (``supply=[...]``) replaces.
    """
    base = {
        "name": "test instance",
        "horizon": {"first_fy": 2027, "last_fy": 2029},
        "countries": {"United States": ["domestic"], "Canada": ["fta"]},
        "materials": {"X": {"name": "Testium", "goal": 100.0}},
        "supply": [{"name": "A", "material": "X", "kind": "import", "country": "Canada",
                    "capacity": 1000.0, "price": 50_000.0}],
        "fund": {"opening_balance": 1e9},
    }
    return deep_merge(base, overrides)


def build(raw: dict) -> Scenario:
    return scenario_from_dict(raw, source="<test>")


def solve(raw: dict | Scenario, solver: str = "highs") -> Plan:
    """Validate (if raw) and run the audited pipeline: raises AuditError on a failed audit."""
    scenario = raw if isinstance(raw, Scenario) else build(raw)
    return plan_scenario(scenario, solver=solver)


class HandSolved:
    """A module's hand-solved instances: ``@instance`` registers a builder of a raw scenario under
    its name (``builders``, which the HiGHS/CBC agreement tests loop over); ``solved(name,
    solver)`` solves it once per solver."""

    def __init__(self) -> None:
        self.builders: dict = {}
        self.plans: dict[tuple[str, str], Plan] = {}

    def __call__(self, builder):
        self.builders[builder.__name__] = builder
        return builder

    def solved(self, name: str, solver: str) -> Plan:
        if (name, solver) not in self.plans:
            self.plans[(name, solver)] = solve(self.builders[name](), solver)
        return self.plans[(name, solver)]


def approx(value, abs=1e-6):
    """Hand-derived optima agree to 1e-6 relative (``abs`` near zero)."""
    return pytest.approx(value, rel=1e-6, abs=abs)


def assert_same_optimum(plan: Plan, reference: Plan) -> None:
    """Two solvers' plans of one scenario reach the same optimum: every objective value (all of
    model.build.OBJECTIVES) to 1e-6 relative, and the same closing stock."""
    assert set(plan.objective_values) == set(reference.objective_values)
    for key, value in reference.objective_values.items():
        assert plan.objective_values[key] == pytest.approx(value, rel=1e-6, abs=1e-6), key
    pd.testing.assert_series_equal(plan.tables["inventory"].closing, reference.tables["inventory"].closing,
                                   check_exact=False, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# Reading plans

def order_tonnes(plan: Plan, option: str, fy: int) -> float:
    """Tonnes ordered from ``option`` in ``fy`` (0 when the plan has no such row)."""
    orders = plan.tables["orders"]
    rows = orders[(orders.option == option) & (orders.fy == fy)]
    assert len(rows) <= 1, f"more than one order row for {option} FY{fy}"
    return float(rows.tonnes.sum())


def orders_by_key(plan: Plan) -> dict[tuple[str, int], float]:
    """{(option, fy): tonnes} for every order row of the plan."""
    return {(row.option, int(row.fy)): float(row.tonnes) for row in plan.tables["orders"].itertuples()}


def inventory_row(plan: Plan, material: str, fy: int):
    inv = plan.tables["inventory"]
    rows = inv[(inv.material == material) & (inv.fy == fy)]
    assert len(rows) == 1
    return rows.iloc[0]


def closings(plan: Plan, material: str) -> list[float]:
    inv = plan.tables["inventory"]
    return [float(v) for v in inv[inv.material == material].sort_values("fy").closing]


def fund_row(plan: Plan, fy: int):
    fund = plan.tables["fund"]
    rows = fund[fund.fy == fy]
    assert len(rows) == 1
    return rows.iloc[0]


# ---------------------------------------------------------------------------------------------
# A scenario that exercises every family, for the audit and determinism tests

def rich_raw() -> dict:
    """Three materials, FY2027..FY2030, with every constraint family in play.

    Sb: a covered-country import banned from FY2029 and dearer in FY2028 (event), a tiered
        Bolivian import, a domestic project with a lead time, lead-acid recycling; loss, pipeline,
        a drawdown and an AMP limit.
    Co: an untrusted Chilean import, a trusted Canadian import, battery recycling; a 50% trusted
        share floor.
    W:  excess stock, disposals allowed up to 50 t/FY; the covered import is banned throughout.
    Fund: appropriation, operating and holding costs, an obligation cap; a 60% single-country cap.
    """
    return {
        "name": "rich audit scenario",
        "horizon": {"first_fy": 2027, "last_fy": 2030},
        "countries": {"United States": ["domestic"], "Canada": ["fta", "msp"], "China": ["covered"],
                      "Bolivia": [], "Chile": ["fta"]},
        "materials": {
            "Sb": {"name": "Antimony", "opening_inventory": 50.0, "goal": 300.0, "loss_rate": 0.02,
                   "pipeline": {"2028": 20.0}, "draw": {"2030": 30.0}, "amp_limit": 250.0},
            "Co": {"name": "Cobalt", "goal": {"2027": 100.0, "2029": 200.0}},
            "W": {"name": "Tungsten", "opening_inventory": 400.0, "goal": 200.0,
                  "disposal": {"allowed": True, "price": 30_000.0, "max_per_fy": 50.0}},
        },
        "supply": [
            {"name": "China Sb", "material": "Sb", "kind": "import", "country": "China",
             "capacity": 200.0, "price": 10_000.0},
            {"name": "Bolivia Sb", "material": "Sb", "kind": "import", "country": "Bolivia",
             "capacity": 200.0, "price": 12_000.0,
             "tiers": [{"up_to": 100.0, "factor": 1.0}, {"factor": 1.5}]},
            {"name": "Domestic Sb", "material": "Sb", "kind": "domestic", "country": "United States",
             "capacity": 100.0, "price": 20_000.0, "lead_time": 1},
            {"name": "Chile Co", "material": "Co", "kind": "import", "country": "Chile",
             "capacity": 300.0, "price": 15_000.0},
            {"name": "Canada Co", "material": "Co", "kind": "partner_project", "country": "Canada",
             "capacity": 300.0, "price": 25_000.0, "lead_time": 1},
            {"name": "China W", "material": "W", "kind": "import", "country": "China",
             "capacity": 100.0, "price": 5_000.0},
        ],
        "recycling": [
            {"name": "Sb lead-acid", "material": "Sb", "feedstock": 100.0, "recovery_yield": 0.5,
             "cost": 8_000.0},
            {"name": "Co batteries", "material": "Co", "feedstock": 40.0, "recovery_yield": 0.5,
             "cost": 18_000.0},
        ],
        "fund": {"opening_balance": 3e6, "appropriation": 1e6, "operating_cost": 0.5e6,
                 "holding_cost": 10.0, "obligation_cap": 4e6},
        "policy": {
            "trusted_tags": ["msp", "domestic", "recycling"],
            "trusted_share": {"Co": 0.5},
            "concentration_cap": 0.6,
            "bans": [{"material": "Sb", "tag": "covered", "from_fy": 2029},
                     {"material": "W", "tag": "covered", "from_fy": 2027}],
        },
        "events": {"sb-surge": {"country": "China", "material": "Sb", "from_fy": 2028, "to_fy": 2028,
                                "availability": 1.0, "price": 1.5}},
        "objective": {"discount_rate": 0.03},
    }


# ---------------------------------------------------------------------------------------------
# Re-deriving a plan's dependent columns after a deliberate change

def copy_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {name: table.copy(deep=True) for name, table in tables.items()}


def reconcile(scenario: Scenario, tables: dict[str, pd.DataFrame], *, orders: bool = True,
              inventory: bool = True, fund: bool = True) -> dict[str, pd.DataFrame]:
    """Recompute, in place, the columns that follow from the primary figures.

    Primary figures: order tonnes, disposals and unmet draws. ``orders`` recomputes each known
    option's delivery FY, cost (tiered) and unit price; ``inventory`` the opening, deliveries, loss,
    draws, closing and shortfall chain; ``fund`` the purchases, sales, holding cost, closing and
    deficit chain. What a corruption leaves inconsistent is then only what it meant to break.
    """
    s = scenario
    options = {o.name: o for o in s.options}
    o = tables["orders"]
    if orders:
        for i in o.index:
            option = options.get(o.at[i, "option"])
            if option is None:
                continue
            fy, tonnes = int(o.at[i, "fy"]), float(o.at[i, "tonnes"])
            cost = rules.tiered_cost(option, rules.unit_price(s, option, fy), tonnes)
            o.at[i, "delivery_fy"] = fy + option.lead_time
            o.at[i, "cost"] = cost
            o.at[i, "unit_price"] = cost / tonnes if tonnes > 0 else 0.0
        tables["sourcing"] = sourcing_table(s, o[o.option.isin(list(options))])  # as the audit recomputes it
    inv = tables["inventory"]
    if inventory:
        for code, material in s.materials.items():
            closing = material.opening_inventory
            for i in inv.index[inv.material == code]:
                fy = int(inv.at[i, "fy"])
                opening = closing
                delivered = float(o.loc[(o.material == code) & (o.delivery_fy == fy), "tonnes"].sum())
                draw = material.draw.at(fy)
                drawn = draw - float(inv.at[i, "unmet_draw"])
                closing = ((1 - material.loss_rate.at(fy)) * opening + delivered + material.pipeline.at(fy)
                           - float(inv.at[i, "disposals"]) - drawn)
                goal = material.goal.at(fy)
                inv.loc[i, ["opening", "deliveries", "draws", "loss", "closing", "shortfall"]] = [
                    opening, delivered, drawn, opening * material.loss_rate.at(fy), closing,
                    max(goal - closing, 0.0)]
                inv.at[i, "coverage"] = closing / goal if goal > 0 else None
    if fund:
        f = s.fund
        table = tables["fund"]
        closing = f.opening_balance
        for i in table.index:
            fy = int(table.at[i, "fy"])
            stock = inv[inv.fy == fy]
            purchases = float(o.loc[o.fy == fy, "cost"].sum())
            sales = sum(r.disposals * s.materials[r.material].disposal.price.at(fy) for r in stock.itertuples())
            holding = f.holding_cost.at(fy) * float(stock.closing.sum())
            opening = closing
            closing = (opening + f.appropriation.at(fy) + f.other_revenue.at(fy) + sales - purchases
                       - f.committed_payments.at(fy) - f.operating_cost.at(fy) - holding)
            table.loc[i, ["opening", "sales", "purchases", "holding_cost", "closing", "deficit"]] = [
                opening, sales, purchases, holding, closing, max(f.floor.at(fy) - closing, 0.0)]
    return tables
