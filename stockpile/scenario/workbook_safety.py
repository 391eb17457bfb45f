"""Opening an untrusted input workbook safely: size limits on the file, its unpacked parts and
the cells read; no XML part may declare a DTD or entities (so none is ever expanded, whichever
parser openpyxl uses); formulas are never evaluated (a formula cell gives the value Excel or
LibreOffice saved with it, or a problem when it has none); external links and macros are neither
followed nor kept (openpyxl's ``keep_links=False, keep_vba=False``)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.cell import coordinate_to_tuple

from stockpile.errors import InputError, InputErrors
from stockpile.scenario.limits import WorkbookBounds, check_workbook_archive
from stockpile.scenario.schema import MAX_MATERIALS, MAX_OPTIONS

MAX_WORKBOOK_BYTES = 5_000_000
"""The same limit as a scenario TOML file (stockpile.scenario.load.MAX_FILE_BYTES)."""
MAX_UNPACKED_BYTES = 100_000_000
MAX_PARTS = 1_000
MAX_CELLS = 2_000_000
MAX_ROWS = MAX_OPTIONS + MAX_MATERIALS + 1
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_DTD_WIDE = (b"<\x00!\x00D\x00O\x00C\x00", b"\x00<\x00!\x00D\x00O\x00C", b"<\x00!\x00E\x00N\x00T\x00",
             b"\x00<\x00!\x00E\x00N\x00T")


class CellProblems:
    """Problems found while reading, each naming its cell and key path."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.errors: list[InputError] = []

    def add(self, cell: str, keypath: str | None, why: str) -> None:
        self.errors.append(InputError(self.file, f"{cell} ({keypath})" if keypath else cell, why))

    def raise_any(self) -> None:
        if self.errors:
            raise InputErrors(self.errors)


def is_workbook(path: str | Path) -> bool:
    """Whether a scenario path names a workbook (.xlsx; .xlsm is recognised only to be refused)."""
    return Path(path).suffix.lower() in (".xlsx", ".xlsm")


_ABOUT_SHEET = re.compile(rb'<sheet\b[^>]*\bname="About"')


def is_input_workbook(path: str | Path) -> bool:
    """Whether a zip file is an input workbook (it has an About sheet) rather than a plan workbook.
    Only a regular file is opened (a FIFO would hang it); the reader then says what the path is."""
    if not Path(path).is_file():
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("xl/workbook.xml")
            return info.file_size <= MAX_UNPACKED_BYTES and bool(_ABOUT_SHEET.search(archive.read(info)))
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError, NotImplementedError):
        return False


INPUT_WORKBOOK = WorkbookBounds("input workbooks", MAX_WORKBOOK_BYTES, MAX_PARTS, MAX_UNPACKED_BYTES, None)
"""Bounded as a scenario TOML file is; the reader counts the cells it keeps (MAX_CELLS)."""


def check_archive(path: Path) -> None:
    """Refuse a macro-enabled workbook, one that is not a regular file or is beyond
    :data:`INPUT_WORKBOOK` (:func:`stockpile.scenario.limits.check_workbook_archive`), and XML with a DTD."""
    if path.suffix.lower() == ".xlsm":
        raise InputError(path, None, "a macro-enabled workbook: stockpile reads no macros; save it as .xlsx")
    check_workbook_archive(path, INPUT_WORKBOOK)
    try:
        with zipfile.ZipFile(path) as archive:
            for part in archive.infolist():
                if part.filename.endswith((".xml", ".rels", ".vml")):
                    data = archive.read(part)
                    if _DTD.search(data) or any(marker in data for marker in _DTD_WIDE):
                        raise InputError(path, part.filename, "XML declaring a DTD or entities (refused: a "
                                                              "workbook never needs one)")
    except zipfile.BadZipFile:
        raise InputError(path, None, "not an .xlsx workbook (not a zip file)") from None
    except (OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise InputError(path, None, f"cannot read the workbook: {exc}") from None


def open_workbook(path: Path, data_only: bool):
    try:
        return load_workbook(path, read_only=True, data_only=data_only, keep_links=False, keep_vba=False)
    except InputError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise InputError(path, None, f"cannot read the workbook: {type(exc).__name__}: {exc}") from None


def sheet_cells(ws, problems: CellProblems, sheet: str, formulas: set[str], budget: list[int]) -> dict[tuple[int, int], Any]:
    """The sheet's non-empty cells by (row, column); formula cells without a saved value are problems."""
    values: dict[tuple[int, int], Any] = {}
    ws.reset_dimensions()  # a hostile <dimension ref="A1:XFD1048576"> would pad every row with empty cells
    for row in ws.iter_rows():
        for cell in row:
            value = getattr(cell, "value", None)
            if value is None:
                continue
            budget[0] -= 1
            if budget[0] < 0:
                raise InputError(problems.file, None, f"more than {MAX_CELLS:,} cells with values")
            if cell.row > MAX_ROWS + 1:
                raise InputError(problems.file, f"{sheet}!{cell.coordinate}",
                                 f"more than {MAX_ROWS:,} rows in one sheet")
            if isinstance(value, str) and not value.strip():
                continue
            values[(cell.row, cell.column)] = value
    for coordinate in formulas:
        row_col = coordinate_to_tuple(coordinate)
        if row_col not in values:
            problems.add(f"{sheet}!{coordinate}", None, "a formula with no saved value: stockpile never "
                         "evaluates formulas; type the value, or open and save the file in Excel or LibreOffice")
    return values


def formula_cells(ws) -> set[str]:
    """The coordinates of the sheet's formula cells (from a workbook opened with data_only=False)."""
    ws.reset_dimensions()
    return {cell.coordinate for row in ws.iter_rows() for cell in row if getattr(cell, "data_type", None) == "f"}
