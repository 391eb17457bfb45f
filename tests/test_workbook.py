"""The planner's workbook: sheets, tables, charts, formats, text safety, safe and repeatable writing,
reading back, and LibreOffice opening it."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.chart import BarChart, LineChart
from typer.testing import CliRunner

from stockpile.cli.app import app
from stockpile.outputs.files import atomic_write
from stockpile.plan.read import TABLES
from stockpile.outputs.excel.cells import safe_sheet_name, shown_width
from stockpile.outputs.excel.styles import NUMBER_FORMATS
from stockpile.outputs.workbook.fund_sheet import FUND_ROWS
from stockpile.outputs.workbook.inventory_sheet import INVENTORY
from stockpile.outputs.workbook.orders_sheet import ORDERS
from stockpile.outputs.excel.sheet import named_ranges
from stockpile.outputs.workbook.marginal_values_sheet import binding_capacity
from stockpile.outputs.workbook.read import read_workbook
from stockpile.outputs.workbook.sourcing_sheet import SOURCING
from stockpile.outputs.workbook.write import SCENARIO_SHEET, SHEET_ORDER, write_workbook

from conftest import EXAMPLE, make_scenario, rich_raw, solve

runner = CliRunner()
FORMULA_NAME = '=HYPERLINK("http://example.com","x")'
KIND_OF_FORMAT = {fmt: kind for kind, fmt in NUMBER_FORMATS.items()}


@pytest.fixture(scope="module")
def example_plan():
    from stockpile.scenario.load import load_scenario

    plan = solve(load_scenario(EXAMPLE))
    plan.scenario_file = str(EXAMPLE)
    return plan


@pytest.fixture(scope="module")
def example_book(example_plan, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("book") / "plan.xlsx"
    write_workbook(example_plan, path)
    return path


@pytest.fixture(scope="module")
def hostile_book(tmp_path_factory) -> Path:
    """A plan whose scenario strings all look like formulas."""
    raw = make_scenario(
        name=FORMULA_NAME, description="+1+2 looks like a sum",
        countries={"United States": ["domestic"], "@SUM(A1)": ["fta"]},
        materials={"X": {"name": "-2+3"}},
        supply=[{"name": "=1+1", "material": "X", "kind": "import", "country": "@SUM(A1)",
                 "capacity": 1000.0, "price": 50_000.0}])
    plan = solve(raw)
    path = tmp_path_factory.mktemp("hostile") / "hostile.xlsx"
    write_workbook(plan, path)
    return path


def as_shown(plan, name: str) -> pd.DataFrame:
    """The plan's table as the workbook holds it: the marginal-capacity sheet keeps the options
    whose capacity binds in some FY (every other row is zero by definition)."""
    table = plan.tables[name]
    if name != "marginal_capacity":
        return table
    shown = binding_capacity(table).reset_index(drop=True)
    return shown if not shown.empty else pd.DataFrame(columns=list(table.columns))


def _header(wb, name: str) -> tuple[dict[str, str], int]:
    """A table's {header label: column letter} and its first data row."""
    ws, ref = named_ranges(wb)[name]
    head = ws[ref][0]
    return {cell.value: cell.column_letter for cell in head}, head[0].row + 1


def _tables(path: Path) -> dict[str, tuple[str, str]]:
    """{table name: (sheet, ref)} of every table (defined name) in the workbook."""
    wb = load_workbook(path)
    return {name: (ws.title, ref) for name, (ws, ref) in named_ranges(wb).items()}


def _read_table_with_pandas(path: Path, name: str) -> pd.DataFrame:
    """A named table read by pandas alone, from the table's own cell range."""
    sheet, ref = _tables(path)[name]
    first, last = ref.split(":")
    first_col, first_row = re.match(r"([A-Z]+)(\d+)", first).groups()
    last_col, last_row = re.match(r"([A-Z]+)(\d+)", last).groups()
    return pd.read_excel(path, sheet_name=sheet, header=int(first_row) - 1, usecols=f"{first_col}:{last_col}",
                         nrows=int(last_row) - int(first_row), engine="openpyxl")


# ---------------------------------------------------------------------------------------------
# Round trip


def test_read_workbook_gives_back_the_plans_tables_and_scenario(example_plan, example_book) -> None:
    scenario, tables = read_workbook(example_book)
    assert scenario == example_plan.scenario and scenario.sha256 == example_plan.scenario.sha256
    assert set(tables) == set(TABLES)
    for name in TABLES:
        pd.testing.assert_frame_equal(tables[name], as_shown(example_plan, name), check_exact=True, obj=name)


def test_pandas_reads_the_long_tables_as_the_plan_has_them(example_plan, example_book) -> None:
    for name, columns in (("Orders", ORDERS), ("Inventory", INVENTORY), ("Sourcing", SOURCING)):
        frame = _read_table_with_pandas(example_book, name)
        assert list(frame.columns) == [c.label for c in columns]
        frame.columns = [c.key for c in columns]
        expected = example_plan.tables[name.lower()]
        pd.testing.assert_frame_equal(frame, expected, check_dtype=False, check_exact=True, obj=name)

    # The Fund is laid out FY across: transposed back, it is the plan's Fund table.
    fund = _read_table_with_pandas(example_book, "Fund").set_index("Item ($M)").T
    assert list(fund.index) == [f"FY{fy}" for fy in example_plan.tables["fund"].fy]
    for column in FUND_ROWS:
        assert fund[column.label].tolist() == example_plan.tables["fund"][column.key].tolist(), column.key


def test_a_plan_with_no_orders_round_trips(tmp_path: Path) -> None:
    plan = solve(make_scenario(materials={"X": {"goal": 0.0}}))
    assert plan.tables["orders"].empty
    path = tmp_path / "empty.xlsx"
    write_workbook(plan, path)
    _, tables = read_workbook(path)
    for name in TABLES:
        pd.testing.assert_frame_equal(tables[name], as_shown(plan, name), check_exact=True, obj=name)


def test_a_rich_plan_round_trips_and_verifies(tmp_path: Path) -> None:
    plan = solve(rich_raw())
    path = tmp_path / "rich.xlsx"
    write_workbook(plan, path)
    _, tables = read_workbook(path)
    for name in TABLES:
        pd.testing.assert_frame_equal(tables[name], as_shown(plan, name), check_exact=True, obj=name)
    result = runner.invoke(app, ["verify", str(path)])
    assert result.exit_code == 0 and "audit passed" in result.output, result.output


# ---------------------------------------------------------------------------------------------
# Sheets, tables, charts, formats


def test_sheets_come_in_order_and_the_scenario_sheet_is_hidden(example_book) -> None:
    wb = load_workbook(example_book)
    assert wb.sheetnames == [*SHEET_ORDER, SCENARIO_SHEET]
    assert wb[SCENARIO_SHEET].sheet_state == "hidden"
    assert all(wb[name].sheet_state == "visible" for name in SHEET_ORDER)
    assert wb.active.title == "Summary"


def test_every_named_table_is_where_it_belongs(example_book) -> None:
    where = {name: sheet for name, (sheet, _) in _tables(example_book).items()}
    assert where == {
        "Headline": "Summary", "ByMaterial": "Summary", "Readiness": "Summary", "About": "Summary", "HowToRead": "Summary",
        "Orders": "Orders", "OrdersByCountry": "Orders by FY", "OrdersByRefiner": "Orders by FY",
        "CostByMaterial": "Orders by FY",
        "Inventory": "Inventory", "InventoryByFY": "Inventory by FY", "Fund": "Fund",
        "Sourcing": "Sourcing", "SourcingByFY": "Sourcing by FY", "KeptOutByBans": "Bans",
        "MarginalAppropriation": "Marginal values", "MarginalCapacity": "Marginal values",
        "Scenario": "Inputs", "Materials": "Inputs", "PerFYInputs": "Inputs by FY", "SupplyOptions": "Supply options",
        "Countries": "Inputs", "Bans": "Inputs", "Events": "Inputs", "Audit": "Audit",
    }


def test_charts_are_native_and_cover_each_material(example_plan, example_book) -> None:
    wb = load_workbook(example_book)
    materials = example_plan.scenario.materials
    charts = {ws.title: ws._charts for ws in wb.worksheets}

    def titles(sheet: str) -> list[str]:
        return ["".join(run.t for p in c.title.tx.rich.p for run in p.r) for c in charts[sheet]]

    ordered = set(example_plan.tables["orders"].material)
    assert [type(c) for c in charts["Orders by FY"]] == [BarChart] * len(ordered)
    assert all(c.grouping == "stacked" for c in charts["Orders by FY"])
    inventory = charts["Inventory by FY"]
    assert len(inventory) == len(materials) and all(isinstance(c, LineChart) for c in inventory)
    assert all(any(f"({code})" in t for t in titles("Inventory by FY")) for code in materials)
    assert [type(c) for c in charts["Fund"]] == [LineChart] and "floor" in titles("Fund")[0]
    floors = set(example_plan.scenario.policy.trusted_share)  # Co and Li have trusted-share floors
    assert sorted(t.split("(")[1][:2] for t in titles("Sourcing by FY")) == sorted(floors)
    # each inventory chart draws two series: closing stock and goal
    assert all(len(c.series) == 2 for c in inventory + charts["Sourcing by FY"] + charts["Fund"])
    assert not any(charts[s] for s in ("Summary", "Orders", "Inventory", "Sourcing", "Marginal values", "Inputs",
                                       "Audit"))


def test_number_formats_frozen_panes_and_page_setup(example_book) -> None:
    wb = load_workbook(example_book)
    orders = wb["Orders"]
    header, first = _header(wb, "Orders")
    assert orders[f"{header['Cost ($M)']}{first}"].number_format == NUMBER_FORMATS["money"]
    assert ",," in NUMBER_FORMATS["money"]  # dollars shown as $M, value kept exact
    assert orders[f"{header['Tonnes']}{first}"].number_format == "#,##0"
    inventory = wb["Inventory"]
    header, first = _header(wb, "Inventory")
    assert inventory[f"{header['Coverage']}{first}"].number_format == "0.0%"
    assert inventory[f"{header['FY']}{first}"].number_format == '"FY"0'
    for name in SHEET_ORDER:
        ws = wb[name]
        if any(where is ws for where, _ in named_ranges(wb).values()):  # a sheet with a table
            assert ws.freeze_panes is not None and ws.freeze_panes[0] != "A", name  # first column frozen
        assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == ws.PAPERSIZE_LETTER, name
        # fitted to the width only when that keeps 11 pt text at 8 pt or more; else a fixed 8 pt scale
        assert (ws.page_setup.scale or 100) >= 73, name
        if ws.sheet_properties.pageSetUpPr.fitToPage:
            assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0, name
    for name in ("Orders", "Inventory", "Sourcing", "Audit"):  # a long table's header repeats on every page
        assert wb[name].print_title_rows == f"${_header(wb, name)[1] - 1}:${_header(wb, name)[1] - 1}", name


def test_every_column_is_wide_enough_for_what_it_shows(example_book) -> None:
    """No table cell needs its column widened: numbers fit (no ###), text fits or wraps."""
    wb = load_workbook(example_book)
    for name, (sheet, ref) in _tables(example_book).items():
        ws = wb[sheet]
        for row in ws[ref][1:]:
            for cell in row:
                if cell.value is None or cell.alignment.wrap_text:
                    continue
                kind = KIND_OF_FORMAT.get(cell.number_format, "text")
                width = ws.column_dimensions[cell.column_letter].width
                assert width >= shown_width(cell.value, kind), (name, cell.coordinate, cell.value, width)


def test_conditional_formatting_marks_shortfalls_deficits_and_limits(example_book) -> None:
    wb = load_workbook(example_book)

    def rules(sheet: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for rng in wb[sheet].conditional_formatting:
            for rule in rng.rules:
                found.setdefault(str(rng.sqref), []).extend(rule.formula or [])
        return found

    inventory = rules("Inventory")
    header, first = _header(wb, "Inventory")
    shortfall = header["Shortfall (t)"]
    assert any(ref.startswith(shortfall) and f"{shortfall}{first}>=" in f[0] for ref, f in inventory.items())
    assert any('"Shortfall (t)"' in f[0] for f in rules("Inventory by FY").values())  # the FY-across view too
    fund = rules("Fund")
    assert any(f and ">1.0" in f[0] for f in fund.values())  # deficit above noise
    sourcing = " ".join(f for formulas in rules("Sourcing").values() for f in formulas)
    assert "trusted" not in sourcing  # formulas refer to cells, and both limits are checked:
    header, first = _header(wb, "Sourcing")
    assert f"${header['Largest foreign share']}{first}>${header['Single-country cap']}{first}" in sourcing
    assert f"${header['Trusted share']}{first}<${header['Trusted floor']}{first}" in sourcing


def test_the_example_workbook_marks_the_shortfalls_it_has(example_book) -> None:
    """The cells the shortfall rule colours (``>= 0.5``, evaluated here) are the example's
    shortfalls, and no cell of solver noise."""
    wb = load_workbook(example_book)
    ws = wb["Inventory"]
    header, first = _header(wb, "Inventory")
    rule = next(r for rng in ws.conditional_formatting for r in rng.rules
                if str(rng.sqref).startswith(header["Shortfall (t)"]))
    threshold = float(rule.formula[0].split(">=")[1])
    marked = [(ws[f"A{row}"].value, ws[f"{header['FY']}{row}"].value) for row in range(first, ws.max_row + 1)
              if isinstance(ws[f"{header['Shortfall (t)']}{row}"].value, (int, float))
              and ws[f"{header['Shortfall (t)']}{row}"].value >= threshold]
    assert marked == [("Sb", 2027), ("Co", 2027), ("Co", 2028), ("Li", 2027), ("Li", 2028),
                      ("W", 2027), ("W", 2028), ("W", 2029), ("W", 2030)]


def test_summary_states_the_horizon_kpis_scenario_and_audit(example_plan, example_book) -> None:
    wb = load_workbook(example_book)
    values = [cell.value for row in wb["Summary"].iter_rows() for cell in row if cell.value is not None]
    assert values[0] == example_plan.scenario.name
    assert f"Solvency horizon: {example_plan.headline}" in " ".join(str(v) for v in values)  # wrapped in lines
    for expected in (example_plan.scenario.description, example_plan.scenario.sha256, example_plan.solver_version,
                     example_plan.audit.summary, example_plan.kpis["total_purchase_cost"],
                     example_plan.kpis["end_fund_balance"], example_plan.solve_seconds, str(EXAMPLE)):
        assert expected in values, expected
    assert "How to read this workbook" in values


def test_audit_sheet_lists_every_check(example_plan, example_book) -> None:
    frame = _read_table_with_pandas(example_book, "Audit")
    assert frame["Check"].tolist() == example_plan.audit.table()["check"].tolist()
    assert set(frame["Result"]) == {"pass"}


def test_inputs_show_the_resolved_scenario_and_data_figures(example_plan, tmp_path: Path) -> None:
    plan = example_plan
    plan.provenance = pd.DataFrame([
        dict(what="=cobalt price", value=33000.0, unit="$/t", source="USGS MCS 2025", status="official", note=""),
        dict(what="Sb recovery", value=0.6, unit="share", source="@analyst", status="assumption", note="+guess")])
    path = tmp_path / "with_data.xlsx"
    try:
        write_workbook(plan, path)
    finally:
        plan.provenance = None
    figures = _read_table_with_pandas(path, "DataFigures")
    assert figures["What"].tolist() == ["=cobalt price", "Sb recovery"]
    assert figures["Source"].tolist() == ["USGS MCS 2025", "@analyst"]
    per_fy = _read_table_with_pandas(path, "PerFYInputs")
    goal = per_fy[(per_fy.Item == "Antimony (Sb)") & (per_fy.Parameter == "goal")].iloc[0]
    assert [goal[f"FY{fy}"] for fy in range(2027, 2033)] == [1000, 1000, 1000, 1500, 1500, 1500]
    supply = _read_table_with_pandas(path, "SupplyOptions")
    assert len(supply) == len(plan.scenario.options)
    assert "x1.25" in supply.set_index("Option").at["Finland cobalt refinery", "Price tiers"]


# ---------------------------------------------------------------------------------------------
# Safe writing


def test_formula_like_strings_stay_text(hostile_book) -> None:
    wb = load_workbook(hostile_book)
    texts = {FORMULA_NAME, "+1+2 looks like a sum", "@SUM(A1)", "=1+1"}
    found = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value in texts:
                    assert cell.data_type == "s", (ws.title, cell.coordinate)
                    found.setdefault(cell.value, []).append(cell)
    assert set(found) == texts
    assert wb["Summary"]["A1"].value == FORMULA_NAME and wb["Summary"]["A1"].quotePrefix
    with zipfile.ZipFile(hostile_book) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        for name in sheets:
            assert "<f>" not in archive.read(name).decode(), name  # the workbook holds no formulas at all


def test_safe_sheet_name() -> None:
    assert safe_sheet_name("Summary") == "Summary"
    long = safe_sheet_name("A scenario name far longer than Excel allows")
    assert len(long) == 31 and long == "A scenario name far longer than"
    assert safe_sheet_name("a/b\\c?d*e[f]g:h") == "a_b_c_d_e_f_g_h"
    assert safe_sheet_name("'quoted'") == "quoted"
    assert safe_sheet_name("") == "Sheet"
    assert safe_sheet_name("history") == "history (2)"
    taken = ["Plan", "Plan (2)"]
    assert safe_sheet_name("plan", taken) == "plan (3)"
    assert safe_sheet_name("x" * 40, ["x" * 31]) == "x" * 27 + " (2)"


def test_solve_refuses_to_overwrite_a_plan_without_force(tmp_path: Path) -> None:
    path = tmp_path / "plan.xlsx"
    path.write_bytes(b"an existing plan")
    result = runner.invoke(app, ["solve", str(EXAMPLE), "-o", str(path)])
    assert result.exit_code == 2 and "--force" in result.output
    assert path.read_bytes() == b"an existing plan"
    result = runner.invoke(app, ["solve", str(EXAMPLE), "-o", str(path), "--force"])
    assert result.exit_code == 0, result.output
    assert read_workbook(path)[0].name == "Example: four materials, six years"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.xlsx"]  # no temporary file left


def test_an_interrupted_write_leaves_the_existing_plan_whole(example_plan, example_book, tmp_path: Path) -> None:
    path = tmp_path / "plan.xlsx"
    shutil.copy(example_book, path)
    before = path.read_bytes()

    def write_half_then_fail(tmp: Path) -> None:
        write_workbook(example_plan, tmp)
        tmp.write_bytes(tmp.read_bytes()[:1000])
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, write_half_then_fail, force=True)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.xlsx"]


def test_same_plan_gives_byte_identical_workbooks(example_plan, example_book, tmp_path: Path) -> None:
    again = tmp_path / "again.xlsx"
    write_workbook(example_plan, again)
    with zipfile.ZipFile(example_book) as first, zipfile.ZipFile(again) as second:
        assert first.namelist() == second.namelist()
        for name in first.namelist():
            assert first.read(name) == second.read(name), name
            assert first.getinfo(name).date_time == (2000, 1, 1, 0, 0, 0)
        core = first.read("docProps/core.xml").decode()
        assert "2000-01-01T00:00:00Z" in core
    assert example_book.read_bytes() == again.read_bytes()
    first_values = {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in load_workbook(example_book)}
    second_values = {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in load_workbook(again)}
    assert first_values == second_values


def test_verify_reads_a_workbook_written_by_solve(tmp_path: Path) -> None:
    path = tmp_path / "plan.xlsx"
    assert runner.invoke(app, ["solve", str(EXAMPLE), "-o", str(path)]).exit_code == 0
    result = runner.invoke(app, ["verify", str(path)])
    assert result.exit_code == 0 and "audit passed" in result.output, result.output


# ---------------------------------------------------------------------------------------------
# Streamed writing, and the whole marginal-capacity table as CSV

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"


@pytest.fixture(scope="module")
def baseline_plan():
    """The baseline's plan as ``stockpile solve -o`` writes it: policy costs measured."""
    from stockpile.analysis.policy_costs import policy_cost_table
    from stockpile.scenario.load import load_scenario

    scenario = load_scenario(BASELINE)
    plan = solve(scenario)
    plan.scenario_file = str(BASELINE)
    plan.policy_costs = policy_cost_table(scenario, plan)
    return plan


def _xml(part) -> bytes | None:
    from openpyxl.xml.functions import tostring

    return None if part is None else tostring(part.to_tree())


def workbook_differences(a: Path, b: Path) -> list[str]:
    """Everything a planner sees that differs between two workbooks: sheets, defined names, and per
    sheet its frozen panes, print titles, page setup, margins, footer, page breaks, merged cells,
    column widths, row heights, conditional formats, charts (kind, anchor, series) and every
    cell's value, type, number format, font, fill, border, alignment and quote prefix."""
    x, y = load_workbook(a), load_workbook(b)
    if x.sheetnames != y.sheetnames:
        return [f"sheets {x.sheetnames} != {y.sheetnames}"]
    found = []
    names = [sorted((n, d.attr_text) for n, d in wb.defined_names.items()) for wb in (x, y)]
    if names[0] != names[1]:
        found.append(f"defined names {names[0]} != {names[1]}")
    views = {
        "frozen panes": lambda ws: ws.freeze_panes, "state": lambda ws: ws.sheet_state,
        "print titles": lambda ws: (ws.print_title_rows, ws.print_title_cols),
        "page setup": lambda ws: (_xml(ws.page_setup), _xml(ws.sheet_properties.pageSetUpPr)),
        "margins": lambda ws: _xml(ws.page_margins), "footer": lambda ws: _xml(ws.HeaderFooter),
        "page breaks": lambda ws: [brk.id for brk in ws.row_breaks.brk],
        "merged cells": lambda ws: sorted(map(str, ws.merged_cells.ranges)),
        "column widths": lambda ws: {k: d.width for k, d in ws.column_dimensions.items() if d.width},
        "row heights": lambda ws: {k: d.height for k, d in ws.row_dimensions.items() if d.height},
        "conditional formats": lambda ws: [(str(f.sqref), [(r.type, r.formula, r.priority, _xml(r.dxf))
                                                          for r in f.rules]) for f in ws.conditional_formatting],
        "charts": lambda ws: [(type(c).__name__, c.anchor._from.row, c.anchor._from.col,
                               [_xml(series) for series in c.series]) for c in ws._charts],
    }
    for name in x.sheetnames:
        for view, of in views.items():
            if of(x[name]) != of(y[name]):
                found.append(f"{name}: {view} {of(x[name])} != {of(y[name])}")
        cells = [{(c.row, c.column): c for row in wb[name].iter_rows() for c in row if c.value is not None or c.has_style}
                 for wb in (x, y)]
        for at in sorted(cells[0].keys() | cells[1].keys()):
            one, other = (side.get(at) for side in cells)
            shown = [None if c is None else (c.value, c.data_type, c.number_format, _xml(c.font), _xml(c.fill),
                                             _xml(c.border), _xml(c.alignment), c.quotePrefix) for c in (one, other)]
            if shown[0] != shown[1]:
                found.append(f"{name}!{at}: {shown[0]} != {shown[1]}")
    return found


def test_a_streamed_workbook_holds_what_ordinary_worksheets_hold(baseline_plan, tmp_path: Path) -> None:
    """The workbook is streamed (a write-only openpyxl workbook, each style made once); the same
    sheets written through ordinary openpyxl worksheets, every cell styled by openpyxl's own
    setters as stockpile wrote workbooks before streaming, hold the same cells, looks and layout.
    (When streaming came in, its workbooks were also compared this way with the previous writer's
    for the baseline and the 10,770- and 49,820-variable benchmark plans: no difference.)"""
    streamed, ordinary = tmp_path / "streamed.xlsx", tmp_path / "ordinary.xlsx"
    write_workbook(baseline_plan, streamed)
    write_workbook(baseline_plan, ordinary, streamed=False)
    assert workbook_differences(streamed, ordinary) == []
    other = solve(rich_raw())  # and the comparison does see a different plan
    write_workbook(other, tmp_path / "other.xlsx")
    assert workbook_differences(streamed, tmp_path / "other.xlsx")


def test_the_marginal_csv_holds_every_option_and_the_sheet_those_that_bind(baseline_plan, tmp_path: Path) -> None:
    """``--marginal-csv`` writes the plan's whole marginal-capacity table; the sheet keeps the
    (material, option) pairs whose capacity binds in some FY and says how many it leaves out, each
    worth 0 in every FY (one more tonne of a limit that does not hold the plan back buys nothing)."""
    book, table = tmp_path / "plan.xlsx", tmp_path / "marginal.csv"
    result = runner.invoke(app, ["solve", str(BASELINE), "-o", str(book), "--marginal-csv", str(table)])
    assert result.exit_code == 0, result.output
    assert f"marginal capacity: {table}" in result.output
    written = pd.read_csv(table)
    full = baseline_plan.tables["marginal_capacity"].reset_index(drop=True)
    pd.testing.assert_frame_equal(written, full, check_exact=True, check_dtype=False)
    _, tables = read_workbook(book)
    shown = tables["marginal_capacity"]
    pd.testing.assert_frame_equal(shown, binding_capacity(written).reset_index(drop=True), check_exact=True,
                                  check_dtype=False)
    pairs = written[["material", "option"]].drop_duplicates()
    kept = shown[["material", "option"]].drop_duplicates()
    left_out = pairs.merge(kept, how="left", indicator=True).query("_merge == 'left_only'")[["material", "option"]]
    assert len(kept) > 0 and len(left_out) > 0  # the baseline has both
    zero = written.merge(left_out).shortfall_reduction_per_tonne
    assert (zero == 0).all() and len(zero) == len(written) - len(written.merge(kept))
    ws = load_workbook(book)["Marginal values"]
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if isinstance(c.value, str))
    assert f"{len(left_out)} other options and streams are left out" in text and "worth 0 in every FY" in text


def test_the_marginal_csv_is_refused_under_another_name_before_any_work(tmp_path: Path) -> None:
    book, table = tmp_path / "plan.xlsx", tmp_path / "marginal.txt"
    result = runner.invoke(app, ["solve", str(EXAMPLE), "-o", str(book), "--marginal-csv", str(table)])
    assert result.exit_code == 2
    assert "--marginal-csv writes .csv" in result.output and "marginal.csv" in result.output
    assert not book.exists() and not table.exists()


# ---------------------------------------------------------------------------------------------
# LibreOffice

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")


def convert(path: Path, target: str, out: Path) -> Path:
    """Convert with a headless LibreOffice and a private profile; the converted file's path."""
    out.mkdir(parents=True, exist_ok=True)
    profile = out / "profile"
    result = subprocess.run(
        [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", target,
         "--outdir", str(out), str(path)], capture_output=True, text=True, timeout=300)
    converted = out / f"{path.stem}.{target.split(':')[0]}"
    assert result.returncode == 0, result.stderr
    assert converted.exists() and converted.stat().st_size > 0, (result.stdout, result.stderr)
    assert "Error" not in result.stderr, result.stderr
    return converted


@needs_soffice
def test_libreoffice_renders_every_sheet_and_chart(example_plan, example_book, tmp_path: Path) -> None:
    pdf = convert(example_book, "pdf", tmp_path)
    content = pdf.read_bytes()
    assert content.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", content)) >= len(SHEET_ORDER)  # a page or more per sheet
    if shutil.which("pdftotext") is None:  # poppler-utils: without it, the PDF's text goes unchecked
        return
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    for heading in ("Headline figures", "Orders", "Inventory", "NDS Transaction Fund", "Sourcing",
                    "Marginal values", "Inputs: the scenario as solved", "Independent audit"):
        assert heading in text, heading
    for sheet in SHEET_ORDER:  # the footer names each printed sheet
        assert re.search(rf"^{re.escape(sheet)}\s+Page \d+ of \d+", text, re.MULTILINE), sheet
    for code, material in example_plan.scenario.materials.items():  # chart titles are drawn as text
        assert f"{material.name} ({code}): stock against goal" in text
        assert f"{material.name} ({code}): tonnes ordered by country" in text
    assert "Fund balance against its floor" in text and "trusted share against its floor" in text
    assert "###" not in text  # no number too wide for its column
    # number formats as a planner reads them: the Congo cobalt order ($7,800,000) in $M, FYs, shares
    assert "$7.8M" in text and "FY2028" in text and "31.3%" in text


@needs_soffice
def test_libreoffice_shows_a_formula_like_name_as_text(hostile_book, tmp_path: Path) -> None:
    summary = convert(hostile_book, "csv", tmp_path)  # CSV export writes the first sheet, Summary
    with summary.open(newline="", encoding="utf-8", errors="replace") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][0] == FORMULA_NAME
    assert not any(cell == "x" for row in rows for cell in row)  # the HYPERLINK was never evaluated
