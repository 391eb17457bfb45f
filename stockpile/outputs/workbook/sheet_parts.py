"""What several plan sheets share: a material's label, a sheet headed by one of the plan's long
tables, and the FY-across views on the sheet after it (Material, a label column, then one column
per FY) that the charts draw from. The views have a sheet of their own so that the long table's
header, which prints on every page of its sheet, never heads a page of something else."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from openpyxl import Workbook

from stockpile.outputs.excel.cells import plain_value
from stockpile.outputs.excel.sheet import Placed, Sheet, first_fy_letter, fy_columns, records
from stockpile.outputs.excel.styles import Column
from stockpile.scenario.schema import Scenario


def material_label(s: Scenario, code: str) -> str:
    return f"{s.materials[code].name} ({code})" if code in s.materials else code


def long_table_sheet(wb: Workbook, title: str, heading: str, note: str, name: str, columns: Sequence[Column],
                     frame: pd.DataFrame) -> tuple[Sheet, Placed]:
    """A sheet whose one table, below its heading and note, is ``frame`` (one of the plan's long
    tables: orders, inventory, sourcing, audit checks) as the table ``name``, its header repeated
    on every printed page."""
    sheet = Sheet(wb, title, heading, note)
    placed = sheet.table(name, columns, records(frame, columns))
    return sheet, placed


VIEW_KEY_COLUMNS = 2
"""A view's label columns (Material and the row's label), repeated on each page across in print."""


def by_fy_view(sheet: Sheet, name: str, title: str, label: str, rows: list[list[Any]], fys: Sequence[int],
               kind: str = "number", row_kinds: Sequence[str] | None = None) -> Placed:
    """An FY-across view: Material, a label column, then one column per FY."""
    columns = [Column("material", "Material"), Column("label", label)] + fy_columns(fys, kind)
    return sheet.table(name, columns, rows, top=sheet.section(title), row_kinds=row_kinds)


def measures_view(sheet: Sheet, name: str, title: str, s: Scenario, table: pd.DataFrame,
                  measures: Sequence[Column]) -> Placed:
    """A per-material, per-FY long table (Inventory, Sourcing) read FY across: for each material,
    one row per measure (a column of ``table``), labelled and formatted as the measure's Column."""
    fys = list(s.fys)
    rows, kinds = [], []
    for code in s.materials:
        by_fy = table[table.material == code].set_index("fy").reindex(fys)
        for measure in measures:
            values = [plain_value(v) for v in by_fy[measure.key].to_numpy()]
            rows.append([material_label(s, code), measure.label] + values)
            kinds.append(measure.kind)
    return by_fy_view(sheet, name, title, "Measure", rows, fys, row_kinds=kinds)


def measure_row_cells(view: Placed) -> tuple[str, str, str]:
    """What a highlight over a measures view's FY cells reads, for its top-left cell: the measure's
    label (column fixed, so each cell reads its own row's), the first FY column's letter and that
    column's first cell."""
    column = first_fy_letter(view)
    return f"${view.letter('label')}{view.first_row}", column, f"{column}{view.first_row}"
