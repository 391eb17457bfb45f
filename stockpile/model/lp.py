"""A solver-neutral linear program: columns, rows and named objectives.

The constraint families write into this one structure; the solver backends (PuLP with HiGHS or
CBC) translate it. Keeping the formulation in one place means every backend solves the same LP,
and every row keeps its family and key, so duals map back to what a planner asked about.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field

INF = math.inf
SENSES = ("=", ">=", "<=")


@dataclass
class LinearProgram:
    name: str = "stockpile"
    col_family: list[str] = field(default_factory=list)
    col_key: list[tuple] = field(default_factory=list)
    col_lower: list[float] = field(default_factory=list)
    col_upper: list[float] = field(default_factory=list)
    row_family: list[str] = field(default_factory=list)
    row_key: list[tuple] = field(default_factory=list)
    row_sense: list[str] = field(default_factory=list)
    row_rhs: list[float] = field(default_factory=list)
    row_cols: list[list[int]] = field(default_factory=list)
    row_coefs: list[list[float]] = field(default_factory=list)
    objectives: dict[str, dict[int, float]] = field(default_factory=dict)
    _cols: dict[tuple, int] = field(default_factory=dict)
    _rows_by_scope: dict[tuple, dict[tuple, list[int]]] = field(default_factory=dict, repr=False)
    scope: tuple = ()
    """Prepended to every key added or looked up while set: the future being built into a
    two-stage model, so the same constraint families build each future's copy."""
    shared: Callable[[str, tuple], bool] | None = None
    """(family, key) -> True for columns all scopes share (here-and-now decisions)."""

    def _ident(self, family: str, key: tuple) -> tuple:
        if not self.scope or (self.shared is not None and self.shared(family, key)):
            return (family, key)
        return (family, self.scope + key)

    @property
    def n_cols(self) -> int:
        return len(self.col_family)

    @property
    def n_rows(self) -> int:
        return len(self.row_family)

    @property
    def n_nonzeros(self) -> int:
        return sum(len(cols) for cols in self.row_cols)

    def add_column(self, family: str, key: tuple, lower: float = 0.0, upper: float = INF) -> int:
        ident = self._ident(family, key)
        if ident in self._cols:
            if self.scope and ident[1] == key:  # a shared column, added by the first scope
                return self._cols[ident]
            raise ValueError(f"column {column_name(family, key)} defined twice")
        self._cols[ident] = len(self.col_family)
        self.col_family.append(family)
        self.col_key.append(ident[1])
        self.col_lower.append(lower)
        self.col_upper.append(upper)
        return self._cols[ident]

    def col(self, family: str, *key) -> int:
        return self._cols[self._ident(family, key)]

    def has_col(self, family: str, *key) -> bool:
        return self._ident(family, key) in self._cols

    def add_row(self, family: str, key: tuple, terms: dict[int, float], sense: str, rhs: float) -> int:
        """Add ``sum(coef * x[col]) sense rhs``; zero coefficients are dropped."""
        if sense not in SENSES:
            raise ValueError(f"unknown sense {sense!r}")
        cols = [c for c, v in terms.items() if v != 0.0]
        self.row_family.append(family)
        self.row_key.append(self.scope + key)
        self.row_sense.append(sense)
        self.row_rhs.append(float(rhs))
        self.row_cols.append(cols)
        self.row_coefs.append([float(terms[c]) for c in cols])
        return len(self.row_family) - 1

    def add_objective_terms(self, objective: str, terms: dict[int, float]) -> None:
        target = self.objectives.setdefault(objective, {})
        for col, coef in terms.items():
            target[col] = target.get(col, 0.0) + coef

    def copy(self) -> LinearProgram:
        """A copy whose bounds, right-hand sides, rows and objectives can change without touching
        this one (coefficient lists are shared: rows are never edited in place)."""
        return LinearProgram(
            name=self.name, col_family=list(self.col_family), col_key=list(self.col_key),
            col_lower=list(self.col_lower), col_upper=list(self.col_upper), row_family=list(self.row_family),
            row_key=list(self.row_key), row_sense=list(self.row_sense), row_rhs=list(self.row_rhs),
            row_cols=list(self.row_cols), row_coefs=list(self.row_coefs),
            objectives={name: dict(terms) for name, terms in self.objectives.items()}, _cols=dict(self._cols),
            scope=self.scope, shared=self.shared)

    def set_coefficient(self, row: int, col: int, value: float) -> None:
        """Set the coefficient of ``col`` in ``row``, adding the entry if the row has none.

        The row's lists are replaced, not edited: :meth:`copy` shares them."""
        cols, coefs = list(self.row_cols[row]), list(self.row_coefs[row])
        if col in cols:
            coefs[cols.index(col)] = value
        else:
            cols.append(col)
            coefs.append(value)
        self.row_cols[row], self.row_coefs[row] = cols, coefs

    def same_shape(self, other: LinearProgram) -> bool:
        """True when the two LPs differ at most in bounds, right-hand sides and coefficient values
        (so a backend can turn one into the other in place)."""
        return (self.n_cols == other.n_cols and self.n_rows == other.n_rows and self.col_key == other.col_key
                and self.col_family == other.col_family and self.row_key == other.row_key
                and self.row_family == other.row_family and self.row_sense == other.row_sense
                and self.row_cols == other.row_cols)

    def col_name(self, col: int) -> str:
        return column_name(self.col_family[col], self.col_key[col])

    def row_name(self, row: int) -> str:
        return column_name(self.row_family[row], self.row_key[row])

    def rows_in_scope(self, families: frozenset[str]) -> list[int]:
        """The rows of these families in the current scope (all of them outside a tree), in order.

        Grouped by scope in one pass and kept until rows are added: a tree of K futures reads each
        future's plan in turn, and scanning every row for each would cost K x rows."""
        width = len(self.scope)
        cache_key = (families, width)
        cached = self._rows_by_scope.get(cache_key)
        if cached is None or cached[0] != self.n_rows:
            groups: dict[tuple, list[int]] = {}
            for row, family in enumerate(self.row_family):
                if family in families:
                    groups.setdefault(self.row_key[row][:width], []).append(row)
            cached = (self.n_rows, groups)
            self._rows_by_scope[cache_key] = cached
        return cached[1].get(self.scope, [])

    def objective_value(self, objective: str, x: list[float]) -> float:
        """sum_j c_j x_j, added term by term in the objective's order (map: no Python loop)."""
        terms = self.objectives.get(objective, {})
        return sum(map(operator.mul, terms.values(), map(x.__getitem__, terms.keys())))


def column_name(family: str, key: tuple) -> str:
    """``family[k1,k2,...]``, the structured name rows and columns carry in reports and LP files."""
    return f"{family}[{','.join(str(k) for k in key)}]" if key else family


def parse_name(name: str) -> tuple[str, tuple]:
    """The family and key of a ``family[k1,k2,...]`` name: the inverse of :func:`column_name`.

    ``parse_name("capacity[Co,Canada import,2029]") == ("capacity", ("Co", "Canada import", 2029))``.
    A key part written as an integer (an FY, a price tier, a row number) comes back as an int,
    any other as text; a name without brackets has the empty key. Names of materials, options,
    countries and futures round-trip as long as they hold no comma and do not read as integers.
    """
    family, bracket, rest = name.partition("[")
    if not bracket:
        return name, ()
    if not rest.endswith("]"):
        raise ValueError(f"{name!r} is not a family[key] name")
    return family, tuple(int(part) if _INTEGER.fullmatch(part) else part for part in rest[:-1].split(","))


_INTEGER = re.compile(r"-?[0-9]+")
