"""The planner's workbook: the plan as formatted Excel tables and charts, and reading it back.

Sheets, in order: Summary, Orders, Inventory, Fund, Sourcing, Marginal values, Inputs, Audit,
and a hidden ``_scenario`` sheet holding the resolved scenario as canonical JSON, so
``stockpile verify`` can re-audit a saved plan without the original scenario file.

Every table is a named Excel table whose cells hold the plan's exact values (dollars, tonnes,
fractions); number formats only change how they look ($M with one decimal, thousands
separators, percentages). That is what lets :func:`read_workbook` give back the plan's tables
exactly. Tables a planner reads across time (Fund, marginal values) have FYs as columns;
``read_workbook`` turns them back into the plan's long tables. Below the long tables (Orders,
Inventory, Sourcing) are FY-across views that the charts draw from; those are for reading only.
Everything on a sheet is stacked in one column band, so a page printed fit-to-width stays
readable, and charts come last, kept whole by page breaks.

Every string from a scenario is written as text, never as a formula, and the file is written
with fixed metadata and zip timestamps, so the same plan gives the same bytes run after run.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart._chart import ChartBase
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RegularTextRun
from openpyxl.formatting.rule import ColorScaleRule, FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from stockpile.errors import InputError
from stockpile.plan.read import FUND_COLUMNS, INVENTORY_COLUMNS, ORDER_COLUMNS, SOURCING_COLUMNS, ZERO_DOLLARS, Plan
from stockpile.scenario.schema import Scenario, effective_tags, option_kind, scenario_from_dict
from stockpile.scenario.series import Series

SCENARIO_SHEET = "_scenario"
CELL_CHUNK = 30_000  # Excel holds at most 32,767 characters in a cell
MAX_CELL_TEXT = 32_767
FIXED_TIMESTAMP = dt.datetime(2000, 1, 1)
"""Written as the workbook's created/modified time and every zip entry's time, so two writes of
the same plan are byte-identical (a planner can hash a plan, and diffs show only real changes)."""

SHORTFALL_HIGHLIGHT_TONNES = 0.5
"""Shortfalls are coloured once they show on the sheet (tonnes display without decimals), so
solver noise of a few grams is not painted red."""
SHARE_TOLERANCE = 1e-6
"""A share equal to its limit is within it; only shares past it by more than this are coloured."""

# ---------------------------------------------------------------------------------------------
# Formats and styles

NUMBER_FORMATS = {
    "text": "General",
    "number": "General",
    "fy": '"FY"0',
    "integer": "#,##0",
    "tonnes": "#,##0",
    # Cells hold dollars; the two trailing commas show them in millions, so values stay exact.
    "money": '"$"#,##0.0,,"M";[Red]-"$"#,##0.0,,"M";"$"0.0"M"',
    "price": '"$"#,##0',  # dollars per tonne
    "share": "0.0%",
    "marginal": "0.0000",
    "seconds": "0.000",
    # Differences between two plans (stockpile compare), signed so a planner sees which way.
    "years": "+0;-0;0",
    "tonnes_change": "+#,##0;-#,##0;0",
    "money_change": '+"$"#,##0.0,,"M";[Red]-"$"#,##0.0,,"M";"$"0.0"M"',
    "share_change": "+0.0%;-0.0%;0.0%",
}
NUMERIC_KINDS = frozenset(NUMBER_FORMATS) - {"text"}
FLOAT_KINDS = NUMERIC_KINDS - {"fy", "integer", "years"}

FONT_NAME = "Calibri"
TITLE_FONT = Font(name=FONT_NAME, size=16, bold=True, color="1F3864")
SECTION_FONT = Font(name=FONT_NAME, size=12, bold=True, color="1F3864")
NOTE_FONT = Font(name=FONT_NAME, size=10, italic=True, color="595959")
HEADER_FONT = Font(name=FONT_NAME, bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
GRID = Side(style="thin", color="BFBFBF")
CELL_BORDER = Border(left=GRID, right=GRID, top=GRID, bottom=GRID)
BAD_FILL = PatternFill("solid", fgColor="F8CBAD", bgColor="F8CBAD")
BAD_FONT = Font(color="9C0006", bold=True)
WARN_FILL = PatternFill("solid", fgColor="FFE699", bgColor="FFE699")
GOOD_FILL = PatternFill("solid", fgColor="C6EFCE", bgColor="C6EFCE")
GOOD_FONT = Font(color="006100")
TABLE_STYLE = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)

MIN_WIDTH, MAX_WIDTH, DEFAULT_WIDTH = 6, 45, 8.43
"""Column widths in characters; longer text wraps instead of making a column a screen wide."""
LINE_HEIGHT_POINTS = 15  # one line of 11 pt text
TITLE_ROW_POINTS = 21
HEADER_PADDING = 4  # room for the filter button Excel draws in a table header
SHORT_HEADER = 12  # headers up to this long stay on one line


@dataclass(frozen=True)
class Column:
    """A table column: the plan's name for it, the header a planner reads, and its kind of value
    (a key of NUMBER_FORMATS)."""

    key: str
    label: str
    kind: str = "text"
    align: str | None = None  # None: Excel's default (text left, numbers right)


ORDERS = [
    Column("fy", "FY", "fy"), Column("material", "Material"), Column("option", "Option"),
    Column("kind", "Kind"), Column("country", "Country"), Column("tags", "Tags"),
    Column("tonnes", "Tonnes", "tonnes"), Column("delivery_fy", "Delivery FY", "fy"),
    Column("unit_price", "Unit price ($/t)", "price"), Column("cost", "Cost ($M)", "money"),
]
INVENTORY = [
    Column("material", "Material"), Column("fy", "FY", "fy"), Column("opening", "Opening (t)", "tonnes"),
    Column("deliveries", "Deliveries (t)", "tonnes"), Column("pipeline", "Pipeline (t)", "tonnes"),
    Column("disposals", "Disposals (t)", "tonnes"), Column("draws", "Draws (t)", "tonnes"),
    Column("unmet_draw", "Unmet draw (t)", "tonnes"), Column("loss", "Loss (t)", "tonnes"),
    Column("closing", "Closing (t)", "tonnes"), Column("goal", "Goal (t)", "tonnes"),
    Column("shortfall", "Shortfall (t)", "tonnes"), Column("coverage", "Coverage", "share"),
]
FUND_ROWS = [
    Column("opening", "Opening balance", "money"), Column("appropriation", "Appropriation", "money"),
    Column("other_revenue", "Other revenue", "money"), Column("sales", "Sales of excess material", "money"),
    Column("purchases", "Purchases", "money"), Column("committed_payments", "Committed payments", "money"),
    Column("operating_cost", "Operating cost", "money"), Column("holding_cost", "Holding cost", "money"),
    Column("closing", "Closing balance", "money"), Column("floor", "Floor", "money"),
    Column("deficit", "Deficit below floor", "money"),
]
"""The Fund table is printed FY across: one row per line item."""
SOURCING = [
    Column("material", "Material"), Column("fy", "FY", "fy"), Column("ordered", "Ordered (t)", "tonnes"),
    Column("trusted_share", "Trusted share", "share"), Column("trusted_floor", "Trusted floor", "share"),
    Column("covered_share", "Covered-nation share", "share"),
    Column("largest_country", "Largest foreign country"),
    Column("largest_share", "Largest foreign share", "share"),
    Column("concentration_cap", "Single-country cap", "share"),
]
APPROPRIATION_ROW = Column("shortfall_reduction_per_million", "Shortfall reduction per extra $1M", "marginal")
CAPACITY_VALUE = Column("shortfall_reduction_per_tonne", "per extra tonne", "marginal")
AUDIT = [
    Column("family", "Family"), Column("check", "Check"), Column("rows_checked", "Rows checked", "integer"),
    Column("result", "Result"), Column("first_violation", "First violation"),
]
PROVENANCE = [
    Column("what", "What"), Column("source", "Source"), Column("value", "Value", "number"), Column("unit", "Unit"),
    Column("status", "Status"), Column("note", "Note"),
]

# Excel table names of the tables read_workbook reads back (views beside them are not read).
LONG_TABLES = {"orders": ("Orders", ORDERS), "inventory": ("Inventory", INVENTORY),
               "sourcing": ("Sourcing", SOURCING)}
FUND_TABLE = "Fund"
APPROPRIATION_TABLE = "MarginalAppropriation"
CAPACITY_TABLE = "MarginalCapacity"
assert [c.key for c in ORDERS] == ORDER_COLUMNS and [c.key for c in INVENTORY] == INVENTORY_COLUMNS
assert ["fy"] + [c.key for c in FUND_ROWS] == FUND_COLUMNS and [c.key for c in SOURCING] == SOURCING_COLUMNS

SHEET_ORDER = ("Summary", "Orders", "Inventory", "Fund", "Sourcing", "Marginal values", "Inputs", "Audit")


# ---------------------------------------------------------------------------------------------
# Safe cells, sheet names and the one table writer every sheet uses

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


def safe_text(value: str) -> str:
    """Text Excel accepts: no control characters (openpyxl refuses them), at most 32,767 characters."""
    text = ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", value)
    return text if len(text) <= MAX_CELL_TEXT else text[:MAX_CELL_TEXT - 1] + "\N{HORIZONTAL ELLIPSIS}"


def plain_value(value: Any) -> Any:
    """A pandas/numpy value as a plain Python value openpyxl writes exactly (missing -> None)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def put(ws: Worksheet, row: int, col: int, value: Any, kind: str = "text"):
    """Write one cell. Strings are always text: openpyxl would store a string starting with ``=``
    as a formula, so the type is forced back to string; ``quotePrefix`` also keeps Excel from
    turning it into a formula if the planner edits the cell."""
    cell = ws.cell(row=row, column=col)
    value = plain_value(value)
    if isinstance(value, str):
        cell.value = safe_text(value)
        cell.data_type = "s"
        if value.startswith(FORMULA_PREFIXES):
            cell.quotePrefix = True
    else:
        cell.value = value
        if isinstance(value, float) and math.isfinite(value) and float(f"{value:.16g}") != value:
            # openpyxl writes numbers with 16 significant digits, which changes the last bit of
            # some doubles; storing the shortest exact form (up to 17 digits, as Excel itself
            # writes) keeps read_workbook's tables identical to the plan's.
            cell._value = repr(value)
        if kind in NUMBER_FORMATS and kind != "text":
            cell.number_format = NUMBER_FORMATS[kind]
    return cell


def shown_width(value: Any, kind: str) -> int:
    """Roughly how many characters a value takes on screen in its number format."""
    value = plain_value(value)
    if value is None:
        return 0
    if isinstance(value, str) or kind in ("text", "number"):
        return max((len(line) for line in str(value).splitlines()), default=0)
    if isinstance(value, bool):
        return 5
    shown = {
        "fy": lambda v: f"FY{v:.0f}",
        "integer": lambda v: f"{v:,.0f}",
        "tonnes": lambda v: f"{v:,.0f}",
        "money": lambda v: f"-${abs(v) / 1e6:,.1f}M",
        "price": lambda v: f"${v:,.0f}",
        "share": lambda v: f"{v:.1%}",
        "marginal": lambda v: f"{v:.4f}",
        "seconds": lambda v: f"{v:.3f}",
        "years": lambda v: f"{v:+.0f}",
        "tonnes_change": lambda v: f"{v:+,.0f}",
        "money_change": lambda v: f"+${abs(v) / 1e6:,.1f}M",
        "share_change": lambda v: f"{v:+.1%}",
    }[kind]
    return len(shown(value))


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
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = ws.page_margins.bottom = 0.5
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


# ---------------------------------------------------------------------------------------------
# Charts

MIN_CHART_WIDTH_CM, MAX_CHART_WIDTH_CM, MAX_CHARTS_ACROSS = 14.0, 24.0, 2
CHART_ASPECT = 0.55  # height / width: room for a legend of many countries
CHART_GAP_PIXELS = 20
PIXELS_PER_CHARACTER, PIXELS_PER_CM = 7.0, 37.8
# A landscape US letter page inside the margins set in Sheet.finish (96 pixels or 72 points an inch).
PRINTABLE_WIDTH_PIXELS = (11 - 2 * 0.4) * 96
PRINTABLE_HEIGHT_POINTS = (8.5 - 2 * 0.5) * 72 - 30  # less the footer


def _chart_title(text: str, size: int = 1200) -> Title:
    """A chart title in 12 pt bold: the 18 pt default wraps a material's name over two lines."""
    font = CharacterProperties(sz=size, b=True)
    paragraph = Paragraph(pPr=ParagraphProperties(defRPr=font), r=[RegularTextRun(rPr=font, t=text)])
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


def line_chart(title: str, y_title: str, y_format: str) -> LineChart:
    chart = LineChart()
    chart.title, chart.y_axis.title = _chart_title(title), y_title
    chart.y_axis.number_format = y_format
    chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl 3.1 hides axes otherwise
    chart.legend.position = "b"
    chart.display_blanks = "gap"
    return chart


def stacked_bar_chart(title: str, y_title: str) -> BarChart:
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
    chart.title, chart.y_axis.title = _chart_title(title), y_title
    chart.y_axis.number_format = NUMBER_FORMATS["tonnes"]
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.legend.position = "b"
    return chart


# Okabe-Ito's colour-blind-safe colours first, then lighter ones, so a chart's biggest suppliers
# get the most distinct colours; the home country is always dark grey.
PALETTE = ("0072B2", "E69F00", "009E73", "D55E00", "56B4E9", "CC79A7", "F0E442", "8C564B", "17BECF",
           "BCBD22", "9467BD", "FF9896", "98DF8A", "C5B0D5", "C49C94", "F7B6D2", "DBDB8D", "9EDAE5",
           "AEC7E8", "FFBB78")
HOME_COLOUR = "404040"
SOLID_BLUE = {"color": "1F4E78"}
DASHED_RED = {"color": "C00000", "dashed": True}


def plot_rows(chart, view: Placed, rows: Sequence[int], label_key: str, styles: Sequence[dict] = ()) -> None:
    """Add table rows as series (titles from ``label_key``'s cells), the FY columns as categories."""
    first_fy = min(view.col(c.key) for c in view.columns if c.key.isdigit())
    last_fy = view.right  # FY columns run to the table's right edge
    for i, row in enumerate(rows):
        ref = Reference(view.ws, min_col=view.col(label_key), max_col=last_fy, min_row=row, max_row=row)
        chart.add_data(ref, from_rows=True, titles_from_data=True)
        series = chart.series[-1]
        style = styles[i] if i < len(styles) else {}
        if isinstance(chart, BarChart) and "color" in style:
            series.graphicalProperties.solidFill = style["color"]
            series.graphicalProperties.line.solidFill = style["color"]
        if isinstance(chart, LineChart):
            series.smooth = False
            series.graphicalProperties.line.width = 28_000  # EMU, about 2.2 pt
            if "color" in style:
                series.graphicalProperties.line.solidFill = style["color"]
            if style.get("dashed"):
                series.graphicalProperties.line.dashStyle = "dash"
    chart.set_categories(Reference(view.ws, min_col=first_fy, max_col=last_fy,
                                   min_row=view.header_row, max_row=view.header_row))


def place_charts(sheet: Sheet, charts: Sequence[ChartBase]) -> None:
    """Put charts below the sheet's tables, as many across as fit, sized to span the tables'
    width (so a page printed fit-to-width is no wider than the tables and the charts are as large
    as the page allows), with page breaks so no chart is cut in two in print."""
    if not charts:
        return
    per_row = max(1, min(MAX_CHARTS_ACROSS, len(charts),
                         int(sheet.width_pixels // (MIN_CHART_WIDTH_CM * PIXELS_PER_CM))))
    starts, span = _column_spans(sheet, per_row)
    width_cm = min(MAX_CHART_WIDTH_CM, max(MIN_CHART_WIDTH_CM, (span - CHART_GAP_PIXELS) / PIXELS_PER_CM))
    height_cm = width_cm * CHART_ASPECT
    rows_per_chart = math.ceil(height_cm / 2.54 * 72 / LINE_HEIGHT_POINTS) + 2  # and a gap below
    scale = min(1.0, PRINTABLE_WIDTH_PIXELS / max(sheet.width_pixels, width_cm * PIXELS_PER_CM))
    block = rows_per_chart * LINE_HEIGHT_POINTS * scale  # printed height of one row of charts
    top = sheet.next_row
    above = sheet.height_points(top - 1) * scale
    charts_height = math.ceil(len(charts) / per_row) * block - 2 * LINE_HEIGHT_POINTS * scale  # no gap after
    spans_pages = above + charts_height > PRINTABLE_HEIGHT_POINTS
    rows_per_page = max(1, int(PRINTABLE_HEIGHT_POINTS // block))
    for i, chart in enumerate(charts):
        chart.width, chart.height = width_cm, height_cm
        grid_row, grid_col = divmod(i, per_row)
        row = top + grid_row * rows_per_chart
        if spans_pages and grid_col == 0 and grid_row % rows_per_page == 0:
            sheet.ws.row_breaks.append(Break(id=row - 1))
        sheet.ws.add_chart(chart, f"{get_column_letter(starts[grid_col])}{row}")


def _column_spans(sheet: Sheet, count: int) -> tuple[list[int], float]:
    """Split the sheet's columns into ``count`` runs of about equal width: the first column of
    each run, and the narrowest run's width in pixels (charts start on a column boundary)."""
    columns = range(1, max(sheet.widths, default=1) + 1)
    pixels = [sheet.width(col) * PIXELS_PER_CHARACTER + 5 for col in columns]
    target = sum(pixels) / count
    starts, edges, covered = [1], [], 0.0
    for col, width in zip(columns, pixels):
        if covered >= target * len(starts) and len(starts) < count:
            starts.append(col)
            edges.append(covered)
        covered += width
    edges.append(covered)
    spans = [right - left for left, right in zip([0.0] + edges[:-1], edges)]
    return starts, min(spans)


# ---------------------------------------------------------------------------------------------
# The workbook

def write_workbook(plan: Plan, path: Path) -> None:
    """Write the planner's workbook for ``plan`` to ``path`` (callers use io.atomic_write)."""
    wb = Workbook()
    wb.remove(wb.active)
    _summary_sheet(wb, plan)
    _orders_sheet(wb, plan)
    _inventory_sheet(wb, plan)
    _fund_sheet(wb, plan)
    _sourcing_sheet(wb, plan)
    _marginal_sheet(wb, plan)
    _inputs_sheet(wb, plan)
    _audit_sheet(wb, plan)
    hidden = wb.create_sheet(SCENARIO_SHEET)
    text = plan.scenario.plain_json()
    for row, start in enumerate(range(0, len(text), CELL_CHUNK), start=1):
        put(hidden, row, 1, text[start:start + CELL_CHUNK])
    hidden.sheet_state = "hidden"
    wb.active = 0
    save_workbook(wb, path)


def save_workbook(wb: Workbook, path: Path) -> None:
    """Save with fixed timestamps in the document properties and the zip entries."""
    wb.properties.created = wb.properties.modified = FIXED_TIMESTAMP
    wb.properties.creator = "stockpile"
    with _FixedTimeZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).save()  # openpyxl's save_workbook would stamp "now" as modified


class _FixedTimeZipFile(zipfile.ZipFile):
    """A zip file whose entries all carry FIXED_TIMESTAMP instead of the time of writing."""

    def writestr(self, zinfo_or_arcname, data, *args, **kwargs):
        if isinstance(zinfo_or_arcname, str):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=FIXED_TIMESTAMP.timetuple()[:6])
            info.compress_type = self.compression
            info.external_attr = 0o600 << 16
            zinfo_or_arcname = info
        return super().writestr(zinfo_or_arcname, data, *args, **kwargs)

    def write(self, filename, arcname=None, *args, **kwargs):
        self.writestr(arcname or Path(filename).name, Path(filename).read_bytes())


def records(frame: pd.DataFrame, columns: Sequence[Column]) -> list[list[Any]]:
    return [[plain_value(v) for v in row] for row in frame[[c.key for c in columns]].itertuples(index=False)]


def fy_columns(fys: Iterable[int], kind: str = "number") -> list[Column]:
    return [Column(str(fy), f"FY{fy}", kind) for fy in fys]


def material_label(s: Scenario, code: str) -> str:
    return f"{s.materials[code].name} ({code})" if code in s.materials else code


# --- Summary ------------------------------------------------------------------------------------

HOW_TO_READ = [
    ("Summary", "This page: the solvency horizon, headline figures, the scenario and how the plan was made."),
    ("Orders", "Every order the plan places: FY, option, country, tonnes, delivery FY and cost. Below: "
               "tonnes by country and cost by material FY by FY, and a stacked bar chart per material."),
    ("Inventory", "Stock of each material each FY: opening, deliveries, disposals, draws, closing, goal "
                  "and shortfall. Below: closing stock against goal FY by FY, with a chart per material."),
    ("Fund", "The NDS Transaction Fund FY by FY: balance, appropriation, revenue, spending and costs, "
             "with a chart of the balance against its floor."),
    ("Sourcing", "Shares of each year's orders from trusted sources, covered nations and the largest "
                 "single foreign country, against the policy limits. Below: the same FY by FY, and a "
                 "chart of the trusted share against its floor."),
    ("Marginal values", "What one more $1M of appropriation or one more tonne of capacity would do for "
                        "readiness; blank or 0 means it would not help."),
    ("Inputs", "The scenario as solved (after extends and data defaults) and every data figure used, "
               "with its source and status."),
    ("Audit", "Each check the independent audit ran on this plan, and its result."),
    ("Conventions", "Money in $M (cells hold exact dollars: select one to see it); quantities in tonnes "
                    "of contained metal; FY = U.S. fiscal year. Red marks a shortfall, a Fund deficit "
                    "or a share past its policy limit."),
]


def headline_rows(kpis: dict[str, Any], s: Scenario) -> list[tuple[str, Any, str]]:
    """The headline KPIs as (label, value, kind) rows, shared with the comparison workbook."""
    first, last = s.horizon.first_fy, s.horizon.last_fy

    def fy_or(value: int | None, otherwise: str) -> tuple[Any, str]:
        return (value, "fy") if value is not None else (otherwise, "text")

    rows = [("Solvent through", *fy_or(kpis.get("solvent_through_fy"), f"not solvent in FY{first}")),
            ("First shortfall", *fy_or(kpis.get("first_shortfall_fy"), f"none through FY{last}")),
            ("First Fund deficit", *fy_or(kpis.get("first_deficit_fy"), f"none through FY{last}")),
            ("Total shortfall (tonne-years)", kpis.get("total_shortfall_tonne_years"), "tonnes")]
    if "weighted_shortfall" in kpis:
        rows.append(("Weighted relative shortfall (objective)", kpis["weighted_shortfall"], "marginal"))
    rows += [("Total Fund deficit ($M)", kpis.get("total_deficit"), "money"),
             ("Total purchase cost ($M)", kpis.get("total_purchase_cost"), "money")]
    if "discounted_net_cost" in kpis:
        rows.append(("Discounted net cost ($M)", kpis["discounted_net_cost"], "money"))
    rows.append((f"Fund balance at end of FY{last} ($M)", kpis.get("end_fund_balance"), "money"))
    return rows


def _summary_sheet(wb: Workbook, plan: Plan) -> None:
    s, kpis = plan.scenario, plan.kpis
    sheet = Sheet(wb, "Summary", s.name)
    solvent = kpis.get("first_shortfall_fy") is None and kpis.get("first_deficit_fy") is None
    sheet.note(2, f"Solvency horizon: {plan.headline}", Font(name=FONT_NAME, size=13, bold=True),
               GOOD_FILL if solvent else BAD_FILL)

    sheet.key_values("Headline", headline_rows(kpis, s), top=sheet.section("Headline figures"),
                     labels=("Figure", "Value"))

    inventory, orders = plan.tables["inventory"], plan.tables["orders"]
    last = s.horizon.last_fy
    by_material = []
    for code in s.materials:
        stock = inventory[inventory.material == code]
        end = stock[stock.fy == last].iloc[0]
        mine = orders[orders.material == code] if not orders.empty else orders
        by_material.append([material_label(s, code), float(mine.tonnes.sum()) if not mine.empty else 0.0,
                            float(mine.cost.sum()) if not mine.empty else 0.0, end.closing, end.goal,
                            plain_value(end.coverage), float(stock.shortfall.sum() + stock.unmet_draw.sum())])
    placed = sheet.table("ByMaterial", [
        Column("material", "Material"), Column("ordered", "Ordered (t)", "tonnes"),
        Column("cost", "Cost ($M)", "money"), Column("closing", f"Stock FY{last} (t)", "tonnes"),
        Column("goal", f"Goal FY{last} (t)", "tonnes"), Column("coverage", f"Coverage FY{last}", "share"),
        Column("shortfall", "Shortfall (t-yr)", "tonnes")], by_material, top=sheet.section("By material"))
    highlight(sheet.ws, placed.cells("shortfall"),
              f"{placed.letter('shortfall')}{placed.first_row}>={SHORTFALL_HIGHLIGHT_TONNES}")

    about_rows = [
        ("Scenario", s.name, "text"), ("Description", s.description, "text"),
        ("Scenario file", plan.scenario_file or "", "text"), ("Scenario SHA-256", s.sha256, "text"),
        ("Horizon", f"FY{s.horizon.first_fy} to FY{s.horizon.last_fy}", "text"),
        ("Objective", s.objective.mode, "text"), ("Solver", plan.solver, "text"),
        ("Solver version", plan.solver_version, "text"), ("Solve time (seconds)", plan.solve_seconds, "seconds"),
        ("Audit", plan.audit.summary if plan.audit is not None else "not run", "text"),
        ("Written by", f"stockpile {_package_version()}", "text")]
    about_rows += _reproducibility_rows(plan)
    about = sheet.key_values("About", about_rows, top=sheet.section("About this plan"))
    audit_row = about.first_row + [label for label, _, _ in about_rows].index("Audit")
    audited = plan.audit is not None and plan.audit.ok
    sheet.ws.cell(row=audit_row, column=about.col("value")).fill = GOOD_FILL if audited else BAD_FILL

    sheet.table("HowToRead", [Column("sheet", "Sheet"), Column("what", "What it shows")], HOW_TO_READ,
                top=sheet.section("How to read this workbook"))
    sheet.finish(freeze="B3")


def _reproducibility_rows(plan: Plan) -> list[tuple[str, Any, str]]:
    """What a later reader needs to reproduce the plan: data hash, package versions, settings."""
    from stockpile.plan.reproduce import record

    rec = record(plan, plan.time_limit)
    rows = [("Data SHA-256", rec["data_sha256"] or "(no data/ figures used)", "text")]
    rows += [(f"Version of {name}", version, "text") for name, version in rec["packages"].items()]
    settings = rec["solver_settings"]
    rows += [("Time limit (seconds)", settings["time_limit"], "seconds"),
             ("Lexicographic tolerances", f"relative {settings['relative_tolerance']:g}, absolute "
                                          f"{settings['absolute_tolerance']:g}", "text")]
    return rows


def _package_version() -> str:
    from stockpile.outputs.summary import package_version

    return package_version()


def _by_fy_view(sheet: Sheet, name: str, title: str, label: str, rows: list[list[Any]], fys: Sequence[int],
                kind: str = "number", row_kinds: Sequence[str] | None = None) -> Placed:
    """An FY-across view below a long table: Material, a label column, then one column per FY."""
    columns = [Column("material", "Material"), Column("label", label)] + fy_columns(fys, kind)
    return sheet.table(name, columns, rows, top=sheet.section(title), row_kinds=row_kinds)


def first_fy_letter(view: Placed) -> str:
    return get_column_letter(min(view.col(c.key) for c in view.columns if c.key.isdigit()))


def fy_cells(view: Placed) -> str:
    """The FY value cells of a view, e.g. ``C40:H63``."""
    return f"{first_fy_letter(view)}{view.first_row}:{get_column_letter(view.right)}{view.last_row}"


# --- Orders ---------------------------------------------------------------------------------------

def _orders_sheet(wb: Workbook, plan: Plan) -> None:
    s, orders = plan.scenario, plan.tables["orders"]
    fys = list(s.fys)
    sheet = Sheet(wb, "Orders", "Orders",
                  "Each row is one order placed in an FY; its tonnes arrive in the delivery FY. Below: "
                  "tonnes by country and cost by material, FY by FY, and a chart per material.")
    sheet.table("Orders", ORDERS, records(orders, ORDERS), top=3)

    rows, blocks = [], {}  # blocks: material -> (first, end) row offsets in the view, for its chart
    if not orders.empty:
        tonnes = orders.pivot_table(index=["material", "country"], columns="fy", values="tonnes",
                                    aggfunc="sum", sort=False)
        totals = tonnes.sum(axis=1)
        for code in s.materials:
            # biggest supplier first: the view reads top down and the chart stacks from the bottom
            countries = sorted((country for material, country in tonnes.index if material == code),
                               key=lambda country: (-totals[(code, country)], country))
            if countries:
                blocks[code] = (len(rows), len(rows) + len(countries))
            for country in countries:
                rows.append([material_label(s, code), country]
                            + [plain_value(tonnes.loc[(code, country)].get(fy)) for fy in fys])
    view = _by_fy_view(sheet, "OrdersByCountry", "Tonnes ordered by country and FY", "Country", rows, fys,
                       "tonnes")
    cost_rows = []
    for code in s.materials:
        mine = orders[orders.material == code] if not orders.empty else orders
        cost_rows.append([material_label(s, code), "all options"]
                         + [float(mine.loc[mine.fy == fy, "cost"].sum()) if not mine.empty else 0.0 for fy in fys])
    _by_fy_view(sheet, "CostByMaterial", "Cost of orders by material and FY ($M)", "Options", cost_rows, fys,
                "money")
    sheet.finish(freeze="B4")

    charts = []
    for code, (first, end) in blocks.items():
        foreign = iter(PALETTE * (1 + (end - first) // len(PALETTE)))
        colours = [HOME_COLOUR if row[1] == s.policy.home_country else next(foreign) for row in rows[first:end]]
        charts.append(stacked_bar_chart(f"{material_label(s, code)}: tonnes ordered by country", "tonnes"))
        plot_rows(charts[-1], view, range(view.first_row + first, view.first_row + end), "label",
                  [{"color": colour} for colour in colours])
    place_charts(sheet, charts)


# --- Inventory ------------------------------------------------------------------------------------

INVENTORY_MEASURES = [("closing", "Closing stock (t)", "tonnes"), ("goal", "Goal (t)", "tonnes"),
                      ("shortfall", "Shortfall (t)", "tonnes"), ("coverage", "Coverage", "share")]


def _inventory_sheet(wb: Workbook, plan: Plan) -> None:
    s, inventory = plan.scenario, plan.tables["inventory"]
    fys = list(s.fys)
    sheet = Sheet(wb, "Inventory", "Inventory",
                  "Stock of each material in each FY, in tonnes. Red: closing stock below goal. Below: "
                  "closing stock against goal FY by FY, and a chart per material.")
    placed = sheet.table("Inventory", INVENTORY, records(inventory, INVENTORY), top=3)
    shortfall = f"${placed.letter('shortfall')}{placed.first_row}>={SHORTFALL_HIGHLIGHT_TONNES}"
    for key in ("shortfall", "coverage"):
        highlight(sheet.ws, placed.cells(key), shortfall)
    highlight(sheet.ws, placed.cells("unmet_draw"),
              f"{placed.letter('unmet_draw')}{placed.first_row}>={SHORTFALL_HIGHLIGHT_TONNES}")

    rows, kinds = [], []
    for code in s.materials:
        stock = inventory[inventory.material == code].set_index("fy")
        for key, label, kind in INVENTORY_MEASURES:
            rows.append([material_label(s, code), label] + [plain_value(stock.at[fy, key]) for fy in fys])
            kinds.append(kind)
    view = _by_fy_view(sheet, "InventoryByFY", "Closing stock against goal, FY by FY", "Measure", rows, fys,
                       row_kinds=kinds)
    column, measure = first_fy_letter(view), f"${view.letter('label')}{view.first_row}"
    cell, above = f"{column}{view.first_row}", f"{column}{view.first_row - 1}"
    # A shortfall colours itself and the coverage below it.
    highlight(sheet.ws, fy_cells(view), f'OR(AND({measure}="Shortfall (t)",{cell}>={SHORTFALL_HIGHLIGHT_TONNES}),'
                                        f'AND({measure}="Coverage",N({above})>={SHORTFALL_HIGHLIGHT_TONNES}))')
    sheet.finish(freeze="B4")

    charts = []
    for i, code in enumerate(s.materials):
        closing_row = view.first_row + i * len(INVENTORY_MEASURES)
        charts.append(line_chart(f"{material_label(s, code)}: stock against goal", "tonnes",
                                 NUMBER_FORMATS["tonnes"]))
        plot_rows(charts[-1], view, [closing_row, closing_row + 1], "label", [SOLID_BLUE, DASHED_RED])
    place_charts(sheet, charts)


# --- Fund -----------------------------------------------------------------------------------------

def _fund_sheet(wb: Workbook, plan: Plan) -> None:
    fund = plan.tables["fund"]
    sheet = Sheet(wb, "Fund", "NDS Transaction Fund",
                  "FY by FY, in $M. Red: the balance falls below its floor (a deficit).")
    fys = [int(fy) for fy in fund.fy]
    rows = [[column.label] + [plain_value(v) for v in fund[column.key]] for column in FUND_ROWS]
    placed = sheet.table(FUND_TABLE, [Column("item", "Item ($M)")] + fy_columns(fys, "money"), rows, top=3)
    keys = [c.key for c in FUND_ROWS]
    deficit_row, closing_row, floor_row = (placed.first_row + keys.index(k) for k in ("deficit", "closing", "floor"))
    first, last = get_column_letter(placed.left + 1), get_column_letter(placed.right)
    highlight(sheet.ws, f"{first}{deficit_row}:{last}{deficit_row}", f"{first}{deficit_row}>{ZERO_DOLLARS}")
    highlight(sheet.ws, f"{first}{closing_row}:{last}{closing_row}",
              f"{first}{closing_row}<{first}{floor_row}-{ZERO_DOLLARS}")
    for col in range(placed.left, placed.right + 1):
        sheet.ws.cell(row=closing_row, column=col).font = Font(name=FONT_NAME, bold=True)
    sheet.finish(freeze="B4", title_rows="3:3")

    chart = line_chart("Fund balance against its floor", "$M", '"$"#,##0,,"M"')
    plot_rows(chart, placed, [closing_row, floor_row], "item", [SOLID_BLUE, DASHED_RED])
    place_charts(sheet, [chart])


# --- Sourcing -------------------------------------------------------------------------------------

SOURCING_MEASURES = [("trusted_share", "Trusted share"), ("trusted_floor", "Trusted floor"),
                     ("largest_share", "Largest foreign share"), ("concentration_cap", "Single-country cap"),
                     ("covered_share", "Covered-nation share")]


def _sourcing_sheet(wb: Workbook, plan: Plan) -> None:
    s, sourcing = plan.scenario, plan.tables["sourcing"]
    fys = list(s.fys)
    sheet = Sheet(wb, "Sourcing", "Sourcing",
                  "Shares of each FY's orders (blank: nothing ordered). Red: a trusted share below its floor "
                  "or one foreign country above the single-country cap. Amber: orders from covered nations.")
    placed = sheet.table("Sourcing", SOURCING, records(sourcing, SOURCING), top=3)
    ws = sheet.ws

    def at(key: str) -> str:
        return f"${placed.letter(key)}{placed.first_row}"

    highlight(ws, placed.cells("trusted_share"),
              f"AND(ISNUMBER({at('trusted_share')}),{at('trusted_share')}<{at('trusted_floor')}-{SHARE_TOLERANCE})")
    highlight(ws, placed.cells("largest_share"),
              f"AND(ISNUMBER({at('largest_share')}),ISNUMBER({at('concentration_cap')}),"
              f"{at('largest_share')}>{at('concentration_cap')}+{SHARE_TOLERANCE})")
    highlight(ws, placed.cells("covered_share"), f"N({at('covered_share')})>{SHARE_TOLERANCE}", WARN_FILL, None)

    rows = []
    for code in s.materials:
        shares = sourcing[sourcing.material == code].set_index("fy")
        for key, label in SOURCING_MEASURES:
            rows.append([material_label(s, code), label] + [plain_value(shares.at[fy, key]) for fy in fys])
    view = _by_fy_view(sheet, "SourcingByFY", "Shares against policy limits, FY by FY", "Measure", rows, fys,
                       "share")
    column, measure = first_fy_letter(view), f"${view.letter('label')}{view.first_row}"
    cell, below = f"{column}{view.first_row}", f"{column}{view.first_row + 1}"
    below_floor = f'AND({measure}="Trusted share",ISNUMBER({cell}),{cell}<N({below})-{SHARE_TOLERANCE})'
    above_cap = (f'AND({measure}="Largest foreign share",ISNUMBER({cell}),ISNUMBER({below}),'
                 f"{cell}>{below}+{SHARE_TOLERANCE})")
    highlight(ws, fy_cells(view), f"OR({below_floor},{above_cap})")
    sheet.finish(freeze="B4")

    with_floor = [code for code in s.materials if (sourcing[sourcing.material == code].trusted_floor > 0).any()]
    charts = []
    for code in with_floor or list(s.materials):
        first = view.first_row + list(s.materials).index(code) * len(SOURCING_MEASURES)
        charts.append(line_chart(f"{material_label(s, code)}: trusted share against its floor",
                                 "share of tonnes", "0%"))
        plot_rows(charts[-1], view, [first, first + 1], "label", [SOLID_BLUE, DASHED_RED])
        charts[-1].y_axis.scaling.min, charts[-1].y_axis.scaling.max = 0, 1
    place_charts(sheet, charts)


# --- Marginal values ------------------------------------------------------------------------------

def _marginal_sheet(wb: Workbook, plan: Plan) -> None:
    appropriation, capacity = plan.tables["marginal_appropriation"], plan.tables["marginal_capacity"]
    sheet = Sheet(wb, "Marginal values", "Marginal values: what one more dollar or tonne would buy",
                  "Each figure is how much the plan's weighted shortfall (tonne-years short of goal, relative "
                  "to goal and weighted by material) would fall with one more unit of that limit. 0 means "
                  "that limit is not what holds readiness back; green marks where more would help most.")
    fys = [int(fy) for fy in appropriation.fy]
    money = sheet.table(APPROPRIATION_TABLE, [Column("item", "Limit")] + fy_columns(fys, "marginal"),
                        [[APPROPRIATION_ROW.label] + [plain_value(v) for v in appropriation[APPROPRIATION_ROW.key]]],
                        top=sheet.section("Appropriation: shortfall reduction per extra $1M in each FY"))

    cap_fys = sorted({int(fy) for fy in capacity.fy}) or fys
    rows, index = [], {}
    for row in capacity.itertuples(index=False):
        key = (row.material, row.option)
        if key not in index:  # first-appearance order, so read_workbook restores the plan's order
            index[key] = len(rows)
            rows.append([row.material, row.option] + [None] * len(cap_fys))
        rows[index[key]][2 + cap_fys.index(int(row.fy))] = plain_value(row.shortfall_reduction_per_tonne)
    tonnes = sheet.table(CAPACITY_TABLE, [Column("material", "Material"), Column("option", "Option")]
                         + fy_columns(cap_fys, "marginal"), rows,
                         top=sheet.section("Capacity: shortfall reduction per extra tonne of an option's "
                                           "capacity in each FY", "Blank: the option cannot be ordered in that FY."))
    for placed in (money, tonnes):
        sheet.ws.conditional_formatting.add(fy_cells(placed), ColorScaleRule(
            start_type="num", start_value=0, start_color="FFFFFF", end_type="max", end_color="63BE7B"))
    if plan.policy_costs is not None:
        _policy_cost_table(sheet, plan.policy_costs)
    sheet.finish(freeze="B4")


POLICY_COSTS = [
    Column("policy", "Policy"), Column("key", "Scenario key"), Column("status", "Re-solve"),
    Column("weighted_shortfall", "Weighted shortfall it adds", "marginal"),
    Column("shortfall_tonne_years", "Shortfall it adds (t-yr)", "tonnes"),
    Column("deficit", "Deficit it adds", "money"),
    Column("discounted_net_cost", "Discounted cost it adds", "money"),
    Column("purchase_cost", "Purchases it adds", "money"),
]


def _policy_cost_table(sheet: Sheet, costs: pd.DataFrame) -> None:
    """Each policy's cost: the plan with it minus the plan re-solved without it."""
    from stockpile.outputs.policy_cost_text import policy_cost_sentences

    top = sheet.section("What each policy costs", "The scenario re-solved without each policy in turn: what the "
                        "policy adds in shortfall and cost (negative: it saves). " + " ".join(
                            policy_cost_sentences(costs)))
    sheet.table("PolicyCosts", POLICY_COSTS, records(costs, POLICY_COSTS), top=top)


# --- Inputs ---------------------------------------------------------------------------------------

SERIES_KINDS = {
    "goal": "tonnes", "loss_rate": "share", "pipeline": "tonnes", "draw": "tonnes", "amp_limit": "tonnes",
    "capacity": "tonnes", "price": "price", "feedstock": "tonnes", "recovery_yield": "share", "cost": "price",
    "disposal price": "price", "disposal max_per_fy": "tonnes", "floor": "money", "appropriation": "money",
    "other_revenue": "money", "operating_cost": "money", "holding_cost ($/t-yr)": "price",
    "committed_payments": "money", "obligation_cap": "money", "multiplier": "number", "trusted_share": "share",
    "concentration_cap": "share", "fixed": "tonnes",
}


def _series_rows(s: Scenario) -> tuple[list[list[Any]], list[str]]:
    """Every per-FY value of the scenario, resolved FY by FY, as (item, parameter, FYs...) rows."""
    rows, kinds = [], []

    def add(item: str, parameter: str, series: Series | None) -> None:
        if series is None or (series.kind == "schedule" and not series.points):
            return  # an absent limit or an empty schedule says nothing
        rows.append([item, parameter] + [series.at(fy) for fy in s.fys])
        kinds.append(SERIES_KINDS.get(parameter, "number"))

    for code, m in s.materials.items():
        for key in ("goal", "loss_rate", "pipeline", "draw", "amp_limit"):
            add(material_label(s, code), key, getattr(m, key))
        if m.disposal.allowed:
            add(material_label(s, code), "disposal price", m.disposal.price)
            add(material_label(s, code), "disposal max_per_fy", m.disposal.max_per_fy)
    for option in s.supply:
        add(option.name, "capacity", option.capacity)
        add(option.name, "price", option.price)
    for stream in s.recycling:
        for key in ("feedstock", "recovery_yield", "cost"):
            add(stream.name, key, getattr(stream, key))
    for option in s.options:
        add(option.name, "fixed", option.fixed)
    for key in ("floor", "appropriation", "other_revenue", "operating_cost", "committed_payments", "obligation_cap"):
        add("Fund", key, getattr(s.fund, key))
    add("Fund", "holding_cost ($/t-yr)", s.fund.holding_cost)
    for code, share in s.policy.trusted_share.items():
        add(material_label(s, code), "trusted_share", share)
    add("All materials", "concentration_cap", s.policy.concentration_cap)
    add("All options", "multiplier", s.prices.multiplier)
    return rows, kinds


def _tiers_text(option) -> str:
    return "; ".join(f"{'up to ' + format(t.up_to, ',g') + ' t' if t.up_to is not None else 'beyond'}: "
                     f"x{t.factor:g}" for t in getattr(option, "tiers", ()))


def _inputs_sheet(wb: Workbook, plan: Plan) -> None:
    s = plan.scenario
    sheet = Sheet(wb, "Inputs", "Inputs: the scenario as solved",
                  "After extends and data defaults. Per-FY values are shown FY by FY as the model used them "
                  "(supply prices before escalation, events, price tiers and the price multiplier). Tags "
                  "include the country's tags and the option's kind; lead time is in FYs; escalation is a "
                  "year.")
    # Tables share the sheet's columns, so each puts names in A and its longest text in B.
    sheet.key_values("Scenario", [
        ("Name", s.name, "text"), ("Description", s.description, "text"),
        ("Scenario file", plan.scenario_file or "", "text"), ("Scenario SHA-256", s.sha256, "text"),
        ("First FY", s.horizon.first_fy, "fy"), ("Last FY", s.horizon.last_fy, "fy"),
        ("Fund opening balance ($M)", s.fund.opening_balance, "money"),
        ("Home country", s.policy.home_country, "text"), ("Trusted tags", ", ".join(s.policy.trusted_tags), "text"),
        ("Objective", s.objective.mode, "text"), ("Discount rate", s.objective.discount_rate, "share"),
        ("Solver", s.solver.name, "text"), ("Time limit (seconds)", s.solver.time_limit, "seconds")],
        top=sheet.section("Scenario"))

    sheet.table("Materials", [
        Column("code", "Code"), Column("name", "Name"), Column("unit", "Unit"), Column("weight", "Weight", "number"),
        Column("opening", "Opening inventory", "tonnes"), Column("disposal", "Disposal allowed")],
        [[code, m.name, m.unit, m.weight, m.opening_inventory, "yes" if m.disposal.allowed else "no"]
         for code, m in s.materials.items()], top=sheet.section("Materials"))

    rows, kinds = _series_rows(s)
    sheet.table("PerFYInputs", [Column("item", "Item"), Column("parameter", "Parameter")] + fy_columns(s.fys),
                rows, top=sheet.section("Values by FY"), row_kinds=kinds)

    sheet.table("SupplyOptions", [
        Column("name", "Option"), Column("tags", "Tags"), Column("material", "Material"),
        Column("kind", "Kind"), Column("country", "Country"), Column("lead_time", "Lead time", "integer"),
        Column("first_fy", "First FY", "fy"), Column("last_fy", "Last FY", "fy"),
        Column("escalation", "Escalation", "share"), Column("tiers", "Price tiers")],
        [[o.name, ", ".join(effective_tags(s, o)), o.material, option_kind(o), o.country, o.lead_time,
          o.first_fy, o.last_fy, getattr(o, "escalation", None), _tiers_text(o)] for o in s.options],
        top=sheet.section("Supply options and recycling streams"))

    sheet.table("Countries", [Column("country", "Country"), Column("tags", "Tags")],
                [[country, ", ".join(tags)] for country, tags in s.countries.items()],
                top=sheet.section("Countries"))
    sheet.table("Bans", [Column("material", "Material"), Column("reason", "Reason"), Column("tag", "Tag"),
                         Column("countries", "Countries"), Column("from_fy", "From FY", "fy")],
                [[b.material, b.reason, b.tag, ", ".join(b.countries), b.from_fy] for b in s.policy.bans],
                top=sheet.section("Policy bans"))
    sheet.table("Events", [
        Column("id", "Event"), Column("description", "Description"), Column("country", "Country"),
        Column("material", "Material"), Column("from_fy", "From FY", "fy"), Column("to_fy", "To FY", "fy"),
        Column("availability", "Availability", "share"), Column("price", "Price multiplier", "number")],
        [[key, e.description, e.country, e.material, e.from_fy, e.to_fy, e.availability, e.price]
         for key, e in s.events.items()], top=sheet.section("Events"))

    provenance = plan.provenance
    top = sheet.section("Data figures used", "Every figure drawn from the data files, with its source and "
                        "status. Amber: an inferred figure or an assumption.")
    if provenance is None or provenance.empty:
        put(sheet.ws, top, 1, "None: every figure in this scenario is written in the scenario file itself.")
    else:
        placed = sheet.table("DataFigures", PROVENANCE, records(provenance, PROVENANCE), top=top)
        status = f"${placed.letter('status')}{placed.first_row}"
        highlight(sheet.ws, f"{get_column_letter(placed.left)}{placed.first_row}:"
                            f"{get_column_letter(placed.right)}{placed.last_row}",
                  f'OR({status}="inferred",{status}="assumption")', WARN_FILL, None)
    sheet.finish(freeze="B3")


# --- Audit ----------------------------------------------------------------------------------------

def _audit_sheet(wb: Workbook, plan: Plan) -> None:
    report = plan.audit
    summary = report.summary if report is not None else "not run"
    sheet = Sheet(wb, "Audit", "Independent audit",
                  f"The plan recomputed from the scenario and these tables alone, never from the solver: {summary}.")
    frame = report.table() if report is not None else pd.DataFrame(columns=[c.key for c in AUDIT])
    placed = sheet.table("Audit", AUDIT, records(frame, AUDIT), top=3)
    result = f"${placed.letter('result')}{placed.first_row}"
    highlight(sheet.ws, f"{get_column_letter(placed.left)}{placed.first_row}:"
                        f"{get_column_letter(placed.right)}{placed.last_row}", f'LEFT({result},4)="FAIL"')
    highlight(sheet.ws, placed.cells("result"), f'{placed.letter("result")}{placed.first_row}="pass"',
              GOOD_FILL, GOOD_FONT)
    sheet.finish(freeze="B4", title_rows="3:3")


# ---------------------------------------------------------------------------------------------
# Reading a plan back

def read_workbook(path: Path) -> tuple[Scenario, dict[str, pd.DataFrame]]:
    """The scenario and plan tables saved in a workbook written by :func:`write_workbook`."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, None, "file not found")
    try:
        wb = load_workbook(path, data_only=True)  # not read_only: named tables are needed
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign file
        raise InputError(path, None, f"not a readable .xlsx workbook ({exc.__class__.__name__})") from None
    if SCENARIO_SHEET not in wb.sheetnames:
        raise InputError(path, SCENARIO_SHEET, "no embedded scenario: not a plan written by stockpile")
    text = "".join(row[0] or "" for row in wb[SCENARIO_SHEET].iter_rows(values_only=True))
    scenario = scenario_from_dict(json.loads(text), source=f"{path} (embedded scenario)")
    grids = {name: (ws, ref) for ws in wb.worksheets for name, ref in ws.tables.items()}

    def grid(name: str) -> tuple[list[str], list[list[Any]]]:
        if name not in grids:
            raise InputError(path, name, "table is missing: not a plan written by this version of stockpile")
        ws, ref = grids[name]
        cells = [list(row) for row in ws[ref]]
        header = [str(c.value) for c in cells[0]]
        body = [[c.value for c in row] for row in cells[1:]]
        return header, [row for row in body if any(v is not None for v in row)]

    tables = {}
    for key, (name, columns) in LONG_TABLES.items():
        header, body = grid(name)
        order = [header.index(c.label) for c in columns]
        tables[key] = _frame([[row[i] for i in order] for row in body], columns)

    header, body = grid(FUND_TABLE)
    fys = [_parse_fy_label(label) for label in header[1:]]
    by_label = {row[0]: row[1:] for row in body}
    fund_rows = [[fy] + [by_label[c.label][i] for c in FUND_ROWS] for i, fy in enumerate(fys)]
    tables["fund"] = _frame(fund_rows, [Column("fy", "FY", "fy")] + FUND_ROWS)

    header, body = grid(APPROPRIATION_TABLE)
    values = body[0][1:] if body else []
    tables["marginal_appropriation"] = _frame(
        [[_parse_fy_label(label), value] for label, value in zip(header[1:], values)],
        [Column("fy", "FY", "fy"), APPROPRIATION_ROW])

    header, body = grid(CAPACITY_TABLE)
    cap_fys = [_parse_fy_label(label) for label in header[2:]]
    melted = [[row[0], row[1], fy, value] for row in body for fy, value in zip(cap_fys, row[2:]) if value is not None]
    tables["marginal_capacity"] = _frame(melted, [Column("material", "Material"), Column("option", "Option"),
                                                  Column("fy", "FY", "fy"), CAPACITY_VALUE])
    return scenario, tables


def _parse_fy_label(label: str) -> int:
    return int(str(label).removeprefix("FY"))


def _frame(rows: list[list[Any]], columns: Sequence[Column]) -> pd.DataFrame:
    """Rows read from Excel as the plan's DataFrame: Excel stores 600.0 as 600, so numbers are
    cast back to the kind of their column; pandas then infers the same dtypes the plan has."""
    cast: dict[str, Callable[[Any], Any]] = {kind: float for kind in FLOAT_KINDS}
    cast.update(fy=int, integer=int, years=int)
    typed = [[None if v is None else cast.get(c.kind, lambda x: x)(v) for v, c in zip(row, columns)]
             for row in rows]
    return pd.DataFrame(typed, columns=[c.key for c in columns])
