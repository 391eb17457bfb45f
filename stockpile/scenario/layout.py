"""How a scenario is laid out in an input workbook, read off the pydantic schema.

The writer (:mod:`stockpile.outputs.template`) and the reader (:mod:`stockpile.scenario.workbook`)
share this layout, so a field added to :mod:`stockpile.scenario.schema` gets its column or row
in both without either being edited. Only the choice of sheets is written by hand
(:data:`SHEETS`); :func:`uncovered_fields` names any scenario field no sheet holds, and a test
keeps that list empty.

Two kinds of sheet:

* a **table** (Materials, Supply, ...): one row per entry of a list or table of the scenario,
  one column per field; a nested model's fields get dotted headers (``disposal.price``), a list
  of small models indexed ones (``tiers[2].factor``);
* **key rows** (About, Fund, Policy, ...): one row per field of a single section, its full key
  path (``fund.floor``) in the first column.

A per-FY value takes a *form* cell (a number: the same in every FY; ``step``: the FY cells are a
step table, each held until the next; ``ramp``: linear between the FY cells) and one cell per FY
of the horizon (headers ``capacity FY2029`` in tables, ``FY2029`` in key rows). A schedule
(pipeline, draw, fixed orders) has FY cells only; an empty cell is zero.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
import types
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from stockpile.scenario.schema import Scenario
from stockpile.scenario.series import Series

NONE_WORD = "(none)"
"""Written where a field that has a default is deliberately empty (a ban with no tag)."""
LIST_SEPARATOR = ","
FORMS = ("step", "ramp")
YES, NO = "yes", "no"
FY_HEADER = re.compile(r"^(?:(?P<field>.+?)\s+)?FY(?P<fy>\d{4})$", re.IGNORECASE)
INDEXED = re.compile(r"^(?P<name>\w+)\[(?P<index>\d+)\](?:\.(?P<sub>[\w.]+))?$")

UNITS = {
    "opening_inventory": "t", "goal": "t", "pipeline": "t delivered", "draw": "t released", "amp_limit": "t/FY",
    "capacity": "t/FY", "price": "$/t", "feedstock": "t/FY", "cost": "$/t", "fixed": "t ordered",
    "max_per_fy": "t/FY", "loss_rate": "fraction per FY", "recovery_yield": "fraction", "escalation": "per year",
    "opening_balance": "$", "floor": "$", "appropriation": "$/FY", "other_revenue": "$/FY",
    "operating_cost": "$/FY", "holding_cost": "$ per t-FY", "committed_payments": "$", "obligation_cap": "$/FY",
    "lead_time": "FYs", "first_fy": "FY", "last_fy": "FY", "from_fy": "FY", "to_fy": "FY", "decision_fy": "FY",
    "availability": "multiplier 0-1", "multiplier": "multiplier", "trusted_share": "fraction",
    "concentration_cap": "fraction", "refiner_cap": "fraction", "time_limit": "seconds", "up_to": "t/FY",
    "factor": "x unit price", "probability": "fraction", "discount_rate": "per year",
    "Event.price": "multiplier", "SampledDisruption.price": "multiplier range (low, high)",
    "SampledDisruption.availability": "multiplier range (low, high)",
}
"""Units shown in each header's comment; a field not listed shows its type and limits only."""

MEANINGS = {
    "name": "the name (a supply option's or stream's must be unique)",
    "material": "a material code (Materials sheet); bans, events and disruptions also take all",
    "country": "a country (Countries sheet); events also take all", "lead_time": "FYs from order to delivery",
    "tags": "the option's own policy tags (added to its country's)", "from_fy": "the first FY it applies",
    "to_fy": "the last FY it applies (blank: to the horizon's end)",
    "Material.goal": "the inventory to hold at the end of each FY",
    "Material.weight": "how much a tonne short of this material counts against readiness",
    "SupplyOption.capacity": "most that can be ordered per FY",
    "SupplyOption.price": "price per tonne (before escalation and events)",
    "RecyclingStream.feedstock": "contained metal in the waste stream per FY",
    "Event.availability": "share of the supply still available", "Event.price": "price multiplier",
}
"""A one-line meaning (by Model.field, else field) for fields without an attribute docstring."""

REFERENCE_LISTS = {"material": "materials", "country": "countries", "home_country": "countries",
                   "refiner": "countries", "tag": "tags"}
"""Fields whose value names something defined elsewhere in the scenario: their drop-down list."""


@dataclass(frozen=True)
class Entry:
    """One field of the schema as the workbook holds it.

    ``path`` is the field's key path below its model (``("disposal", "price")``); ``shape`` is
    ``value`` (one cell), ``names`` (a comma-separated list in one cell), ``pair`` (a fixed-length
    tuple: indexed cells), ``models`` (a list of small models: indexed groups of cells),
    ``per_fy``, ``schedule`` or ``dict`` (a table of per-FY values keyed by name, key rows only).
    """

    path: tuple[str, ...]
    shape: str
    base: Any = None
    choices: tuple[str, ...] = ()
    required: bool = False
    default: Any = None
    bounds: str = ""
    doc: str = ""
    parts: tuple[Entry, ...] = ()
    length: int = 0
    owner: str = ""
    """The model the field belongs to (units can differ by model: an event's price is a multiplier)."""

    @property
    def key(self) -> str:
        return ".".join(self.path)

    @property
    def name(self) -> str:
        return self.path[-1]

    @property
    def none_differs(self) -> bool:
        """Whether an empty value must be written as NONE_WORD (blank would mean the default)."""
        return not self.required and self.default is not None

    def help(self) -> str:
        """The header comment: unit, type and limits, and what the field means."""
        kind = {"per_fy": "per FY: a number, or step/ramp over the FY cells", "schedule": "amounts in single FYs",
                "names": "names separated by commas", "dict": "per FY, one row per name"}.get(self.shape, "")
        if self.shape == "value":
            kind = ("one of " + ", ".join(self.choices)) if self.choices else getattr(self.base, "__name__", "")
            kind = {"float": "number", "int": "whole number", "str": "text", "bool": "yes or no"}.get(kind, kind)
        unit = UNITS.get(f"{self.owner}.{self.name}", UNITS.get(self.name, ""))
        parts = [p for p in (unit, kind, self.bounds, "required" if self.required else "") if p]
        meaning = self.doc or MEANINGS.get(f"{self.owner}.{self.name}", MEANINGS.get(self.name, ""))
        return "; ".join(parts) + (f". {meaning[0].upper()}{meaning[1:]}" if meaning else "")


@dataclass(frozen=True)
class TableSheet:
    """A sheet of one row per entry of the list or table at ``path``; ``key`` heads the column of
    a table's keys (None for a list). ``group`` nests it one level: rows of
    ``<group>.<name>.<path>`` with the group's names in a ``group_key`` column."""

    title: str
    path: tuple[str, ...]
    key: str | None = None
    exclude: tuple[str, ...] = ()
    group: tuple[str, ...] = ()
    group_key: str | None = None
    value: str = "tags"
    """The one value column when ``item`` is None (a table of name lists, such as countries)."""


@dataclass(frozen=True)
class KeyRowsSheet:
    """A sheet of one row per field of the sections at ``paths`` (dotted keys from the top)."""

    title: str
    paths: tuple[tuple[str, ...], ...]
    exclude: tuple[str, ...] = ()
    """Full key paths held by another sheet."""


SHEETS: tuple[TableSheet | KeyRowsSheet, ...] = (
    KeyRowsSheet("About", ((),), exclude=("countries", "materials", "supply", "recycling", "fund", "policy",
                                          "events", "prices", "objective", "solver", "uncertainty")),
    TableSheet("Countries", ("countries",), key="country"),
    TableSheet("Materials", ("materials",), key="code"),
    TableSheet("Supply", ("supply",)),
    TableSheet("Recycling", ("recycling",)),
    KeyRowsSheet("Fund", (("fund",),)),
    KeyRowsSheet("Policy", (("policy",),), exclude=("policy.bans",)),
    TableSheet("Bans", ("policy", "bans")),
    TableSheet("Events", ("events",), key="id"),
    KeyRowsSheet("Prices", (("prices",),)),
    KeyRowsSheet("Objective and solver", (("objective",), ("solver",))),
    KeyRowsSheet("Uncertainty", (("uncertainty",),),
                 exclude=("uncertainty.futures", "uncertainty.sample.disruptions")),
    TableSheet("Futures", ("uncertainty", "futures"), key="future", exclude=("events",)),
    TableSheet("Future events", ("events",), key="id", group=("uncertainty", "futures"),
               group_key="future"),
    TableSheet("Disruptions", ("uncertainty", "sample", "disruptions")),
)
UNCERTAINTY_SHEETS = ("Uncertainty", "Futures", "Future events", "Disruptions")
"""Written only for a scenario with an [uncertainty] section."""
HELPER_SHEETS = ("Lists", "Sources")
"""Written for the planner (drop-down lists, data sources); the reader ignores them."""


# --- reading the schema ------------------------------------------------------------------------

def _unwrap(annotation: Any) -> tuple[Any, list[Any], bool]:
    """The type under Annotated and Optional, its metadata, and whether None is allowed."""
    metadata: list[Any] = []
    optional = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            metadata.extend(annotation.__metadata__)
            annotation = annotation.__origin__
            continue
        if origin in (Union, types.UnionType):
            args = get_args(annotation)
            rest = [a for a in args if a is not type(None)]
            if len(rest) < len(args) and len(rest) == 1:
                optional = True
                annotation = rest[0]
                continue
        return annotation, metadata, optional


def _series_shape(annotation: Any) -> str | None:
    if get_origin(annotation) not in (Union, types.UnionType):
        return None
    members = [_unwrap(a)[0] for a in get_args(annotation)]
    if Series not in members:
        return None
    return "schedule" if len(members) == 2 else "per_fy"


def _bounds_text(metadata: list[Any]) -> str:
    words = []
    for item in metadata:
        for constraint in (getattr(item, "metadata", None) or [item]):
            for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
                value = getattr(constraint, attr, None)
                if value is not None and not callable(value):
                    words.append(f"{sign} {value:g}")
    return ", ".join(dict.fromkeys(words))


def _number_bounds(annotation: Any) -> str:
    """The limits of a per-FY value's numbers (those of its scalar branch)."""
    for member in get_args(annotation):
        inner, metadata, _ = _unwrap(member)
        if inner is float:
            return _bounds_text(metadata)
    return ""


@lru_cache(maxsize=None)
def attribute_docs(model: type[BaseModel]) -> dict[str, str]:
    """The first line of each field's attribute docstring (the string under ``name: type = ...``)
    in the model and its bases, as the schema writes them."""
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or cls is BaseModel:
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, after in zip(body, body[1:]):
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                    and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)):
                docs[node.target.id] = after.value.value.strip().splitlines()[0].rstrip(".")
    return docs


def entries(model: type[BaseModel], prefix: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> list[Entry]:
    """Every field of ``model`` as the workbook holds it, nested models flattened into dotted paths.
    ``exclude`` lists key paths (relative to the model, dotted) held elsewhere."""
    found: list[Entry] = []
    for name, info in model.model_fields.items():
        path = prefix + (name,)
        if ".".join(path) in exclude:
            continue
        annotation, metadata, _ = _unwrap(info.annotation)
        metadata = list(info.metadata) + metadata
        common = dict(owner=model.__name__, required=info.is_required(), doc=attribute_docs(model).get(name, ""),
                      default=None if info.default is PydanticUndefined else info.default)
        shape = _series_shape(annotation)
        origin = get_origin(annotation)
        if shape:
            found.append(Entry(path, shape, bounds=_number_bounds(annotation), **common))
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found.extend(entries(annotation, path, exclude))
        elif origin is Literal:
            found.append(Entry(path, "value", str, tuple(str(a) for a in get_args(annotation)), **common))
        elif origin is tuple and len(get_args(annotation)) == 2 and get_args(annotation)[1] is Ellipsis:
            item = _unwrap(get_args(annotation)[0])[0]
            if isinstance(item, type) and issubclass(item, BaseModel):
                found.append(Entry(path, "models", item, parts=tuple(entries(item)), **common))
            else:
                found.append(Entry(path, "names", str, **common))
        elif origin is tuple:
            first = _unwrap(get_args(annotation)[0])
            found.append(Entry(path, "pair", float, length=len(get_args(annotation)),
                               bounds=_bounds_text(first[1]), **common))
        elif origin is dict:
            value_type = _unwrap(get_args(annotation)[1])[0]
            if _series_shape(value_type) != "per_fy":
                raise TypeError(f"{'.'.join(path)}: a table of {value_type} has no workbook layout; give it "
                                f"its own TableSheet in stockpile.scenario.layout.SHEETS")
            found.append(Entry(path, "dict", bounds=_number_bounds(value_type), **common))
        elif annotation in (float, int, str, bool):
            found.append(Entry(path, "value", annotation, bounds=_bounds_text(metadata), **common))
        else:
            raise TypeError(f"{'.'.join(path)}: type {annotation!r} has no workbook layout "
                            f"(stockpile.scenario.layout.entries)")
    return found


def model_at(path: tuple[str, ...]) -> type[BaseModel] | None:
    """The model of the items (or the section) at ``path`` from the top of a scenario; None for
    a table of plain values (countries)."""
    model: Any = Scenario
    for name in path:
        annotation, _, _ = _unwrap(model.model_fields[name].annotation)
        if get_origin(annotation) in (dict, tuple):
            annotation = _unwrap(get_args(annotation)[-1 if get_origin(annotation) is dict else 0])[0]
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def sheet_entries(sheet: TableSheet | KeyRowsSheet) -> list[Entry]:
    """The entries a sheet holds: a table's item fields, or the key rows' fields (full paths)."""
    if isinstance(sheet, TableSheet):
        item = model_at(sheet.group + sheet.path)
        if item is None:
            return [Entry((sheet.value,), "names", str)]
        return entries(item, exclude=sheet.exclude)
    found = []
    for path in sheet.paths:
        model = model_at(path)
        found.extend(entries(model, path, exclude=sheet.exclude))
    return found


def holds_name_lists(sheet: TableSheet) -> bool:
    """Whether a table sheet's entries are plain lists of names (countries and their tags)."""
    return model_at(sheet.group + sheet.path) is None


def sheet_of_section() -> dict[str, str]:
    """The sheet holding each top-level scenario key (for a problem no cell holds)."""
    found = {}
    for sheet in SHEETS:
        if isinstance(sheet, TableSheet):
            found.setdefault((sheet.group or sheet.path)[0], sheet.title)
        else:
            for entry in sheet_entries(sheet):
                found.setdefault(entry.path[0], sheet.title)
    return found


def uncovered_fields() -> list[str]:
    """Key paths of scenario fields no sheet holds (a test keeps this empty)."""
    covered = set()
    for sheet in SHEETS:
        if isinstance(sheet, TableSheet):
            prefix = ".".join(sheet.group + sheet.path) if not sheet.group else ".".join(sheet.group + ("*",) + sheet.path)
            covered.add(prefix)
        else:
            covered.update(e.key for e in sheet_entries(sheet))
    missing = []
    for entry in entries(Scenario, exclude=tuple(covered)):
        missing.append(entry.key)
    return [m for m in missing if not any(m == c or m.startswith(c + ".") for c in covered)]


def fy_header(field: str | None, fy: int) -> str:
    return f"{field} FY{fy}" if field else f"FY{fy}"


def indexed(name: str, index: int, sub: str | None = None) -> str:
    """``tiers[2].factor``: a field of the index-th (from 1) of a list of small models."""
    return f"{name}[{index}]" + (f".{sub}" if sub else "")
