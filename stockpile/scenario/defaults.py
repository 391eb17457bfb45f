"""Scenario defaults built from the baseline data in ``data/`` (the ``[data]`` section).

A scenario may ask for its countries, materials, imports, projects, recycling streams and Fund
figures to come from the data files instead of listing them::

    [data]
    countries = true                       # policy tags in force at the horizon's start
    materials = ["Sb", "Co", "Li", "W"]     # name, opening inventory, goal, storage loss
    amp = true                             # Annual Materials Plan ceilings (data/amp.csv)
    goal_reached_fy = 2033                 # goal ramps from the opening stock to the full goal
    imports = { share_of_output = 0.05 }   # every producing country, capacity = share x output
    projects = true                        # known projects (data/projects.csv)
    recycling = true                       # recycling streams (data/recycling.csv)
    fund = true                            # opening balance, collections, operating and holding costs
    fund = { actuals = true }              # ... and each FY's actual flows where the books have them

The generated entries are a base the scenario's own keys override (the same rules as
``extends``), and every figure generated is recorded with its source and status, so the workbook
shows where each number came from.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import pandas as pd
from pydantic import Field, ValidationError

from stockpile.errors import InputError
from stockpile.scenario.data import BaselineData, load_data
from stockpile.scenario.data_rows import AGGREGATES
from stockpile.scenario.keypaths import validation_errors
from stockpile.scenario.merge import merge_overrides
from stockpile.scenario.schema import FiscalYear, Strict
from stockpile.scenario.series import MAX_FY, MIN_FY

Share = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=1)]

PROVENANCE_COLUMNS = ["what", "value", "unit", "source", "status", "note", "file", "line"]


class ImportDefaults(Strict):
    share_of_output: Share | None = None
    """Share of a country's mine output the NDS can buy in one FY (default: data assumption)."""
    year: Annotated[int, Field(strict=True, ge=2000, le=2100)] = 2024
    lead_time: Annotated[int, Field(strict=True, ge=0, le=20)] | None = None
    exclude: tuple[str, ...] = ()


class FundDefaults(Strict):
    actuals: bool = False
    """Each FY of the horizon for which data/fund.csv has the /X account's year-end books
    (``x_new_resources`` and ``x_obligations``) takes them as its other revenue and committed
    payments, with no operating cost (the obligations include it): a backtest."""


class DataDefaults(Strict):
    countries: bool = False
    materials: tuple[str, ...] = ()
    amp: bool = False
    """Each material's Annual Materials Plan ceilings (data/amp.csv) as ``amp_limit``."""
    goal_reached_fy: FiscalYear | None = None
    imports: ImportDefaults | None = None
    projects: bool = False
    recycling: bool = False
    fund: bool | FundDefaults = False
    price_year: Annotated[int, Field(strict=True, ge=2000, le=2100)] = 2024


class _Recorder:
    """Collects one provenance row per generated figure."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def data(self, what: str, value: Any, unit: str, row: pd.Series, file: str) -> Any:
        self.rows.append(dict(what=what, value=value, unit=unit, source=row["source"], status=row["status"],
                              note=row["note"], file=file, line=int(row.name)))
        return value

    def inferred(self, what: str, value: Any, unit: str, arithmetic: str) -> Any:
        self.rows.append(dict(what=what, value=value, unit=unit, source="computed by stockpile from data/",
                              status="inferred", note=arithmetic, file="", line=None))
        return value

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=PROVENANCE_COLUMNS)


def expand_data_defaults(raw: dict, source: Any, data: BaselineData | None = None) -> tuple[dict, pd.DataFrame | None]:
    """The scenario with its ``[data]`` section replaced by the entries it asks for."""
    if "data" not in raw:
        return raw, None
    spec_raw = raw["data"]
    try:
        spec = DataDefaults.model_validate(spec_raw)
    except ValidationError as exc:
        raise validation_errors(exc, source, spec_raw, prefix="data.") from None
    data = data or load_data()
    horizon = raw.get("horizon", {})
    first_fy = horizon.get("first_fy") if isinstance(horizon, dict) else None
    if not isinstance(first_fy, int) or isinstance(first_fy, bool):
        raise InputError(source, "horizon.first_fy", "required when [data] builds defaults")
    if not MIN_FY <= first_fy <= MAX_FY:
        raise InputError(source, "horizon.first_fy", f"FY{first_fy} is outside {MIN_FY}..{MAX_FY}")
    record = _Recorder()
    base: dict[str, Any] = {}
    known_materials = set(data.materials["material"])
    for i, code in enumerate(spec.materials, start=1):
        if code not in known_materials:
            raise InputError(source, f"data.materials[{i}]", f"no material {code!r} in data/materials.csv "
                                                            f"(known: {', '.join(sorted(known_materials))})")
    if spec.countries or spec.imports or spec.projects or spec.recycling:
        base["countries"] = _countries(data, first_fy, record)
    if spec.materials:
        base["materials"] = {code: _material(data, code, first_fy, spec.goal_reached_fy, record)
                             for code in spec.materials}
    materials = spec.materials or tuple(sorted(raw.get("materials", {})))
    if spec.amp:
        last_fy = _last_fy(horizon, first_fy, source, "data.amp applies AMP ceilings")
        for code in materials:
            limit = _amp_limit(data, code, first_fy, last_fy, record)
            if limit is not None:
                base.setdefault("materials", {}).setdefault(code, {})["amp_limit"] = limit
    supply: list[dict] = []
    if spec.imports is not None:
        supply += _imports(data, spec.imports, materials, spec.price_year, source, record)
    if spec.projects:
        supply += _projects(data, materials, spec.price_year, record)
    if supply:
        base["supply"] = supply
    if spec.recycling:
        base["recycling"] = _recycling(data, materials, record)
    if spec.fund:
        actuals = isinstance(spec.fund, FundDefaults) and spec.fund.actuals
        last_fy = _last_fy(horizon, first_fy, source, "[data] fund takes the actual flows") if actuals else None
        base["fund"] = _fund(data, first_fy, last_fy, source, record)
    own = {key: value for key, value in raw.items() if key != "data"}
    provenance = record.frame()
    provenance.attrs["data_sha256"] = data.sha256
    return merge_overrides(base, own), provenance


def _countries(data: BaselineData, first_fy: int, record: _Recorder) -> dict[str, list[str]]:
    """Every country in the data with the tags in force on the first day of the horizon: policy
    tags (country_tags.csv) and the tags of U.S. sanctions programs (sanctions.csv: ``embargoed``
    for a comprehensive purchase ban, ``sanctioned_planning`` for other programs)."""
    horizon_start = dt.date(first_fy - 1, 10, 1)
    tags: dict[str, list[str]] = {country: [] for country in sorted(data.countries["country"])}
    for _, row in data.country_tags.sort_values(["country", "tag"]).iterrows():
        since = _parse_since(row["since"])
        if since is None or since <= horizon_start:
            tags[row["country"]].append(row["tag"])
            record.data(f"countries.{row['country']} tag {row['tag']}", row["tag"], "tag", row, "country_tags.csv")
    for _, row in data.sanctions.sort_values(["country", "program"]).iterrows():
        since, until = _parse_since(row["effective_date"]), _parse_since(row["end_date"])
        in_force = since <= horizon_start and (until is None or until > horizon_start)
        if in_force and row["tag"] not in tags[row["country"]]:
            tags[row["country"]].append(row["tag"])
            record.data(f"countries.{row['country']} tag {row['tag']} ({row['citation']})", row["tag"], "tag", row,
                        "sanctions.csv")
    tags.setdefault("United States", [])
    if "domestic" not in tags["United States"]:
        tags["United States"].append("domestic")
    return tags


def _parse_since(value: Any) -> dt.date | None:
    text = str(value or "").strip()
    if not text:
        return None
    parts = [int(p) for p in text.split("-")]
    return dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def _assumption_row(data: BaselineData, key: str, material: str | None = None) -> pd.Series:
    table = data.assumptions
    for scope in ([material, ""] if material else [""]):
        match = table[(table["key"] == key) & (table["material"] == scope)]
        if not match.empty:
            return match.iloc[0]
    raise KeyError(f"data/assumptions.csv has no {key!r}" + (f" for {material}" if material else ""))


def _material(data: BaselineData, code: str, first_fy: int, goal_reached_fy: int | None,
              record: _Recorder) -> dict[str, Any]:
    row = data.materials[data.materials["material"] == code].iloc[0]
    opening_row = _assumption_row(data, "opening_inventory_t", code)
    goal_row = _assumption_row(data, "goal_t", code)
    loss_row = _assumption_row(data, "storage_loss_rate", code)
    where = f"materials.{code}"
    opening = record.data(f"{where}.opening_inventory", float(opening_row["value"]), "t", opening_row, "assumptions.csv")
    goal = record.data(f"{where}.goal", float(goal_row["value"]), "t", goal_row, "assumptions.csv")
    material = {
        "name": record.data(f"{where}.name", str(row["name"]).capitalize(), "", row, "materials.csv"),
        "unit": row["unit"],
        "opening_inventory": opening,
        "goal": goal,
        "loss_rate": record.data(f"{where}.loss_rate", float(loss_row["value"]), "per FY", loss_row, "assumptions.csv"),
    }
    if goal_reached_fy is not None and goal_reached_fy > first_fy and opening < goal:
        material["goal"] = {"ramp": {str(first_fy): opening, str(goal_reached_fy): goal}}
        record.inferred(f"{where}.goal", f"ramp {opening:,.0f} t (FY{first_fy}) to {goal:,.0f} t (FY{goal_reached_fy})",
                        "t", f"the scenario's data.goal_reached_fy = {goal_reached_fy}: the goal rises linearly "
                             f"from the opening inventory to the full goal, then holds")
    return material


def _amp_limit(data: BaselineData, code: str, first_fy: int, last_fy: int,
               record: _Recorder) -> dict[str, float] | None:
    """The material's AMP ceilings (data/amp.csv) as a step table over the horizon, or None.

    An AMP is per FY: the table holds the published ceilings of the FYs from the horizon's first
    on, as long as each has one, and the last of them is carried forward (planning assumption: a
    ceiling holds until a later AMP replaces it). No AMP for the first FY, or a line listed as
    "not available" (no quantity), gives no ceiling: an AMP that does not list a material is not
    a ceiling of zero.
    """
    table = data.amp
    rows = table[(table["material"] == code) & (table["action"] == "acquisition") & table["tonnes"].notna()]
    by_fy = {int(row["fy"]): row for _, row in rows.iterrows()}
    limit: dict[str, float] = {}
    fy = first_fy
    while fy <= last_fy and fy in by_fy:
        row = by_fy[fy]
        limit[str(fy)] = record.data(f"materials.{code}.amp_limit.{fy}", float(row["tonnes"]), "t/FY", row,
                                     "amp.csv")
        fy += 1
    if not limit:
        return None
    if fy <= last_fy:
        record.inferred(f"materials.{code}.amp_limit", f"FY{fy - 1} ceiling carried to FY{last_fy}", "t/FY",
                        f"no AMP after FY{fy - 1} in data/amp.csv: the last published ceiling holds until a "
                        f"later AMP replaces it (planning assumption)")
    return limit


def _market_price(data: BaselineData, code: str, year: int, record: _Recorder, what: str) -> float:
    """The material's price of ``year`` in data/prices.csv, or its latest price before that year
    when there is none (recorded as such: lithium has no 2025 quote)."""
    table = data.prices
    match = table[(table["material"] == code) & (table["year"] <= year)].sort_values("year")
    if match.empty:
        raise KeyError(f"data/prices.csv has no {code} price for {year} or before")
    row = match.iloc[-1]
    if int(row["year"]) != year:
        what = f"{what} (no {year} price: the {int(row['year'])} one, the latest in prices.csv)"
    return record.data(what, float(row["usd_per_t_metal"]), "$/t", row, "prices.csv")


def _material_name(data: BaselineData, code: str) -> str:
    return str(data.materials.loc[data.materials["material"] == code, "name"].iloc[0])


def _imports(data: BaselineData, spec: ImportDefaults, materials: tuple[str, ...], price_year: int,
             source: Any, record: _Recorder) -> list[dict]:
    """One import option per producing country (capacity = share x that country's mine output,
    refined where data/refining.csv routes most of its ore), and one per refinery of
    data/refining.csv (capacity = share x the refinery's tonnes)."""
    share_row = _assumption_row(data, "import_share_of_output")
    lead_row = _assumption_row(data, "lead_time_years")
    share = spec.share_of_output
    if share is None:
        share = record.data("imports: share of a country's output per FY", float(share_row["value"]),
                            "fraction", share_row, "assumptions.csv")
    lead = spec.lead_time if spec.lead_time is not None else int(record.data(
        "imports: lead time", float(lead_row["value"]), "FY", lead_row, "assumptions.csv"))
    options = []
    routes = _routes(data)
    for code in materials:
        name = _material_name(data, code)
        price = _market_price(data, code, price_year, record, f"{code} market price {price_year}")
        table = data.mine_production
        rows = table[(table["material"] == code) & (table["year"] == spec.year)
                     & ~table["country"].isin(AGGREGATES) & table["tonnes"].notna()]
        for _, row in rows.sort_values("country").iterrows():
            country = row["country"]
            if country in spec.exclude or country == "United States" or float(row["tonnes"]) <= 0:
                continue
            option = f"{country} {name} import"
            output = record.data(f"supply '{option}' basis: {country} {spec.year} mine output",
                                 float(row["tonnes"]), "t", row, "mine_production.csv")
            capacity = record.inferred(f"supply '{option}' capacity", share * output, "t/FY",
                                       f"{share:g} x {output:,.0f} t = {share * output:,.1f} t")
            entry = dict(name=option, material=code, kind="import", country=country, capacity=capacity,
                         price=price, lead_time=lead)
            route = _route(routes.get((code, country), []), record, option)
            if route is not None:
                entry["refiner"] = route
            options.append(entry)
        options += _refined_imports(data, code, name, share, price, lead, spec.exclude, record)
    return options


ROUTE_MAJORITY = 0.5
"""A mine country's ore is taken as refined where data/refining.csv routes more than this share of it."""


def _routes(data: BaselineData) -> dict[tuple[str, str], list]:
    """data/refining.csv's ``route`` rows by (material, origin), each list largest share first
    (ties by refiner): grouped in one pass, not filtered again for every import option."""
    table = data.refining
    rows = table[table["basis"] == "route"].sort_values(["value", "refiner"], ascending=[False, True])
    grouped: dict[tuple[str, str], list] = {}
    for _, row in rows.iterrows():
        grouped.setdefault((row["material"], row["origin"]), []).append(row)
    return grouped


def _route(rows: list, record: _Recorder, option: str) -> str | None:
    """The refining country of a mine country's ore (its data/refining.csv ``route`` rows, from
    :func:`_routes`), or None when no route carries most of it (the ore is then taken as refined
    where it is mined)."""
    for row in rows:
        if float(row["value"]) > ROUTE_MAJORITY:
            record.data(f"supply '{option}' refiner: {row['refiner']} (share {float(row['value']):g})",
                        float(row["value"]), "fraction", row, "refining.csv")
            return str(row["refiner"])
    return None


def _refined_imports(data: BaselineData, code: str, name: str, share: float, price: float, lead: int,
                     exclude: tuple[str, ...], record: _Recorder) -> list[dict]:
    """One import option per refinery row of data/refining.csv: metal refined in ``refiner`` from
    ``origin`` ore (the refiner at both stages when the origin is not public), capacity = share x
    the row's tonnes, at the market price."""
    table = data.refining
    rows = table[(table["material"] == code) & (table["basis"] == "refinery")]
    options = []
    for _, row in rows.sort_values(["refiner", "origin"]).iterrows():
        refiner, origin = str(row["refiner"]), str(row["origin"] or "")
        if refiner in exclude or origin in exclude:
            continue
        option = f"{refiner}-refined {name}" + (f" from {origin}" if origin else "")
        basis = record.data(f"supply '{option}' basis: {refiner} {int(row['year'])} refinery tonnes",
                            float(row["value"]), "t", row, "refining.csv")
        capacity = record.inferred(f"supply '{option}' capacity", share * basis, "t/FY",
                                   f"{share:g} x {basis:,.1f} t = {share * basis:,.1f} t")
        entry = dict(name=option, material=code, kind="import", country=origin or refiner, capacity=capacity,
                     price=price, lead_time=lead)
        if origin:
            entry["refiner"] = refiner
        options.append(entry)
    return options


def _project_parameters(data: BaselineData, project: str) -> dict[str, pd.Series]:
    rows = data.projects[data.projects["project"] == project]
    return {row["parameter"]: row for _, row in rows.iterrows()}


def _projects(data: BaselineData, materials: tuple[str, ...], price_year: int, record: _Recorder) -> list[dict]:
    """Known projects: capacity = the NDS's share of output, price = market x (1 + premium)."""
    options = []
    table = data.projects
    for project in sorted(set(table.loc[table["material"].isin(materials), "project"])):
        params = _project_parameters(data, project)
        first = next(iter(params.values()))
        code = first["material"]
        what = f"supply '{project}'"
        output = record.data(f"{what} output", float(params["capacity_t_per_fy"]["value"]), "t/FY",
                             params["capacity_t_per_fy"], "projects.csv")
        share = record.data(f"{what} NDS share", float(params["nds_share"]["value"]), "fraction",
                            params["nds_share"], "projects.csv")
        premium = record.data(f"{what} price premium", float(params["price_premium"]["value"]), "fraction",
                              params["price_premium"], "projects.csv")
        market = _market_price(data, code, price_year, record, f"{code} market price {price_year}")
        option = dict(
            name=project, material=code, kind=first["kind"], country=first["country"],
            capacity=record.inferred(f"{what} capacity", share * output, "t/FY",
                                     f"{share:g} x {output:,.0f} t = {share * output:,.1f} t"),
            price=record.inferred(f"{what} price", market * (1 + premium), "$/t",
                                  f"{market:,.0f} $/t x (1 + {premium:g}) = {market * (1 + premium):,.0f} $/t"),
            lead_time=int(record.data(f"{what} lead time", float(params["lead_time_years"]["value"]), "FY",
                                      params["lead_time_years"], "projects.csv")),
            first_fy=int(record.data(f"{what} first FY", float(params["first_fy"]["value"]), "FY",
                                     params["first_fy"], "projects.csv")),
        )
        options.append(option)
    return options


def _recycling(data: BaselineData, materials: tuple[str, ...], record: _Recorder) -> list[dict]:
    """Recycling streams: feedstock = the NDS's share of the stream's contained metal."""
    streams = []
    table = data.recycling
    for stream in sorted(set(table.loc[table["material"].isin(materials), "stream"])):
        rows = {row["parameter"]: row for _, row in table[table["stream"] == stream].iterrows()}
        code = next(iter(rows.values()))["material"]
        what = f"recycling '{stream}'"
        feedstock = record.data(f"{what} stream", float(rows["feedstock_t_per_fy"]["value"]), "t/FY",
                                rows["feedstock_t_per_fy"], "recycling.csv")
        share = record.data(f"{what} NDS share", float(rows["nds_share"]["value"]), "fraction",
                            rows["nds_share"], "recycling.csv")
        streams.append(dict(
            name=stream, material=code, country="United States",
            feedstock=record.inferred(f"{what} feedstock", share * feedstock, "t/FY",
                                      f"{share:g} x {feedstock:,.0f} t = {share * feedstock:,.1f} t"),
            recovery_yield=record.data(f"{what} recovery yield", float(rows["recovery_yield"]["value"]), "fraction",
                                       rows["recovery_yield"], "recycling.csv"),
            cost=record.data(f"{what} cost", float(rows["cost_usd_per_t"]["value"]), "$/t",
                             rows["cost_usd_per_t"], "recycling.csv"),
        ))
    return streams


def _last_fy(horizon: Any, first_fy: int, source: Any, needed_when: str) -> int:
    """The horizon's last FY, for the defaults that span the horizon (AMP ceilings, actual flows)."""
    last_fy = horizon.get("last_fy") if isinstance(horizon, dict) else None
    if not isinstance(last_fy, int) or isinstance(last_fy, bool):
        raise InputError(source, "horizon.last_fy", f"required when {needed_when}")
    if not first_fy <= last_fy <= MAX_FY:
        raise InputError(source, "horizon.last_fy", f"FY{last_fy} is outside FY{first_fy}..{MAX_FY}")
    return last_fy


def _fund(data: BaselineData, first_fy: int, last_fy: int | None, source: Any, record: _Recorder) -> dict[str, Any]:
    """Opening balance: the latest unobligated balance on or before the horizon's first day;
    collections and operating cost: the planning rows, every FY. With ``last_fy`` (``actuals``),
    each FY of the horizon the books cover takes its actual new resources and obligations instead."""
    horizon_start = dt.date(first_fy - 1, 10, 1)
    table = data.fund
    balances = table[table["key"] == "unobligated_balance"].copy()
    balances["date"] = [_parse_since(value) for value in balances["date_or_fy"]]
    balances = balances[balances["date"] <= horizon_start].sort_values("date")
    if balances.empty:
        raise KeyError(f"data/fund.csv has no unobligated balance on or before {horizon_start}")
    balance = balances.iloc[-1]
    operating = table[table["key"] == "operating_cost_per_fy"].iloc[0]
    collections = table[table["key"] == "collections_per_fy"].iloc[0]
    holding = _assumption_row(data, "holding_cost_usd_per_t_fy")
    fund = {
        "opening_balance": record.data("fund.opening_balance", float(balance["value"]), "$", balance, "fund.csv"),
        "other_revenue": record.data("fund.other_revenue", float(collections["value"]), "$/FY", collections, "fund.csv"),
        "operating_cost": record.data("fund.operating_cost", float(operating["value"]), "$/FY", operating, "fund.csv"),
        "holding_cost": record.data("fund.holding_cost", float(holding["value"]), "$/t-FY", holding, "assumptions.csv"),
    }
    if last_fy is not None:
        fund.update(_actual_flows(data, first_fy, last_fy, fund, source, record))
    return fund


def _by_fy(table: pd.DataFrame, key: str) -> dict[int, pd.Series]:
    rows = table[table["key"] == key]
    return {int(row["date_or_fy"][2:]): row for _, row in rows.iterrows() if row["date_or_fy"].startswith("FY")}


def _actual_flows(data: BaselineData, first_fy: int, last_fy: int, planned: dict[str, Any], source: Any,
                  record: _Recorder) -> dict[str, Any]:
    """Per FY of the horizon: the /X account's actual new resources (other revenue) and
    obligations (committed payments, operating cost 0) where data/fund.csv has both, the planning
    rows elsewhere."""
    resources, obligations = _by_fy(data.fund, "x_new_resources"), _by_fy(data.fund, "x_obligations")
    booked = sorted(set(resources) & set(obligations))
    fys = [fy for fy in range(first_fy, last_fy + 1) if fy in resources and fy in obligations]
    if not fys:
        raise InputError(source, "data.fund.actuals", f"data/fund.csv has no actual flows for FY{first_fy}-FY{last_fy} "
                                                      f"(it has FY{booked[0]}-FY{booked[-1]})" if booked else
                                                      "data/fund.csv has no actual flows (x_new_resources, x_obligations)")
    revenue, operating, committed = {}, {}, {}
    for fy in range(first_fy, last_fy + 1):
        if fy in fys:
            revenue[str(fy)] = record.data(f"fund.other_revenue FY{fy} (actual new resources)",
                                           float(resources[fy]["value"]), "$", resources[fy], "fund.csv")
            committed[str(fy)] = record.data(f"fund.committed_payments FY{fy} (actual obligations)",
                                             float(obligations[fy]["value"]), "$", obligations[fy], "fund.csv")
            operating[str(fy)] = 0.0
        else:
            revenue[str(fy)], operating[str(fy)] = planned["other_revenue"], planned["operating_cost"]
    return {"other_revenue": revenue, "operating_cost": operating, "committed_payments": committed}
