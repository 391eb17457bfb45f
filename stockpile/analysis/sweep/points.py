"""The points of a sweep: parameters set at dotted paths of the scenario, their grids and files.

A point changes the scenario at dotted paths (``fund.appropriation``, ``fund.appropriation.2028``,
``materials.Sb.goal``, ``policy.trusted_share.Co``, ``prices.multiplier``,
``events.china-sb-ban.to_fy``, ``supply.<option name>.capacity``), given as ``--vary`` ranges
and lists (:func:`parse_vary`, :func:`grid`) or a CSV of runs (:func:`read_sweep_file`).
"""

from __future__ import annotations

import copy
import csv
import io
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockpile.errors import InputError, StockpileError
from stockpile.scenario.load import scenario_from_dict
from stockpile.scenario.merge import NAMED_LISTS
from stockpile.scenario.schema import Scenario, to_plain
from stockpile.scenario.series import parse_fy

MAX_POINTS = 100_000


@dataclass(frozen=True)
class Setting:
    """One parameter of a point: ``path`` set to ``value``, or scaled by it when ``scale``."""

    path: str
    value: float
    scale: bool = False

    @property
    def column(self) -> str:
        return f"{self.path} (x base)" if self.scale else self.path


Point = tuple[Setting, ...]


def parse_vary(text: str) -> list[Setting]:
    """``PARAM=SPEC``: a list ``a,b,c``, a range ``start:stop:n`` or scales ``x0.5:x2:16``."""
    where = f"--vary {text}"
    if "=" not in text:
        raise InputError(None, where, "write PARAM=SPEC, e.g. fund.appropriation=0:1e9:21")
    path, spec = (part.strip() for part in text.split("=", 1))
    if not path or not spec:
        raise InputError(None, where, "write PARAM=SPEC, e.g. fund.appropriation=0:1e9:21")
    parts = spec.split(":")
    try:
        if len(parts) == 3:
            scale = parts[0].startswith("x") and parts[1].startswith("x")
            if parts[0].startswith("x") != parts[1].startswith("x"):
                raise ValueError("both ends of a scale range start with x (x0.5:x2:16)")
            start, stop = (float(p.lstrip("x")) for p in parts[:2])
            count = int(parts[2])
            if not 1 <= count <= MAX_POINTS:
                raise ValueError(f"the number of points must be 1 to {MAX_POINTS:,}")
            values = [start] if count == 1 else [start + (stop - start) * i / (count - 1) for i in range(count)]
        elif len(parts) == 1:
            items = [p.strip() for p in spec.split(",") if p.strip()]
            scale = all(p.startswith("x") for p in items)
            if not scale and any(p.startswith("x") for p in items):
                raise ValueError("either every value is a scale (x1.5) or none is")
            values = [float(p.lstrip("x")) for p in items]
        else:
            raise ValueError("a range is start:stop:count")
    except ValueError as exc:
        reason = str(exc) if "could not convert" not in str(exc) else f"not a number in {spec!r}"
        raise InputError(None, where, reason) from None
    if not values:
        raise InputError(None, where, "no values")
    if not all(math.isfinite(v) for v in values):
        raise InputError(None, where, "values must be finite")
    return [Setting(path, value, scale) for value in values]


def grid(axes: list[list[Setting]]) -> list[Point]:
    """Every combination of the axes' values, the first axis varying slowest."""
    points = [tuple(combo) for combo in itertools.product(*axes)]
    if len(points) > MAX_POINTS:
        raise InputError(None, "--vary", f"{len(points):,} points is more than the {MAX_POINTS:,} accepted")
    return points


def read_sweep_file(path: Path) -> list[Point]:
    """A CSV with columns ``run,param,value``: the rows of one run make one point."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, None, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, None, f"cannot read as UTF-8 text ({exc.__class__.__name__})") from None
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or [f.strip() for f in reader.fieldnames] != ["run", "param", "value"]:
        raise InputError(path, "line 1", "the header must be run,param,value")
    runs: dict[str, list[Setting]] = {}
    for line, row in enumerate(reader, start=2):
        run, param, value = (str(row.get(k) or "").strip() for k in ("run", "param", "value"))
        if not run or not param or not value:
            raise InputError(path, f"line {line}", "run, param and value are all required")
        scale = value.startswith("x")
        try:
            number = float(value.lstrip("x"))
        except ValueError:
            raise InputError(path, f"line {line}, column value", f"{value!r} is not a number") from None
        if not math.isfinite(number):
            raise InputError(path, f"line {line}, column value", "must be finite")
        settings = runs.setdefault(run, [])
        if any(s.path == param for s in settings):
            raise InputError(path, f"line {line}, column param", f"run {run!r} sets {param} twice")
        settings.append(Setting(param, number, scale))
    if not runs:
        raise InputError(path, None, "no runs")
    if len(runs) > MAX_POINTS:
        raise InputError(path, None, f"{len(runs):,} runs is more than the {MAX_POINTS:,} accepted")
    columns = [s.column for s in next(iter(runs.values()))]
    for run, settings in runs.items():
        if [s.column for s in settings] != columns:
            raise InputError(path, f"run {run}", "every run must set the same parameters in the same order")
    return [tuple(settings) for settings in runs.values()]


def apply_point(base: Scenario, point: Point) -> Scenario:
    """The base scenario with each setting of the point applied, validated.

    Only the sections the settings name (``fund``, ``supply``, ...) are written out as data, set
    and validated again; the others are the base's own (frozen, validated) models, which pydantic
    takes as they are. The scenario's own checks across sections (its validators, the
    references between sections) run on the whole point as on any scenario."""
    sections = {setting.path.split(".", 1)[0] for setting in point}
    plain = {name: (to_plain(getattr(base, name)) if name in sections else getattr(base, name))
             for name in type(base).model_fields}
    for setting in point:
        _set_path(plain, base, setting)
    label = ", ".join(f"{s.column}={s.value:g}" for s in point)
    try:
        return scenario_from_dict(plain, source=f"sweep point {label}")
    except InputError:
        raise
    except StockpileError as exc:  # pragma: no cover - validation only raises InputError
        raise InputError(None, label, str(exc)) from None


def check_paths(base: Scenario, point: Point) -> None:
    """Fail fast (InputError) on a path the scenario does not have; a bad value at one point is
    recorded as that point's failure instead."""
    plain = copy.deepcopy(to_plain(base))
    for setting in point:
        _set_path(plain, base, setting)


def _set_path(plain: dict, base: Scenario, setting: Setting) -> None:
    where = f"--vary {setting.path}"
    parts = setting.path.split(".")
    node: Any = plain
    i = 0
    while i < len(parts) - 1:
        key = parts[i]
        if isinstance(node, dict) and key in NAMED_LISTS and key in node:
            name = parts[i + 1]
            match = [item for item in node[key] if item.get("name") == name]
            if not match:
                raise InputError(None, where, f"no {key} entry named {name!r}")
            node, i = match[0], i + 2
            continue
        if _is_series(node.get(key) if isinstance(node, dict) else None) and _is_fy(parts[i + 1]) and i + 2 == len(parts):
            _set_series_fy(node, key, parse_fy(parts[i + 1]), setting, base)
            return
        if not isinstance(node, dict) or key not in node or not isinstance(node[key], dict):
            raise InputError(None, where, f"no key {'.'.join(parts[:i + 1])!r} in the scenario")
        node, i = node[key], i + 1
    leaf = parts[-1]
    if not isinstance(node, dict) or (leaf not in node):
        raise InputError(None, where, f"no key {setting.path!r} in the scenario")
    current = node[leaf]
    if _is_series(current):
        node[leaf] = _scaled_series(current, setting.value) if setting.scale else setting.value
    elif isinstance(current, bool) or isinstance(current, str):
        raise InputError(None, where, f"{setting.path} is not a number")
    elif isinstance(current, int) or (current is None and leaf in ("to_fy", "from_fy", "first_fy", "last_fy")):
        value = (current or 0) * setting.value if setting.scale else setting.value
        if value != int(value):
            raise InputError(None, where, f"{setting.path} takes whole numbers, not {value:g}")
        node[leaf] = int(value)
    elif isinstance(current, float):
        node[leaf] = current * setting.value if setting.scale else setting.value
    else:
        raise InputError(None, where, f"{setting.path} cannot be varied")


def _is_fy(text: str) -> bool:
    try:
        parse_fy(text)
        return True
    except ValueError:
        return False


def _is_series(value: Any) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    return isinstance(value, dict) and bool(value) and (set(value) == {"ramp"} or all(_is_fy(k) for k in value))


def _scaled_series(value: Any, factor: float) -> Any:
    if isinstance(value, dict):
        if set(value) == {"ramp"}:
            return {"ramp": {k: v * factor for k, v in value["ramp"].items()}}
        return {k: v * factor for k, v in value.items()}
    return value * factor


def _set_series_fy(node: dict, key: str, fy: int, setting: Setting, base: Scenario) -> None:
    """Set one FY of a per-FY value: the series is written out FY by FY, then that FY changed."""
    if not base.horizon.first_fy <= fy <= base.horizon.last_fy:
        raise InputError(None, f"--vary {setting.path}", f"FY{fy} is outside the horizon")
    series = _resolve(base, setting.path.rsplit(".", 1)[0])
    table = {str(y): series.at(y) for y in base.fys}
    table[str(fy)] = table[str(fy)] * setting.value if setting.scale else setting.value
    node[key] = table


def _resolve(base: Scenario, path: str):
    node: Any = base
    parts = path.split(".")
    i = 0
    while i < len(parts):
        key = parts[i]
        if key in NAMED_LISTS:
            node = next(o for o in getattr(node, key) if o.name == parts[i + 1])
            i += 2
            continue
        node = node[key] if isinstance(node, dict) else getattr(node, key)
        i += 1
    return node


def point_columns(points: list[Point]) -> list[str]:
    return [s.column for s in points[0]]
