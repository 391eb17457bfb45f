"""The sweep's table: one row of headline figures per point, its CSV file and reading it back.

Rows are appended to the results CSV a whole chunk at a time (:class:`ResultsWriter`), so an
interrupted sweep keeps every finished chunk, and ``--resume`` reads them back
(:func:`read_results`) after checking they are points of the same sweep.
"""

from __future__ import annotations

import csv
import math
import os
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


def sweep_table(rows: list[dict], columns: list[str], base: Scenario) -> pd.DataFrame:
    materials = list(base.materials)
    ordered = (["run", *columns, *KPI_COLUMNS] + [f"shortfall_{m}" for m in materials]
               + [f"unmet_release_{m}" for m in materials] + [f"trusted_share_{m}" for m in materials] + ["warm"])
    table = pd.DataFrame(rows)
    for column in ordered:
        if column not in table:
            table[column] = None
    table["reason"] = table["reason"].fillna("")  # a CSV read back gives NaN for an empty reason
    return table[ordered].sort_values("run", kind="stable").reset_index(drop=True)


class ResultsWriter:
    """The results CSV: rewritten whole (atomically) with what is kept, then appended chunk by chunk."""

    def __init__(self, path: Path, keep: list[dict]):
        self.path = path
        self.header: list[str] | None = list(keep[0]) if keep else None
        from stockpile.outputs.files import atomic_write

        def write(tmp: Path) -> None:
            with tmp.open("w", newline="", encoding="utf-8") as handle:
                if keep:
                    w = csv.DictWriter(handle, fieldnames=self.header)
                    w.writeheader()
                    w.writerows(keep)
        atomic_write(path, write, force=True)

    def append(self, rows: list[dict]) -> None:
        with self.path.open("a", newline="", encoding="utf-8") as handle:
            if self.header is None:
                self.header = list(rows[0])
                csv.DictWriter(handle, fieldnames=self.header).writeheader()
            csv.DictWriter(handle, fieldnames=self.header, extrasaction="ignore").writerows(rows)
            handle.flush()
            os.fsync(handle.fileno())

    def finish(self, table: pd.DataFrame) -> None:
        """Rewrite the file sorted by run, with every column (a row may have failed)."""
        from stockpile.outputs.files import atomic_write

        atomic_write(self.path, lambda tmp: table.to_csv(tmp, index=False), force=True)


def read_results(path: Path, points: list[Point], columns: list[str]) -> list[dict]:
    """Rows of an earlier run of the same sweep (checked point by point), for --resume."""
    try:
        table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(path, None, f"cannot read the earlier results ({exc.__class__.__name__})") from None
    if table.empty:
        return []
    missing = [c for c in ["run", *columns, "status"] if c not in table]
    if missing:
        raise InputError(path, None, f"not the results of this sweep (no column {missing[0]!r})")
    rows = []
    for record in table.to_dict("records"):
        run = int(record["run"])
        if not 1 <= run <= len(points):
            raise InputError(path, f"run {run}", "not a run of this sweep")
        for setting in points[run - 1]:
            if not math.isclose(float(record[setting.column]), setting.value, rel_tol=1e-12, abs_tol=0.0):
                raise InputError(path, f"run {run}", f"{setting.column} is {record[setting.column]} here but "
                                                     f"{setting.value:g} in this sweep: not the same sweep")
        rows.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()})
    return rows
