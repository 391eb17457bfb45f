"""The independent audit catches deliberately corrupted plans, one constraint family at a time.

One rich scenario (``conftest.rich_raw``: tiers, recycling, bans, a trusted-share floor, a
concentration cap, disposals, an obligation cap and an AMP limit, loss, pipeline and a draw) is
solved once. Each corruption changes a deep copy of its tables so that exactly one family is
broken: where the change is to a primary figure (tonnes, disposals) the dependent columns are
re-derived with ``conftest.reconcile``, so the plan stays consistent everywhere else. The test then
checks that the audit fails that family, only that family, and names the row.

Where a corruption leans on a feature of the clean plan (a limit that binds), the docstring says
why the limit binds, and the test checks that precondition before corrupting.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from stockpile.scenario import rules
from stockpile.plan.audit import audit_plan
from stockpile.scenario.references import effective_tags, option_kind

from conftest import build, copy_tables, reconcile, rich_raw, solve

FAMILIES = ("orders", "capacity", "recycling", "ban", "balance", "goal", "disposal", "fund",
            "fund_floor", "obligation_cap", "partner_share", "concentration", "sourcing")


@pytest.fixture(scope="module")
def rich():
    scenario = build(rich_raw())
    plan = solve(scenario, "highs")
    return scenario, plan


def failed(report) -> dict[str, list[str]]:
    return {c.family: c.violations for c in report.checks if c.violations}


# ---------------------------------------------------------------------------------------------
# Helpers that change primary figures

def _order_mask(tables, option: str, fy: int) -> pd.Series:
    o = tables["orders"]
    return (o.option == option) & (o.fy == fy)


def tonnes_of(tables, option: str, fy: int) -> float:
    return float(tables["orders"].loc[_order_mask(tables, option, fy), "tonnes"].sum())


def set_tonnes(scenario, tables, option_name: str, fy: int, tonnes: float) -> None:
    """Set an order's tonnes, adding a well-formed order row if the plan has none."""
    mask = _order_mask(tables, option_name, fy)
    if mask.any():
        tables["orders"].loc[mask, "tonnes"] = tonnes
        return
    option = next(o for o in scenario.options if o.name == option_name)
    row = dict(fy=fy, material=option.material, option=option.name, kind=option_kind(option),
               country=option.country, refiner=rules.refiner(option),
               tags=", ".join(effective_tags(scenario, option)), tonnes=tonnes,
               delivery_fy=fy + option.lead_time, unit_price=0.0, cost=0.0)
    tables["orders"] = pd.concat([tables["orders"], pd.DataFrame([row])], ignore_index=True)


def add_tonnes(scenario, tables, option_name: str, fy: int, delta: float) -> None:
    set_tonnes(scenario, tables, option_name, fy, tonnes_of(tables, option_name, fy) + delta)


def _row(tables, name: str, **key) -> int:
    table = tables[name]
    mask = pd.Series(True, index=table.index)
    for column, value in key.items():
        mask &= table[column] == value
    (index,) = table.index[mask]
    return index


# ---------------------------------------------------------------------------------------------
# The clean plan

def test_clean_rich_plan_passes_every_family(rich):
    scenario, plan = rich
    report = audit_plan(scenario, plan.tables)
    assert report.ok, report.violations
    assert tuple(c.family for c in report.checks) == FAMILIES
    assert all(c.checked > 0 for c in report.checks), report.table()


def test_reconciling_an_unchanged_plan_keeps_it_clean(rich):
    """The helper that re-derives dependent columns agrees with the engine on the clean plan."""
    scenario, plan = rich
    tables = reconcile(scenario, copy_tables(plan.tables))
    assert audit_plan(scenario, tables).ok


def test_corrupting_a_copy_leaves_the_plan_alone(rich):
    scenario, plan = rich
    tables = copy_tables(plan.tables)
    tables["fund"].loc[0, "closing"] += 1e9
    assert not audit_plan(scenario, tables).ok
    assert audit_plan(scenario, plan.tables).ok


# ---------------------------------------------------------------------------------------------
# One corruption per family

def corrupt_orders(s, t):
    """An order row whose country is not its option's (Chile Co is Chilean, not Bolivian)."""
    t["orders"].loc[_order_mask(t, "Chile Co", 2027), "country"] = "Bolivia"
    return "orders row", "(Chile Co, FY2027)"


def corrupt_capacity(s, t):
    """Domestic Sb (home country, trusted, 100 t/FY) ordering 101 t in FY2029.

    FY2029 Sb orders stay far below the 250 t AMP limit, spending $2.02M more stays below the $4M
    cap, a home-country option is under no concentration cap, and Sb has no trusted floor.
    """
    set_tonnes(s, t, "Domestic Sb", 2029, 101.0)
    reconcile(s, t)
    return "(Domestic Sb, FY2029)", "limit 100.000 t"


def corrupt_recycling(s, t):
    """Lead-acid recycling above feedstock x yield = 100 x 0.5 = 50 t in FY2027, the extra taken
    from the (dearer) China Sb order of the same FY, so Sb totals and deliveries are unchanged."""
    extra = 51.0 - tonnes_of(t, "Sb lead-acid", 2027)
    assert tonnes_of(t, "China Sb", 2027) >= extra
    set_tonnes(s, t, "Sb lead-acid", 2027, 51.0)
    add_tonnes(s, t, "China Sb", 2027, -extra)
    reconcile(s, t)
    return "(Sb lead-acid, FY2027)", "limit 50.000 t"


def corrupt_ban(s, t):
    """1 t from China Sb in FY2029, after the covered-country ban on Sb from FY2029, with 1 t from
    Domestic Sb beside it so that China's share (50%) stays under the 60% cap."""
    add_tonnes(s, t, "China Sb", 2029, 1.0)
    add_tonnes(s, t, "Domestic Sb", 2029, 1.0)
    reconcile(s, t)
    return "(China Sb, FY2029)", "policy.bans[1]"


def corrupt_balance(s, t):
    """5 t of tungsten appear in FY2030's closing stock (above the goal, so no shortfall changes);
    the Fund's holding cost is re-derived so only the inventory balance is wrong."""
    i = _row(t, "inventory", material="W", fy=2030)
    t["inventory"].loc[i, "closing"] += 5.0
    t["inventory"].loc[i, "coverage"] = t["inventory"].loc[i, "closing"] / t["inventory"].loc[i, "goal"]
    reconcile(s, t, orders=False, inventory=False)
    return "(W, FY2030)", "the balance gives"


def corrupt_goal(s, t):
    """The cobalt shortfall of FY2028 misreported by 7 t."""
    i = _row(t, "inventory", material="Co", fy=2028)
    t["inventory"].loc[i, "shortfall"] += 7.0
    return "(Co, FY2028)", "shortfall"


def corrupt_disposal_limit(s, t):
    """60 t of tungsten sold in FY2028, above max_per_fy = 50 t; stock and Fund re-derived."""
    i = _row(t, "inventory", material="W", fy=2028)
    t["inventory"].loc[i, "disposals"] = 60.0
    reconcile(s, t)
    return "(W, FY2028)", "max_per_fy"


def corrupt_disposal_not_allowed(s, t):
    """1 t of antimony sold in FY2028, where Sb disposals are not allowed; stock and Fund re-derived."""
    i = _row(t, "inventory", material="Sb", fy=2028)
    t["inventory"].loc[i, "disposals"] = 1.0
    reconcile(s, t)
    return "(Sb, FY2028)", "not allowed"


def corrupt_fund(s, t):
    """$1M appears in the Fund's FY2028 closing balance from nowhere (the floor is 0 and the
    balance positive, so the deficit stays 0)."""
    i = _row(t, "fund", fy=2028)
    t["fund"].loc[i, "closing"] += 1e6
    return "fund row 2 (FY2028)", "closing"


def corrupt_fund_floor(s, t):
    """A $5M deficit reported in FY2029 although the Fund stays above its floor of 0."""
    i = _row(t, "fund", fy=2029)
    t["fund"].loc[i, "deficit"] = 5e6
    return "fund row 3 (FY2029)", "deficit $5,000,000"


def corrupt_obligation_spending(s, t):
    """Spending above the $4M obligation cap in FY2027 through more Canada Co (trusted, no AMP limit).

    The cap binds in FY2027 in the clean plan (Sb alone needs 251 t that FY, limited to 250 t by
    AMP, and Co's trusted floor needs dear tonnes), so a few more tonnes break it; they are added
    at Canada Co's $25,000/t, within its 300 t capacity."""
    spend = float(t["orders"].loc[t["orders"].fy == 2027, "cost"].sum())
    extra = math.floor(max(4e6 - spend, 0.0) / 25_000.0) + 1.0  # the clean plan may sit 1e-9 $ above the cap
    add_tonnes(s, t, "Canada Co", 2027, extra)
    reconcile(s, t)
    return "fund row 1 (FY2027)", "> cap $4,000,000"


def corrupt_obligation_amp(s, t):
    """Sb orders above the 250 t AMP limit in FY2027: 1 t more from Domestic Sb (home, trusted).

    In the clean plan FY2027 Sb orders are exactly 250 t: 300 t goal less 50 x 0.98 = 49 t kept
    needs 251 t from lead-time-0 options, capped at 250 t by AMP. (The extra $20,000 also tops the
    spending cap of that FY: the same family.)"""
    o = t["orders"]
    sb = float(o.loc[(o.material == "Sb") & (o.fy == 2027), "tonnes"].sum())
    assert sb == pytest.approx(250.0, abs=1e-4)
    add_tonnes(s, t, "Domestic Sb", 2027, 1.0)
    reconcile(s, t)
    return "Sb FY2027", "AMP limit 250.000 t"


def corrupt_partner_share(s, t):
    """Cobalt's trusted share below 50% in FY2028: tonnes moved from battery recycling (trusted)
    to Chile Co (untrusted, same lead time 0, cheaper), so totals and deliveries are unchanged."""
    o = t["orders"]
    these = o[(o.material == "Co") & (o.fy == 2028)]
    trusted = sum(r.tonnes for r in these.itertuples()
                  if rules.is_trusted(s, next(x for x in s.options if x.name == r.option)))
    move = trusted - 0.5 * float(these.tonnes.sum()) + 1.0
    assert tonnes_of(t, "Co batteries", 2028) >= move
    add_tonnes(s, t, "Co batteries", 2028, -move)
    add_tonnes(s, t, "Chile Co", 2028, move)
    reconcile(s, t)
    return "Co FY2028", "trusted"


def corrupt_concentration(s, t):
    """China above 60% of FY2027's Sb orders: tonnes moved from Bolivia Sb to the cheaper China Sb
    (both lead time 0), so totals and deliveries are unchanged and spending falls."""
    o = t["orders"]
    total = float(o.loc[(o.material == "Sb") & (o.fy == 2027), "tonnes"].sum())
    move = 0.6 * total - tonnes_of(t, "China Sb", 2027) + 1.0
    assert tonnes_of(t, "Bolivia Sb", 2027) >= move
    add_tonnes(s, t, "Bolivia Sb", 2027, -move)
    add_tonnes(s, t, "China Sb", 2027, move)
    reconcile(s, t)
    return "Sb FY2027: China", "60.0%"


def corrupt_sourcing(s, t):
    """The Sourcing table overstates FY2027's trusted share of cobalt by 10 points; orders untouched."""
    i = _row(t, "sourcing", material="Co", fy=2027)
    t["sourcing"].loc[i, "trusted_share"] += 0.10
    return "sourcing Co FY2027", "trusted_share"


CORRUPTIONS = {
    "sourcing": corrupt_sourcing,
    "orders": corrupt_orders,
    "capacity": corrupt_capacity,
    "recycling": corrupt_recycling,
    "ban": corrupt_ban,
    "balance": corrupt_balance,
    "goal": corrupt_goal,
    "disposal:max_per_fy": corrupt_disposal_limit,
    "disposal:not_allowed": corrupt_disposal_not_allowed,
    "fund": corrupt_fund,
    "fund_floor": corrupt_fund_floor,
    "obligation_cap:spending": corrupt_obligation_spending,
    "obligation_cap:amp_limit": corrupt_obligation_amp,
    "partner_share": corrupt_partner_share,
    "concentration": corrupt_concentration,
}


def test_every_family_has_a_corruption():
    assert {case.split(":")[0] for case in CORRUPTIONS} == set(FAMILIES)


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_audit_catches_a_corruption_of_exactly_one_family(rich, case):
    scenario, plan = rich
    family = case.split(":")[0]
    tables = copy_tables(plan.tables)
    names_row, says = CORRUPTIONS[case](scenario, tables)
    report = audit_plan(scenario, tables)
    assert not report.ok
    broken = failed(report)
    assert set(broken) == {family}, broken
    assert any(names_row in v and says in v for v in broken[family]), broken[family]
    assert any(v.startswith(f"{family}: ") and names_row in v for v in report.violations)
    # the solved plan itself is untouched
    assert audit_plan(scenario, plan.tables).ok


# ---------------------------------------------------------------------------------------------
# Malformed tables

def test_order_from_an_unknown_option(rich):
    """An order row naming an option the scenario does not have (1 t of cobalt from "Ghost mine"
    in FY2028, delivered at once, $20,000): stock and Fund re-derived with it, so only the orders
    check fails, naming the row."""
    scenario, plan = rich
    tables = copy_tables(plan.tables)
    row = dict(fy=2028, material="Co", option="Ghost mine", kind="import", country="Chile", tags="fta, import",
               tonnes=1.0, delivery_fy=2028, unit_price=20_000.0, cost=20_000.0)
    tables["orders"] = pd.concat([tables["orders"], pd.DataFrame([row])], ignore_index=True)
    reconcile(scenario, tables)
    report = audit_plan(scenario, tables)
    broken = failed(report)
    assert set(broken) == {"orders"}, broken
    position = len(tables["orders"])
    assert broken["orders"] == [f"orders row {position} (Ghost mine, FY2028): no such option"]


def test_missing_last_inventory_row(rich):
    """The tungsten row of the last FY is dropped: the balance check lists it as missing."""
    scenario, plan = rich
    tables = copy_tables(plan.tables)
    inv = tables["inventory"]
    tables["inventory"] = inv[~((inv.material == "W") & (inv.fy == 2030))].reset_index(drop=True)
    report = audit_plan(scenario, tables)
    assert not report.ok
    assert any("missing inventory rows" in v and "('W', 2030)" in v for v in failed(report)["balance"])


def test_missing_middle_inventory_row(rich):
    """The antimony row of FY2028 is dropped: the audit reports it missing (balance), and says the
    FY2029 opening cannot be checked, instead of crashing on the absent FY2028 closing."""
    scenario, plan = rich
    tables = copy_tables(plan.tables)
    inv = tables["inventory"]
    tables["inventory"] = inv[~((inv.material == "Sb") & (inv.fy == 2028))].reset_index(drop=True)
    report = audit_plan(scenario, tables)
    assert any("missing inventory rows" in v and "('Sb', 2028)" in v for v in failed(report)["balance"])
    assert any("(Sb, FY2029): no row for FY2028" in v for v in failed(report)["balance"])
