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
    LINE_HEIGHT_POINTS, PIXELS_PER_CHARACTER, PRINTABLE_WIDTH_PIXELS, Placed, Sheet, first_fy_column,
)
from stockpile.outputs.excel.cells import safe_text
from stockpile.outputs.excel.styles import NUMBER_FORMATS

MIN_CHART_WIDTH_CM, MAX_CHART_WIDTH_CM, MAX_CHARTS_ACROSS = 14.0, 24.0, 2
CHART_ASPECT = 0.55  # height / width: room for a legend of many countries
CHART_GAP_PIXELS = 20
PIXELS_PER_CM = 37.8
CHART_TEXT_SIZE = 1100  # hundredths of a point: axis labels, axis titles and legends at 11 pt, so
# a chart on a sheet printed at its smallest scale (Sheet.finish) still reads at 8 pt


def chart_title(text: str, size: int = 1200) -> Title:
    """A chart title in 12 pt bold: the 18 pt default wraps a material's name over two lines."""
    font = CharacterProperties(sz=size, b=True)
    # Sanitised like a cell: a title is XML too, and one bad character makes the workbook unreadable.
    paragraph = Paragraph(pPr=ParagraphProperties(defRPr=font), r=[RegularTextRun(rPr=font, t=safe_text(text))])
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


def text_properties(size: int = CHART_TEXT_SIZE) -> RichText:
    """Text properties giving a chart element's text ``size`` (hundredths of a point)."""
    font = CharacterProperties(sz=size)
    return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=font), endParaRPr=font, r=[])])  # no empty run


def readable(chart: ChartBase, x_title: str | None = None, y_title: str | None = None) -> ChartBase:
    """Axis labels, axis titles and the legend at CHART_TEXT_SIZE (clients default to 10 pt)."""
    for axis, title in ((chart.x_axis, x_title), (chart.y_axis, y_title)):
        axis.delete = False  # openpyxl 3.1 hides axes otherwise
        axis.txPr = text_properties()
        if title:
            axis.title = chart_title(title, CHART_TEXT_SIZE)
    if chart.legend is not None:
        chart.legend.txPr = text_properties()
    return chart


def line_chart(title: str, y_title: str, y_format: str, x_title: str | None = None) -> LineChart:
    chart = LineChart()
    chart.title = chart_title(title)
    readable(chart, x_title, y_title)
    chart.y_axis.number_format = y_format
    chart.legend.position = "b"
    chart.display_blanks = "gap"
    return chart


def stacked_bar_chart(title: str, y_title: str) -> BarChart:
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
    chart.title = chart_title(title)
    readable(chart, None, y_title)
    chart.y_axis.number_format = NUMBER_FORMATS["tonnes"]
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
    """Put charts below the sheet's tables (after :meth:`Sheet.finish`, which set the print
    scale), as many across as fit, sized to span the tables' width (so the page is no wider than
    the tables and the charts are as large as the page allows), with page breaks so no chart is
    cut in two in print and none starts a page of its own needlessly."""
    if not charts:
        return
    per_row = max(1, min(MAX_CHARTS_ACROSS, len(charts),
                         int(min(sheet.width_pixels, PRINTABLE_WIDTH_PIXELS / sheet.scale)
                             // (MIN_CHART_WIDTH_CM * PIXELS_PER_CM))))
    starts, span = _column_spans(sheet, per_row)
    width_cm = min(MAX_CHART_WIDTH_CM, max(MIN_CHART_WIDTH_CM, (span - CHART_GAP_PIXELS) / PIXELS_PER_CM))
    height_cm = width_cm * CHART_ASPECT
    rows_per_chart = math.ceil(height_cm / 2.54 * 72 / LINE_HEIGHT_POINTS) + 1  # and a gap below
    block = rows_per_chart * LINE_HEIGHT_POINTS  # height of one row of charts at 100%
    chart_height = block - LINE_HEIGHT_POINTS
    top = sheet.next_row
    used = sheet.last_page_points + sheet.height_points(top - 1) - sheet.height_points(sheet.max_row)
    for i, chart in enumerate(charts):
        chart.width, chart.height = width_cm, height_cm
        grid_row, grid_col = divmod(i, per_row)
        row = top + grid_row * rows_per_chart
        if grid_col == 0:
            if used + chart_height > sheet.page_points and used > 0:
                # A break after the blank row above the chart: LibreOffice draws a chart a little
                # above its anchor row, so a break right above that row would cut its top off.
                sheet.ws.row_breaks.append(Break(id=row - 2))
                used = 0.0
            used += block
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
