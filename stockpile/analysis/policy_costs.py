"""What each policy costs: the scenario re-solved without it, compared with the plan.

A policy is one of the scenario's sourcing rules: a material's trusted-share floor
(``policy.trusted_share.Co``), a ban (``policy.bans[1]``) or the single-country cap
(``policy.concentration_cap``). Its cost is the plan with it minus the plan without it, in each of
the lexicographic objectives: Fund deficit, readiness (weighted shortfall and tonne-years of
shortfall) and discounted net cost, plus the undiscounted purchases. A policy that costs
readiness is reported by that first: without it the plan may spend more, to buy what it lacked.

:func:`policy_cost_table` is the table for the workbook and ``stockpile explain``; its sentences in
planner's words are :func:`stockpile.outputs.policy_cost_text.policy_cost_sentences`.

How it is measured (warm, on the model already built): the scenario without a policy has the
same columns and a subset of the rows (a policy only adds hard rows:
:func:`stockpile.solve.relaxations.rows_only_set_by` finds them). Freeing those rows on the
plan's own solver model turns it into the model of the scenario without the policy, and dropping a
limit keeps the plan's optimal basis primal feasible, so each lexicographic stage re-solves from
the plan's basis for that stage in a few iterations instead of from scratch (50 materials,
49,778 columns: about 0.2 s a policy against 40 s cold). The rows are restored after each
policy. Solvers that cannot warm-start (CBC, HiGHS through PuLP) re-solve each scenario cold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from stockpile.errors import SolveError, StockpileError
from stockpile.plan.read import Plan
from stockpile.scenario.schema import ALL, Scenario

POLICY_COST_COLUMNS = ["policy", "key", "status", "deficit", "weighted_shortfall", "shortfall_tonne_years",
                       "discounted_net_cost", "purchase_cost"]
"""policy, key, status ("optimal" or why it could not be measured), then with-minus-without:
deficit ($), weighted_shortfall, shortfall_tonne_years (t-yr), discounted_net_cost ($), purchase_cost ($)."""

Progress = Callable[[int, int], None]
"""progress(done, total): called once before the first policy and after each one."""


def policies(scenario: Scenario) -> Iterator[tuple[str, str, Scenario]]:
    """(planner's name, scenario key, the scenario without that policy) for each policy it sets."""
    s, policy = scenario, scenario.policy
    for code, share in policy.trusted_share.items():
        if not any(share.at(fy) > 0 for fy in s.fys):
            continue
        rest = {c: v for c, v in policy.trusted_share.items() if c != code}
        material = s.materials[code].name.lower() if code in s.materials else code
        yield (f"the trusted-share floor on {material}", f"policy.trusted_share.{code}",
               _without(s, trusted_share=rest))
    for i, ban in enumerate(policy.bans, start=1):
        material = "every material" if ban.material == ALL else (
            s.materials[ban.material].name.lower() if ban.material in s.materials else ban.material)
        source = (f"{ban.tag}-country" if ban.tag else ", ".join(ban.countries))
        if ban.stage != "any":
            source += f" ({ban.stage})"
        yield (f"the {source} ban on {material}", f"policy.bans[{i}]",
               _without(s, bans=policy.bans[:i - 1] + policy.bans[i:]))
    if policy.concentration_cap is not None:
        yield "the single-country cap", "policy.concentration_cap", _without(s, concentration_cap=None)
    if policy.refiner_cap is not None:
        yield "the single-refiner cap", "policy.refiner_cap", _without(s, refiner_cap=None)


def _without(scenario: Scenario, **policy_update) -> Scenario:
    return scenario.model_copy(update={"policy": scenario.policy.model_copy(update=policy_update)})


def _measures(plan: Plan) -> dict[str, float]:
    k = plan.kpis
    return dict(deficit=k["total_deficit"], weighted_shortfall=k["weighted_shortfall"],
                shortfall_tonne_years=k["total_shortfall_tonne_years"],
                discounted_net_cost=k["discounted_net_cost"], purchase_cost=k["total_purchase_cost"])


def policy_cost_table(scenario: Scenario, plan: Plan, solver: str | None = None,
                      time_limit: float | None = None, model=None, solution=None, workers: int = 1,
                      progress: Progress | None = None, warm: bool = True) -> pd.DataFrame:
    """One row per policy: its cost, measured by re-solving the scenario without it.

    ``model`` and ``solution``: the plan's own (:func:`stockpile.plan.pipeline.solve_scenario`);
    without them the scenario is built and solved once more, to have a basis to start from.
    ``workers`` > 1 spreads the policies over local processes (:mod:`stockpile.analysis.executor`);
    ``warm=False`` re-solves each scenario from scratch (the reference the tests compare with).
    The table is the same either way, in the order of :func:`policies`.
    """
    base = _measures(plan)
    listed = list(policies(scenario))
    solver = solver or scenario.solver.name
    if progress:
        progress(0, len(listed))
    if not listed:
        return pd.DataFrame([], columns=POLICY_COST_COLUMNS)
    measured = _measure_warm(scenario, listed, solver, time_limit, model, solution, workers, progress) \
        if warm else None
    if measured is None:
        measured = []
        for done, (_, _, without) in enumerate(listed, start=1):
            measured.append(_measure_cold(without, solver, time_limit))
            if progress:
                progress(done, len(listed))
    rows = []
    for (label, key, _), other in zip(listed, measured):
        if isinstance(other, str):
            rows.append(dict(policy=label, key=key, status=f"not measured: {other}"))
        else:
            rows.append(dict(policy=label, key=key, status="optimal",
                             **{name: base[name] - other[name] for name in base}))
    return pd.DataFrame(rows, columns=POLICY_COST_COLUMNS)


def _measure_cold(without: Scenario, solver: str, time_limit: float | None) -> dict[str, float] | str:
    """The measures of the scenario without a policy, solved from scratch, or why not (one line)."""
    from stockpile.plan.pipeline import plan_scenario

    try:
        return _measures(plan_scenario(without, solver, time_limit))
    except StockpileError as exc:
        return str(exc).splitlines()[0]


def _measure_warm(scenario: Scenario, listed, solver: str, time_limit: float | None, model, solution,
                  workers: int, progress: Progress | None) -> list[dict[str, float] | str] | None:
    """The measures of every policy, warm (see the module's docstring); None when the solver
    cannot warm-start and patch its model (then each is solved cold)."""
    from stockpile.analysis.executor import run_tasks
    from stockpile.solve.backends.factory import make_backend
    from stockpile.solve.backends.highs import basis_ints
    from stockpile.solve.relaxations import LimitContext, rows_only_set_by

    if model is None or solution is None:
        from stockpile.plan.pipeline import solve_scenario

        _, model, solution = solve_scenario(scenario, solver, time_limit)
    backend = simplex_backend(make_backend(model.lp, solver))
    if not (backend.can_warm_start and backend.can_patch and solution.bases):
        return None
    token = f"{id(model)}-{id(solution)}"
    _LOADED.clear()
    _LOADED.update(token=token, backend=backend, bases=dict(solution.bases))
    rows = rows_only_set_by(LimitContext.of(scenario, model.lp), [key for _, key, _ in listed])
    jobs = [(i, without, rows[key]) for i, (_, key, without) in enumerate(listed)]
    # Interleaved, so each process gets a share of the dear and the cheap; one task per process.
    n_tasks = max(1, min(workers, len(jobs)))
    bases = {stage: basis_ints(basis) for stage, basis in solution.bases.items()} if n_tasks > 1 else {}
    tasks = [(token, model, bases, jobs[k::n_tasks], solver, time_limit) for k in range(n_tasks)]
    measured: list[Any] = [None] * len(jobs)
    done = 0

    def take(_: int, results: list[tuple[int, Any]]) -> None:
        nonlocal done
        for i, value in results:
            if measured[i] is None:
                measured[i] = value
                done += 1
        if progress:
            progress(done, len(jobs))

    try:
        run_tasks(measure_policies, tasks, take, workers)
    finally:
        _LOADED.clear()  # the solver's copy of the model is not kept while the workbook is written
    return measured


def simplex_backend(backend):
    """The backend itself, or HiGHS simplex on the same LP for HiGHS interior point: each policy
    starts from the plan's bases, and interior point does not start from a basis (the plan itself
    may well be solved by interior point: its optimal basis comes from crossover)."""
    from stockpile.solve.backends.highs import HighsBackend

    if isinstance(backend, HighsBackend) and backend.method != "simplex":
        return HighsBackend(backend.lp)
    return backend


_LOADED: dict[str, Any] = {}
"""The solver model of the last plan this process measured policies of: token -> (backend, bases)."""


def measure_policies(token: str, model, bases: dict, jobs: list[tuple[int, Scenario, list[int]]], solver: str,
                     time_limit: float | None) -> list[tuple[int, dict[str, float] | str]]:
    """The measures of each job (position, scenario without the policy, the rows it alone sets),
    warm on one solver model per process: the unit of work of :func:`policy_cost_table`.

    Each job frees its rows, solves every stage from the plan's basis for that stage (from a
    cleared solver, so a result never depends on what this process solved before), reads back
    the measures and restores the rows."""
    from stockpile.model.build import StockpileModel
    from stockpile.model.families import LEXICOGRAPHIC_ROW
    from stockpile.model.lp import INF
    from stockpile.solve.backends.factory import make_backend
    from stockpile.solve.backends.highs import highs_basis
    from stockpile.solve.diagnose import diagnose_failure
    from stockpile.solve.lexicographic import solve_model

    if _LOADED.get("token") != token:  # a process of the pool: its first task loads the model
        _LOADED.clear()
        _LOADED.update(token=token, backend=simplex_backend(make_backend(model.lp, solver)),
                       bases={stage: highs_basis(basis) for stage, basis in bases.items()})
    backend, start = _LOADED["backend"], _LOADED["bases"]
    measures = _LOADED.setdefault("measures", SolutionMeasures(model))
    lp = model.lp
    stage_rows = [row for row, family in enumerate(lp.row_family) if family == LEXICOGRAPHIC_ROW.name]
    out = []
    for i, without, rows in jobs:
        saved = [(row, lp.row_rhs[row]) for row in rows + stage_rows]  # the stages move their rows too
        for row in rows:
            backend.set_rhs(row, INF if lp.row_sense[row] == "<=" else -INF)
        backend.clear_solver()
        relaxed = StockpileModel(without, lp, model.spend_terms)
        try:
            solution = solve_model(relaxed, solver, time_limit, start_bases=start, backend=backend)
            out.append((i, measures(solution)))
        except SolveError as exc:
            out.append((i, str(diagnose_failure(without, exc, time_limit)).splitlines()[0]))
        finally:
            for row, rhs in saved:
                backend.set_rhs(row, rhs)
    return out


class SolutionMeasures:
    """The measures of :func:`_measures`, read from a solution's columns alone, for one model.

    The same figures as :func:`stockpile.plan.read.read_plan`'s KPIs (``total_deficit``,
    ``weighted_shortfall``, ``total_shortfall_tonne_years``, ``discounted_net_cost``,
    ``total_purchase_cost``), each value cleaned of solver noise as the plan's tables clean it,
    without building the tables: a policy's counterfactual is five numbers, not a plan to show.
    The columns to read are found once (finding them per solve took four times the warm solve
    on 50 materials); each solve then reads them as arrays, and prices only the orders placed.
    Found on the plan's model, they serve every policy's: a policy changes rows only, never the
    options, their prices or the columns.
    """

    def __init__(self, model):
        import numpy as np

        from stockpile.scenario import rules

        s, lp = model.scenario, model.lp
        self.orders = [(lp.col("order", o.material, o.name, fy), o, fy)
                       for o in s.options for fy in rules.orderable_fys(s, o)]
        self.order_cols = np.array([col for col, _, _ in self.orders], dtype=np.int64)
        self.shortfall_cols = np.array([lp.col(family, code, fy) for code in s.materials for fy in s.fys
                                        for family in ("short", "unmet_draw") if lp.has_col(family, code, fy)],
                                       dtype=np.int64)
        self.deficit_cols = np.array([lp.col("deficit", fy) for fy in s.fys], dtype=np.int64)
        self.scenario = s

    def __call__(self, solution) -> dict[str, float]:
        import numpy as np

        from stockpile.model.build import MONEY_SCALE
        from stockpile.plan.read import ZERO_DOLLARS, ZERO_TONNES
        from stockpile.scenario import rules

        s, x = self.scenario, np.asarray(solution.x, dtype=float)

        def cleaned(values, zero: float):
            return np.where(np.abs(values) < zero, 0.0, values)

        tonnes = cleaned(x[self.order_cols], ZERO_TONNES)
        purchases = 0.0
        for k in np.flatnonzero(tonnes > 0):
            _, option, fy = self.orders[k]
            purchases += rules.tiered_cost(option, rules.unit_price(s, option, fy), float(tonnes[k]))
        shortfall = cleaned(x[self.shortfall_cols], ZERO_TONNES).sum()
        deficit = cleaned(x[self.deficit_cols] * MONEY_SCALE, ZERO_DOLLARS).sum()
        objectives = solution.objective_values
        return dict(deficit=float(deficit), weighted_shortfall=float(objectives.get("shortfall", 0.0)),
                    shortfall_tonne_years=float(shortfall),
                    discounted_net_cost=float(objectives.get("cost", 0.0)) * MONEY_SCALE,
                    purchase_cost=float(purchases))
