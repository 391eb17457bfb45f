"""The sheet writer every workbook uses: a title, a note, sections and named, formatted tables,
each column sized to what it shows and each wrapped cell given the height it needs, laid out to
print on US letter landscape at no less than 8 pt.

:meth:`Sheet.table` is the one table writer; :class:`Placed` says where a table went, so
highlights and charts can name its cells. A table is a workbook-level defined name over its
cells (header row included), not an Excel table object: Gnumeric reads no table parts, and a
defined name is what every client reads (:func:`named_ranges` reads them back). Notes are
written as lines of text one per row, never as merged cells, which Gnumeric cannot print.

Printing (:meth:`Sheet.finish`): a sheet no wider than the page prints at 100%; a wider one is
fitted to the page width only while that keeps the smallest text at 8 pt or more, and beyond
that prints at the 8 pt scale across several pages, its label columns repeated on each. One
table per sheet, the sheet's long table, repeats its header on every page; every other table is
kept whole on a page (moved to the next page when it does not fit), and a long table's header
never sits at the foot of a page.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.utils.cell import absolute_coordinate, quote_sheetname

from stockpile.outputs.excel.body import TableBody, cell_style
from stockpile.outputs.excel.cells import SHOWN_AS, plain_value, safe_sheet_name, safe_text, shown_width
from stockpile.outputs.excel.streaming import PLAIN, Style, add_worksheet, alignment, restyled, write_rows
from stockpile.outputs.excel.styles import (
    BAD_FILL, BAD_FONT, BODY_POINTS, CELL_BORDER, HEADER_FILL, HEADER_FONT, NOTE_FONT, SECTION_FONT,
    TITLE_FONT, Column,
)

MIN_WIDTH, MAX_WIDTH, DEFAULT_WIDTH = 6, 45, 8.43
"""Column widths in characters; longer text wraps instead of making a column a screen wide."""
LINE_HEIGHT_POINTS = 15  # one line of 11 pt text
TITLE_ROW_POINTS = 21
HEADER_PADDING = 1  # a character of room either side of a header's longest line
SHORT_HEADER = 8  # headers up to this long stay on one line; longer ones wrap at words
PIXELS_PER_CHARACTER = 7.0
SIDE_MARGIN_INCHES, TOP_MARGIN_INCHES = 0.4, 0.5
"""The printed page's margins (left and right, top and bottom), set in :meth:`Sheet.finish`."""
# A landscape US letter page inside those margins (96 pixels or 72 points an inch).
PRINTABLE_WIDTH_PIXELS = (11 - 2 * SIDE_MARGIN_INCHES) * 96
PRINTABLE_HEIGHT_POINTS = (8.5 - 2 * TOP_MARGIN_INCHES) * 72 - 40  # less the footer and some slack
SMALLEST_PRINTED_POINTS = 8
MIN_SCALE = (math.ceil(100 * SMALLEST_PRINTED_POINTS / BODY_POINTS) + 2) / 100
"""The smallest print scale: the smallest text on a sheet (BODY_POINTS) prints at 8 pt, with a
little to spare for clients' rounding."""
WIDTH_SAFETY = 1.04
"""Clients draw columns a little wider than Excel's character count says; a sheet is fitted to
the page as if it were this much wider, so the client's own fit stays above the 8 pt scale."""
NOTE_CHARACTERS = 125
"""Notes wrap at this many characters of 11 pt text: narrower than the printed page at 100%, so a
note's lines (overflowing the empty cells to their right) print whole on any sheet."""
NARROWEST_TEXT = 15
"""A text column a too-wide sheet narrows is kept at least this many characters wide."""
TABLE_ROOM_ROWS = 3
"""A table starting near a page's foot is moved to the next page unless its header and this many
rows fit."""


@dataclass
class Placed:
    """Where :meth:`Sheet.table` put a table: header row, first data row, columns."""

    ws: Worksheet
    name: str
    header_row: int
    left: int
    columns: list[Column]
    n_rows: int
    start_row: int = 0  # the section title above the table (its header row if it has none)

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
    rows by itself) and lays the sheet out for print, without callers measuring. It holds the
    sheet's cells until then (a table as the rows it was given) and :meth:`finish` writes them to
    ``ws`` in row order (:mod:`~stockpile.outputs.excel.streaming`), so after it only what a
    worksheet writes after its cells may be added (charts, page breaks, conditional formats).
    """

    def __init__(self, wb: Workbook, title: str, heading: str, note: str = "") -> None:
        self.wb = wb
        self.ws = add_worksheet(wb, safe_sheet_name(title, wb.sheetnames))
        self.widths: dict[int, int] = {}
        self.wrapped: list[tuple[int, int, str]] = []  # (row, column, text) of wrapped cells
        self.texts: dict[int, list[tuple[int, str]]] = {}  # column -> (row, text) of its longer texts
        self.banners: list[tuple[int, PatternFill]] = []  # rows filled across the tables' width
        self.tables: list[Placed] = []
        self.section_start: int | None = None
        self.scale = 1.0  # the printed scale, set in finish
        self.last_page_points = 0.0  # how much of the last printed page the rows fill, set in finish
        self.cells: dict[int, dict[int, tuple[Any, Style]]] = {}  # row -> column -> (value, style) outside tables
        self.bodies: list[TableBody] = []  # the tables' rows, written as they were given
        self.wrapping: set[tuple[int, int]] = set()  # (row, column) of table cells that wrap
        self.restyles: dict[int, dict[int, tuple[Font | None, PatternFill | None]]] = {}
        self.heights: dict[int, float] = {}  # row -> points, where not one line
        self.written_rows: int | None = None  # the rows finish wrote (None: not yet written)
        self.put(1, 1, heading, font=TITLE_FONT)
        self.next_row = 3
        if note:
            self.next_row = self.note(2, note) + 1

    def put(self, row: int, col: int, value: Any, kind: str = "text", *, font: Font | None = None,
            fill: PatternFill | None = None, border=None, align=None) -> None:
        """One cell outside a table: text as text (a quote prefix on one that looks like a formula),
        a number in ``kind``'s number format."""
        self._check_open()
        value = plain_value(value)
        self.cells.setdefault(row, {})[col] = (value, cell_style(value, kind, font, fill, border, align))

    def restyle(self, row: int, col: int, *, font: Font | None = None, fill: PatternFill | None = None) -> None:
        """Give a cell (of a table or not, or an empty one) another font or fill."""
        self._check_open()
        old_font, old_fill = self.restyles.setdefault(row, {}).get(col, (None, None))
        self.restyles[row][col] = (font or old_font, fill or old_fill)

    @property
    def max_row(self) -> int:
        """The last row holding a cell (1 on an empty sheet)."""
        if self.written_rows is not None:
            return self.written_rows
        rows = [max(self.cells, default=1), max(self.restyles, default=1)]
        rows += [body.first_row + max(len(body.rows), 1) - 1 for body in self.bodies]
        return max(rows)

    def note(self, row: int, text: str, font: Font = NOTE_FONT, fill: PatternFill | None = None) -> int:
        """A note from ``row`` down, one line of text per row (wrapped here, so no client has to
        wrap a merged cell); a ``fill`` colours its rows across the tables' width. Returns the
        first row below it."""
        width = int(NOTE_CHARACTERS * BODY_POINTS / (font.size or BODY_POINTS))
        lines = [wrapped for paragraph in str(text).splitlines() or [""]
                 for wrapped in textwrap.wrap(paragraph, width) or [""]]
        for i, line in enumerate(lines):
            self.put(row + i, 1, line, font=font)
            if fill is not None:
                self.banners.append((row + i, fill))
            if font.size and font.size > BODY_POINTS:
                self.heights[row + i] = math.ceil(font.size * 1.4)
        self.next_row = max(self.next_row, row + len(lines) + 1)
        return row + len(lines)

    def section(self, title: str, note: str = "", row: int | None = None) -> int:
        """A section title (and note) above a table; returns the row where the table goes."""
        row = self.next_row if row is None else row
        self.section_start = row
        self.put(row, 1, title, font=SECTION_FONT)
        if note:
            return self.note(row + 1, note)
        return row + 1

    def table(self, name: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]], *,
              top: int | None = None, left: int = 1,
              row_kinds: Sequence[str | dict[str, str] | None] | None = None) -> Placed:
        """Write a formatted table named ``name`` (a workbook-level defined name over its header
        and rows); the one table writer every sheet uses.

        ``rows`` hold plain values in column order (kept, not copied, until :meth:`finish`).
        ``row_kinds`` gives a kind per row that overrides the numeric columns' kinds (for tables
        whose rows are line items in different units, like the Fund read across FYs), or a
        {column key: kind} dict for that row. An empty table keeps one blank row, so its range
        has a data row.
        """
        self._check_open()
        columns = list(columns)
        top = self.next_row if top is None else top
        start = self.section_start if self.section_start is not None and self.section_start < top else top
        self.section_start = None
        for j, column in enumerate(columns):
            # A long header may wrap onto a second line rather than widen a column of short values.
            self.put(top, left + j, column.label, font=HEADER_FONT, fill=HEADER_FILL, border=CELL_BORDER,
                     align=alignment("center", "center", True))
            longest_word = max(len(word) for word in column.label.split() or [""])
            self._measure(left + j, max(longest_word, min(len(column.label), SHORT_HEADER)) + HEADER_PADDING)
            self.wrapped.append((top, left + j, column.label + " " * HEADER_PADDING))
        body = TableBody(top + 1, left, columns, rows, row_kinds)
        widths = [0] * len(columns)
        sizes: dict[tuple[int, str], list] = {}  # (column, kind) -> [largest, smallest] formatted number
        for i, values in enumerate(rows):
            for j, (kind, value) in enumerate(zip(body.kinds(i), values)):
                value = plain_value(value)
                if kind in SHOWN_AS and (type(value) is int or (type(value) is float and value - value == 0)):
                    # A formatted number is no wider than the column's largest or most negative
                    # (shown_width grows with the size of either sign): only those two are measured.
                    size = sizes.get((j, kind))
                    if size is None:
                        sizes[(j, kind)] = [value, value]
                    elif value > size[0]:
                        size[0] = value
                    elif value < size[1]:
                        size[1] = value
                    continue
                self._measure_cell(top + 1 + i, left + j, value, kind, widths, j)
        for (j, kind), extremes in sizes.items():
            width = max(shown_width(value, kind) for value in extremes)
            if width > MAX_WIDTH:  # some of them wrap: measured one by one
                for i, values in enumerate(rows):
                    if j < len(values) and body.kinds(i)[j] == kind:
                        self._measure_cell(top + 1 + i, left + j, plain_value(values[j]), kind, widths, j)
            widths[j] = max(widths[j], width)
        if rows:
            for j, width in enumerate(widths):
                self._measure(left + j, min(width, MAX_WIDTH) + 1)
        else:
            for j in range(len(columns)):
                self.put(top + 1, left + j, None, border=CELL_BORDER)
        self.bodies.append(body)
        placed = Placed(self.ws, name, top, left, columns, len(rows), start)
        ref = f"{get_column_letter(left)}{top}:{get_column_letter(placed.right)}{placed.last_row}"
        self.wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheetname(self.ws.title)}!"
                                                               f"{absolute_coordinate(ref)}")
        self.tables.append(placed)
        self.next_row = max(self.next_row, placed.last_row + 3)
        return placed

    def key_values(self, name: str, pairs: Sequence[tuple[str, Any, str]], *, top: int | None = None,
                   labels: tuple[str, str] = ("Item", "Value")) -> Placed:
        """A two-column table of (label, value, kind) rows."""
        columns = [Column("item", labels[0]), Column("value", labels[1], "number", align="left")]
        return self.table(name, columns, [(label, value) for label, value, _ in pairs], top=top,
                          row_kinds=[kind for _, _, kind in pairs])

    def _measure_cell(self, row: int, col: int, value: Any, kind: str, widths: list[int], j: int) -> None:
        """Note a table cell's width in ``widths[j]``, and whether it wraps or may be narrowed."""
        width = shown_width(value, kind)
        if width > MAX_WIDTH:
            self.wrapping.add((row, col))
            self.wrapped.append((row, col, safe_text(value) if isinstance(value, str) else str(value)))
        if isinstance(value, str) and width > NARROWEST_TEXT:
            self.texts.setdefault(col, []).append((row, safe_text(value)))
        if width > widths[j]:
            widths[j] = width

    def _measure(self, col: int, width: int) -> None:
        self.widths[col] = max(self.widths.get(col, 0), width)

    def width(self, col: int) -> float:
        return max(MIN_WIDTH, self.widths.get(col, DEFAULT_WIDTH) + 1)

    @property
    def width_pixels(self) -> float:
        return sum(self.width(col) * PIXELS_PER_CHARACTER + 5 for col in self.widths)

    def row_points(self, row: int) -> float:
        return self.heights.get(row) or (TITLE_ROW_POINTS if row == 1 else LINE_HEIGHT_POINTS)

    def height_points(self, last_row: int) -> float:
        """Height of rows 1..last_row on the page at 100%."""
        return sum(self.row_points(row) for row in range(1, last_row + 1))

    @property
    def page_points(self) -> float:
        """The height of a printed page in the sheet's own points (at 100%)."""
        return PRINTABLE_HEIGHT_POINTS / self.scale

    def finish(self, repeat: Placed | None = None, freeze: bool = True, key_columns: int = 1) -> Worksheet:
        """Column widths, row heights, frozen panes and the print layout (module docstring), then
        the cells written to the worksheet: ``repeat`` is the table whose header prints on every
        page (None: the sheet's longest table if it is longer than a page); ``key_columns`` are the
        label columns repeated on every page across when the sheet is too wide to fit the page at
        8 pt."""
        self._check_open()
        ws = self.ws
        self._narrow_text_columns()
        for col in sorted(self.widths):
            ws.column_dimensions[get_column_letter(col)].width = self.width(col)
        lines: dict[int, int] = {}
        for row, col, text in self.wrapped:
            lines[row] = max(lines.get(row, 1), _line_count(text, self.width(col)))
        for row, count in lines.items():
            if count > 1:
                self.heights[row] = LINE_HEIGHT_POINTS * count
        last_col = max(self.widths, default=1)
        for row, fill in self.banners:
            for col in range(1, last_col + 1):
                self.restyle(row, col, fill=fill)
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = Worksheet.PAPERSIZE_LETTER
        ws.page_margins.left = ws.page_margins.right = SIDE_MARGIN_INCHES
        ws.page_margins.top = ws.page_margins.bottom = TOP_MARGIN_INCHES
        fit = PRINTABLE_WIDTH_PIXELS / max(self.width_pixels * WIDTH_SAFETY, 1.0)
        if fit >= 1:
            self.scale = 1.0
        elif fit >= MIN_SCALE:
            self.scale = fit
            ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
            ws.sheet_properties.pageSetUpPr.fitToPage = True
        else:  # too wide to fit at 8 pt: print across pages at the 8 pt scale
            self.scale = MIN_SCALE
            ws.page_setup.scale = round(MIN_SCALE * 100)
        if repeat is None:
            long = [t for t in self.tables
                    if self.height_points(t.last_row) - self.height_points(t.start_row - 1) > self.page_points]
            repeat = max(long, key=lambda t: t.n_rows, default=None)
        # Gnumeric reads one range of print titles, rows or columns, not both: a long table's
        # header comes first, else the label columns of a sheet printed across pages.
        if repeat is not None:
            ws.print_title_rows = f"{repeat.header_row}:{repeat.header_row}"
        elif fit < MIN_SCALE:
            ws.print_title_cols = f"A:{get_column_letter(key_columns)}"
        if freeze:
            top = repeat or (self.tables[0] if self.tables else None)
            if top is not None:
                ws.freeze_panes = f"{get_column_letter(top.left + 1)}{top.header_row + 1}"
        self._break_pages(repeat)
        ws.oddFooter.left.text = "&A"
        ws.oddFooter.right.text = "Page &P of &N"
        for item in ("evenHeader", "evenFooter", "firstHeader", "firstFooter"):
            setattr(ws.HeaderFooter, item, None)  # empty ones are elements Gnumeric does not know
        for row, points in sorted(self.heights.items()):
            ws.row_dimensions[row].height = points
        self.written_rows = self.max_row
        write_rows(ws, self._rows())
        self.cells, self.bodies, self.restyles, self.wrapping, self.texts = {}, [], {}, set(), {}
        return ws

    def _check_open(self) -> None:
        if self.written_rows is not None:
            raise RuntimeError(f"sheet {self.ws.title!r} is already written (Sheet.finish)")

    def _rows(self) -> Iterator[tuple[int, list[tuple[int, Any, Style]]]]:
        """Every row's cells, rows and columns ascending: each table's from the rows it was given,
        with the cells outside tables and the restyled ones merged in."""
        bodies = sorted(self.bodies, key=lambda body: body.first_row)
        by_row: dict[int, list[TableBody]] = {}
        for body in bodies:
            for row in range(body.first_row, body.first_row + len(body.rows)):
                by_row.setdefault(row, []).append(body)
        wrapping = self.wrapping
        for row in range(1, self.max_row + 1):
            cells, restyles, covering = self.cells.get(row), self.restyles.get(row), by_row.get(row)
            if covering is not None and len(covering) == 1 and cells is None and restyles is None:
                yield row, covering[0].cells(row, wrapping)  # the common case: a table's row alone
                continue
            merged: dict[int, tuple[Any, Style]] = {}
            for body in covering or ():
                merged.update((col, (value, look)) for col, value, look in body.cells(row, wrapping))
            merged.update(cells or {})
            for col, (font, fill) in (restyles or {}).items():
                value, look = merged.get(col, (None, PLAIN))
                merged[col] = (value, restyled(look, font, fill))
            if merged:
                yield row, [(col, *merged[col]) for col in sorted(merged)]

    def _narrow_text_columns(self) -> None:
        """A sheet too wide for the page at 8 pt has its widest text columns narrowed (down to
        NARROWEST_TEXT characters), their longer texts wrapped, until it fits or none is left."""
        widest = PRINTABLE_WIDTH_PIXELS / MIN_SCALE / WIDTH_SAFETY
        while self.width_pixels > widest:
            candidates = [col for col in self.texts if self.widths[col] > NARROWEST_TEXT]
            if not candidates:
                return
            col = max(candidates, key=lambda c: self.widths[c])
            excess = math.ceil((self.width_pixels - widest) / PIXELS_PER_CHARACTER)
            others = [self.widths[c] for c in candidates if c != col]
            target = max(NARROWEST_TEXT, self.widths[col] - excess, max(others, default=0) - 1)
            self.widths[col] = target
            for row, text in self.texts[col]:
                if len(text) > target - 1:
                    self.wrapping.add((row, col))
                    self.wrapped.append((row, col, text))

    def _break_pages(self, repeat: Placed | None) -> None:
        """Row breaks so that every table but ``repeat`` stays whole on a page when it fits on one,
        and no table's header sits at a page's foot; sets ``last_page_points``."""
        starts = {t.start_row: t for t in self.tables}
        last_row = max([t.last_row for t in self.tables] + [self.max_row])
        used, titles = 0.0, 0.0
        for row in range(1, last_row + 1):
            table = starts.get(row)
            if table is not None and used > titles:
                whole = self.height_points(table.last_row) - self.height_points(row - 1)
                head = self.height_points(min(table.last_row, table.header_row + TABLE_ROOM_ROWS)) \
                    - self.height_points(row - 1)
                needed = head if table is repeat or whole > self.page_points - titles else whole
                if used + needed > self.page_points:
                    self.ws.row_breaks.append(Break(id=row - 1))
                    used = titles
            height = self.row_points(row)
            if used + height > self.page_points:  # the client breaks the page here by itself
                used = titles
            used += height
            if repeat is not None and row == repeat.header_row:
                titles = height
        self.last_page_points = used


def _line_count(text: str, width: float) -> int:
    """Lines a wrapped text takes in a column ``width`` characters wide (words are not split,
    so allow a little slack)."""
    per_line = max(width - 2, 1)
    return sum(max(1, math.ceil(len(line) / per_line)) for line in str(text).splitlines() or [""])


def highlight(ws: Worksheet, cells: str, formula: str, fill: PatternFill = BAD_FILL,
              font: Font | None = BAD_FONT) -> None:
    """Colour ``cells`` where ``formula`` (written for the range's top-left cell) is true."""
    ws.conditional_formatting.add(cells, FormulaRule(formula=[formula], fill=fill, font=font))


def named_ranges(wb: Workbook) -> dict[str, tuple[Worksheet, str]]:
    """Every table :meth:`Sheet.table` wrote, by name: its sheet and cell range (header row
    first). Workbooks written before tables were defined names hold Excel tables; both are read."""
    ranges = {name: (ws, ref) for ws in wb.worksheets for name, ref in ws.tables.items()}
    for name, defined in wb.defined_names.items():
        for title, ref in defined.destinations:
            if title in wb.sheetnames:
                ranges[name] = (wb[title], ref.replace("$", ""))
    return ranges


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
