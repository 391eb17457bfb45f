"""Baseline data: read, strictly validate and query the CSV files in ``data/``.

Every file is a tidy CSV whose rows carry their provenance (``source``, ``status``, ``note``).
Each file is described once, by a pydantic row model (its columns, types and ranges) and a
:class:`FileSpec` (its key and which columns are figures); one generic reader applies them.
Any problem is raised as :class:`~stockpile.errors.InputError` naming the file, the line
(the header is line 1) and the column, so a planner can fix the CSV without reading code.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, ClassVar, Literal

import pandas as pd
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError

from stockpile.errors import InputError, InputErrors

__all__ = ["BaselineData", "load_data", "DEFAULT_DATA_DIR", "DATA_DIR_ENV"]

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DATA_DIR_ENV = "STOCKPILE_DATA_DIR"

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
        for material, year in years:
            if (material, year) not in totals:
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
        for key in cls.PER_MATERIAL:
            for material in materials:
                if (key, material) not in present:
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


# --- file specs -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileSpec:
    """How to read one data file: its row model, its key, and its figures."""

    row: type[Row]
    key: tuple[str, ...]
    # figure column -> (label, unit); a unit starting with "@" names the column holding it.
    figures: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Whether "Other countries" and "World total" are valid in the country column.
    aggregates: bool = False

    @property
    def columns(self) -> list[str]:
        names = list(self.row.model_fields)
        return [c for c in names if c not in PROVENANCE] + list(PROVENANCE)


# materials.csv and countries.csv come first: every other file is checked against them.
FILES: dict[str, FileSpec] = {
    "materials": FileSpec(MaterialRow, ("material",)),
    "countries": FileSpec(CountryRow, ("country",)),
    "mine_production": FileSpec(MineProductionRow, ("material", "country", "year"),
                                {"tonnes": ("mine production", "t")}, aggregates=True),
    "reserves": FileSpec(ReserveRow, ("material", "country"), {"tonnes": ("reserves", "t")}, aggregates=True),
    "us_salient": FileSpec(SalientRow, ("material", "year", "statistic"), {"value": ("", "@unit")}),
    "prices": FileSpec(PriceRow, ("material", "year"), {"quoted_value": ("price as quoted", "@quoted_unit"),
                                                       "usd_per_t_metal": ("price per t metal", "usd_per_t")}),
    "country_tags": FileSpec(CountryTagRow, ("country", "tag")),
    "recycling": FileSpec(RecyclingRow, ("stream", "material", "parameter"), {"value": ("", "@unit")}),
    "projects": FileSpec(ProjectRow, ("project", "parameter"), {"value": ("", "@unit")}),
    "assumptions": FileSpec(AssumptionRow, ("key", "material"), {"value": ("", "@unit")}),
    "fund": FileSpec(FundRow, ("key", "date_or_fy"), {"value": ("", "@unit")}),
    "events": FileSpec(EventRow, ("event",)),
}


# --- the generic reader ---------------------------------------------------------------------------

def _where(line: int, column: str | None = None) -> str:
    return f"line {line}, column {column}" if column else f"line {line}"


def _records(path: Path, content: bytes) -> Iterator[tuple[int, list[str]]]:
    """CSV records with the line each starts on (quoted cells may span lines)."""
    try:
        text = content.decode("utf-8-sig")  # tolerate the BOM spreadsheet programs write
    except UnicodeDecodeError as exc:
        raise InputError(path, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    next_line = 1
    try:
        for cells in reader:
            yield next_line, cells
            next_line = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(path, _where(next_line), f"malformed CSV: {exc}") from None


def _read_csv(path: Path, content: bytes, spec: FileSpec, materials: tuple[str, ...],
              countries: frozenset[str]) -> pd.DataFrame:
    records = _records(path, content)
    header = next(records, (1, []))[1]
    expected = spec.columns
    errors = [InputError(path, _where(1, c), "missing column") for c in expected if c not in header]
    errors += [InputError(path, _where(1, c or "(blank)"), f"unknown column; expected {', '.join(expected)}")
               for c in header if c not in expected]
    errors += [InputError(path, _where(1, c), "duplicate column") for c in sorted(set(header)) if header.count(c) > 1]
    if errors:
        raise InputErrors(errors) if len(errors) > 1 else errors[0]

    rows: list[Row] = []
    lines: list[int] = []
    first_seen: dict[tuple, int] = {}
    for line, cells in records:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, and the all-comma lines spreadsheets append
        if len(cells) != len(header):
            errors.append(InputError(path, _where(line), f"has {len(cells)} cells, the header has {len(header)}"))
            continue
        raw = dict(zip(header, cells))
        try:
            row = spec.row.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                column = str(err["loc"][0]) if err["loc"] else None
                reason = "must not be empty" if err["type"] == "string_too_short" else err["msg"]
                shown = f" (found {raw[column]!r})" if column in raw and raw[column].strip() else ""
                errors.append(InputError(path, _where(line, column), reason + shown))
            continue
        problems = list(row.problems())
        problems += _reference_problems(row, spec, materials, countries)
        key = tuple(getattr(row, c) for c in spec.key)
        if key in first_seen:
            problems.append((spec.key[-1], f"duplicate key {key}, first on line {first_seen[key]}"))
        first_seen.setdefault(key, line)
        errors += [InputError(path, _where(line, column), reason) for column, reason in problems]
        rows.append(row)
        lines.append(line)
    if not errors:
        errors += [InputError(path, None, reason) for reason in spec.row.file_problems(rows, materials)]
    if errors:
        raise InputErrors(errors) if len(errors) > 1 else errors[0]

    frame = pd.DataFrame([row.model_dump() for row in rows], columns=expected,
                         index=pd.Index(lines, name="line", dtype="int64"))
    return frame.astype({column: "float64" for column in spec.figures})


def _reference_problems(row: Row, spec: FileSpec, materials: tuple[str, ...],
                        countries: frozenset[str]) -> Iterator[tuple[str, str]]:
    """Material codes and country names must be those of materials.csv and countries.csv."""
    material = getattr(row, "material", "")
    if material and spec.row is not MaterialRow and material not in materials:
        yield "material", f"unknown material {material!r}; materials.csv lists {', '.join(materials)}"
    country = getattr(row, "country", "")
    allowed = countries | set(AGGREGATES) if spec.aggregates else countries
    if country and spec.row is not CountryRow and country not in allowed:
        yield "country", f"unknown country {country!r}; add it to countries.csv or use its canonical spelling"


# --- the loaded data --------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class BaselineData:
    """All baseline tables, validated; each DataFrame is indexed by the CSV line of its row."""

    data_dir: Path
    sha256: str  # of every data file's bytes, in sorted file-name order
    materials: pd.DataFrame
    countries: pd.DataFrame
    mine_production: pd.DataFrame
    reserves: pd.DataFrame
    us_salient: pd.DataFrame
    prices: pd.DataFrame
    country_tags: pd.DataFrame
    recycling: pd.DataFrame
    projects: pd.DataFrame
    assumptions: pd.DataFrame
    fund: pd.DataFrame
    events: pd.DataFrame

    def _production_rows(self, material: str, year: int) -> pd.DataFrame:
        table = self.mine_production
        rows = table[(table["material"] == material) & (table["year"] == year)]
        if rows.empty:
            raise KeyError(f"no mine production for material {material!r} in {year}")
        return rows

    def production(self, material: str, year: int = 2024) -> dict[str, float]:
        """Mine output by country, sorted by name; aggregates and withheld figures left out."""
        rows = self._production_rows(material, year)
        producers = rows[~rows["country"].isin(AGGREGATES) & rows["tonnes"].notna()]
        return dict(sorted(zip(producers["country"], producers["tonnes"].astype(float))))

    def world_total(self, material: str, year: int = 2024) -> float:
        rows = self._production_rows(material, year)
        return float(rows.loc[rows["country"] == WORLD_TOTAL, "tonnes"].iloc[0])

    def leading_producer_share(self, material: str, year: int = 2024) -> tuple[str, float]:
        """The largest producer and its share of the USGS World total (ties go to the first name)."""
        by_country = self.production(material, year)
        leader = max(by_country, key=lambda country: by_country[country])  # dict is name-sorted
        return leader, by_country[leader] / self.world_total(material, year)

    def tags_of(self, country: str) -> tuple[str, ...]:
        if country not in set(self.countries["country"]):
            raise KeyError(f"unknown country {country!r}")
        tags = self.country_tags
        return tuple(sorted(tags.loc[tags["country"] == country, "tag"]))

    def countries_with_tag(self, tag: str) -> tuple[str, ...]:
        if tag not in TAGS:
            raise KeyError(f"unknown tag {tag!r}; tags are {', '.join(TAGS)}")
        tags = self.country_tags
        return tuple(sorted(tags.loc[tags["tag"] == tag, "country"]))

    def assumption(self, key: str, material: str | None = None) -> float:
        """A planning assumption, the material's own row first, else the row for every material."""
        table = self.assumptions
        for scope in ([material, ""] if material else [""]):
            match = table[(table["key"] == key) & (table["material"] == scope)]
            if not match.empty:
                return float(match["value"].iloc[0])
        raise KeyError(f"no assumption {key!r}" + (f" for material {material!r}" if material else ""))

    def provenance(self) -> pd.DataFrame:
        """Every figure (and every fact of the figure-less files) with its file, line and source."""
        records = []
        for name in sorted(FILES):
            spec, table = FILES[name], getattr(self, name)
            for line, row in table.iterrows():
                key = " ".join(str(row[c]) for c in spec.key if str(row[c]))
                base = {"file": f"{name}.csv", "line": line, "source": row["source"], "status": row["status"],
                        "note": row["note"]}
                if not spec.figures:
                    facts = [f"{c}={row[c]}" for c in spec.columns if c not in spec.key + PROVENANCE and str(row[c])]
                    records.append(base | {"what": "; ".join([key, *facts]), "value": math.nan, "unit": ""})
                for column, (label, unit) in spec.figures.items():
                    records.append(base | {"what": " ".join(filter(None, [key, label])), "value": row[column],
                                           "unit": row[unit[1:]] if unit.startswith("@") else unit})
        columns = ["file", "line", "what", "value", "unit", "source", "status", "note"]
        return pd.DataFrame.from_records(records, columns=columns)


def load_data(data_dir: Path | None = None) -> BaselineData:
    """Read and validate every baseline file (default: $STOCKPILE_DATA_DIR, else the repo's data/)."""
    if data_dir is None:
        data_dir = Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise InputError(data_dir, None, "data directory not found")

    contents: dict[str, bytes] = {}
    for name in FILES:
        path = data_dir / f"{name}.csv"
        try:
            contents[name] = path.read_bytes()
        except FileNotFoundError:
            raise InputError(path, None, "data file not found") from None

    tables: dict[str, pd.DataFrame] = {}
    materials: tuple[str, ...] = ()
    countries: frozenset[str] = frozenset()
    for name, spec in FILES.items():
        tables[name] = _read_csv(data_dir / f"{name}.csv", contents[name], spec, materials, countries)
        if name == "materials":
            materials = tuple(sorted(tables[name]["material"]))
        elif name == "countries":
            countries = frozenset(tables[name]["country"])

    digest = hashlib.sha256()
    for name in sorted(contents, key=lambda stem: f"{stem}.csv"):
        digest.update(contents[name])
    return BaselineData(data_dir=data_dir, sha256=digest.hexdigest(), **tables)
