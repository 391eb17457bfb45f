"""Grouped sums over plan tables, in one pass and to the last bit of a filtered pandas sum.

Both the plan reader and the independent audit add up table rows per key (tonnes delivered per
material and FY, purchases per FY, ...). Filtering the whole table once per key made them
quadratic in the plan's size; these helpers group the rows once. Each group is then summed by
numpy over the group's values in row order, which is exactly what ``table.loc[mask, column].sum()``
does, so the figures do not change by a single bit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def group_positions(*columns: Iterable) -> dict[tuple, list[int]]:
    """Row positions by key (the tuple of the columns' values in that row), each group in row order."""
    groups: dict[tuple, list[int]] = {}
    for position, key in enumerate(zip(*columns)):
        groups.setdefault(key, []).append(position)
    return groups


def group_sums(values: np.ndarray | Sequence[float], *columns: Iterable) -> dict[tuple, float]:
    """``{key: float(table.loc[rows with that key, column].sum())}`` for every key present."""
    values = np.asarray(values)
    return {key: float(values[positions].sum()) for key, positions in group_positions(*columns).items()}
