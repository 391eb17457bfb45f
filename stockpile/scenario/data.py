"""Baseline data: read, strictly validate and query the CSV files in ``data/``.

Every file is a tidy CSV whose rows carry their provenance (``source``, ``status``, ``note``).
Each file is described once, by a pydantic row model (its columns, types and ranges, in
:mod:`stockpile.scenario.data_rows`) and a
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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from stockpile.scenario.limits import read_regular_file
from stockpile.errors import InputError, InputErrors
from stockpile.scenario.data_rows import (AGGREGATES, PROVENANCE, TAGS, WORLD_TOTAL, AmpRow, AssumptionRow, CountryRow,
                                          CountryTagRow, EventRow, FundRow, MaterialRow, MineProductionRow, PriceRow,
                                          ProjectRow, RecyclingRow, RefiningRow, ReserveRow, Row, SalientRow,
                                          SanctionRow)

__all__ = ["BaselineData", "load_data", "DEFAULT_DATA_DIR", "DATA_DIR_ENV"]

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DATA_DIR_ENV = "STOCKPILE_DATA_DIR"
MAX_DATA_FILE_BYTES = 5_000_000
"""A data CSV, bounded as scenario files are (the largest shipped one is 40 kB)."""


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
    "sanctions": FileSpec(SanctionRow, ("country", "program")),
    "recycling": FileSpec(RecyclingRow, ("stream", "material", "parameter"), {"value": ("", "@unit")}),
    "projects": FileSpec(ProjectRow, ("project", "parameter"), {"value": ("", "@unit")}),
    "assumptions": FileSpec(AssumptionRow, ("key", "material"), {"value": ("", "@unit")}),
    "fund": FileSpec(FundRow, ("key", "date_or_fy"), {"value": ("", "@unit")}),
    "events": FileSpec(EventRow, ("event",)),
    "refining": FileSpec(RefiningRow, ("material", "origin", "refiner", "basis"), {"value": ("", "@unit")}),
    "amp": FileSpec(AmpRow, ("material", "fy", "action"), {"tonnes": ("AMP potential acquisitions", "@unit")}),
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
    allowed = countries | set(AGGREGATES) if spec.aggregates else countries
    for column in ("country", "origin", "refiner"):
        country = getattr(row, column, "")
        if country and spec.row is not CountryRow and country not in allowed:
            yield column, f"unknown country {country!r}; add it to countries.csv or use its canonical spelling"


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
    sanctions: pd.DataFrame
    recycling: pd.DataFrame
    projects: pd.DataFrame
    assumptions: pd.DataFrame
    fund: pd.DataFrame
    events: pd.DataFrame
    refining: pd.DataFrame
    amp: pd.DataFrame

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
            contents[name] = read_regular_file(path, MAX_DATA_FILE_BYTES, "data files")
        except InputError as exc:
            if exc.reason == "file not found":
                raise InputError(path, None, "data file not found") from None
            raise

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
