"""Per-FY values as planners write them in scenario files.

A per-FY value (:func:`per_fy`) is one of

* a scalar: the same value in every FY, ``capacity = 3000``;
* a step table, each entry held until the next: ``appropriation = {2027 = 100e6, 2030 = 125e6}``;
* a ramp, linear between its points and held flat outside them:
  ``price = {ramp = {2027 = 30000, 2035 = 45000}}``.

A schedule (:func:`schedule`) lists amounts in single FYs and is zero elsewhere (pipeline
deliveries, drawdowns, committed payments): ``pipeline = {2027 = 200, 2028 = 150}``.

FY keys may be written ``2027`` or ``FY2027``. Every value is finite; sign and range limits are
set per field, so a negative capacity is rejected with the FY that carries it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag

FY_PATTERN = re.compile(r"^(?:FY)?(\d{4})$", re.IGNORECASE)
MIN_FY, MAX_FY = 1950, 2200


def parse_fy(key: Any) -> int:
    """Read an FY key (``2027``, ``"2027"``, ``"FY2027"``) as an int, or raise ValueError."""
    if isinstance(key, bool):
        raise ValueError(f"{key!r} is not a fiscal year")
    if isinstance(key, int):
        fy = key
    else:
        match = FY_PATTERN.match(str(key).strip())
        if not match:
            raise ValueError(f"{key!r} is not a fiscal year (write 2027 or FY2027)")
        fy = int(match.group(1))
    if not MIN_FY <= fy <= MAX_FY:
        raise ValueError(f"fiscal year {fy} is outside {MIN_FY}..{MAX_FY}")
    return fy


@dataclass(frozen=True)
class Series:
    """A resolved per-FY value: ``kind`` is ``scalar``, ``step``, ``ramp`` or ``schedule``.

    ``points`` are (FY, value) pairs sorted by FY; a scalar has the single point (None, value).
    """

    kind: str
    points: tuple[tuple[int | None, float], ...]

    @property
    def fys(self) -> tuple[int, ...]:
        return tuple(fy for fy, _ in self.points if fy is not None)

    def at(self, fy: int) -> float:
        """The value in ``fy``. Step tables and ramps must start at or before the first FY asked."""
        if self.kind == "scalar":
            return self.points[0][1]
        if self.kind == "schedule":
            return next((value for key, value in self.points if key == fy), 0.0)
        first_fy = self.points[0][0]
        if fy < first_fy:
            raise ValueError(f"no value for FY{fy}: the table starts at FY{first_fy}")
        if self.kind == "step":
            return [value for key, value in self.points if key <= fy][-1]
        # ramp: linear interpolation between neighbouring points, flat after the last
        for (fy_a, value_a), (fy_b, value_b) in zip(self.points, self.points[1:]):
            if fy_a <= fy <= fy_b:
                return value_a + (value_b - value_a) * (fy - fy_a) / (fy_b - fy_a)
        return self.points[-1][1]

    def values(self, fys: range | list[int]) -> list[float]:
        return [self.at(fy) for fy in fys]

    def scaled(self, factor: float) -> Series:
        return Series(self.kind, tuple((fy, value * factor) for fy, value in self.points))

    def to_toml_value(self) -> Any:
        """The value as a planner would write it (used to show the resolved scenario)."""
        if self.kind == "scalar":
            return self.points[0][1]
        table = {str(fy): value for fy, value in self.points}
        return {"ramp": table} if self.kind == "ramp" else table

    @classmethod
    def constant(cls, value: float) -> Series:
        return cls("scalar", ((None, float(value)),))


MAX_MAGNITUDE = 1e12
"""The largest magnitude of any scenario number (dollars, tonnes, $/t): the model's sums of
products stay well inside double precision, so every accepted plan passes its audit."""
MIN_MAGNITUDE = 1e-6
"""The smallest non-zero magnitude: below it (down to the denormal 1e-320) a goal or a price makes
ratios overflow and rounding swamp the value; write 0 instead."""


def _in_solvable_range(value: float) -> float:
    if value != 0 and not MIN_MAGNITUDE <= abs(value) <= MAX_MAGNITUDE:
        raise ValueError(f"{value:g} is outside the range stockpile solves exactly: 0, or a magnitude "
                         f"from {MIN_MAGNITUDE:g} to {MAX_MAGNITUDE:g}")
    return value


def bounded_number(ge: float | None = None, le: float | None = None, gt: float | None = None,
                   lt: float | None = None):
    """A finite float field within these limits and within the solvable range
    (:data:`MIN_MAGNITUDE` .. :data:`MAX_MAGNITUDE`, or 0): every scenario number is one."""
    return Annotated[float, Field(strict=True, allow_inf_nan=False, ge=ge, le=le, gt=gt, lt=lt),
                     AfterValidator(_in_solvable_range)]



def _table_to_points(table: dict) -> tuple[tuple[int, float], ...]:
    points = {}
    for key, value in table.items():
        fy = parse_fy(key)
        if fy in points:
            raise ValueError(f"FY{fy} is given twice")
        points[fy] = float(value)
    if not points:
        raise ValueError("the table is empty")
    return tuple(sorted(points.items()))


def _series_discriminator(value: Any) -> str:
    if isinstance(value, Series):
        return "resolved"
    if isinstance(value, dict):
        return "ramp" if set(value) == {"ramp"} else "table"
    return "scalar"


def per_fy(*, ge: float | None = None, le: float | None = None, gt: float | None = None,
           lt: float | None = None):
    """A pydantic field type for a per-FY value (scalar, step table or ramp) with limits."""
    number = bounded_number(ge, le, gt, lt)
    table = dict[str, number]

    def from_scalar(value: float) -> Series:
        return Series.constant(value)

    def from_table(value: dict) -> Series:
        return Series("step", _table_to_points(value))

    def from_ramp(value: dict) -> Series:
        return Series("ramp", _table_to_points(value["ramp"]))

    class Ramp(BaseModel):
        model_config = ConfigDict(extra="forbid")
        ramp: table

    return Annotated[
        Union[
            Annotated[Annotated[number, AfterValidator(from_scalar)], Tag("scalar")],
            Annotated[Annotated[table, AfterValidator(from_table)], Tag("table")],
            Annotated[Annotated[Ramp, AfterValidator(lambda r: from_ramp(r.model_dump()))], Tag("ramp")],
            Annotated[Series, Tag("resolved")],
        ],
        Discriminator(_series_discriminator),
    ]


def schedule(*, ge: float | None = 0.0):
    """A pydantic field type for amounts in single FYs, zero elsewhere."""
    number = bounded_number(ge, None, None, None)

    def to_series(value: Any) -> Series:
        if isinstance(value, Series):
            return value
        return Series("schedule", _table_to_points(value) if value else ())

    # Tagged like per_fy's branches, so an error names the key (pipeline.2027), not both branches.
    return Annotated[Union[Annotated[Series, Tag("resolved")], Annotated[dict[str, number], Tag("table")]],
                     Discriminator(lambda value: "resolved" if isinstance(value, Series) else "table"),
                     AfterValidator(to_series)]


SERIES_TAGS = ("scalar", "table", "ramp", "resolved")
"""Branch names pydantic puts in error locations; the error formatter drops them."""
