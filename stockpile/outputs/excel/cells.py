"""Safe cells and sheet names: every string is written as text (never a formula), without the
control characters openpyxl refuses, within Excel's limits; numbers keep their exact value."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet.worksheet import Worksheet

from stockpile.outputs.excel.styles import NUMBER_FORMATS

MAX_CELL_TEXT = 32_767
FORMULA_PREFIXES = ("=", "+", "-", "@")
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
MAX_SHEET_NAME = 31


def safe_sheet_name(name: str, taken: Iterable[str] = ()) -> str:
    """A legal, unused Excel sheet name for ``name``: at most 31 characters, none of ``[]:*?/\\``,
    not starting or ending with an apostrophe, and unique (case-insensitively) among ``taken``."""
    cleaned = ILLEGAL_CHARACTERS_RE.sub("", SHEET_NAME_FORBIDDEN.sub("_", str(name))).strip().strip("'")
    cleaned = cleaned or "Sheet"
    used = {t.lower() for t in taken}
    candidate = cleaned[:MAX_SHEET_NAME]
    number = 1
    while candidate.lower() in used or candidate.lower() == "history":  # Excel reserves History
        number += 1
        suffix = f" ({number})"
        candidate = cleaned[:MAX_SHEET_NAME - len(suffix)] + suffix
    return candidate


NOT_IN_XML = re.compile("[\ufffe\uffff\ud800-\udfff]")
"""Characters XML 1.0 cannot hold beyond openpyxl's ILLEGAL_CHARACTERS_RE (the C0 controls): the
noncharacters U+FFFE/U+FFFF and lone surrogates; a workbook holding one cannot be opened."""


def safe_text(value: str) -> str:
    """Text Excel accepts and every reader reads back: no character XML cannot hold (control
    characters, U+FFFE/U+FFFF: replaced by U+FFFD), CR as LF (XML would make it LF when read
    anyway), at most 32,767 characters. Names never change here: the scenario refuses names
    holding any of these (:mod:`stockpile.scenario.text`); only free text does."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = NOT_IN_XML.sub("\N{REPLACEMENT CHARACTER}", ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", text))
    return text if len(text) <= MAX_CELL_TEXT else text[:MAX_CELL_TEXT - 1] + "\N{HORIZONTAL ELLIPSIS}"


def plain_value(value: Any) -> Any:
    """A pandas/numpy value as a plain Python value openpyxl writes exactly (missing -> None)."""
    kind = type(value)
    if kind is float:  # the common cases first: a workbook holds hundreds of thousands of cells
        return None if value != value else value
    if kind is str or kind is int:
        return value
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def put(ws: Worksheet, row: int, col: int, value: Any, kind: str = "text"):
    """Write one cell of an ordinary worksheet: its value (:func:`set_value`), a quote prefix if
    it is text that looks like a formula, else ``kind``'s number format."""
    cell = ws.cell(row=row, column=col)
    value = plain_value(value)
    set_value(cell, value)
    if is_formula_like(value):
        cell.quotePrefix = True
    elif not isinstance(value, str) and kind in NUMBER_FORMATS and kind != "text":
        cell.number_format = NUMBER_FORMATS[kind]
    return cell


def set_value(cell, value: Any) -> None:
    """Give an openpyxl cell its value (a plain one: :func:`plain_value`). Strings are always text: openpyxl would store a string
    starting with ``=`` as a formula, so the type is forced back to string (and a quote prefix in
    the cell's style, :func:`is_formula_like`, keeps Excel from turning it into a formula if the
    planner edits the cell)."""
    kind = type(value)
    if kind is str:
        cell._value, cell.data_type = safe_text(value), "s"
    elif kind is float:
        cell._value, cell.data_type = value, "n"
        if math.isfinite(value) and float(f"{value:.16g}") != value:
            # openpyxl writes numbers with 16 significant digits, which changes the last bit of
            # some doubles; storing the shortest exact form (up to 17 digits, as Excel itself
            # writes) keeps read_workbook's tables identical to the plan's.
            cell._value = repr(value)
    elif kind is int or value is None:
        cell._value, cell.data_type = value, "n"
    else:
        cell.value = value  # bool, and anything else openpyxl knows


def is_formula_like(value: Any) -> bool:
    """Text Excel would take for a formula if a planner edited its cell."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


SHOWN_AS = {  # a number of each kind as its number format shows it, to measure the width it takes
    "fy": lambda v: f"FY{v:.0f}", "integer": lambda v: f"{v:,.0f}", "tonnes": lambda v: f"{v:,.0f}",
    "money": lambda v: f"-${abs(v) / 1e6:,.1f}M", "price": lambda v: f"${v:,.0f}", "share": lambda v: f"{v:.1%}",
    "marginal": lambda v: f"{v:.4f}", "seconds": lambda v: f"{v:.3f}", "years": lambda v: f"{v:+.0f}",
    "tonnes_change": lambda v: f"{v:+,.0f}", "money_change": lambda v: f"+${abs(v) / 1e6:,.1f}M",
    "money_delta": lambda v: f"+${abs(v) / 1e6:,.1f}M",
    "share_change": lambda v: f"{v:+.1%}",
}


def shown_width(value: Any, kind: str) -> int:
    """Roughly how many characters a value takes on screen in its number format."""
    value = plain_value(value)
    if value is None:
        return 0
    if isinstance(value, str) or kind in ("text", "number"):
        return max((len(line) for line in str(value).splitlines()), default=0)
    if isinstance(value, bool):
        return 5
    return len(SHOWN_AS[kind](value))
