"""Charts drawn from FY-across tables: line and stacked bar charts with readable titles, series
styles, and :func:`place_charts`, which sizes and places them below a sheet's tables so that
none is cut in two in print."""

from __future__ import annotations

import math
from collections.abc import Sequence

from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart._chart import ChartBase
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RegularTextRun
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from stockpile.outputs.excel.sheet import (
    LINE_HEIGHT_POINTS, PIXELS_PER_CHARACTER, SIDE_MARGIN_INCHES, TOP_MARGIN_INCHES, Placed, Sheet,
    first_fy_column,
)
from stockpile.outputs.excel.cells import safe_text
from stockpile.outputs.excel.styles import NUMBER_FORMATS

MIN_CHART_WIDTH_CM, MAX_CHART_WIDTH_CM, MAX_CHARTS_ACROSS = 14.0, 24.0, 2
CHART_ASPECT = 0.55  # height / width: room for a legend of many countries
CHART_GAP_PIXELS = 20
PIXELS_PER_CM = 37.8
# A landscape US letter page inside the margins set in Sheet.finish (96 pixels or 72 points an inch).
PRINTABLE_WIDTH_PIXELS = (11 - 2 * SIDE_MARGIN_INCHES) * 96
PRINTABLE_HEIGHT_POINTS = (8.5 - 2 * TOP_MARGIN_INCHES) * 72 - 30  # less the footer


def chart_title(text: str, size: int = 1200) -> Title:
    """A chart title in 12 pt bold: the 18 pt default wraps a material's name over two lines."""
    font = CharacterProperties(sz=size, b=True)
    # Sanitised like a cell: a title is XML too, and one bad character makes the workbook unreadable.
    paragraph = Paragraph(pPr=ParagraphProperties(defRPr=font), r=[RegularTextRun(rPr=font, t=safe_text(text))])
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


def line_chart(title: str, y_title: str, y_format: str) -> LineChart:
    chart = LineChart()
    chart.title, chart.y_axis.title = chart_title(title), y_title
    chart.y_axis.number_format = y_format
    chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl 3.1 hides axes otherwise
    chart.legend.position = "b"
    chart.display_blanks = "gap"
    return chart


def stacked_bar_chart(title: str, y_title: str) -> BarChart:
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
    chart.title, chart.y_axis.title = chart_title(title), y_title
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
    first_fy = first_fy_column(view)
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
