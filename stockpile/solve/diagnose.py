"""Why a scenario has no plan: the smallest set of its hard limits that must move, and by how much.

The model is elastic in its soft parts (shortfall, unmet drawdowns, Fund deficit), so only the hard
limits a scenario sets can make it infeasible: capacities and recycling feedstock (with the
disruption events that cut them), trusted-share floors, bans, the single-country caps (by origin
and by refiner), AMP limits, obligation caps, fixed orders and the width of a bounded last price tier. The diagnosis, after
Switch's ``diagnose_infeasibility``:

1. copies the LP and gives every hard row a nonnegative slack (two for an equality), penalised per
   unit in comparable terms: tonnes relative to the material's largest goal, $M relative to the
   Fund's largest annual appropriation or cap, so a tonne of cobalt and a dollar weigh alike;
2. minimises the total penalised violation;
3. shrinks the limits that moved to an irreducible set (a deletion filter: each limit in turn is
   held at its scenario value, and dropped from the set for good when the rest still suffice), so
   no limit in the report could stay where it is while the others move as reported;
4. minimises the violation again over that set, and turns each violated row into the value its
   scenario key must take (in the key's own units: tonnes, dollars, shares, an FY);
5. applies those values to the scenario and re-solves it, to confirm the report.

Which row families are hard, and which count in money rather than tonnes, is said once in
:mod:`stockpile.model.families`; each maps to its scenario keys in one place,
:data:`stockpile.solve.relaxations.RELAXATIONS`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import pandas as pd

from stockpile.scenario import rules
from stockpile.errors import SolveError
from stockpile.model.families import SLACK, TIER_WIDTH, RowFamily, row_family
from stockpile.model.lp import INF, LinearProgram
from stockpile.model.build import MONEY_SCALE, StockpileModel, build
from stockpile.scenario.load import scenario_from_dict
from stockpile.scenario.schema import Scenario, to_plain
from stockpile.solve.relaxations import LimitContext, Relaxation, apply_relaxations, row_relaxations
from stockpile.solve.status import SolveStatus, StageFailed

VIOLATION_TOL = 1e-7
"""A slack below this (relative to its row's reference scale) is solver noise, not a violation."""
MAX_FILTER_LIMITS = 200
"""The deletion filter re-solves once per candidate limit; past this many it is skipped."""
DIAGNOSIS_SOLVER = "highs"
"""The elastic LPs are always solved by HiGHS (a dependency of stockpile, so always present)."""


class InfeasibleError(SolveError):
    """No plan meets every hard limit; ``diagnosis`` says which limits to move and by how much."""

    def __init__(self, diagnosis: Diagnosis):
        self.diagnosis = diagnosis
        super().__init__(diagnosis.report())


# ---------------------------------------------------------------------------------------------
# What must move (each key a Relaxation, stockpile.solve.relaxations)

@dataclass
class Diagnosis:
    scenario: Scenario
    relaxations: list[Relaxation]
    total_violation: float
    """The least total penalised violation (tonnes per material-goal scale plus $M per budget scale)."""
    minimal: bool
    """True when the deletion filter ran to the end, so no reported limit could be left out."""
    confirmed: bool | None = None
    """True when the scenario with every relaxation applied was re-solved and is feasible."""
    seconds: float = 0.0

    def report(self) -> str:
        s = self.scenario
        n = len(self.relaxations)
        lines = [f"scenario {s.name!r} is infeasible: its hard limits cannot all be met.",
                 f"The {'smallest' if self.minimal else 'following'} set of limits to move "
                 f"({n} limit{'s' if n != 1 else ''}), each by the least amount found:"]
        lines += [f"  {i}. {r.sentence()}" for i, r in enumerate(self.relaxations, start=1)]
        if not self.minimal:
            lines.append("  (the search for a smaller set was cut short; some of these may not be needed)")
        if self.confirmed:
            lines.append("With these values the scenario solves (checked by re-solving it).")
        elif self.confirmed is False:
            lines.append("Warning: the scenario with these values was re-solved and is still infeasible; "
                         "please report this with the scenario.")
        return "\n".join(lines)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([dict(key=r.key, limit=r.what, unit=r.unit, current=r.current, required=r.required,
                                  change=r.change if r.unit != "FY" else None, detail="; ".join(r.details))
                             for r in self.relaxations],
                            columns=["key", "limit", "unit", "current", "required", "change", "detail"])

    def apply(self, raw: dict) -> dict:
        """``raw`` (a scenario as plain data, e.g. :func:`~stockpile.scenario.to_plain`) with every
        relaxation applied."""
        return apply_relaxations(raw, self.relaxations, list(self.scenario.fys))


def _round_loose(value: float, direction: str, unit: str) -> float:
    """The required value rounded to 4 significant figures in the direction that loosens the limit
    (solver noise removed first); a fixed order is only cleaned of noise."""
    if unit == "FY":
        return float(math.ceil(value - 1e-9))
    value = float(f"{value:.9g}")
    if direction == "set":
        return round(value, 6) + 0.0
    if value == 0:
        return 0.0
    exponent = math.floor(math.log10(abs(value))) - 3
    scaled = value / 10.0 ** exponent
    digits = math.ceil(scaled - 1e-6) if direction in ("raise", "later") else math.floor(scaled + 1e-6)
    rounded = float(f"{digits}e{exponent}")
    if unit in ("share", "availability"):
        rounded = min(max(rounded, 0.0), 1.0)
    return rounded


# ---------------------------------------------------------------------------------------------
# The elastic LP

@dataclass
class ElasticProgram:
    """The model's LP with a penalised slack on every hard row, and which keys each row is."""

    lp: LinearProgram
    slacks: list[tuple[int, int, float]]
    """(slack column, elastic row, penalty per unit)."""
    row_keys: dict[int, list[str]]
    """Elastic hard row -> the scenario keys it belongs to."""


def _references(s: Scenario) -> tuple[dict[str, float], float]:
    """Scales that make violations comparable: tonnes per material, $M for money rows."""
    tonnes = {}
    for code, material in s.materials.items():
        tonnes[code] = max([1.0, material.opening_inventory] + [material.goal.at(fy) for fy in s.fys])
    f = s.fund
    money = [1e6, abs(f.opening_balance)] + [f.appropriation.at(fy) for fy in s.fys]
    if f.obligation_cap is not None:
        money += [f.obligation_cap.at(fy) for fy in s.fys]
    return tonnes, max(money) / MONEY_SCALE


def elastic_program(model: StockpileModel) -> ElasticProgram:
    """A copy of the model's LP with a penalised slack on every hard row (and bounded last tier)."""
    s, lp = model.scenario, model.lp
    ctx = LimitContext.of(s, lp)
    tonnes_ref, money_ref = _references(s)
    e = LinearProgram(name=f"{lp.name}_elastic")
    for c in range(lp.n_cols):
        e.add_column(lp.col_family[c], lp.col_key[c], lp.col_lower[c], lp.col_upper[c])
    slacks: list[tuple[int, int, float]] = []
    row_keys: dict[int, list[str]] = {}

    def add(family: str, key: tuple, terms: dict[int, float], sense: str, rhs: float, penalty: float) -> None:
        row = e.n_rows
        if sense in ("<=", "="):
            col = e.add_column(SLACK.name, (row, "over"))
            terms[col] = -1.0
            slacks.append((col, row, penalty))
        if sense in (">=", "="):
            col = e.add_column(SLACK.name, (row, "under"))
            terms[col] = 1.0
            slacks.append((col, row, penalty))
        e.add_row(family, key, terms, sense, rhs)
        row_keys[row] = sorted({r.key for r in row_relaxations(LimitContext(s, e, ctx.where), row)})

    def penalty(family: RowFamily, key: tuple) -> float:
        """Per unit of violation: 1 over the money scale, or over the row's material's tonnes."""
        return 1.0 / (money_ref if family.money else tonnes_ref[family.fields(key)["material"]])

    for r in range(lp.n_rows):
        family, key = row_family(lp.row_family[r]), lp.row_key[r]
        terms = dict(zip(lp.row_cols[r], lp.row_coefs[r]))
        if family.hard:
            add(family.name, key, terms, lp.row_sense[r], lp.row_rhs[r], penalty(family, key))
        else:
            e.add_row(family.name, key, terms, lp.row_sense[r], lp.row_rhs[r])
    for option in s.supply:
        width = rules.tiers(option)[-1][0] if option.tiers else None
        if width is None:
            continue
        last = len(option.tiers)
        for fy in rules.orderable_fys(s, option):
            col = e.col("buy", option.material, option.name, last, fy)
            e.col_upper[col] = INF
            key = (option.material, option.name, fy)
            add(TIER_WIDTH.name, key, {col: 1.0}, "<=", width, penalty(TIER_WIDTH, key))
    return ElasticProgram(e, slacks, row_keys)


def _solve(elastic: ElasticProgram, allowed: set[str] | None, deadline: float):
    """Least penalised violation with slack only on rows all of whose keys are ``allowed`` (None: all)."""
    from stockpile.solve.backends.factory import make_backend

    lp = elastic.lp
    upper = list(lp.col_upper)
    objective = {}
    for col, row, penalty in elastic.slacks:
        if allowed is not None and not set(elastic.row_keys[row]) <= allowed:
            lp.col_upper[col] = 0.0
        else:
            objective[col] = penalty
    try:
        run = make_backend(lp, DIAGNOSIS_SOLVER).solve(objective, max(deadline - time.perf_counter(), 0.5))
    finally:
        lp.col_upper[:] = upper
    return run if run.status.is_ok else None, run


def _violated(elastic: ElasticProgram, x: list[float]) -> dict[int, float]:
    """Elastic row -> its weighted slack, for rows with a slack past the noise tolerance."""
    out: dict[int, float] = {}
    for col, row, penalty in elastic.slacks:
        if x[col] * penalty > VIOLATION_TOL:
            out[row] = out.get(row, 0.0) + x[col] * penalty
    return out


def diagnose(scenario: Scenario, time_limit: float | None = None) -> Diagnosis | None:
    """The diagnosis of an infeasible scenario, or None when its hard limits can all be met."""
    started = time.perf_counter()
    deadline = started + (time_limit or scenario.solver.time_limit)
    model = build(scenario)
    elastic = elastic_program(model)
    best, run = _solve(elastic, None, deadline)
    if best is None:
        raise SolveError(f"scenario {scenario.name!r}: the infeasibility diagnosis could not be completed "
                         f"({run.status}: {run.detail})")
    violated = _violated(elastic, best.x)
    if not violated:
        return None
    weight: dict[str, float] = {}
    for row, amount in violated.items():
        for key in elastic.row_keys[row]:
            weight[key] = weight.get(key, 0.0) + amount
    kept = set(weight)
    minimal = len(kept) <= MAX_FILTER_LIMITS
    if minimal:
        # Deletion filter: try to hold each limit at its scenario value, smallest moves first.
        for key in sorted(weight, key=lambda k: (weight[k], k)):
            if time.perf_counter() > deadline:
                minimal = False
                break
            trial, _ = _solve(elastic, kept - {key}, deadline)
            if trial is not None:
                kept.discard(key)
                best = trial
    final, _ = _solve(elastic, kept, deadline)
    best = final or best
    relaxations = _relaxations(scenario, elastic, best.x)
    diagnosis = Diagnosis(scenario, relaxations, float(best.objective or 0.0), minimal)
    diagnosis.confirmed = _confirm(diagnosis, deadline)
    diagnosis.seconds = time.perf_counter() - started
    return diagnosis


def _relaxations(scenario: Scenario, elastic: ElasticProgram, x: list[float]) -> list[Relaxation]:
    ctx = LimitContext.of(scenario, elastic.lp)
    merged: dict[str, Relaxation] = {}
    for row in sorted(_violated(elastic, x)):
        for relaxation in row_relaxations(ctx, row, x):
            relaxation.required = _round_loose(relaxation.required, relaxation.direction, relaxation.unit)
            if relaxation.key in merged:
                merged[relaxation.key].merge(relaxation)
            else:
                merged[relaxation.key] = relaxation
    moved = [r for r in merged.values()
             if abs(r.required - r.current) > 1e-9 * max(1.0, abs(r.current))]
    return sorted(moved, key=lambda r: _key_order(r))


def _key_order(r: Relaxation) -> tuple:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in r.path) + ((r.fy or 0,),)


def _confirm(diagnosis: Diagnosis, deadline: float) -> bool | None:
    """Re-solve the scenario with every relaxation applied (first stage only: feasibility)."""
    from stockpile.solve.backends.factory import make_backend

    try:
        relaxed = scenario_from_dict(diagnosis.apply(to_plain(diagnosis.scenario)), source="<relaxed scenario>")
    except Exception:  # noqa: BLE001 - a relaxation that does not validate is reported as unconfirmed
        return False
    model = build(relaxed)
    run = make_backend(model.lp, DIAGNOSIS_SOLVER).solve(model.lp.objectives.get("deficit", {}),
                                                         max(deadline - time.perf_counter(), 0.5))
    if run.status.is_ok:
        return True
    return False if run.status == SolveStatus.INFEASIBLE else None


def diagnose_failure(scenario: Scenario, exc: SolveError, time_limit: float | None = None) -> SolveError:
    """The error to report for a failed solve: the diagnosis when the hard limits conflict, else ``exc``.

    A solve stopped by its time limit or an interrupt is reported as it is (a diagnosis would take
    as long again); so is a failure the elastic copy shows is not about hard limits, and one that
    is not a stage's (no solver status to go by).
    """
    if not isinstance(exc, StageFailed) or exc.status.stopped_early:
        return exc
    try:
        diagnosis = diagnose(scenario, time_limit)
    except SolveError:
        return exc
    return exc if diagnosis is None else InfeasibleError(diagnosis)
