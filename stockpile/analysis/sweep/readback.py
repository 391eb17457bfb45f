"""A sweep point read straight from the solution vector, and checked against its own LP.

A sweep's table shows a dozen headline figures per point and, per material, the shortfall, the
unmet release and the trusted share (:data:`~stockpile.analysis.sweep.results.KPI_COLUMNS`).
:class:`PointReader` finds, once per process and sweep, the columns those figures come from
(``short``, ``unmet_draw``, ``fund``, ``deficit``, ``order`` and ``buy``), and reads each point's
row from the solution vector with numpy: the same cleaning of solver noise, the same order of
orders and the same summations as :func:`~stockpile.plan.read.read_plan` then
:func:`~stockpile.analysis.sweep.results.point_row`, so the row is the one the whole read-back
gives, to the last bit (tests/test_sweep_readback.py compares them on the shipped baseline).

What each point's plan is checked against (:meth:`PointReader.violations`): every row and every
column bound of the point's own LP, ``sum_j a_ij x_j`` against the row's right-hand side within
:data:`LP_RELATIVE` of the row's magnitude (``max(1, |rhs|, sum_j |a_ij x_j|)``) and each column
within its bounds likewise, the lexicographic rows included (so each earlier priority is held
within its tolerance). The rows a parameter moves are rebuilt by the model's own ``define_*``
functions (:mod:`~stockpile.analysis.sweep.patching`), so a point that passes is a solution of
exactly the LP a whole build of its scenario gives. That LP encodes the scenario's rules
correctly is what the independent audit (:mod:`stockpile.plan.audit`, sharing no code with the
model) shows: it runs on the sweep's first, middle and last points (:func:`independently_audited`,
the points the footprint builds whole), or on every point with ``stockpile sweep --audit-all``.
The table's ``audit`` column says which check each point passed: ``independent`` or ``lp``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stockpile.model.build import MONEY_SCALE, StockpileModel
from stockpile.model.lp import LinearProgram
from stockpile.plan.read import SHORTFALL_TONNES, ZERO_DOLLARS, ZERO_TONNES, appropriation_needed, horizon_sentence
from stockpile.scenario import rules

LP_RELATIVE = 1e-6
"""The share of a row's magnitude its solution may miss it by. HiGHS's feasibility tolerance is
1e-7 on its scaled model; unscaled, the worst row of 41-point appropriation and 21-point price
sweeps of the baseline and of the 2,861-variable generated case misses by 2e-10 of its magnitude."""

INDEPENDENT, LP_CHECK = "independent", "lp"
"""The table's ``audit`` values: the independent audit, or the check against the point's LP."""


def independently_audited(n_points: int) -> set[int]:
    """Positions (0-based) of the points the independent audit checks: the first, the middle and
    the last (:class:`~stockpile.analysis.sweep.patching.Footprint` builds those whole)."""
    return {0, n_points // 2, n_points - 1} if n_points else set()


def _clean(values: np.ndarray, zero: float) -> np.ndarray:
    """:func:`stockpile.plan.read._clean` on an array: |v| < zero to 0.0 (and -0.0 with it)."""
    return np.where(np.abs(values) < zero, 0.0, values)


class PointReader:
    """Index arrays into one LP shape's columns and rows, for every point of that shape."""

    def __init__(self, model: StockpileModel):
        s, lp = model.scenario, model.lp
        self.col_key = lp.col_key
        self.materials = list(s.materials)
        self.fys = list(s.fys)

        def columns(family: str, keys: list[tuple]) -> np.ndarray:
            return np.array([lp.col(family, *k) if lp.has_col(family, *k) else -1 for k in keys], dtype=np.int64)

        by_material = [(code, fy) for code in self.materials for fy in self.fys]
        shape = (len(self.materials), len(self.fys))
        self.short = columns("short", by_material).reshape(shape)
        self.unmet = columns("unmet_draw", by_material).reshape(shape)
        self.fund = columns("fund", [(fy,) for fy in self.fys])
        self.deficit = columns("deficit", [(fy,) for fy in self.fys])
        # Every order a plan may hold, in the orders table's order (fy, material, option).
        candidates = sorted(((fy, option.material, option.name, option) for option in s.options
                             for fy in rules.orderable_fys(s, option)), key=lambda c: c[:3])
        self.orders = [(fy, option) for fy, _, _, option in candidates]
        self.order_cols = np.array([lp.col("order", o.material, o.name, fy) for fy, o in self.orders], dtype=np.int64)
        self.order_material = np.array([self.materials.index(o.material) for _, o in self.orders], dtype=np.int64)
        self._spend = None
        self._rows = _RowArrays(lp)
        self._trust_reads, self._trust = None, {}

    def _cost_arrays(self, model: StockpileModel) -> None:
        """Per order, its spend coefficient (order column) or its tiers' columns and coefficients,
        as :func:`stockpile.plan.read._order_cost` prices it; kept while the spend terms are the same."""
        if self._spend is model.spend_terms:
            return
        lp = model.lp
        direct = np.zeros(len(self.orders), dtype=bool)
        coef = np.zeros(len(self.orders))
        tiers: list[list[tuple[int, float]]] = []
        for i, (fy, option) in enumerate(self.orders):
            spend = model.spend_terms[fy]
            order = int(self.order_cols[i])
            mine: list[tuple[int, float]] = []
            if order in spend:
                direct[i], coef[i] = True, spend[order]
            else:
                k = 1
                while lp.has_col("buy", option.material, option.name, k, fy):
                    buy = lp.col("buy", option.material, option.name, k, fy)
                    mine.append((buy, spend.get(buy, 0.0)))
                    k += 1
            tiers.append(mine)
        width = max((len(t) for t in tiers), default=0)
        # Missing tiers pad with column 0 at coefficient 0: they add exactly 0.0.
        self.tier_cols = np.array([[c for c, _ in t] + [0] * (width - len(t)) for t in tiers],
                                  dtype=np.int64).reshape(len(tiers), width)
        self.tier_coefs = np.array([[a for _, a in t] + [0.0] * (width - len(t)) for t in tiers],
                                   dtype=float).reshape(len(tiers), width)
        self.direct, self.coef, self._spend = direct, coef, model.spend_terms

    def row(self, model: StockpileModel, x: np.ndarray, objectives: dict[str, float]) -> dict[str, Any]:
        """The point's row of the sweep table (``point_row(read_plan(model, solution))``)."""
        s = model.scenario
        self._cost_arrays(model)

        def taken(cols: np.ndarray) -> np.ndarray:
            return np.where(cols >= 0, _clean(x[cols], ZERO_TONNES), 0.0)

        short, unmet = taken(self.short), taken(self.unmet)
        fund = _clean(x[self.fund] * MONEY_SCALE, ZERO_DOLLARS)
        deficit = _clean(x[self.deficit] * MONEY_SCALE, ZERO_DOLLARS)
        tonnes = _clean(x[self.order_cols], ZERO_TONNES)
        placed = tonnes > 0
        cost = np.zeros(len(self.orders))
        for k in range(self.tier_cols.shape[1]):
            cost = cost + self.tier_coefs[:, k] * np.maximum(x[self.tier_cols[:, k]], 0.0) * MONEY_SCALE
        cost = np.where(self.direct, self.coef * x[self.order_cols] * MONEY_SCALE, cost)

        fys = self.fys
        first_short = _first_fy(fys, (short > SHORTFALL_TONNES).any(axis=0))
        first_unmet = _first_fy(fys, (unmet > SHORTFALL_TONNES).any(axis=0))
        first_deficit = _first_fy(fys, deficit > ZERO_DOLLARS)
        needed = appropriation_needed(zip(fys, deficit.tolist()))
        failing = [fy for fy in (first_short, first_unmet, first_deficit) if fy is not None]
        solvent_through = (min(failing) - 1) if failing else s.horizon.last_fy
        total_short = float(short.sum())

        def at(values: np.ndarray, fy: int | None) -> list[tuple[str, float]]:
            if fy is None:
                return []
            column = values[:, fys.index(fy)]
            return [(code, float(v)) for code, v in zip(self.materials, column) if v > SHORTFALL_TONNES]

        row: dict[str, Any] = {"status": "optimal", "reason": ""}
        row.update({
            "solvency_horizon": horizon_sentence(s, first_short, first_deficit, needed, first_unmet,
                                                 at(short, first_short), at(unmet, first_unmet), total_short),
            "solvent_through_fy": solvent_through if solvent_through >= s.horizon.first_fy else None,
            "first_shortfall_fy": first_short,
            "first_deficit_fy": first_deficit,
            "total_shortfall_tonne_years": total_short,
            "weighted_shortfall": float(objectives.get("shortfall", 0.0)),
            "total_unmet_release_tonnes": float(unmet.sum()),
            "weighted_unmet_release": float(objectives.get("release", 0.0)),
            "total_deficit": float(deficit.sum()),
            "total_purchase_cost": float(cost[placed].sum()) if placed.any() else 0.0,
            "discounted_net_cost": float(objectives.get("cost", 0.0)) * MONEY_SCALE,
            "end_fund_balance": float(fund[-1]),
        })
        for m, code in enumerate(self.materials):
            row[f"shortfall_{code}"] = float(short[m].sum())
            row[f"unmet_release_{code}"] = float(unmet[m].sum())
        trusted = self._trusted(s, placed)
        for m, code in enumerate(self.materials):
            mine = np.flatnonzero(placed & (self.order_material == m))
            total = float(tonnes[mine].sum())
            # point_row sums the trusted tonnes with Python's sum, row by row: so here.
            share = float(sum(float(tonnes[i]) for i in mine if trusted[self.orders[i][1].name]))
            row[f"trusted_share_{code}"] = share / total if total > 0 else None
        return row

    def _trusted(self, s, placed: np.ndarray) -> dict[str, bool]:
        """Whether each option ordered is trusted (:func:`stockpile.scenario.rules.is_trusted`),
        kept from point to point while what trust reads (the trust policy, the countries' tags,
        the options) is the same."""
        reads = (s.policy.trusted_tags, s.policy.trusted_stages, s.countries, s.supply, s.recycling)
        if self._trust_reads != reads:
            self._trust_reads, self._trust = reads, {}
        trusted = self._trust
        for i in np.flatnonzero(placed):
            option = self.orders[i][1]
            if option.name not in trusted:
                trusted[option.name] = rules.is_trusted(s, option)
        return trusted

    def violations(self, lp: LinearProgram, x: np.ndarray) -> list[str]:
        """Rows and column bounds of ``lp`` the solution misses by more than :data:`LP_RELATIVE` of
        their magnitude (the worst few, named), or [] when it satisfies them all."""
        rows = self._rows
        rows.update(lp)
        terms = rows.values * x[rows.index]
        activity = np.bincount(rows.row_of, weights=terms, minlength=rows.n_rows)
        magnitude = np.bincount(rows.row_of, weights=np.abs(terms), minlength=rows.n_rows)
        rhs = rows.rhs
        finite = np.isfinite(rhs)
        miss = np.where(rows.le, activity - rhs, np.where(rows.ge, rhs - activity, np.abs(activity - rhs)))
        miss = np.where(finite, miss, 0.0)  # +inf on a <= row binds nothing (a lexicographic row not yet held)
        limit = LP_RELATIVE * np.maximum(1.0, np.maximum(np.where(finite, np.abs(rhs), 0.0), magnitude))
        found = [f"{lp.row_name(int(r))}: misses {rhs[r]:.9g} by {miss[r]:.3g}"
                 for r in np.flatnonzero(miss > limit)[:3]]
        lower, upper = rows.col_bounds(lp)
        below = np.where(np.isfinite(lower), lower - x, 0.0)
        above = np.where(np.isfinite(upper), x - upper, 0.0)
        size = LP_RELATIVE * np.maximum(1.0, np.abs(x))
        found += [f"{lp.col_name(int(c))} = {x[c]:.9g} outside [{lower[c]:g}, {upper[c]:g}]"
                  for c in np.flatnonzero((below > size) | (above > size))[:3]]
        return found


def _first_fy(fys: list[int], flags: np.ndarray) -> int | None:
    hits = np.flatnonzero(flags)
    return int(fys[hits[0]]) if len(hits) else None


class _RowArrays:
    """The LP's matrix as coordinate arrays, its senses and right-hand sides, kept across points:
    only what a point changed (whole lists compared first, in C) is copied in again."""

    def __init__(self, lp: LinearProgram):
        lengths = np.array([len(cols) for cols in lp.row_cols], dtype=np.int64)
        self.n_rows = lp.n_rows
        self.starts = np.concatenate([[0], np.cumsum(lengths)])
        self.row_of = np.repeat(np.arange(lp.n_rows), lengths)
        self.index = np.fromiter((c for cols in lp.row_cols for c in cols), dtype=np.int64, count=int(self.starts[-1]))
        self.values = np.fromiter((a for coefs in lp.row_coefs for a in coefs), dtype=float, count=int(self.starts[-1]))
        senses = np.array(lp.row_sense, dtype=object)
        self.le, self.ge = senses == "<=", senses == ">="
        self._coefs, self._rhs_list = list(lp.row_coefs), list(lp.row_rhs)
        self.rhs = np.array(self._rhs_list, dtype=float)
        self._bounds = None

    def update(self, lp: LinearProgram) -> None:
        if lp.row_rhs != self._rhs_list:
            self._rhs_list = list(lp.row_rhs)
            self.rhs = np.array(self._rhs_list, dtype=float)
        if lp.row_coefs != self._coefs:
            for row, (before, after) in enumerate(zip(self._coefs, lp.row_coefs)):
                if before != after:
                    self.values[self.starts[row]:self.starts[row + 1]] = after
            self._coefs = list(lp.row_coefs)

    def col_bounds(self, lp: LinearProgram) -> tuple[np.ndarray, np.ndarray]:
        if self._bounds is None or self._bounds[0] != lp.col_lower or self._bounds[1] != lp.col_upper:
            self._bounds = (list(lp.col_lower), list(lp.col_upper),
                            np.array(lp.col_lower, dtype=float), np.array(lp.col_upper, dtype=float))
        return self._bounds[2], self._bounds[3]
