"""The scenario file: schema, loading (TOML, ``extends``) and cross-reference checks.

Models are frozen and reject unknown keys, so a misspelled key is an error, never a silently
ignored setting. Every problem is reported as an :class:`~stockpile.errors.InputError` naming
the file, the key path (``supply[3].capacity.2029``; list positions count from 1, as a planner
counts ``[[supply]]`` blocks) and the reason.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from stockpile.errors import InputError, InputErrors
from stockpile.scenario.series import SERIES_TAGS, Series, parse_fy, per_fy, schedule

# Limits on what a scenario may ask for, so a typo cannot make the model millions of times larger.
MAX_HORIZON_FYS = 60
MAX_MATERIALS = 500
MAX_OPTIONS = 20_000
MAX_TIERS = 20
MAX_LEAD_TIME = 20
MAX_EXTENDS_DEPTH = 16
MAX_FILE_BYTES = 5_000_000
MAX_KEY_DEPTH = 32
"""Dotted keys and table headers nest at most this deep (tomllib takes quadratic time on deeper)."""
_DEEP_KEY = re.compile(r"(?<![\w\-\"'.])(?:(?:[\w\-]++|\"[^\"\n]*+\"|'[^'\n]*+')[ \t]*+\.[ \t]*+){%d}"
                       % MAX_KEY_DEPTH)

OPTION_KINDS = ("import", "domestic", "partner_project", "recycling")
SOLVERS = ("highs", "highs-ipm", "highs-pulp", "cbc")
"""highs: HiGHS simplex through highspy on stockpile's own matrix (default); highs-ipm: HiGHS
interior point; highs-pulp: HiGHS through PuLP; cbc: CBC through PuLP."""
ALL = "all"

Money = Annotated[float, Field(strict=True, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
Fraction = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1)]
FiscalYear = Annotated[int, Field(strict=True, ge=1950, le=2200)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Horizon(Strict):
    """The planning horizon, first and last FY inclusive."""

    first_fy: FiscalYear
    last_fy: FiscalYear

    @model_validator(mode="after")
    def _ordered(self) -> Horizon:
        if self.last_fy < self.first_fy:
            raise ValueError(f"last_fy {self.last_fy} is before first_fy {self.first_fy}")
        if self.last_fy - self.first_fy + 1 > MAX_HORIZON_FYS:
            raise ValueError(f"a horizon of {self.last_fy - self.first_fy + 1} FYs is longer than "
                             f"the {MAX_HORIZON_FYS} stockpile accepts")
        return self

    @property
    def fys(self) -> range:
        return range(self.first_fy, self.last_fy + 1)


class Disposal(Strict):
    """Sales of excess material: only where allowed, at a price per tonne, up to a limit per FY."""

    allowed: bool = False
    price: per_fy(ge=0) = 0.0
    max_per_fy: per_fy(ge=0) | None = None


class Material(Strict):
    """A stockpiled material; quantities in tonnes of contained metal unless ``unit`` says otherwise."""

    name: Name
    unit: Name = "t"
    weight: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0)] = 1.0
    opening_inventory: NonNegative = 0.0
    goal: per_fy(ge=0)
    loss_rate: per_fy(ge=0, lt=1) = 0.0
    disposal: Disposal = Disposal()
    pipeline: schedule() = {}
    draw: schedule() = {}
    amp_limit: per_fy(ge=0) | None = None


class PriceTier(Strict):
    """One step of a convex price curve: up to ``up_to`` tonnes per FY at ``factor`` x the unit price."""

    up_to: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0)] | None = None
    factor: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0)] = 1.0


class _Orderable(Strict):
    """What purchase options and recycling streams share: where, when and how fast."""

    name: Name
    material: Name
    country: Name = "United States"
    tags: tuple[Name, ...] = ()
    lead_time: Annotated[int, Field(strict=True, ge=0, le=MAX_LEAD_TIME)] = 0
    first_fy: FiscalYear | None = None
    last_fy: FiscalYear | None = None
    fixed: schedule() = {}
    """A fixed order: tonnes that must be ordered in each FY listed (other FYs are left free)."""

    @model_validator(mode="after")
    def _window(self):
        if self.first_fy is not None and self.last_fy is not None and self.last_fy < self.first_fy:
            raise ValueError(f"last_fy {self.last_fy} is before first_fy {self.first_fy}")
        return self


class SupplyOption(_Orderable):
    """A way to buy a material: market imports, a domestic producer or a partner project."""

    kind: Literal["import", "domestic", "partner_project"]
    country: Name
    capacity: per_fy(ge=0)
    price: per_fy(ge=0)
    escalation: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=-1, le=1)] = 0.0
    tiers: tuple[PriceTier, ...] = ()

    @model_validator(mode="after")
    def _convex_tiers(self) -> SupplyOption:
        if len(self.tiers) > MAX_TIERS:
            raise ValueError(f"{len(self.tiers)} price tiers is more than the {MAX_TIERS} accepted")
        for i, (lower, upper) in enumerate(zip(self.tiers, self.tiers[1:]), start=2):
            if lower.up_to is None:
                raise ValueError(f"tier {i - 1} has no up_to but is not the last tier")
            if upper.up_to is not None and upper.up_to <= lower.up_to:
                raise ValueError(f"tier {i} up_to {upper.up_to} must exceed tier {i - 1}'s {lower.up_to}")
            if upper.factor < lower.factor:
                raise ValueError(f"tier {i} factor {upper.factor} is below tier {i - 1}'s "
                                 f"{lower.factor}: price tiers must not get cheaper (convex cost)")
        return self


class RecyclingStream(_Orderable):
    """Recovery from a waste stream: up to ``feedstock x recovery_yield`` tonnes per FY."""

    feedstock: per_fy(ge=0)
    recovery_yield: per_fy(ge=0, le=1)
    cost: per_fy(ge=0)


class Fund(Strict):
    """The NDS Transaction Fund, in dollars (holding cost in dollars per tonne-year)."""

    opening_balance: Money
    floor: per_fy() = 0.0
    appropriation: per_fy(ge=0) = 0.0
    other_revenue: per_fy() = 0.0
    operating_cost: per_fy(ge=0) = 0.0
    holding_cost: per_fy(ge=0) = 0.0
    committed_payments: schedule() = {}
    obligation_cap: per_fy(ge=0) | None = None


class Ban(Strict):
    """No orders from options carrying ``tag`` (or from ``countries``) for a material from ``from_fy``."""

    material: Name = ALL
    tag: Name | None = "covered"
    countries: tuple[Name, ...] = ()
    from_fy: FiscalYear
    reason: str = ""


class Policy(Strict):
    """Sourcing rules: trusted share floors, covered-country bans, a single-country cap."""

    trusted_tags: tuple[Name, ...] = ()
    trusted_share: dict[Name, per_fy(ge=0, le=1)] = {}
    bans: tuple[Ban, ...] = ()
    concentration_cap: per_fy(gt=0, le=1) | None = None
    home_country: Name = "United States"


class Event(Strict):
    """A disruption: availability and price multipliers on a country's (or every) supply of a material."""

    country: Name = ALL
    material: Name = ALL
    from_fy: FiscalYear
    to_fy: FiscalYear | None = None
    availability: Fraction = 0.0
    price: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0)] = 1.0
    description: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Event:
        if self.to_fy is not None and self.to_fy < self.from_fy:
            raise ValueError(f"to_fy {self.to_fy} is before from_fy {self.from_fy}")
        return self


class Prices(Strict):
    """Scenario-wide price level: every purchase and recycling price is multiplied by it."""

    multiplier: per_fy(gt=0) = 1.0


class Future(Strict):
    """One possible future: its probability, disruption events (added to the scenario's, or
    replacing one with the same id) and, optionally, its own price level."""

    probability: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=1)]
    description: str = ""
    events: dict[Name, Event] = {}
    prices: Prices | None = None


Range = tuple[Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)],
              Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]]


class SampledDisruption(Strict):
    """A Markov on/off disruption of a country's supply, drawn FY by FY from the decision FY:
    it starts with ``start_probability`` in an FY it is off and ends with ``end_probability`` in
    an FY it is on; each episode draws its availability and price multiplier uniformly from the
    ranges given."""

    country: Name
    material: Name = ALL
    start_probability: Fraction
    end_probability: Fraction
    availability: Range = (0.0, 0.0)
    price: Range = (1.0, 1.0)

    @model_validator(mode="after")
    def _ranges(self) -> SampledDisruption:
        for name in ("availability", "price"):
            low, high = getattr(self, name)
            if low > high:
                raise ValueError(f"{name} range ({low}, {high}) runs backwards")
        if self.availability[1] > 1:
            raise ValueError("availability cannot exceed 1")
        if self.price[0] <= 0:
            raise ValueError("price multipliers must be positive")
        return self


class Sampling(Strict):
    """Futures drawn at random, reproducibly from the seed, each with probability 1/n."""

    n: Annotated[int, Field(strict=True, ge=1, le=10_000)]
    seed: Annotated[int, Field(strict=True, ge=0)]
    disruptions: tuple[SampledDisruption, ...] = Field(min_length=1)


class CVaR(Strict):
    """Weigh the bad tail: the readiness stage minimises (1 - weight) x expected shortfall +
    weight x CVaR of shortfall at ``level`` (the mean of the worst 1 - level of futures)."""

    level: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, lt=1)] = 0.9
    weight: Fraction = 1.0


class Uncertainty(Strict):
    """A scenario tree: orders before ``decision_fy`` are shared by every future (here and now);
    later orders, inventories, shortfalls and the Fund are each future's own."""

    decision_fy: FiscalYear
    futures: dict[Name, Future] = {}
    sample: Sampling | None = None
    cvar: CVaR | None = None

    @model_validator(mode="after")
    def _one_tree(self) -> Uncertainty:
        if bool(self.futures) == (self.sample is not None):
            raise ValueError("give either named [uncertainty.futures] or a sample, not both or neither")
        if self.futures:
            total = sum(f.probability for f in self.futures.values())
            if abs(total - 1.0) > 1e-9:
                raise ValueError(f"the futures' probabilities sum to {total:.12g}, not 1")
        return self


class Objective(Strict):
    """Lexicographic (solvency, then readiness, then cost) or one weighted solve."""

    mode: Literal["lexicographic", "weighted"] = "lexicographic"
    discount_rate: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, lt=1)] = 0.0
    relative_tolerance: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=0.1)] = 1e-9
    absolute_tolerance: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1)] = 1e-9
    deficit_weight: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0)] = 1e6
    shortfall_weight: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0)] = 1e4


class SolverSettings(Strict):
    name: Literal[SOLVERS] = "highs"
    time_limit: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=7 * 24 * 3600)] = 300.0


class Scenario(Strict):
    """A whole planning scenario, as read from a TOML file after ``extends`` is resolved."""

    name: Name
    description: str = ""
    horizon: Horizon
    countries: dict[Name, tuple[Name, ...]] = {}
    materials: dict[Annotated[str, Field(min_length=1, max_length=40)], Material]
    supply: tuple[SupplyOption, ...] = ()
    recycling: tuple[RecyclingStream, ...] = ()
    fund: Fund
    policy: Policy = Policy()
    events: dict[Name, Event] = {}
    prices: Prices = Prices()
    objective: Objective = Objective()
    solver: SolverSettings = SolverSettings()
    uncertainty: Uncertainty | None = None
    _provenance: Any = PrivateAttr(default=None)
    """Data figures the ``[data]`` section drew on (a DataFrame), or None."""

    @property
    def provenance(self):
        return self._provenance

    @property
    def fys(self) -> range:
        return self.horizon.fys

    @property
    def options(self) -> tuple[SupplyOption | RecyclingStream, ...]:
        """Every way of adding material, supply options first, in file order."""
        return self.supply + self.recycling

    def canonical_json(self) -> str:
        """A stable text form of the resolved scenario, keys sorted: what its hash is taken of."""
        return json.dumps(to_plain(self), sort_keys=True, separators=(",", ":"))

    def plain_json(self) -> str:
        """The resolved scenario as JSON in the file's own order (materials, options), so a copy
        read back (an embedded plan, a sweep worker) lists everything in the same order."""
        return json.dumps(to_plain(self), separators=(",", ":"))

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()


def to_plain(value: Any) -> Any:
    """The scenario as plain TOML-like data: series back in the form a planner writes."""
    if isinstance(value, Series):
        return value.to_toml_value()
    if isinstance(value, BaseModel):
        return {name: to_plain(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# Loading

def load_scenario(path: str | Path) -> Scenario:
    """Read, merge (``extends``), validate and cross-check a scenario file."""
    from stockpile.scenario.defaults import expand_data_defaults

    path = Path(path)
    raw, parents = _read_with_extends(path, chain=())
    source = f"{path} (extends {' -> '.join(parents)})" if parents else path
    raw, provenance = expand_data_defaults(raw, source)
    scenario = scenario_from_dict(raw, source=source)
    scenario._provenance = provenance
    return scenario


def scenario_from_dict(raw: dict, source: str | Path | None = None) -> Scenario:
    """Validate already-merged scenario data; ``source`` names the file in error messages."""
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise InputErrors([InputError(source, _format_loc(err["loc"], raw), _reason(err))
                           for err in exc.errors()]) from None
    problems = check_references(scenario)
    if problems:
        raise InputErrors([InputError(source, where, why) for where, why in problems])
    return scenario


def _read_toml(path: Path) -> dict:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(path, None, "file not found") from None
    except OSError as exc:
        raise InputError(path, None, f"cannot read: {exc.strerror}") from None
    if path.is_dir():
        raise InputError(path, None, "is a folder, not a scenario file")
    if size > MAX_FILE_BYTES:
        raise InputError(path, None, f"file is {size:,} bytes; scenario files are limited to "
                                     f"{MAX_FILE_BYTES:,} bytes")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"byte {exc.start}", "not UTF-8 text (save the file as UTF-8)") from None
    except OSError as exc:
        raise InputError(path, None, f"cannot read: {exc.strerror}") from None
    deep = _DEEP_KEY.search(text)
    if deep:
        raise InputError(path, f"line {text.count(chr(10), 0, deep.start()) + 1}",
                         f"a key nested more than {MAX_KEY_DEPTH} levels deep (not a scenario key)")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, None, f"not valid TOML: {exc}") from None
    except RecursionError:
        raise InputError(path, None, "not valid TOML: nested too deeply") from None


def _read_with_extends(path: Path, chain: tuple[Path, ...]) -> tuple[dict, list[str]]:
    """The file merged over everything it extends, and the names of those files, nearest first."""
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(p.name for p in chain + (resolved,))
        raise InputError(path, "extends", f"extends cycle: {cycle}")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise InputError(path, "extends", f"more than {MAX_EXTENDS_DEPTH} levels of extends")
    raw = _read_toml(path)
    parent_name = raw.pop("extends", None)
    if parent_name is None:
        return raw, []
    if not isinstance(parent_name, str) or not parent_name:
        raise InputError(path, "extends", "must be the name of another scenario file")
    parent_path = path.parent / parent_name
    if not parent_path.exists():
        raise InputError(path, "extends", f"{parent_name!r} not found next to this file")
    parent, ancestors = _read_with_extends(parent_path, chain + (resolved,))
    try:
        return merge_overrides(parent, raw), [parent_name, *ancestors]
    except MergeError as exc:
        raise InputError(path, exc.where, str(exc)) from None


NAMED_LISTS = ("supply", "recycling")


class MergeError(ValueError):
    def __init__(self, where: str, reason: str):
        super().__init__(reason)
        self.where = where


def merge_overrides(base: dict, override: dict, _path: str = "") -> dict:
    """Apply a child scenario's overrides to its parent.

    Tables merge key by key; a per-FY table (keys that are FYs, or ``ramp``) replaces the parent's
    value whole, since merging two time series entry by entry is never what a planner means.
    ``[[supply]]`` and ``[[recycling]]`` entries merge by ``name``: a child entry with a parent's
    name overrides its keys, ``remove = true`` drops it, a new name is appended.
    """
    merged = dict(base)
    for key, value in override.items():
        here = f"{_path}.{key}" if _path else key
        old = merged.get(key)
        if key in NAMED_LISTS and not _path and isinstance(value, list) and isinstance(old, list):
            merged[key] = _merge_named(key, old, value)
        elif isinstance(value, dict) and isinstance(old, dict) and not _is_series_table(value):
            merged[key] = merge_overrides(old, value, here)
        else:
            merged[key] = value
    return merged


def _merge_named(section: str, base: list, override: list) -> list:
    result = [dict(item) if isinstance(item, dict) else item for item in base]
    # Only text names match (a name of another type is reported by validation, not merged).
    index = {item["name"]: i for i, item in enumerate(result)
             if isinstance(item, dict) and isinstance(item.get("name"), str)}
    removed = set()
    for position, item in enumerate(override, start=1):
        name = item.get("name") if isinstance(item, dict) and isinstance(item.get("name"), str) else None
        if name not in index and isinstance(item, dict) and item.get("remove") is True:
            raise MergeError(f"{section}[{position}].remove", f"there is no {section} entry named {name!r} "
                                                              f"in the extended file to remove")
        if name in index:
            if item.get("remove") is True:
                removed.add(index[name])
            else:
                result[index[name]] = {**result[index[name]], **item}
        else:
            result.append(item)
    return [item for i, item in enumerate(result) if i not in removed]


def _is_series_table(value: dict) -> bool:
    if set(value) == {"ramp"}:
        return True
    try:
        return bool(value) and all(parse_fy(k) for k in value)
    except ValueError:
        return False


def _format_loc(loc: tuple, raw: dict) -> str:
    """``('supply', 2, 'capacity', 'table', '2029')`` -> ``supply[3].capacity.2029``."""
    parts: list[str] = []
    dropped_previous = False
    for element in loc:
        if isinstance(element, str) and element in SERIES_TAGS and not dropped_previous and parts:
            dropped_previous = True
            continue
        dropped_previous = False
        if isinstance(element, int):
            parts.append(f"[{element + 1}]")
        else:
            parts.append(("." if parts else "") + str(element))
    return "".join(parts) or "(top level)"


def _reason(err: dict) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; see the scenario format in README.md)"
    if kind == "missing":
        return "required key is missing"
    if kind.startswith("literal_error"):
        return msg.replace("Input should be", "must be")
    msg = msg.removeprefix("Value error, ")
    return msg.replace("Input should be", "must be")


# ---------------------------------------------------------------------------------------------
# Cross-reference checks

BUILT_IN_TAGS = frozenset(OPTION_KINDS)


def effective_tags(scenario: Scenario, option: SupplyOption | RecyclingStream) -> tuple[str, ...]:
    """An option's own tags, its country's tags and its kind, sorted."""
    kind = getattr(option, "kind", "recycling")
    return tuple(sorted({kind, *option.tags, *scenario.countries.get(option.country, ())}))


def option_kind(option: SupplyOption | RecyclingStream) -> str:
    return getattr(option, "kind", "recycling")


def known_tags(scenario: Scenario) -> set[str]:
    tags = set(BUILT_IN_TAGS)
    for country_tags in scenario.countries.values():
        tags.update(country_tags)
    for option in scenario.options:
        tags.update(option.tags)
    return tags


def check_references(scenario: Scenario) -> list[tuple[str, str]]:
    """Every cross-reference and FY in the scenario, as (key path, reason) problems."""
    problems: list[tuple[str, str]] = []
    materials = set(scenario.materials)
    countries = set(scenario.countries)
    tags = known_tags(scenario)
    first, last = scenario.horizon.first_fy, scenario.horizon.last_fy

    def known(kind: str, value: str, pool: set[str], where: str, allow_all: bool = False) -> None:
        if allow_all and value == ALL:
            return
        if value not in pool:
            listed = ", ".join(sorted(pool)) or "none defined"
            problems.append((where, f"unknown {kind} {value!r} (known: {listed})"))

    def within_horizon(series: Any, where: str) -> None:
        if not isinstance(series, Series):
            return
        for fy in series.fys:
            if not first <= fy <= last:
                problems.append((f"{where}.{fy}", f"FY{fy} is outside the horizon FY{first}..FY{last}"))
        if series.kind in ("step", "ramp") and series.fys and series.fys[0] > first:
            problems.append((where, f"the table starts at FY{series.fys[0]}; give a value for the "
                                    f"first FY of the horizon, FY{first}"))

    def series_fields(model: BaseModel, where: str) -> None:
        for field in type(model).model_fields:
            value = getattr(model, field)
            if isinstance(value, Series):
                within_horizon(value, f"{where}.{field}")
            elif isinstance(value, BaseModel):
                series_fields(value, f"{where}.{field}")

    if len(scenario.materials) > MAX_MATERIALS:
        problems.append(("materials", f"{len(scenario.materials)} materials is more than the "
                                      f"{MAX_MATERIALS} accepted"))
    if len(scenario.options) > MAX_OPTIONS:
        problems.append(("supply", f"{len(scenario.options)} supply options and recycling streams "
                                   f"is more than the {MAX_OPTIONS} accepted"))
    for code, material in scenario.materials.items():
        series_fields(material, f"materials.{code}")
    seen_names: dict[str, str] = {}
    for section in ("supply", "recycling"):
        for i, option in enumerate(getattr(scenario, section), start=1):
            where = f"{section}[{i}]"
            if option.name in seen_names:
                problems.append((f"{where}.name", f"name {option.name!r} is already used by "
                                                  f"{seen_names[option.name]}"))
            seen_names[option.name] = where
            known("material", option.material, materials, f"{where}.material")
            known("country", option.country, countries, f"{where}.country")
            series_fields(option, where)
            # An order window may extend past the horizon, but must overlap it.
            if option.first_fy is not None and option.first_fy > last:
                problems.append((f"{where}.first_fy", f"FY{option.first_fy} is after the horizon's last FY{last}"))
            if option.last_fy is not None and option.last_fy < first:
                problems.append((f"{where}.last_fy", f"FY{option.last_fy} is before the horizon's first FY{first}"))
            window = (max(first, option.first_fy or first), min(last - option.lead_time, option.last_fy or last))
            for fy in option.fixed.fys:
                if first <= fy <= last and not window[0] <= fy <= window[1]:
                    problems.append((f"{where}.fixed.{fy}", f"a fixed order in FY{fy} is outside the FYs this "
                                                            f"option can be ordered in and delivered within the "
                                                            f"horizon (FY{window[0]}..FY{window[1]})"))
    series_fields(scenario.fund, "fund")
    series_fields(scenario.prices, "prices")
    policy = scenario.policy
    for i, tag in enumerate(policy.trusted_tags, start=1):
        known("tag", tag, tags, f"policy.trusted_tags[{i}]")
    for code, share in policy.trusted_share.items():
        known("material", code, materials, f"policy.trusted_share.{code}")
        within_horizon(share, f"policy.trusted_share.{code}")
        if not policy.trusted_tags:
            problems.append((f"policy.trusted_share.{code}",
                             "a trusted share needs policy.trusted_tags to say what counts as trusted"))
    within_horizon(policy.concentration_cap, "policy.concentration_cap")
    known("country", policy.home_country, countries, "policy.home_country")
    for i, ban in enumerate(policy.bans, start=1):
        where = f"policy.bans[{i}]"
        known("material", ban.material, materials, f"{where}.material", allow_all=True)
        if ban.tag is not None:
            known("tag", ban.tag, tags, f"{where}.tag")
        for j, country in enumerate(ban.countries, start=1):
            known("country", country, countries, f"{where}.countries[{j}]")
        if ban.tag is None and not ban.countries:
            problems.append((where, "a ban needs a tag or a list of countries"))
    for event_id, event in scenario.events.items():
        where = f"events.{event_id}"
        known("country", event.country, countries, f"{where}.country", allow_all=True)
        known("material", event.material, materials, f"{where}.material", allow_all=True)
    tree = scenario.uncertainty
    if tree is not None:
        if not first < tree.decision_fy <= last:
            problems.append(("uncertainty.decision_fy", f"FY{tree.decision_fy} must be after the first FY "
                                                        f"FY{first} and at most FY{last}"))
        for name, future in tree.futures.items():
            for event_id, event in future.events.items():
                where = f"uncertainty.futures.{name}.events.{event_id}"
                known("country", event.country, countries, f"{where}.country", allow_all=True)
                known("material", event.material, materials, f"{where}.material", allow_all=True)
            if future.prices is not None:
                series_fields(future.prices, f"uncertainty.futures.{name}.prices")
        for i, disruption in enumerate(tree.sample.disruptions if tree.sample else (), start=1):
            where = f"uncertainty.sample.disruptions[{i}]"
            known("country", disruption.country, countries, f"{where}.country")
            known("material", disruption.material, materials, f"{where}.material", allow_all=True)
    for country, country_tags in scenario.countries.items():
        if len(set(country_tags)) != len(country_tags):
            problems.append((f"countries.{country}", "a tag is listed twice"))
    return problems
