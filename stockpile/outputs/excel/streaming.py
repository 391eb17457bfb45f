"""Writing a sheet's cells to its worksheet in row order: streamed into a write-only workbook (what
every stockpile workbook is), or into an ordinary openpyxl worksheet (the reference the tests
compare a streamed workbook with, cell by cell).

A write-only workbook (openpyxl's ``write_only=True``) writes each row's XML as it is appended and
keeps none of it, so a sheet of a million cells costs what its rows are while they are written,
not a million cell objects until the workbook is saved; openpyxl serialises it with lxml (a
dependency for that). Everything sheet-level must be set before the first row (column widths, frozen
panes, row heights) or is written at the end (conditional formats, page setup, print titles, page
breaks, charts): :class:`~stockpile.outputs.excel.sheet.Sheet` collects a sheet whole, lays it out,
and only then writes its rows here.

A cell's look is a :class:`Style` (number format, font, fill, border, alignment, quote prefix),
interned, so a sheet has a few dozen of them however many cells it holds; a streamed sheet turns
each into openpyxl's style record once (:meth:`Rows.style_array`), where setting a cell's font or
border one cell at a time costs a lookup in every style list of the workbook.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from stockpile.outputs.excel.cells import set_value


def new_workbook(streamed: bool = True) -> Workbook:
    """An empty workbook: write-only (streamed) unless ``streamed`` is False."""
    wb = Workbook(write_only=streamed)
    if not streamed:
        wb.remove(wb.active)
    return wb


class StreamedWorksheet(WriteOnlyWorksheet):
    """A write-only worksheet whose rows are appended as ready cells (:func:`write_rows` places
    and styles them): openpyxl's own ``append`` tries each one as a value first and makes a spare
    cell after every styled one, a third of the time a row takes. ``_values_to_row`` is openpyxl's
    (3.1) internal step; were it renamed, ``append`` would still place each cell by its position
    in the row (None where a column is empty), only slower."""

    def _values_to_row(self, values, row_idx):  # openpyxl's hook: the row's cells as appended
        return [cell for cell in values if cell is not None]


def add_worksheet(wb: Workbook, title: str):
    """A new last sheet: a :class:`StreamedWorksheet` in a write-only workbook, else an ordinary one."""
    if not wb.write_only:
        return wb.create_sheet(title)
    ws = StreamedWorksheet(parent=wb, title=title)
    wb._add_sheet(ws)  # what create_sheet does with the WriteOnlyWorksheet it makes
    return ws


class Style(NamedTuple):
    """How a cell looks (None: the workbook's default)."""

    number_format: str | None = None
    font: Font | None = None
    fill: PatternFill | None = None
    border: Border | None = None
    alignment: Alignment | None = None
    quote_prefix: bool = False


_STYLES: dict[tuple, Style] = {}
_ALIGNMENTS: dict[tuple, Alignment] = {}


def style(number_format: str | None = None, font: Font | None = None, fill: PatternFill | None = None,
          border: Border | None = None, alignment: Alignment | None = None, quote_prefix: bool = False) -> Style:
    """The one Style of these parts (parts are the toolkit's shared objects: compared by identity)."""
    key = (number_format, id(font), id(fill), id(border), id(alignment), quote_prefix)
    found = _STYLES.get(key)
    if found is None:  # keeps the parts alive, so their ids stay theirs
        found = _STYLES[key] = Style(number_format, font, fill, border, alignment, quote_prefix)
    return found


PLAIN = style()
"""A cell in the workbook's default look."""


def alignment(horizontal: str | None = None, vertical: str | None = None, wrap: bool = False) -> Alignment:
    """The one Alignment of these settings."""
    key = (horizontal, vertical, wrap)
    found = _ALIGNMENTS.get(key)
    if found is None:
        found = _ALIGNMENTS[key] = Alignment(horizontal=horizontal, vertical=vertical, wrap_text=wrap)
    return found


def restyled(base: Style, font: Font | None = None, fill: PatternFill | None = None) -> Style:
    """``base`` with its font and fill replaced where given."""
    return style(base.number_format, font or base.font, fill or base.fill, base.border, base.alignment,
                 base.quote_prefix)


def apply_style(cell: Cell, look: Style) -> None:
    """Give an openpyxl cell the look, through openpyxl's own setters."""
    if look.number_format is not None:
        cell.number_format = look.number_format
    if look.font is not None:
        cell.font = look.font
    if look.fill is not None:
        cell.fill = look.fill
    if look.border is not None:
        cell.border = look.border
    if look.alignment is not None:
        cell.alignment = look.alignment
    if look.quote_prefix:
        cell.quotePrefix = True


RowCells = Iterable[tuple[int, Any, Style]]
"""One row's cells as (column, value, style), columns ascending."""


class Rows:
    """Writes rows of cells to one worksheet, in ascending row order."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.streamed = isinstance(ws, WriteOnlyWorksheet)
        self.next_row = 1
        self._arrays: dict[int, Any] = {}

    def style_array(self, look: Style):
        """openpyxl's style record of ``look`` in this workbook (made once per style)."""
        array = self._arrays.get(id(look))
        if array is None:
            template = Cell(self.ws, row=1, column=1)
            apply_style(template, look)
            array = self._arrays[id(look)] = template._style
        return array

    def end(self, quietly: bool = False) -> None:
        """Close a streamed sheet's rows. Left open, a sheet abandoned by an error or Ctrl-C is
        closed when collected, in no set order, and lxml prints a traceback for each; ``quietly``
        (on an error) closes the whole sheet and forgets what goes wrong doing so."""
        if not self.streamed or self.ws._rows is None:
            return
        try:
            self.ws._rows.close()  # openpyxl's row stream: closing it writes </sheetData>
            if quietly:
                self.ws._writer.xf.close()
        except Exception:
            if not quietly:
                raise

    def write(self, row: int, cells: RowCells) -> None:
        """Write row ``row`` (after every row written so far)."""
        if row < self.next_row:
            raise ValueError(f"row {row} written after row {self.next_row - 1}")
        ws = self.ws
        if not self.streamed:
            for col, value, look in cells:
                cell = ws.cell(row=row, column=col)
                set_value(cell, value)
                apply_style(cell, look)
            self.next_row = row + 1
            return
        while self.next_row < row:  # a write-only sheet numbers its rows as they come
            ws.append([])
            self.next_row += 1
        arrays, made = self._arrays, []
        for col, value, look in cells:
            while len(made) < col - 1:  # an empty column: a row's cells are appended by position
                made.append(None)
            cell = Cell(ws, row, col)
            # shared, not copied: a written cell is never restyled
            cell._style = arrays.get(id(look)) or self.style_array(look)
            set_value(cell, value)
            made.append(cell)
        ws.append(made)
        self.next_row = row + 1


def write_rows(ws, rows: Iterable[tuple[int, RowCells]]) -> None:
    """Write (row, cells) pairs, rows ascending, to ``ws``: all its rows (a streamed sheet's rows
    end here; what follows them is written when the workbook is saved)."""
    writer = Rows(ws)
    try:
        for row, cells in rows:
            writer.write(row, cells)
    except BaseException:
        writer.end(quietly=True)
        raise
    writer.end()
