"""Number formats, fonts, fills and the column spec every table is written from.

A :class:`Column`'s kind is a key of :data:`NUMBER_FORMATS`: cells hold exact values (dollars,
tonnes, fractions) and the kind's number format only changes how they look.
"""

from __future__ import annotations

from dataclasses import dataclass

from openpyxl.styles import Border, Font, PatternFill, Side

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
    # A change whose colour says better or worse (compare): signed, never red by sign alone.
    "money_delta": '+"$"#,##0.0,,"M";-"$"#,##0.0,,"M";"$"0.0"M"',
}
NUMERIC_KINDS = frozenset(NUMBER_FORMATS) - {"text"}
FLOAT_KINDS = NUMERIC_KINDS - {"fy", "integer", "years"}

FONT_NAME = "Calibri"
BODY_POINTS = 11
"""The size of the smallest text on a sheet (table cells, notes): the print scale keeps it at 8 pt."""
TITLE_FONT = Font(name=FONT_NAME, size=16, bold=True, color="1F3864")
SECTION_FONT = Font(name=FONT_NAME, size=12, bold=True, color="1F3864")
NOTE_FONT = Font(name=FONT_NAME, size=BODY_POINTS, color="595959")  # upright: italic prints smaller
HEADER_FONT = Font(name=FONT_NAME, bold=True, color="FFFFFF")
BOLD_FONT = Font(name=FONT_NAME, bold=True)
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
GRID = Side(style="thin", color="BFBFBF")
CELL_BORDER = Border(left=GRID, right=GRID, top=GRID, bottom=GRID)
BAD_FILL = PatternFill("solid", fgColor="F8CBAD", bgColor="F8CBAD")
BAD_FONT = Font(color="9C0006", bold=True)
WARN_FILL = PatternFill("solid", fgColor="FFE699", bgColor="FFE699")
GOOD_FILL = PatternFill("solid", fgColor="C6EFCE", bgColor="C6EFCE")
GOOD_FONT = Font(color="006100")
STRONG_GOOD_FILL = PatternFill("solid", fgColor="63BE7B", bgColor="63BE7B")
BANNER_BAD_FILL = PatternFill("solid", fgColor="C00000", bgColor="C00000")  # the Summary's "not solvent" banner
BANNER_GOOD_FILL = PatternFill("solid", fgColor="375623", bgColor="375623")
BANNER_FONT = Font(name=FONT_NAME, size=13, bold=True, color="FFFFFF")


@dataclass(frozen=True)
class Column:
    """A table column: the plan's name for it, the header a planner reads, and its kind of value
    (a key of NUMBER_FORMATS)."""

    key: str
    label: str
    kind: str = "text"
    align: str | None = None  # None: Excel's default (text left, numbers right)
