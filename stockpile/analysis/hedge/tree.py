"""Hedging against disruptions: a two-stage plan over a scenario tree.

Futures k = 1..K with probabilities p_k (named in ``[uncertainty.futures]``, or sampled) each
change the scenario's disruption events and prices. The deterministic equivalent is one LP built
by the same constraint families as a single plan, once per future (:func:`build_hedge`):

* every column and row of future k is keyed by k, except the here-and-now decisions
  (``order``, ``buy`` and ``sell`` in FYs before the decision FY), which all futures share, so a
  shared order must fit every future's capacity, bans and shares (non-anticipativity);
* each priority's objective is the expectation sum_k p_k objective_k, solved lexicographically
  (in the order of model.build.OBJECTIVES: release, deficit, shortfall, cost), with optionally a CVaR of shortfall in the readiness
  stage: (1 - lambda) E[S] + lambda (eta + sum_k p_k z_k / (1 - alpha)), z_k >= S_k - eta, z_k >= 0.

Measures (each priority separately, in its own units):

* RP, the hedged plan's expected outcome; WS, the expected outcome if each future were known in
  advance (each future's own optimum); EV, the plan for the average future (capacities and
  prices averaged over futures), whose here-and-now orders fixed in the tree give EEV;
* VSS = EEV - RP (what hedging buys over planning for the average), EVPI = RP - WS (what
  knowing the future would be worth). Lexicographically both are >= 0.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from stockpile.scenario import rules
from stockpile.plan.audit import audit_plan
from stockpile.errors import AuditError, InputError, SolveError
from stockpile.model.families import CVAR, CVAR_EXCESS, CVAR_VAR, HERE_AND_NOW
from stockpile.model.lp import INF, LinearProgram
from stockpile.model.build import MONEY_SCALE, OBJECTIVES, StockpileModel, build
from stockpile.plan.read import Plan, read_plan
from stockpile.scenario.load import scenario_from_dict
from stockpile.scenario.schema import RecyclingStream, Scenario, to_plain
from stockpile.solve.backends.factory import solver_for_large_models
from stockpile.solve.lexicographic import Solution, solve_model

OBJECTIVE_UNITS = {"release": "weighted relative unmet release", "deficit": "$M",
                   "shortfall": "weighted relative shortfall", "cost": "$M"}
"""The unit each priority's value is in, for the measures table."""
assert tuple(OBJECTIVE_UNITS) == OBJECTIVES

LARGE_MODEL_COLUMNS = 20_000
"""Above this size the tree is solved by interior point: simplex is slow on scenario-indexed LPs."""


@dataclass(frozen=True)
class Future:
    name: str
    probability: float
    scenario: Scenario
    description: str = ""


# ---------------------------------------------------------------------------------------------
# The tree

def futures_of(scenario: Scenario) -> list[Future]:
    """The scenario's futures: named ones in file order, or the sample drawn from its seed."""
    tree = scenario.uncertainty
    if tree is None:
        raise InputError(None, "uncertainty", "the scenario has no [uncertainty] section to hedge against")
    base = copy.deepcopy(to_plain(scenario))
    base["uncertainty"] = None
    if tree.futures:
        named = []
        for name, future in tree.futures.items():
            plain = copy.deepcopy(base)
            plain["events"] = {**plain["events"], **to_plain(future)["events"]}
            if future.prices is not None:
                plain["prices"] = to_plain(future.prices)
            plain["name"] = f"{scenario.name} [{name}]"
            named.append(Future(name, future.probability, scenario_from_dict(plain, source=f"future {name}"),
                                future.description))
        return named
    return sample_futures(scenario, base)


def sample_futures(scenario: Scenario, base: dict) -> list[Future]:
    """Markov on/off disruptions drawn FY by FY from the decision FY, reproducibly from the seed.

    Draw order is fixed (future, then disruption, then FY; an episode's availability and price
    are drawn when it starts), so the same seed always gives the same tree.
    """
    tree = scenario.uncertainty
    sample = tree.sample
    rng = np.random.default_rng(sample.seed)
    fys = range(tree.decision_fy, scenario.horizon.last_fy + 1)
    futures = []
    width = len(str(sample.n))
    for i in range(sample.n):
        events = dict(base["events"])
        parts = []
        for j, disruption in enumerate(sample.disruptions, start=1):
            on, start = False, None
            episodes = []
            for fy in fys:
                draw = rng.random()
                if not on and draw < disruption.start_probability:
                    on, start = True, fy
                    availability = float(rng.uniform(*disruption.availability))
                    price = float(rng.uniform(*disruption.price))
                elif on and draw < disruption.end_probability:
                    on = False
                    episodes.append((start, fy - 1, availability, price))
            if on:
                episodes.append((start, scenario.horizon.last_fy, availability, price))
            for e, (first, last, availability, price) in enumerate(episodes, start=1):
                if availability == 1.0 and price == 1.0:
                    continue  # an episode that changes nothing is no event
                events[f"sampled-{j}-{e}"] = {
                    "country": disruption.country, "material": disruption.material, "from_fy": first,
                    "to_fy": last, "availability": availability, "price": price,
                    "description": f"sampled disruption {j}, episode {e}"}
                parts.append(f"{disruption.country} {disruption.material} FY{first}-FY{last}")
        plain = copy.deepcopy(base)
        plain["events"] = events
        name = f"sample-{i + 1:0{width}d}"
        plain["name"] = f"{scenario.name} [{name}]"
        futures.append(Future(name, 1.0 / sample.n, scenario_from_dict(plain, source=f"sampled future {name}"),
                              "; ".join(parts) or "no disruption"))
    return futures


# ---------------------------------------------------------------------------------------------
# The deterministic equivalent

@dataclass
class HedgeModel:
    base: Scenario
    lp: LinearProgram
    futures: list[Future]
    models: dict[str, StockpileModel]
    own_objectives: dict[str, dict[str, dict[int, float]]]
    """Per future, its own (unweighted) objective terms, for per-future outcomes."""
    decision_fy: int

    def is_shared(self, family: str, key: tuple) -> bool:
        return family in HERE_AND_NOW and key[-1] < self.decision_fy


def build_hedge(scenario: Scenario, futures: list[Future], decision_fy: int) -> HedgeModel:
    """The tree as one LP: each future built by :func:`stockpile.model.build` under its own scope."""
    lp = LinearProgram(name="hedge")
    model = HedgeModel(scenario, lp, futures, {}, {}, decision_fy)
    lp.shared = model.is_shared
    expected: dict[str, dict[int, float]] = {}
    for future in futures:
        lp.scope = (future.name,)
        lp.objectives = {}
        model.models[future.name] = build(future.scenario, lp)
        model.own_objectives[future.name] = lp.objectives
        for name, terms in lp.objectives.items():
            target = expected.setdefault(name, {})
            for col, coef in terms.items():
                target[col] = target.get(col, 0.0) + future.probability * coef
    lp.scope = ()
    lp.objectives = expected
    if scenario.uncertainty is not None and scenario.uncertainty.cvar is not None:
        _add_cvar(model, scenario.uncertainty.cvar)
    return model


def _add_cvar(model: HedgeModel, cvar) -> None:
    """Readiness objective (1 - lambda) E[S] + lambda CVaR_alpha(S), by Rockafellar-Uryasev:

        cvar[k]:  z_k + eta - S_k >= 0,   z_k >= 0,  eta free
        CVaR = eta + sum_k p_k z_k / (1 - alpha)
    """
    lp = model.lp
    eta = lp.add_column(CVAR_VAR.name, (), lower=-INF)
    weight = cvar.weight
    objective = {col: (1 - weight) * coef for col, coef in lp.objectives.get("shortfall", {}).items()}
    objective[eta] = objective.get(eta, 0.0) + weight
    for future in model.futures:
        z = lp.add_column(CVAR_EXCESS.name, (future.name,))
        terms = {z: 1.0, eta: 1.0}
        for col, coef in model.own_objectives[future.name].get("shortfall", {}).items():
            terms[col] = terms.get(col, 0.0) - coef
        lp.add_row(CVAR.name, (future.name,), terms, ">=", 0.0)
        objective[z] = objective.get(z, 0.0) + weight * future.probability / (1 - cvar.level)
    lp.objectives["shortfall"] = objective


# ---------------------------------------------------------------------------------------------
# Solving and measuring

@dataclass
class HedgeResult:
    scenario: Scenario
    futures: list[Future]
    decision_fy: int
    solution: Solution
    plans: dict[str, Plan]
    shared_orders: pd.DataFrame
    outcomes: pd.DataFrame
    measures: pd.DataFrame
    expected: dict[str, float] = field(default_factory=dict)
    executor: str = "1 process"
    """Where the futures' own solves ran (see stockpile.executor.run_tasks)."""
    average_future_orders: pd.DataFrame | None = None
    """The here-and-now orders of the plan for the average future (None without measures)."""

    def bought_now_difference(self) -> pd.DataFrame:
        """Per material and option: tonnes the hedged plan orders before the decision FY, the
        average-future plan's, and hedged - average (largest differences first)."""
        columns = ["material", "option", "hedged", "average_future", "difference"]
        if self.average_future_orders is None:
            return pd.DataFrame(columns=columns)
        hedged = self.shared_orders.groupby(["material", "option"]).tonnes.sum()
        average = self.average_future_orders.groupby(["material", "option"]).tonnes.sum()
        table = pd.concat([hedged.rename("hedged"), average.rename("average_future")], axis=1).fillna(0.0)
        table["difference"] = table.hedged - table.average_future
        table = table[table.difference.abs() > 0.5].reset_index()
        order = table.difference.abs().sort_values(ascending=False, kind="stable").index
        return table.loc[order, columns].reset_index(drop=True)


def _future_value(model: HedgeModel, name: str, objective: str, x: list[float]) -> float:
    return sum(coef * x[col] for col, coef in model.own_objectives[name].get(objective, {}).items())


def _solver_for(model: HedgeModel, solver: str | None) -> str:
    if solver:
        return solver
    if model.lp.n_cols > LARGE_MODEL_COLUMNS:
        return solver_for_large_models(model.base.solver.name)
    return model.base.solver.name


Pinned = dict[tuple[str, tuple], float]
"""Here-and-now columns pinned to values: (family, key) -> value."""


def solve_hedge(model: HedgeModel, solver: str | None = None, time_limit: float | None = None,
                fixed_shared: Pinned | None = None) -> Solution:
    """Solve the tree lexicographically; ``fixed_shared`` pins here-and-now columns (for EEV)."""
    lp = model.lp
    if fixed_shared:
        lp = lp.copy()
        _pin(lp, fixed_shared)
    return solve_model(StockpileModel(model.base, lp), _solver_for(model, solver), time_limit)


def _pin(lp: LinearProgram, values: Pinned) -> None:
    """Fix each column named in ``values`` (by family and key) at its value."""
    for col in range(lp.n_cols):
        value = values.get((lp.col_family[col], lp.col_key[col]))
        if value is not None:
            lp.col_lower[col] = lp.col_upper[col] = value


def average_future(scenario: Scenario, futures: list[Future]) -> Scenario:
    """The deterministic 'average future': every option's capacity and price in each FY is the
    probability-weighted mean over futures (events and price levels folded in)."""
    plain = copy.deepcopy(to_plain(scenario))
    plain["uncertainty"] = None
    plain["events"] = {}
    plain["prices"] = {"multiplier": 1.0}
    fys = list(scenario.fys)

    def mean(function, option) -> dict[str, float]:
        return {str(fy): sum(f.probability * function(f.scenario, rules.option_named(f.scenario, option.name), fy)
                             for f in futures) for fy in fys}

    for section in ("supply", "recycling"):
        for entry, option in zip(plain[section], getattr(scenario, section)):
            if isinstance(option, RecyclingStream):
                entry["feedstock"] = mean(rules.capacity, option)
                entry["recovery_yield"] = 1.0
                entry["cost"] = mean(rules.unit_price, option)
            else:
                entry["capacity"] = mean(rules.capacity, option)
                entry["price"] = mean(rules.unit_price, option)
                entry["escalation"] = 0.0
    plain["name"] = f"{scenario.name} [average future]"
    return scenario_from_dict(plain, source="the average future")


def hedge(scenario: Scenario, solver: str | None = None, time_limit: float | None = None,
          measures: bool = True, workers: int = 1, dask_address: str | None = None,
          timings: dict[str, float] | None = None, progress: Callable[..., None] | None = None) -> HedgeResult:
    """The hedged plan, each future's plan under it (audited), and VSS and EVPI.

    The measures solve each future alone twice (its own optimum, for WS; and under the average
    future's here-and-now orders, for EEV): independent solves, run through the sweep's executor
    (``workers`` local processes, or the Dask cluster at ``dask_address``). ``timings`` receives
    each phase's seconds (for the benchmark); ``progress(phase, done=0, total=0)`` is told as each
    phase starts, and as the futures' own solves finish (for the terminal).
    """
    import time

    clock = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        if timings is not None:
            timings[name] = now - clock
        clock = now

    report = progress or (lambda phase, done=0, total=0: None)
    tree = scenario.uncertainty
    report("drawing the futures")
    futures = futures_of(scenario)
    phase("futures")
    report(f"building the tree of {len(futures)} futures")
    model = build_hedge(scenario, futures, tree.decision_fy)
    phase("build")
    report(f"solving the tree ({model.lp.n_cols:,} variables)")
    solution = solve_hedge(model, solver, time_limit)
    phase("solve")
    report("reading and auditing each future's plan")
    plans = _future_plans(model, solution)
    phase("plans")
    rp = {name: solution.objective_values[name] for name in OBJECTIVES}
    outcome_rows = []
    own_optimum: dict[str, dict[str, float]] = {}
    executor = "1 process"
    average_orders = None
    if measures:
        own_optimum, under_ev, executor, average_orders = _evaluate_futures(
            model, scenario, futures, solver, time_limit, workers, dask_address, report)
        phase("measures")
    for future in futures:
        row = {"future": future.name, "probability": future.probability, "description": future.description}
        for name in OBJECTIVES:
            row[name] = _future_value(model, future.name, name, solution.x)
            if measures:
                row[f"own_optimum_{name}"] = own_optimum[future.name][name]
        plan = plans[future.name]
        row.update(headline=plan.headline, total_shortfall_tonne_years=plan.kpis["total_shortfall_tonne_years"],
                   total_deficit=plan.kpis["total_deficit"], total_purchase_cost=plan.kpis["total_purchase_cost"],
                   end_fund_balance=plan.kpis["end_fund_balance"], audit=plan.audit.summary)
        outcome_rows.append(row)
    measure_rows = []
    if measures:
        ws = {name: sum(f.probability * own_optimum[f.name][name] for f in futures) for name in OBJECTIVES}
        eev = None if any(under_ev[f.name] is None for f in futures) else {
            name: sum(f.probability * under_ev[f.name][name] for f in futures) for name in OBJECTIVES}
        for name in OBJECTIVES:
            unit = OBJECTIVE_UNITS[name]
            vss = None if eev is None else _difference(eev[name], rp[name])
            measure_rows.append(dict(priority=name, unit=unit, hedged_RP=rp[name], wait_and_see_WS=ws[name],
                                     average_future_EEV=None if eev is None else eev[name],
                                     VSS=vss, EVPI=_difference(rp[name], ws[name])))
    return HedgeResult(scenario=scenario, futures=futures, decision_fy=tree.decision_fy, solution=solution,
                       plans=plans, shared_orders=_shared_orders(model, plans),
                       outcomes=pd.DataFrame(outcome_rows), measures=pd.DataFrame(measure_rows), expected=rp,
                       executor=executor, average_future_orders=average_orders)


def _difference(a: float, b: float) -> float:
    """a - b, zero when within solver precision (1e-7 relative) of each other."""
    return 0.0 if abs(a - b) <= 1e-7 * max(1.0, abs(a), abs(b)) else a - b


def _evaluate_futures(model: HedgeModel, scenario: Scenario, futures: list[Future], solver, time_limit,
                      workers: int, dask_address: str | None, report: Callable[..., None]):
    """Each future's own optimum, and its optimum under the average future's here-and-now orders.

    With the here-and-now columns fixed, the tree falls apart into one LP per future, and the
    lexicographic optimum of an expectation of independent parts is each part's own (a future
    that gave up some of its optimum could not lower another's). So EEV is sum_k p_k of future k
    solved alone with the average future's orders (None if those break some future's hard
    limits), and WS the same without them.
    """
    from stockpile.analysis.executor import run_tasks
    from stockpile.analysis.sweep.run import chunk_size

    report("solving the average future (for VSS)")
    ev_model = build(average_future(scenario, futures))
    ev = solve_model(ev_model, solver, time_limit)
    lp = ev_model.lp
    pinned: Pinned = {(lp.col_family[c], lp.col_key[c]): ev.x[c] for c in range(lp.n_cols)
                      if model.is_shared(lp.col_family[c], lp.col_key[c])}
    texts = [f.scenario.plain_json() for f in futures]
    size = chunk_size(len(futures))
    chunks = [list(range(i, min(i + size, len(futures)))) for i in range(0, len(futures), size)]
    tasks = [([texts[k] for k in chunk], fixed, solver, time_limit) for fixed in ({}, pinned) for chunk in chunks]
    results: list[list | None] = [None] * len(tasks)
    solo = "solving each future alone (for VSS and EVPI)"
    report(solo, 0, 2 * len(futures))

    def keep(i: int, values: list) -> None:
        results[i] = values
        report(solo, sum(len(r) for r in results if r is not None), 2 * len(futures))

    executor = run_tasks(evaluate_futures_task, tasks, keep, workers, dask_address)
    own, under_ev = {}, {}
    for i, values in enumerate(results):
        target = own if i < len(chunks) else under_ev
        for k, value in zip(chunks[i % len(chunks)], values):
            target[futures[k].name] = value
    for future in futures:
        if isinstance(own[future.name], str):
            raise SolveError(f"future {future.name!r} solved alone: {own[future.name]}")
        if isinstance(under_ev[future.name], str):  # the average future's orders break its limits
            under_ev[future.name] = None
    ev_orders = read_plan(ev_model, ev).tables["orders"]
    return own, under_ev, executor, ev_orders[ev_orders.fy < model.decision_fy].reset_index(drop=True)


def evaluate_futures_task(futures_json: list[str], pinned: Pinned, solver: str | None,
                          time_limit: float | None) -> list[dict[str, float] | str]:
    """Each future's lexicographic optimum solved alone, with ``pinned`` columns fixed (or why it
    could not be solved). The unit of work sent to a process or a Dask worker."""
    import json

    out: list[dict[str, float] | str] = []
    for text in futures_json:
        future = scenario_from_dict(json.loads(text), source="a future of the tree")
        model = build(future)
        _pin(model.lp, pinned)
        try:
            out.append(solve_model(model, solver, time_limit).objective_values)
        except SolveError as exc:
            out.append(str(exc))
    return out


def _future_plans(model: HedgeModel, solution: Solution) -> dict[str, Plan]:
    plans = {}
    lp = model.lp
    for future in model.futures:
        lp.scope = (future.name,)
        try:
            plan = read_plan(model.models[future.name], solution)
        finally:
            lp.scope = ()
        plan.objective_values = {name: _future_value(model, future.name, name, solution.x) for name in OBJECTIVES}
        plan.kpis["weighted_shortfall"] = plan.objective_values["shortfall"]
        plan.kpis["discounted_net_cost"] = plan.objective_values["cost"] * MONEY_SCALE
        plan.audit = audit_plan(future.scenario, plan.tables)
        if not plan.audit.ok:
            raise AuditError(f"the hedged plan failed its audit in future {future.name!r} "
                             f"({plan.audit.summary}); this is a defect in stockpile, please report it")
        plans[future.name] = plan
    return plans


def _shared_orders(model: HedgeModel, plans: dict[str, Plan]) -> pd.DataFrame:
    """What to buy now: the here-and-now orders (the same in every future's plan)."""
    first = plans[model.futures[0].name].tables["orders"]
    shared = first[first.fy < model.decision_fy].reset_index(drop=True)
    return shared

