"""The baseline data files' rows: one pydantic model per CSV file, its columns, types and ranges.

Every row carries its provenance (``source``, ``status``, ``note``); each model adds its own
cross-column rules (:meth:`Row.problems`) and, where a file must be complete, rules about the
file as a whole (:meth:`Row.file_problems`). The reader that applies them is
:mod:`stockpile.scenario.data`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

WORLD_TOTAL = "World total"
OTHER_COUNTRIES = "Other countries"
AGGREGATES = (OTHER_COUNTRIES, WORLD_TOTAL)
PROVENANCE = ("source", "status", "note")
NEEDS_NOTE = ("inferred", "assumption")

# Tonnes of contained metal per quoted unit: prices.csv must agree with these to the dollar.
LB_KG = 0.45359237  # exact, by definition of the international pound
METAL_T_PER_QUOTED_UNIT = {
    "usd_per_lb": LB_KG / 1000,
    "usd_per_mtu_WO3": 7.93 / 1000,  # USGS: one metric ton unit of WO3 contains 7.93 kg W
    "usd_per_t_Li2CO3": 0.1879,  # Li mass fraction of Li2CO3: 2 x 6.94 / 73.888
}
QUOTED_UNIT_MATERIAL = {"usd_per_mtu_WO3": "W", "usd_per_t_Li2CO3": "Li"}

# Units that count whole years, so their values must be integers.
WHOLE_UNITS = ("FY", "years")


# --- cell types ---------------------------------------------------------------------------------

def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _parse_flag(value: object) -> object:
    # pydantic's lax bool also takes yes/on/1/t...; a data file must say true or false.
    if not isinstance(value, str):
        return value
    try:
        return {"true": True, "false": False}[value.strip().lower()]
    except KeyError:
        raise ValueError("must be true or false") from None


def _check_date(value: str, optional: bool = False, fiscal_year: bool = False) -> str:
    """A calendar date at the precision known: YYYY, YYYY-MM or YYYY-MM-DD (or FYyyyy where allowed)."""
    value = value.strip()
    if (optional and not value) or (fiscal_year and re.fullmatch(r"FY\d{4}", value)):
        return value
    padded = {4: "-01-01", 7: "-01", 10: ""}.get(len(value))
    try:
        if padded is None or not re.fullmatch(r"\d{4}(-\d{2}){0,2}", value):
            raise ValueError
        date.fromisoformat(value + padded)
    except ValueError:
        raise ValueError("must be a date written YYYY, YYYY-MM or YYYY-MM-DD"
                         + (", or a fiscal year written FYyyyy" if fiscal_year else "")) from None
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True)]
Identifier = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9]+([_-][a-z0-9]+)*$")]
MaterialCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z][a-z]?$")]
PartialDate = Annotated[str, AfterValidator(lambda v: _check_date(v))]
OptionalPartialDate = Annotated[str, AfterValidator(lambda v: _check_date(v, optional=True))]
DateOrFY = Annotated[str, AfterValidator(lambda v: _check_date(v, optional=True, fiscal_year=True))]
Year = Annotated[int, Field(ge=1900, le=2100)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Withholdable = Annotated[NonNegative | None, BeforeValidator(_blank_to_none)]
Flag = Annotated[bool, BeforeValidator(_parse_flag)]
Status = Literal["official", "secondary", "inferred", "assumption"]
TAGS = ("covered", "fta", "msp")


def _missing(wanted: Iterable[tuple], present: set[tuple]) -> Iterator[tuple]:
    """The keys a complete file must have that it does not, in the order wanted."""
    return (key for key in wanted if key not in present)


# --- row models: one per file -------------------------------------------------------------------

class Row(BaseModel):
    """Provenance columns every data row carries, and the rules every row obeys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Text
    status: Status
    note: OptionalText

    def problems(self) -> Iterator[tuple[str, str]]:
        """Cross-column rules, as (column, reason); types and ranges are pydantic's job."""
        if self.status in NEEDS_NOTE and not self.note:
            yield "note", f"status {self.status!r} needs a note (the arithmetic or the rationale)"
        for name in type(self).model_fields:
            # USGS withholds some figures ("W") to protect company data: the only empty figure allowed.
            if getattr(self, name) is None and "withheld" not in self.note.lower():
                yield name, "is empty; a figure may be empty only when the note says it is withheld"

    @classmethod
    def file_problems(cls, rows: list[Row], materials: tuple[str, ...]) -> Iterator[str]:
        """Rules about the file as a whole (completeness); none by default."""
        return iter(())


class ParameterRow(Row):
    """A row whose ``value`` must be in the unit its parameter name fixes."""

    UNITS: ClassVar[dict[str, str]]
    PARAMETER_COLUMN: ClassVar[str] = "parameter"

    value: NonNegative
    unit: Text

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from super().problems()
        parameter = getattr(self, self.PARAMETER_COLUMN)
        expected = self.UNITS[parameter]
        if self.unit != expected:
            yield "unit", f"{parameter} is in {expected!r}, not {self.unit!r}"
        elif expected.startswith("fraction") and self.value > 1:
            yield "value", f"{parameter} is a fraction and must lie in [0, 1], not {self.value:g}"
        elif expected in WHOLE_UNITS and not float(self.value).is_integer():
            yield "value", f"{parameter} counts whole {expected}, not {self.value:g}"


class MaterialRow(Row):
    material: MaterialCode
    name: Text
    unit: Literal["t"]


class CountryRow(Row):
    country: Text
    usgs_name: OptionalText


class MineProductionRow(Row):
    material: Text
    country: Text
    year: Year
    tonnes: Withholdable
    estimated: Flag

    @classmethod
    def file_problems(cls, rows: list[Row], materials: tuple[str, ...]) -> Iterator[str]:
        # Shares are computed against USGS's World total, so every material-year needs one.
        years = sorted({(r.material, r.year) for r in rows})
        totals = {(r.material, r.year) for r in rows if r.country == WORLD_TOTAL and r.tonnes}
        for material, year in _missing(years, totals):
            yield f"{material} {year} has no {WORLD_TOTAL!r} row with a positive figure"


class ReserveRow(Row):
    material: Text
    country: Text
    tonnes: NonNegative


class SalientRow(Row):
    material: Text
    year: Year
    statistic: Identifier
    value: Withholdable
    unit: Text
    estimated: Flag


class PriceRow(Row):
    material: Text
    year: Year
    quoted_value: Positive
    quoted_unit: Literal[tuple(METAL_T_PER_QUOTED_UNIT)]
    usd_per_t_metal: Positive
    conversion: Text

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from super().problems()
        only_for = QUOTED_UNIT_MATERIAL.get(self.quoted_unit)
        if only_for and only_for != self.material:
            yield "quoted_unit", f"{self.quoted_unit} is a {only_for} unit, not a {self.material} one"
        expected = self.quoted_value / METAL_T_PER_QUOTED_UNIT[self.quoted_unit]
        if abs(self.usd_per_t_metal - expected) > max(1.0, 1e-6 * expected):
            yield "usd_per_t_metal", (f"{self.quoted_value:g} {self.quoted_unit} converts to {expected:.0f}, "
                                      f"not {self.usd_per_t_metal:g}")


class CountryTagRow(Row):
    country: Text
    tag: Literal[TAGS]
    since: OptionalPartialDate


SANCTION_TAGS = ("embargoed", "sanctioned_planning")
"""``embargoed``: a comprehensive U.S. purchase (import) ban; ``sanctioned_planning``: a U.S.
sanctions program that is not a purchase ban, which the baseline avoids as a planning choice."""


class SanctionRow(Row):
    """One U.S. sanctions program on a country: its legal citation, when it took effect (and was
    lifted), whether it bans purchases outright, and the country tag it gives while in force."""

    country: Text
    program: Identifier
    tag: Literal[SANCTION_TAGS]
    citation: Text
    effective_date: PartialDate
    end_date: OptionalPartialDate
    purchase_ban: Literal["yes", "no"]

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from super().problems()
        if (self.purchase_ban == "yes") != (self.tag == "embargoed"):
            yield "tag", ("a comprehensive purchase ban (purchase_ban yes) is tagged embargoed, and only it"
                          f"; found purchase_ban {self.purchase_ban} with tag {self.tag}")
        if self.purchase_ban == "no" and "not a purchase ban" not in self.note and "lifted" not in self.note:
            yield "note", "a program that is not a purchase ban says so in its note ('not a purchase ban')"
        if self.end_date and _check_date(self.end_date) < self.effective_date:
            yield "end_date", f"{self.end_date} is before the effective date {self.effective_date}"


class RecyclingRow(ParameterRow):
    UNITS = {"feedstock_t_per_fy": "t", "recovery_yield": "fraction", "cost_usd_per_t": "usd_per_t",
             "nds_share": "fraction"}

    stream: Identifier
    material: Text
    parameter: Literal[tuple(UNITS)]


class ProjectRow(ParameterRow):
    UNITS = {"first_fy": "FY", "capacity_t_per_fy": "t", "lead_time_years": "years", "price_premium": "fraction",
             "nds_share": "fraction"}

    project: Text
    material: Text
    country: Text
    kind: Literal["domestic", "partner_project"]
    parameter: Literal[tuple(UNITS)]


class AssumptionRow(ParameterRow):
    UNITS = {"opening_inventory_t": "t", "goal_t": "t", "storage_loss_rate": "fraction_per_fy",
             "import_share_of_output": "fraction", "lead_time_years": "years", "partner_price_premium": "fraction",
             "domestic_price_premium": "fraction", "holding_cost_usd_per_t_fy": "usd_per_t_fy"}
    PER_MATERIAL: ClassVar[tuple[str, ...]] = ("opening_inventory_t", "goal_t", "storage_loss_rate")
    PARAMETER_COLUMN = "key"

    key: Literal[tuple(UNITS)]
    material: OptionalText  # empty: applies to every material without a row of its own

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from super().problems()
        if self.status not in NEEDS_NOTE:
            yield "status", f"an assumption's status is 'assumption' or 'inferred', not {self.status!r}"
        if self.key in self.PER_MATERIAL and not self.material:
            yield "material", f"{self.key} is set per material"

    @classmethod
    def file_problems(cls, rows: list[Row], materials: tuple[str, ...]) -> Iterator[str]:
        # A material without a goal or opening inventory would silently plan from zero.
        present = {(r.key, r.material) for r in rows}
        for key, material in _missing(itertools.product(cls.PER_MATERIAL, materials), present):
            yield f"{key} is missing for material {material}"


class FundRow(Row):
    key: Identifier
    date_or_fy: DateOrFY
    value: NonNegative
    unit: Literal["usd"]


class EventRow(Row):
    event: Identifier
    date: PartialDate
    material: Text
    country: OptionalText  # empty: the event is not tied to one country
    description: Text


class AmpRow(Row):
    """One material's line of an Annual Materials Plan (data/amp.csv): the most DLA may acquire
    in that FY. ``tonnes`` is empty where the AMP lists the material as "not available" (no
    quantity: no ceiling, not a ceiling of zero)."""

    material: Text
    fy: Year
    action: Literal["acquisition"]
    tonnes: Withholdable
    unit: Literal["t"]

    def problems(self) -> Iterator[tuple[str, str]]:
        # The base rule (empty only when withheld) does not fit an AMP: this one replaces it.
        yield from ((column, reason) for column, reason in super().problems() if column != "tonnes")
        if self.tonnes is None and "not available" not in self.note.lower():
            yield "tonnes", "is empty; an AMP line may be empty only when the note says 'not available'"


class RefiningRow(Row):
    """One stage of a supply chain past the mine (data/refining.csv).

    ``basis = refinery``: metal refined in ``refiner`` from ore mined in ``origin`` (empty when the
    refinery's feed is not public) that the NDS can buy as its own import option; ``value`` is
    the tonnes per year the option's capacity is a share of (the refiner's capacity or output, or
    U.S. imports from it), in ``unit`` t. ``basis = route``: the ore mined in ``origin`` is mostly
    refined in ``refiner``, so the origin's mine-country import option is refined there;
    ``value`` is the share of the origin's ore (or of the world's refining) that route carries,
    in ``unit`` fraction.
    """

    UNITS: ClassVar[dict[str, str]] = {"refinery": "t", "route": "fraction"}

    material: Text
    origin: OptionalText
    refiner: Text
    basis: Literal["refinery", "route"]
    year: Year
    value: NonNegative
    unit: Literal["t", "fraction"]

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from super().problems()
        if self.unit != self.UNITS[self.basis]:
            yield "unit", f"a {self.basis} row is in {self.UNITS[self.basis]}, not {self.unit}"
        if self.basis == "route" and not self.origin:
            yield "origin", "a route names the origin whose ore it carries"
        if self.basis == "route" and self.value > 1:
            yield "value", "a route's share is a fraction in [0, 1]"
        if self.origin == self.refiner:
            yield "refiner", "the refiner is the origin: that is the mine-country import option itself"
