"""Every family of rows and columns the LP holds, each described once.

A row or column of the LP is named ``family[key...]`` (``capacity[Co,Canada import,2029]``, see
:func:`stockpile.model.lp.column_name` and :func:`~stockpile.model.lp.parse_name`). This module
is the one place that says, per family, what its key fields are, whether it is a hard limit a
scenario sets (which the infeasibility diagnosis may relax) or elastic, its units, whether its
dual is a table of the plan, which scenario key sets it, and what it means. Its math is in the
docstring of the ``define_*`` function that adds it (:mod:`stockpile.model.build`).

Readers: :func:`stockpile.model.build.build` adds rows and columns under these names; the
diagnosis (:mod:`stockpile.solve.diagnose`) relaxes the hard rows and weighs each in tonnes or
money; ``explain`` prices the limits in their own units; the plan's marginal tables
(:func:`stockpile.plan.read.marginal_tables`) read the rows that carry a marginal value;
``min-budget`` frees the Fund's appropriation and pins the elastic slacks; the hedge shares the
here-and-now columns across futures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RowKind = Literal["hard", "elastic", "definition", "stage"]
"""hard: a limit the scenario sets, which can leave no plan (the diagnosis relaxes it);
elastic: always met, a penalised slack column absorbs any gap; definition: an identity that
defines columns; stage: holds an earlier lexicographic stage's optimum in the later stages."""
AddedBy = Literal["build", "lexicographic", "diagnosis", "min_budget", "hedge"]
"""Who adds the family: :func:`~stockpile.model.build.build` (the scenario's model) or a later
step on its own copy or extension of the LP."""


@dataclass(frozen=True)
class RowFamily:
    name: str
    key: tuple[str, ...]
    """The key's fields, in order: ("material", "option", "fy") for capacity[m,s,y]."""
    scenario_key: str
    """The scenario key that sets the row, as a template: i is a position from 1, m a material
    code, k a price tier, FY a fiscal year (e.g. ``supply[i].capacity.FY``)."""
    meaning: str
    kind: RowKind = "hard"
    unit: str = "t"
    """Unit of the scenario key that sets the row: "t", "$", "share", "FY" ("" for none)."""
    model_unit: str = "t"
    """Unit the row counts in inside the model: "t" (tonnes), "$M" (money) or "objective"."""
    marginal_table: str | None = None
    """The plan table its readiness dual fills (None: the dual is no table of the plan)."""
    added_by: AddedBy = "build"

    @property
    def hard(self) -> bool:
        return self.kind == "hard"

    @property
    def money(self) -> bool:
        """True when the row counts in $M (its violations and duals are money), not tonnes."""
        return self.model_unit == "$M"

    @property
    def per_fy(self) -> bool:
        """True when the scenario key holds a value per FY (so rows differing only in FY set the
        same key in different FYs)."""
        return self.scenario_key.endswith(".FY")

    def fields(self, key: tuple) -> dict[str, object]:
        """A row's key by field name: {"material": "Co", "option": "Canada import", "fy": 2029}."""
        return dict(zip(self.key, key, strict=True))


@dataclass(frozen=True)
class ColumnFamily:
    name: str
    key: tuple[str, ...]
    meaning: str
    unit: str = "t"
    """"t" (tonnes), "$M" (money), "objective" or "" (none)."""
    elastic_slack: bool = False
    """A penalised slack that lets a row give, so the model always solves (shortfall, unmet
    drawdown, Fund deficit; the diagnosis's violation of a hard row)."""
    here_and_now: bool = False
    """In a two-stage plan, decided before the decision FY once for every future (orders, tier
    purchases, disposals); the rest are each future's own."""
    set_by: tuple[str, ...] = ()
    """The scenario's sections whose values decide which of the family's columns exist and their
    bounds (``define_variables`` reads nothing else for it): a sweep that varies none of them
    keeps the base's columns (:mod:`stockpile.analysis.sweep.patching`)."""
    added_by: AddedBy = "build"


# Rows: the model's fourteen families (stockpile.model.build), then those later steps add.
# Unless said otherwise a family is a hard limit, in tonnes, set by a key in tonnes.

BALANCE = RowFamily(
    "balance", ("material", "fy"), "materials.m.{opening_inventory, pipeline.FY, draw.FY, loss_rate.FY}",
    "inventory = (1 - loss) x last inventory + deliveries (orders placed lead-time FYs earlier) + pipeline "
    "- disposals - met drawdowns", kind="definition")
GOAL = RowFamily("goal", ("material", "fy"), "materials.m.goal.FY", "inventory + shortfall >= goal", kind="elastic")
CAPACITY = RowFamily(
    "capacity", ("material", "option", "fy"), "supply[i].capacity.FY",
    "orders <= capacity x availability (disruption events lower availability)", marginal_table="marginal_capacity")
RECYCLING = RowFamily(
    "recycling", ("material", "option", "fy"), "recycling[i].feedstock.FY",
    "recovered tonnes <= feedstock x recovery yield", marginal_table="marginal_capacity")
FUND = RowFamily(
    "fund", ("fy",), "fund.appropriation.FY",
    "Fund balance = last balance + appropriation + revenue + sales - purchases - committed payments "
    "- operating cost - holding cost x inventory",
    kind="definition", unit="$", model_unit="$M", marginal_table="marginal_appropriation")
FUND_FLOOR = RowFamily("fund_floor", ("fy",), "fund.floor.FY", "Fund balance + deficit >= floor",
                       kind="elastic", unit="$", model_unit="$M")
AMP_LIMIT = RowFamily("amp_limit", ("material", "fy"), "materials.m.amp_limit.FY",
                      "a year's orders of a material <= its Annual Materials Plan limit")
OBLIGATION_CAP = RowFamily("obligation_cap", ("fy",), "fund.obligation_cap.FY",
                           "purchases <= obligation cap - committed payments", unit="$", model_unit="$M")
PARTNER_SHARE = RowFamily("partner_share", ("material", "fy"), "policy.trusted_share.m.FY",
                          "trusted orders >= floor x all orders", unit="share")
BAN = RowFamily(
    "ban", ("material", "option", "fy"), "policy.bans[i].from_fy",
    "no orders from options a ban covers (e.g. 10 U.S.C. 4872 covered countries for tungsten) from its FY",
    unit="FY")
CONCENTRATION = RowFamily("concentration", ("material", "country", "fy"), "policy.concentration_cap.FY",
                          "no foreign origin (mine) country above the cap x a year's orders", unit="share")
REFINER_CAP = RowFamily("refiner_cap", ("material", "country", "fy"), "policy.refiner_cap.FY",
                        "no foreign refining country above the cap x a year's orders", unit="share")
TIERS = RowFamily("tiers", ("material", "option", "fy"), "supply[i].tiers",
                  "convex price tiers: the more bought in a year, the dearer", kind="definition")
FIXED_ORDER = RowFamily("fixed_order", ("material", "option", "fy"), "supply[i].fixed.FY",
                        "order = the option's fixed order, in each FY its fixed schedule lists")
LEXICOGRAPHIC_ROW = RowFamily(
    "lexicographic", ("objective",), "objective.{relative_tolerance, absolute_tolerance}",
    "an earlier stage's objective held at its optimum (within tolerance)",
    kind="stage", unit="", model_unit="objective", added_by="lexicographic")
TIER_WIDTH = RowFamily(
    "tier_width", ("material", "option", "fy"), "supply[i].tiers[k].up_to",
    "bought in a bounded last price tier <= its width (a column bound in the model, a row in the diagnosis's "
    "elastic copy)", added_by="diagnosis")
CVAR = RowFamily(
    "cvar", ("future",), "uncertainty.cvar.{level, weight}",
    "a future's shortfall above the value at risk: excess + value at risk - shortfall >= 0",
    kind="definition", unit="", model_unit="objective", added_by="hedge")

ROW_FAMILIES: dict[str, RowFamily] = {family.name: family for family in (
    BALANCE, GOAL, CAPACITY, RECYCLING, FUND, FUND_FLOOR, AMP_LIMIT, OBLIGATION_CAP, PARTNER_SHARE, BAN,
    CONCENTRATION, REFINER_CAP, TIERS, FIXED_ORDER, LEXICOGRAPHIC_ROW, TIER_WIDTH, CVAR)}

# Columns: the model's eight families (stockpile.model.build.define_variables), then the others.
# Unless said otherwise a column is in tonnes, each future's own in a two-stage plan.

ORDER = ColumnFamily("order", ("material", "option", "fy"),
                     "tonnes ordered from an option in FY y (delivered lead-time FYs later)", here_and_now=True,
                     set_by=("horizon", "supply", "recycling"))
BUY = ColumnFamily("buy", ("material", "option", "tier", "fy"),
                   "tonnes bought in price tier k (options with tiers; at most the tier's width)", here_and_now=True,
                   set_by=("horizon", "supply", "recycling"))
SELL = ColumnFamily("sell", ("material", "fy"), "tonnes disposed of (where disposals are allowed)", here_and_now=True,
                    set_by=("horizon", "materials"))
INV = ColumnFamily("inv", ("material", "fy"), "tonnes held at the end of FY y", set_by=("horizon", "materials"))
SHORT = ColumnFamily("short", ("material", "fy"), "tonnes below the goal (where the goal is positive)",
                     elastic_slack=True, set_by=("horizon", "materials"))
UNMET_DRAW = ColumnFamily("unmet_draw", ("material", "fy"), "tonnes of a drawdown the stock could not supply",
                          elastic_slack=True, set_by=("horizon", "materials"))
FUND_BALANCE = ColumnFamily("fund", ("fy",), "the Transaction Fund's balance at the end of FY y (free)", unit="$M",
                            set_by=("horizon",))
DEFICIT = ColumnFamily("deficit", ("fy",), "how far the Fund's balance is below its floor", unit="$M",
                       elastic_slack=True, set_by=("horizon",))
SLACK = ColumnFamily("slack", ("row", "side"), "how far a hard row of the diagnosis's elastic copy is violated",
                     unit="", elastic_slack=True, added_by="diagnosis")
BUDGET = ColumnFamily(
    "budget", (), "min-budget's unknown appropriation ($M every FY, or the multiplier of the scenario's profile)",
    unit="", added_by="min_budget")
CVAR_VAR = ColumnFamily("cvar_var", (), "the value at risk of shortfall (free)", unit="objective", added_by="hedge")
CVAR_EXCESS = ColumnFamily("cvar_excess", ("future",), "a future's shortfall above the value at risk",
                           unit="objective", added_by="hedge")

COLUMN_FAMILIES: dict[str, ColumnFamily] = {family.name: family for family in (
    ORDER, BUY, SELL, INV, SHORT, UNMET_DRAW, FUND_BALANCE, DEFICIT, SLACK, BUDGET, CVAR_VAR, CVAR_EXCESS)}


def row_family(name: str) -> RowFamily:
    """The record of a row family, by name."""
    try:
        return ROW_FAMILIES[name]
    except KeyError:
        raise KeyError(f"{name!r} is no registered row family (stockpile.model.families)") from None


def column_family(name: str) -> ColumnFamily:
    """The record of a column family, by name."""
    try:
        return COLUMN_FAMILIES[name]
    except KeyError:
        raise KeyError(f"{name!r} is no registered column family (stockpile.model.families)") from None


HARD_ROWS = frozenset(f.name for f in ROW_FAMILIES.values() if f.hard)
"""The hard limits: the only rows that can leave a scenario without a plan."""
MARGINAL_ROWS = frozenset(f.name for f in ROW_FAMILIES.values() if f.marginal_table is not None)
"""The rows whose readiness duals are tables of the plan."""
ELASTIC_SLACKS = frozenset(f.name for f in COLUMN_FAMILIES.values() if f.elastic_slack)
HERE_AND_NOW = frozenset(f.name for f in COLUMN_FAMILIES.values() if f.here_and_now)
COLUMNS_SET_BY = frozenset(section for f in COLUMN_FAMILIES.values() if f.added_by == "build" for section in f.set_by)
"""The scenario's sections that decide the model's columns and their bounds."""
