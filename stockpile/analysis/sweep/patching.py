"""A sweep point as a reference LP with only what its parameters move rebuilt.

Once per sweep, :class:`Footprint` finds what the sweep's parameters move in the LP: a few of
the sweep's points (the first, the middle and the last) are built whole, and the middle and last
compared with the first (the reference every point is patched from), row by row (right-hand
sides and coefficients), column by column (bounds) and objective by objective; each row family
that moves is traced to the ``define_*`` function of :data:`stockpile.model.build.DEFINITIONS`
that adds it. A point is then :meth:`Footprint.patched`: the columns are defined again (their
bounds, and a check that the point has the same columns), unless the sweep varies no section
the columns depend on (the family registry's ``set_by``,
:data:`~stockpile.model.families.COLUMNS_SET_BY`) and the sampled points' bounds are the same;
then only those functions run (with the price tiers first when the purchase costs the Fund's
rows and the objectives take from them move too), and their rows' right-hand sides and
coefficients are written over a copy of the reference LP, and the objectives (and the
lexicographic rows that hold them) replaced when they move. The functions are the model's own,
so every value is the one a whole build gives, to the last bit (tests/test_sweep_patching.py
builds both and compares). A point whose rows or columns are not the reference's (a goal
that falls to zero, a cap raised to 100%) has no patch: it is built whole, as before.

The footprint assumes that what a parameter moves at the sampled points it moves at the others:
each parameter enters the model through the same formulas at every value, and a value that
adds or removes rows or columns is caught by the shape check above.
"""

from __future__ import annotations

from dataclasses import dataclass

from stockpile.analysis.sweep.points import Point, apply_point
from stockpile.model.build import DEFINITIONS, OBJECTIVES, StockpileModel, build, define_objectives, \
    define_price_tiers, define_variables
from stockpile.model.families import COLUMNS_SET_BY, LEXICOGRAPHIC_ROW
from stockpile.model.lp import LinearProgram
from stockpile.scenario.schema import Scenario



def _moved(base: LinearProgram, other: LinearProgram) -> tuple[set[str], bool, bool] | None:
    """(row families whose rows move, whether column bounds move, whether objectives move), or
    None when the two LPs differ in shape."""
    if not base.same_shape(other):
        return None
    families = {base.row_family[row] for row in range(base.n_rows)
                if base.row_rhs[row] != other.row_rhs[row] or base.row_coefs[row] != other.row_coefs[row]}
    families.discard(LEXICOGRAPHIC_ROW.name)  # they hold the objectives: patched with them
    bounds = base.col_lower != other.col_lower or base.col_upper != other.col_upper
    objectives = {name: base.objectives.get(name) for name in OBJECTIVES} != \
        {name: other.objectives.get(name) for name in OBJECTIVES}
    return families, bounds, objectives


@dataclass
class Footprint:
    """What a sweep's parameters move in the base LP, and how to rebuild just that for a point."""

    base: StockpileModel
    """The reference: the sweep's first point's whole model, with its lexicographic rows."""
    definers: list
    """The define functions to run for a point, in build order (define_variables apart)."""
    families: frozenset[str]
    objectives: bool
    rows_of: dict[str, list[int]]
    """Row family -> its rows in the base LP, in order."""
    columns_fixed: bool = False
    """The sweep varies no section that decides the columns (:data:`~stockpile.model.families.COLUMNS_SET_BY`):
    every point has the base's columns and bounds, so they are not defined again."""

    @classmethod
    def of(cls, base: Scenario, points: list[Point]) -> Footprint | None:
        """The footprint of a sweep over ``points`` of ``base``, or None when a sampled point has
        another shape or cannot be built (every point is then built whole)."""
        if not points:
            return None
        try:
            definers_of: dict[str, object] = {}  # row family -> the define function that adds it
            base_model = _built(apply_point(base, points[0]), definers_of)  # the reference: the first point
        except Exception:  # noqa: BLE001 - a point that fails is reported when it is solved
            return None
        base_lp = base_model.lp
        picks = sorted({len(points) // 2, len(points) - 1} - {0})
        families: set[str] = set()
        objectives = spend_moves = bounds = False
        for k in picks:
            try:
                probe = _built(apply_point(base, points[k]))
            except Exception:  # noqa: BLE001 - a point that fails is reported when it is solved
                return None
            moved = _moved(base_lp, probe.lp)
            if moved is None:
                return None
            families |= moved[0]
            bounds = bounds or moved[1]
            objectives = objectives or moved[2]
            spend_moves = spend_moves or probe.spend_terms != base_model.spend_terms
        if not families <= set(definers_of):
            return None
        needed = {definers_of[family] for family in families}
        spend_users = {definers_of.get(name) for name in ("fund", "obligation_cap")} - {None}
        if objectives:
            needed.add(define_objectives)
        if spend_moves and needed & (spend_users | {define_objectives}):
            needed.add(define_price_tiers)  # their purchase costs (model.spend_terms) move too
        definers = [define for define in DEFINITIONS if define in needed and define is not define_variables]
        rebuilt = {family for family, define in definers_of.items() if define in definers}
        rows_of: dict[str, list[int]] = {family: [] for family in rebuilt}
        for row, family in enumerate(base_lp.row_family):
            if family in rows_of:
                rows_of[family].append(row)
        columns_fixed = not bounds and not {setting.path.split(".", 1)[0] for setting in points[0]} & COLUMNS_SET_BY
        return cls(base_model, definers, frozenset(rebuilt), objectives, rows_of, columns_fixed)

    def patched(self, scenario: Scenario) -> StockpileModel | None:
        """The point's model: a copy of the base LP with the moving parts rebuilt from ``scenario``,
        or None when the point's columns or rebuilt rows are not the base's (build it whole)."""
        base = self.base.lp
        if self.columns_fixed:
            scratch = StockpileModel(scenario, LinearProgram(
                name=base.name, col_family=list(base.col_family), col_key=list(base.col_key),
                col_lower=list(base.col_lower), col_upper=list(base.col_upper), _cols=dict(base._cols)))
        else:
            scratch = StockpileModel(scenario, LinearProgram(name=base.name))
            define_variables(scratch)
            if scratch.lp.col_key != base.col_key or scratch.lp.col_family != base.col_family:
                return None
        if define_price_tiers not in self.definers:
            scratch.spend_terms = self.base.spend_terms  # the same at every point (see of)
        for define in self.definers:
            define(scratch)
        lp = base.copy()
        lp.col_lower, lp.col_upper = scratch.lp.col_lower, scratch.lp.col_upper
        new_rows: dict[str, list[int]] = {family: [] for family in self.rows_of}
        for row, family in enumerate(scratch.lp.row_family):
            if family in new_rows:
                new_rows[family].append(row)
        source = scratch.lp
        for family, rows in self.rows_of.items():
            mine = new_rows[family]
            if len(mine) != len(rows):
                return None
            for row, new in zip(rows, mine):
                if base.row_key[row] != source.row_key[new] or base.row_cols[row] != source.row_cols[new]:
                    return None
                lp.row_rhs[row] = source.row_rhs[new]
                lp.row_coefs[row] = source.row_coefs[new]
        if self.objectives:
            for name in OBJECTIVES:
                if name in source.objectives:
                    lp.objectives[name] = dict(source.objectives[name])
            for row, family in enumerate(lp.row_family):
                if family == LEXICOGRAPHIC_ROW.name:  # holds an objective: its coefficients move with it
                    terms = lp.objectives.get(lp.row_key[row][0], {})
                    cols = [col for col, coef in terms.items() if coef != 0.0]
                    if cols != lp.row_cols[row]:
                        return None
                    lp.row_coefs[row] = [float(terms[col]) for col in cols]
        spend_terms = scratch.spend_terms if define_price_tiers in self.definers else self.base.spend_terms
        return StockpileModel(scenario, lp, spend_terms)


def _built(scenario: Scenario, definers: dict[str, object] | None = None) -> StockpileModel:
    """The scenario's whole model with its lexicographic rows, as a sweep point solves it (and,
    given ``definers``, each row family's define function recorded in it)."""
    from stockpile.solve.lexicographic import add_lexicographic_rows

    model = build(scenario, definers=definers)
    add_lexicographic_rows(model.lp)
    return model
