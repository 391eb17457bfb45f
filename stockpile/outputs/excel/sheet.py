"""The sheet writer every workbook uses: a title, a note, sections and named, formatted tables,
each column sized to what it shows and each wrapped cell given the height it needs.

:meth:`Sheet.table` is the one table writer; :class:`Placed` says where a table went, so
highlights and charts can name its cells.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table
from openpyxl.worksheet.worksheet import Worksheet

from stockpile.outputs.excel.cells import plain_value, put, safe_sheet_name, shown_width
from stockpile.outputs.excel.styles import (
    BAD_FILL, BAD_FONT, CELL_BORDER, HEADER_FILL, HEADER_FONT, NOTE_FONT, SECTION_FONT, TABLE_STYLE, TITLE_FONT,
    Column,
)

MIN_WIDTH, MAX_WIDTH, DEFAULT_WIDTH = 6, 45, 8.43
"""Column widths in characters; longer text wraps instead of making a column a screen wide."""
LINE_HEIGHT_POINTS = 15  # one line of 11 pt text
TITLE_ROW_POINTS = 21
HEADER_PADDING = 4  # room for the filter button Excel draws in a table header
SHORT_HEADER = 12  # headers up to this long stay on one line
PIXELS_PER_CHARACTER = 7.0
SIDE_MARGIN_INCHES, TOP_MARGIN_INCHES = 0.4, 0.5
"""The printed page's margins (left and right, top and bottom), set in :meth:`Sheet.finish`."""


@dataclass
class Placed:
    """Where :meth:`Sheet.table` put a table: header row, first data row, columns."""

    ws: Worksheet
    name: str
    header_row: int
    left: int
    columns: list[Column]
    n_rows: int

    @property
    def first_row(self) -> int:
        return self.header_row + 1

    @property
    def last_row(self) -> int:
        return self.header_row + max(self.n_rows, 1)

    @property
    def right(self) -> int:
        return self.left + len(self.columns) - 1

    @property
    def body(self) -> str:
        """Every data cell of the table, e.g. ``A4:M27``."""
        return f"{get_column_letter(self.left)}{self.first_row}:{get_column_letter(self.right)}{self.last_row}"

    def col(self, key: str) -> int:
        return self.left + next(i for i, c in enumerate(self.columns) if c.key == key)

    def letter(self, key: str) -> str:
        return get_column_letter(self.col(key))

    def cells(self, key: str) -> str:
        """The data cells of one column, e.g. ``L4:L27``."""
        letter = self.letter(key)
        return f"{letter}{self.first_row}:{letter}{self.last_row}"


class Sheet:
    """A worksheet being written: a title, a note saying how to read it, then tables.

    It remembers what each column shows, so :meth:`finish` sizes every column to fit (no ``###``,
    nothing cut off), gives wrapped cells the row height they need (LibreOffice does not grow
    rows by itself) and wraps notes across the width of the tables, without callers measuring.
    """

    def __init__(self, wb: Workbook, title: str, heading: str, note: str = "") -> None:
        self.ws = wb.create_sheet(safe_sheet_name(title, wb.sheetnames))
        self.widths: dict[int, int] = {}
        self.wrapped: list[tuple[int, int, str]] = []  # (row, column, text) of wrapped cells
        self.notes: list[tuple[int, str]] = []  # (row, text) of notes spread across the tables
        put(self.ws, 1, 1, heading).font = TITLE_FONT
        if note:
            self.note(2, note)
        self.next_row = 4

    def note(self, row: int, text: str, font: Font = NOTE_FONT, fill: PatternFill | None = None):
        """A sentence across the full width of the sheet's tables, wrapped (set up in finish)."""
        cell = put(self.ws, row, 1, text)
        cell.font = font
        if fill is not None:
            cell.fill = fill
        self.notes.append((row, cell.value))
        return cell

    def section(self, title: str, note: str = "", row: int | None = None) -> int:
        """A section title (and note) above a table; returns the row where the table goes."""
        row = self.next_row if row is None else row
        put(self.ws, row, 1, title).font = SECTION_FONT
        if note:
            self.note(row + 1, note)
            row += 1
        return row + 1

    def table(self, name: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]], *,
              top: int | None = None, left: int = 1,
              row_kinds: Sequence[str | dict[str, str] | None] | None = None) -> Placed:
        """Write a formatted, named Excel table; the one table writer every sheet uses.

        ``rows`` hold plain values in column order. ``row_kinds`` gives a kind per row that
        overrides the numeric columns' kinds (for tables whose rows are line items in different
        units, like the Fund read across FYs), or a {column key: kind} dict for that row. An
        empty table keeps one blank row, since an Excel table needs a data row.
        """
        ws, columns = self.ws, list(columns)
        top = self.next_row if top is None else top
        for j, column in enumerate(columns):
            cell = put(ws, top, left + j, column.label)
            cell.font, cell.fill, cell.border = HEADER_FONT, HEADER_FILL, CELL_BORDER
            # A long header may wrap onto a second line rather than widen a column of short values.
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            longest_word = max(len(word) for word in column.label.split() or [""])
            self._measure(left + j, max(longest_word, min(len(column.label), SHORT_HEADER)) + HEADER_PADDING)
            self.wrapped.append((top, left + j, column.label + " " * HEADER_PADDING))
        for i, values in enumerate(rows):
            row_kind = row_kinds[i] if row_kinds is not None else None
            for j, (column, value) in enumerate(zip(columns, values)):
                if isinstance(row_kind, dict):
                    kind = row_kind.get(column.key, column.kind)
                else:
                    kind = row_kind if row_kind is not None and column.kind != "text" else column.kind
                cell = put(ws, top + 1 + i, left + j, value, kind)
                cell.border = CELL_BORDER
                width = shown_width(value, kind)
                wrap = width > MAX_WIDTH
                # Top-aligned, so a label stays level with the first line of wrapped text beside it.
                cell.alignment = Alignment(vertical="top", wrap_text=wrap, horizontal=column.align
                                           or ("center" if kind == "fy" else None))
                if wrap:
                    self.wrapped.append((cell.row, cell.column, str(cell.value)))
                self._measure(left + j, min(width, MAX_WIDTH) + 1)
        if not rows:
            for j in range(len(columns)):
                ws.cell(row=top + 1, column=left + j).border = CELL_BORDER
        placed = Placed(ws, name, top, left, columns, len(rows))
        ref = f"{get_column_letter(left)}{top}:{get_column_letter(placed.right)}{placed.last_row}"
        table = Table(displayName=name, ref=ref)
        table.tableStyleInfo = TABLE_STYLE
        ws.add_table(table)
        self.next_row = max(self.next_row, placed.last_row + 3)
        return placed

    def key_values(self, name: str, pairs: Sequence[tuple[str, Any, str]], *, top: int | None = None,
                   labels: tuple[str, str] = ("Item", "Value")) -> Placed:
        """A two-column table of (label, value, kind) rows."""
        columns = [Column("item", labels[0]), Column("value", labels[1], "number", align="left")]
        return self.table(name, columns, [(label, value) for label, value, _ in pairs], top=top,
                          row_kinds=[kind for _, _, kind in pairs])

    def _measure(self, col: int, width: int) -> None:
        self.widths[col] = max(self.widths.get(col, 0), width)

    def width(self, col: int) -> float:
        return max(MIN_WIDTH, self.widths.get(col, DEFAULT_WIDTH) + 1)

    @property
    def width_pixels(self) -> float:
        return sum(self.width(col) * PIXELS_PER_CHARACTER + 5 for col in self.widths)

    def height_points(self, last_row: int) -> float:
        """Height of rows 1..last_row on the page at 100%."""
        return sum(self.ws.row_dimensions[row].height or (TITLE_ROW_POINTS if row == 1 else LINE_HEIGHT_POINTS)
                   for row in range(1, last_row + 1))

    def finish(self, freeze: str | None, title_rows: str | None = None) -> Worksheet:
        """Column widths, row heights, frozen panes and a page setup that prints readably
        (landscape, every column on the page width, sheet name and page in the footer)."""
        ws = self.ws
        for col in self.widths:
            ws.column_dimensions[get_column_letter(col)].width = self.width(col)
        lines: dict[int, int] = {}
        for row, col, text in self.wrapped:
            lines[row] = max(lines.get(row, 1), _line_count(text, self.width(col)))
        last_col = max(self.widths, default=1)
        total = sum(self.width(col) for col in range(1, last_col + 1))
        for row, text in self.notes:
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last_col)
            ws.cell(row=row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
            lines[row] = max(lines.get(row, 1), _line_count(text, total * 0.95))
        for row, count in lines.items():
            if count > 1:
                ws.row_dimensions[row].height = LINE_HEIGHT_POINTS * count
        if freeze:
            ws.freeze_panes = freeze
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_LETTER
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_margins.left = ws.page_margins.right = SIDE_MARGIN_INCHES
        ws.page_margins.top = ws.page_margins.bottom = TOP_MARGIN_INCHES
        if title_rows:
            ws.print_title_rows = title_rows
        ws.oddFooter.left.text = "&A"
        ws.oddFooter.right.text = "Page &P of &N"
        return ws


def _line_count(text: str, width: float) -> int:
    """Lines a wrapped text takes in a column ``width`` characters wide (words are not split,
    so allow a little slack)."""
    per_line = max(width - 2, 1)
    return sum(max(1, math.ceil(len(line) / per_line)) for line in str(text).splitlines() or [""])


def highlight(ws: Worksheet, cells: str, formula: str, fill: PatternFill = BAD_FILL,
              font: Font | None = BAD_FONT) -> None:
    """Colour ``cells`` where ``formula`` (written for the range's top-left cell) is true."""
    ws.conditional_formatting.add(cells, FormulaRule(formula=[formula], fill=fill, font=font))


def records(frame: pd.DataFrame, columns: Sequence[Column]) -> list[list[Any]]:
    return [[plain_value(v) for v in row] for row in frame[[c.key for c in columns]].itertuples(index=False)]


# --- Tables read FY across: one column per FY, keyed by the FY as text ---------------------------

def fy_columns(fys: Iterable[int], kind: str = "number") -> list[Column]:
    return [Column(str(fy), f"FY{fy}", kind) for fy in fys]


def first_fy_column(view: Placed) -> int:
    """The column of a table's first FY (the FY columns run to the table's right edge)."""
    return min(view.col(c.key) for c in view.columns if c.key.isdigit())


def first_fy_letter(view: Placed) -> str:
    return get_column_letter(first_fy_column(view))


def fy_cells(view: Placed) -> str:
    """The FY value cells of a view, e.g. ``C40:H63``."""
    return f"{first_fy_letter(view)}{view.first_row}:{get_column_letter(view.right)}{view.last_row}"
