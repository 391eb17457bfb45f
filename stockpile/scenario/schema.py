"""The scenario schema: the pydantic models a scenario file is validated against, and its limits.

Models are frozen and reject unknown keys, so a misspelled key is an error, never a silently
ignored setting. Reading a file (TOML, ``extends``) is :mod:`stockpile.scenario.load`; the
cross-reference checks run after validation are :mod:`stockpile.scenario.references`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from stockpile.errors import InputError
from stockpile.scenario.text import check_name, check_text
from stockpile.scenario.series import Series, bounded_number, per_fy, schedule

# Limits on what a scenario may ask for, so a typo cannot make the model millions of times larger.
MAX_HORIZON_FYS = 60
MAX_MATERIALS = 500
MAX_OPTIONS = 20_000
MAX_TIERS = 20
MAX_LEAD_TIME = 20

OPTION_KINDS = ("import", "domestic", "partner_project", "recycling")
STAGES = ("any", "origin", "refiner")
"""The supply chain's two stages an option passes through: ``origin`` (the mine country, an
option's ``country``) and ``refiner`` (the processing country, its ``refiner``); a ban or event
at stage ``any`` hits an option when either stage matches."""
Stage = Literal["any", "origin", "refiner"]
SOLVERS = ("highs", "highs-ipm", "highs-pulp", "cbc")
"""highs: HiGHS simplex through highspy on stockpile's own matrix (default); highs-ipm: HiGHS
interior point; highs-pulp: HiGHS through PuLP; cbc: CBC through PuLP."""


def check_solver_name(solver: str, where: str) -> None:
    """Refuse a solver name that is not one of :data:`SOLVERS`; ``where`` names the key or option
    it came from (``--solver``)."""
    if solver not in SOLVERS:
        raise InputError(None, where, f"unknown solver {solver!r} (use one of {', '.join(SOLVERS)})")


ALL = "all"

# Ranges a plan solved in double precision still passes its audit with (measured on the example
# at the extremes, alone and together; README "Reliability"). Every number is also 0 or of a
# magnitude from 1e-6 to 1e12 (series.MIN_MAGNITUDE, MAX_MAGNITUDE).
MAX_PRICE = 1e9
"""Dollars per tonne (purchase, recycling, disposal, holding); 1e9 x the multipliers below stays
under 1e12 $/t, where the Fund rows are still exact (1e13 $/t on every option fails the audit)."""
MAX_MULTIPLIER = 10.0
"""Price multipliers (prices.multiplier, an event's price, a tier's factor, a sampled price)."""
MAX_MATERIAL_WEIGHT = 100.0
MAX_SHORTFALL_WEIGHT = 1e6
"""Weighted mode: shortfall_weight x a material's weight up to 1e8 solves exactly (1e9 does not)."""
MAX_DEFICIT_WEIGHT = 1e9
"""Weighted mode: 1e10 solves exactly, 1e11 does not."""
MAX_RELEASE_WEIGHT = 1e10
"""Weighted mode: the release weight ranks ahead of the deficit weight; 1e10 is where the deficit
weight still solves exactly."""
MIN_DEFICIT_WEIGHT = 1.0
"""Weighted mode: a deficit weight of 1e-3 under a shortfall weight of 1e8 fails the audit; the
deficit ranks ahead of the shortfall, so at least 1 (with the shortfall at most 1e8: a ratio of 1e8)."""
MIN_WEIGHT = 1e-3
MAX_SEED = 2**63 - 1

Money = bounded_number()
NonNegative = bounded_number(ge=0)
Fraction = bounded_number(ge=0, le=1)
Multiplier = bounded_number(gt=0, le=MAX_MULTIPLIER)
FiscalYear = Annotated[int, Field(strict=True, ge=1950, le=2200)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(check_name)]
"""A name (material, option, country, tag, event, future): printable text that every output
(terminal, workbook cell, chart title, CSV) shows and reads back exactly (:func:`check_name`)."""
Text = Annotated[str, Field(max_length=10_000), AfterValidator(check_text)]
"""Free text (descriptions, reasons): may hold line breaks and tabs, but no other control character."""


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
    price: per_fy(ge=0, le=MAX_PRICE) = 0.0
    max_per_fy: per_fy(ge=0) | None = None


class Material(Strict):
    """A stockpiled material; quantities in tonnes of contained metal unless ``unit`` says otherwise."""

    name: Name
    unit: Name = "t"
    weight: bounded_number(ge=MIN_WEIGHT, le=MAX_MATERIAL_WEIGHT) = 1.0
    opening_inventory: NonNegative = 0.0
    goal: per_fy(ge=0)
    loss_rate: per_fy(ge=0, lt=1) = 0.0
    disposal: Disposal = Disposal()
    pipeline: schedule() = {}
    draw: schedule() = {}
    amp_limit: per_fy(ge=0) | None = None


class PriceTier(Strict):
    """One step of a convex price curve: up to ``up_to`` tonnes per FY at ``factor`` x the unit price."""

    up_to: bounded_number(gt=0) | None = None
    factor: Multiplier = 1.0


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
    """The origin: the country the material is mined in."""
    refiner: Name | None = None
    """The processing (refinery) country; None means the same as ``country``."""
    capacity: per_fy(ge=0)
    price: per_fy(ge=0, le=MAX_PRICE)
    escalation: bounded_number(gt=-1, le=1) = 0.0
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
    cost: per_fy(ge=0, le=MAX_PRICE)


class Fund(Strict):
    """The NDS Transaction Fund, in dollars (holding cost in dollars per tonne-year)."""

    opening_balance: Money
    floor: per_fy() = 0.0
    appropriation: per_fy(ge=0) = 0.0
    other_revenue: per_fy() = 0.0
    operating_cost: per_fy(ge=0) = 0.0
    holding_cost: per_fy(ge=0, le=MAX_PRICE) = 0.0
    committed_payments: schedule() = {}
    obligation_cap: per_fy(ge=0) | None = None


class Ban(Strict):
    """No orders for a material from ``from_fy`` from options carrying ``tag`` or from ``countries``.

    A ban covers exactly what it names: a tag, countries, or both (an option is hit when either
    matches); a ban naming neither is an error, never a silent ban of some default tag.
    """

    material: Name = ALL
    tag: Name | None = None
    countries: tuple[Name, ...] = ()
    from_fy: FiscalYear
    reason: Text = ""
    stage: Stage = "any"
    """Which stage's country (and its tags) the ban looks at: origin, refiner, or either."""

    @model_validator(mode="after")
    def _names_something(self) -> Ban:
        if self.tag is None and not self.countries:
            raise ValueError("a ban must name a tag, countries, or both (it covers exactly what it names)")
        return self


class Policy(Strict):
    """Sourcing rules: trusted share floors, covered-country bans, single-country caps by origin
    and by refiner."""

    trusted_tags: tuple[Name, ...] = ()
    trusted_stages: Literal["both", "origin", "refiner"] = "both"
    """The stages whose effective tags must meet trusted_tags for an option to count as trusted."""
    trusted_share: dict[Name, per_fy(ge=0, le=1)] = {}
    bans: tuple[Ban, ...] = ()
    concentration_cap: per_fy(gt=0, le=1) | None = None
    """No foreign origin (mine) country above this share of a material's orders in an FY."""
    refiner_cap: per_fy(gt=0, le=1) | None = None
    """No foreign refining country above this share of a material's orders in an FY."""
    home_country: Name = "United States"


class Event(Strict):
    """A disruption: availability and price multipliers on a country's (or every) supply of a material."""

    country: Name = ALL
    material: Name = ALL
    from_fy: FiscalYear
    to_fy: FiscalYear | None = None
    availability: Fraction = 1.0
    """Multiplies capacity; 1 leaves it alone (an export ban writes ``availability = 0``)."""
    price: Multiplier = 1.0
    description: Text = ""
    stage: Stage = "any"
    """Which stage's country the event strikes: origin, refiner, or either (applied once)."""

    @model_validator(mode="after")
    def _ordered(self) -> Event:
        if self.to_fy is not None and self.to_fy < self.from_fy:
            raise ValueError(f"to_fy {self.to_fy} is before from_fy {self.from_fy}")
        if self.availability == 1.0 and self.price == 1.0:
            raise ValueError("the event changes nothing (availability 1 and price 1): say what it changes, "
                             "e.g. availability = 0 for an export ban or price = 1.5")
        return self


class Prices(Strict):
    """Scenario-wide price level: every purchase and recycling price is multiplied by it."""

    multiplier: per_fy(gt=0, le=MAX_MULTIPLIER) = 1.0


class Future(Strict):
    """One possible future: its probability, disruption events (added to the scenario's, or
    replacing one with the same id) and, optionally, its own price level."""

    probability: bounded_number(gt=0, le=1)
    description: Text = ""
    events: dict[Name, Event] = {}
    prices: Prices | None = None


Range = tuple[bounded_number(ge=0), bounded_number(ge=0)]


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
        if self.price[1] > MAX_MULTIPLIER:
            raise ValueError(f"price multipliers are at most {MAX_MULTIPLIER:g}")
        return self


class Sampling(Strict):
    """Futures drawn at random, reproducibly from the seed, each with probability 1/n."""

    n: Annotated[int, Field(strict=True, ge=1, le=10_000)]
    seed: Annotated[int, Field(strict=True, ge=0, le=MAX_SEED)]
    disruptions: tuple[SampledDisruption, ...] = Field(min_length=1)


class CVaR(Strict):
    """Weigh the bad tail: the readiness stage minimises (1 - weight) x expected shortfall +
    weight x CVaR of shortfall at ``level`` (the mean of the worst 1 - level of futures)."""

    level: bounded_number(gt=0, lt=1) = 0.9
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
    """Lexicographic (releases, then solvency, then readiness, then cost) or one weighted solve."""

    mode: Literal["lexicographic", "weighted"] = "lexicographic"
    discount_rate: bounded_number(ge=0, lt=1) = 0.0
    relative_tolerance: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=0.1)] = 1e-9
    absolute_tolerance: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1)] = 1e-9
    release_weight: bounded_number(ge=MIN_DEFICIT_WEIGHT, le=MAX_RELEASE_WEIGHT) = 1e8
    """Weighted mode: the penalty on unmet releases, ahead of deficit_weight (releases come first)."""
    deficit_weight: bounded_number(ge=MIN_DEFICIT_WEIGHT, le=MAX_DEFICIT_WEIGHT) = 1e6
    shortfall_weight: bounded_number(ge=MIN_WEIGHT, le=MAX_SHORTFALL_WEIGHT) = 1e4


class SolverSettings(Strict):
    name: Literal[SOLVERS] = "highs"
    time_limit: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=7 * 24 * 3600)] = 300.0


class Scenario(Strict):
    """A whole planning scenario, as read from a TOML file after ``extends`` is resolved."""

    name: Name
    description: Text = ""
    horizon: Horizon
    countries: dict[Name, tuple[Name, ...]] = {}
    materials: dict[Annotated[str, Field(min_length=1, max_length=40), AfterValidator(check_name)], Material]
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

    def record_provenance(self, provenance: Any) -> None:
        """Attach the data figures the scenario drew on (not part of its schema or its hash)."""
        self._provenance = provenance

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
