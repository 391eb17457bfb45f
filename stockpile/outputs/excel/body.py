"""A table's body as :meth:`~stockpile.outputs.excel.sheet.Sheet.table` keeps it until the sheet
is written: the rows it was given (not copied), the kind each cell is shown as, and the cells
(value and :class:`~stockpile.outputs.excel.streaming.Style`) each row is written as."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stockpile.outputs.excel.cells import FORMULA_PREFIXES, is_formula_like, plain_value
from stockpile.outputs.excel.streaming import Style, alignment, style
from stockpile.outputs.excel.styles import CELL_BORDER, NUMBER_FORMATS, Column


def cell_style(value: Any, kind: str, font=None, fill=None, border=None, align=None) -> Style:
    """The style of a cell holding ``value`` shown as ``kind``: text never takes a number format
    (and takes a quote prefix if it looks like a formula)."""
    if isinstance(value, str):
        return style(None, font, fill, border, align, is_formula_like(value))
    return style(NUMBER_FORMATS.get(kind) if kind != "text" else None, font, fill, border, align)


class TableBody:
    """A table's rows as they were given, and the kinds and styles its cells are written in."""

    def __init__(self, first_row: int, left: int, columns: list[Column], rows: Sequence[Sequence[Any]],
                 row_kinds: Sequence[str | dict[str, str] | None] | None) -> None:
        self.first_row, self.left, self.columns, self.rows, self.row_kinds = first_row, left, columns, rows, row_kinds
        self.column_kinds = [column.kind for column in columns]
        self.looks: dict[tuple, Style] = {}

    def kinds(self, i: int) -> list[str]:
        """The kind of each cell of row ``i``: the column's, or the row's (``row_kinds`` of Sheet.table)."""
        row_kind = self.row_kinds[i] if self.row_kinds is not None else None
        if row_kind is None:
            return self.column_kinds
        if isinstance(row_kind, dict):
            return [row_kind.get(column.key, column.kind) for column in self.columns]
        return [row_kind if kind != "text" else kind for kind in self.column_kinds]

    def cells(self, row: int, wrapping: set[tuple[int, int]]) -> list[tuple[int, Any, Style]]:
        """Row ``row``'s cells: bordered, top-aligned (so a label stays level with the first line
        of wrapped text beside it), FYs centred, in their kind's number format."""
        i = row - self.first_row
        looks, made, col = self.looks, [], self.left
        for j, (kind, value) in enumerate(zip(self.kinds(i), self.rows[i])):
            value = plain_value(value)
            wrap = (row, col + j) in wrapping if wrapping else False
            text = isinstance(value, str)
            key = (j, kind, wrap, text, text and value.startswith(FORMULA_PREFIXES))
            look = looks.get(key)
            if look is None:
                look = looks[key] = self._look(j, kind, wrap, value)
            made.append((col + j, value, look))
        return made

    def _look(self, j: int, kind: str, wrap: bool, value: Any) -> Style:
        column = self.columns[j]
        align = alignment(column.align or ("center" if kind == "fy" else None), "top", wrap)
        return cell_style(value, kind, border=CELL_BORDER, align=align)
