"""The sweep's table: one row of headline figures per point, its CSV file and reading it back.

Rows are appended to the results CSV a whole chunk at a time (:class:`ResultsWriter`), so an
interrupted sweep keeps every finished chunk, and ``--resume`` reads them back
(:func:`read_results`) after checking they are points of the same sweep.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import zlib
from pathlib import Path
from typing import Any

import pandas as pd

from stockpile.analysis.sweep.points import Point
from stockpile.errors import InputError
from stockpile.scenario.schema import Scenario

KPI_COLUMNS = ["status", "reason", "solvency_horizon", "solvent_through_fy", "first_shortfall_fy",
               "first_deficit_fy", "total_shortfall_tonne_years", "weighted_shortfall",
               "total_unmet_release_tonnes", "weighted_unmet_release", "total_deficit",
               "total_purchase_cost", "discounted_net_cost", "end_fund_balance"]


def point_row(plan) -> dict[str, Any]:
    """A plan's headline figures as one row of the sweep table."""
    k = plan.kpis
    row = {"status": "optimal", "reason": ""}
    row.update({name: k[name] for name in KPI_COLUMNS[2:]})
    inventory, orders = plan.tables["inventory"], plan.tables["orders"]
    by_name = {o.name: o for o in plan.scenario.options}
    from stockpile.scenario import rules

    for code in plan.scenario.materials:
        rows = inventory[inventory.material == code]
        row[f"shortfall_{code}"] = float(rows.shortfall.sum())
        row[f"unmet_release_{code}"] = float(rows.unmet_draw.sum())
    for code in plan.scenario.materials:
        mine = orders[orders.material == code]
        total = float(mine.tonnes.sum())
        trusted = float(sum(r.tonnes for r in mine.itertuples() if rules.is_trusted(plan.scenario, by_name[r.option])))
        row[f"trusted_share_{code}"] = trusted / total if total > 0 else None
    return row


CHECK_COLUMN = "row_check"
"""The results CSV's last column: a CRC-32 of the rest of its row, so ``--resume`` keeps only rows
written whole (a kill can cut the last one anywhere, even inside a quoted multi-line reason)."""

TEXT_COLUMNS = {"status", "reason", "solvency_horizon", "audit"}
"""Columns read back as text even when they look like numbers."""
INTEGER_COLUMNS = {"run", "solvent_through_fy", "first_shortfall_fy", "first_deficit_fy"}
"""Columns of whole numbers, written as digits even when pandas holds them as floats (beside a gap)."""


def table_columns(columns: list[str], base: Scenario) -> list[str]:
    """The sweep table's columns, in order: every KPI column whatever the first point gives."""
    materials = list(base.materials)
    return (["run", *columns, *KPI_COLUMNS] + [f"shortfall_{m}" for m in materials]
            + [f"unmet_release_{m}" for m in materials]
            + [f"trusted_share_{m}" for m in materials] + ["audit", "warm"])


def _cell(value: Any, column: str = "") -> str:
    """A value as CSV text that :func:`_value` reads back as the same value and type: floats by
    their shortest exact form (``repr`` always has a ``.``, ``e``, ``inf`` or ``nan``), ints as
    digits, booleans as True/False, missing as empty."""
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""  # missing (a failed point's KPIs), however pandas held it
    if column in INTEGER_COLUMNS and isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    return str(value)


_INTEGER = re.compile(r"[+-]?\d+")


def _value(column: str, text: str) -> Any:
    if column in TEXT_COLUMNS:
        return text if text or column == "reason" else None
    if text == "":
        return None
    if column in INTEGER_COLUMNS and _INTEGER.fullmatch(text):
        return int(text)
    if text in ("True", "False"):
        return text == "True"
    if _INTEGER.fullmatch(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def _line(fields: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(fields)
    return buffer.getvalue()


def _checked_line(row: dict[str, Any], header: list[str]) -> str:
    """One row as a CSV record ending in its check: written with one call and flushed alone."""
    fields = [_cell(row.get(c), c) for c in header]
    return _line(fields + [f"{zlib.crc32(_line(fields).encode('utf-8')):08x}"])


def canonical_row(row: dict[str, Any], header: list[str]) -> dict[str, Any]:
    """The row as it reads back from the CSV: every column, the same types (what makes a resumed
    table equal to an uninterrupted one byte for byte)."""
    return {c: _value(c, _cell(row.get(c), c)) for c in header}


def sweep_table(rows: list[dict], columns: list[str], base: Scenario) -> pd.DataFrame:
    ordered = table_columns(columns, base)
    table = pd.DataFrame([canonical_row(r, ordered) for r in rows], columns=ordered)
    return table.sort_values("run", kind="stable").reset_index(drop=True)


class ResultsWriter:
    """The results CSV: rewritten whole (atomically) with its header and the rows kept, then
    appended a row at a time, each record in one write, each chunk flushed to disk as a unit."""

    def __init__(self, path: Path, keep: list[dict], header: list[str]):
        self.path, self.header = path, header
        self._write_whole(sorted(keep, key=lambda r: int(r["run"])))

    def _write_whole(self, rows: list[dict]) -> None:
        from stockpile.outputs.files import atomic_write

        def write(tmp: Path) -> None:
            with tmp.open("w", newline="", encoding="utf-8") as handle:
                handle.write(_line(self.header + [CHECK_COLUMN]))
                handle.writelines(_checked_line(r, self.header) for r in rows)
        atomic_write(self.path, write, force=True)

    def append(self, rows: list[dict]) -> None:
        with self.path.open("a", newline="", encoding="utf-8") as handle:
            for row in rows:
                handle.write(_checked_line(row, self.header))
                handle.flush()
            os.fsync(handle.fileno())

    def finish(self, table: pd.DataFrame) -> None:
        """Rewrite the file sorted by run (the same bytes however the sweep was interrupted)."""
        self._write_whole(table.to_dict("records"))


def read_results(path: Path, points: list[Point], columns: list[str], header: list[str]) -> list[dict]:
    """Rows of an earlier run of the same sweep (checked point by point), for --resume.

    Rows whose check fails (the one a kill cut, or an edited one) are dropped, so their points are
    solved again; an empty file (interrupted before its header) resumes from nothing."""
    try:
        text = _read_capped(path)
    except OSError as exc:
        raise InputError(path, None, f"cannot read the earlier results: {exc.strerror}") from None
    expected = _line(header + [CHECK_COLUMN])
    if not text.startswith(expected):
        if expected.startswith(text):  # empty, or the header itself cut short
            return []
        raise InputError(path, "line 1", "not the results of this sweep (its columns differ; "
                                         "run without --resume to start over)")
    rows = []
    for record in _records(text[len(expected):]):
        if len(record) != len(header) + 1 or record[-1] != f"{zlib.crc32(_line(record[:-1]).encode('utf-8')):08x}":
            continue  # not written whole: solved again
        row = {c: _value(c, v) for c, v in zip(header, record)}
        run = row["run"]
        if not isinstance(run, int) or not 1 <= run <= len(points):
            raise InputError(path, f"run {run}", "not a run of this sweep")
        for setting in points[run - 1]:
            value = row[setting.column]
            if not isinstance(value, (int, float)) or not math.isclose(float(value), setting.value,
                                                                      rel_tol=1e-12, abs_tol=0.0):
                raise InputError(path, f"run {run}", f"{setting.column} is {value} here but "
                                                     f"{setting.value:g} in this sweep: not the same sweep")
        rows.append(row)
    return rows


MAX_RESULTS_BYTES = 1 << 30
"""A results file larger than this is not one stockpile wrote (a million points are ~300 MB)."""


def _read_capped(path: Path) -> str:
    from stockpile.scenario.limits import read_regular_file

    data = read_regular_file(path, MAX_RESULTS_BYTES, "results files")
    return data.decode("utf-8", errors="replace")  # a cut inside a character fails that row's check


def _records(text: str):
    """CSV records of ``text``, stopping quietly at one the csv module cannot parse (a torn end)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error:
            return
