"""``stockpile compare``: two plans side by side and what the change buys."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from stockpile.outputs.excel.sheet import named_ranges
from stockpile.cli.app import app
from stockpile.analysis.compare import _merge, compared_figures, load_side, write_comparison
from stockpile.outputs.workbook.write import write_workbook

from conftest import EXAMPLE, build, make_scenario, solve
from test_workbook import FORMULA_NAME, SOFFICE, convert, needs_soffice

runner = CliRunner()


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory) -> tuple[Path, Path]:
    """The example (A) and a variant (B) without the Canada tungsten project and with a tighter Fund."""
    folder = tmp_path_factory.mktemp("scenarios")
    base = folder / "example.toml"
    shutil.copy(EXAMPLE, base)
    variant = folder / "tighter.toml"
    variant.write_text('extends = "example.toml"\nname = "Tighter"\n'
                       "[fund]\nopening_balance = 40e6\nappropriation = 20e6\n"
                       '[[supply]]\nname = "Canada tungsten project"\nremove = true\n', encoding="utf-8")
    return base, variant


def _table(path: Path, sheet: str, name: str) -> pd.DataFrame:
    ws = load_workbook(path)[sheet]
    rows = [[cell.value for cell in row] for row in ws[named_ranges(ws.parent)[name][1]]]
    return pd.DataFrame(rows[1:], columns=rows[0])


def test_compare_two_scenarios_shows_what_the_change_costs(scenarios, tmp_path: Path) -> None:
    a, b = scenarios
    out = tmp_path / "diff.xlsx"
    result = runner.invoke(app, ["compare", str(a), str(b), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Total shortfall: 2,870.0 -> 3,298.0 t-yr (+428.0)" in result.output
    assert load_workbook(out).sheetnames == ["Headline", "Orders", "Orders by FY", "Inventory", "Fund"]

    plan_a, plan_b = load_side("A", a), load_side("B", b)
    headline = _table(out, "Headline", "Headline").set_index("Figure")
    row = headline.loc["Total shortfall (tonne-years)"]
    assert row["Plan A"] == plan_a.kpis["total_shortfall_tonne_years"]
    assert row["Plan B"] == plan_b.kpis["total_shortfall_tonne_years"]
    assert row["Change (B - A)"] == pytest.approx(428.0, abs=1e-3)
    assert headline.loc["Fund balance at end ($M)", "Change (B - A)"] == pytest.approx(
        plan_b.kpis["end_fund_balance"] - plan_a.kpis["end_fund_balance"])
    assert "Discounted net cost ($M)" in headline.index  # both solved here: objective figures compared

    # B is worse on shortfall and end balance (red), better on purchase cost (green).
    ws = load_workbook(out)["Headline"]
    fills = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=4).fill.fgColor.rgb
             for r in range(1, ws.max_row + 1)}
    assert fills["Total shortfall (tonne-years)"].endswith("F8CBAD")
    assert fills["Fund balance at end ($M)"].endswith("F8CBAD")
    assert fills["Total purchase cost ($M)"].endswith("C6EFCE")
    assert fills["Coverage at end: Tungsten (W)"].endswith("F8CBAD")
    assert fills["Coverage at end: Antimony (Sb)"] == "00000000"  # unchanged: no colour

    orders = _table(out, "Orders", "OrdersCompared")
    canada = orders[orders.Option == "Canada tungsten project"]
    assert canada["Tonnes B"].isna().all() and (canada["Tonnes change"] == -canada["Tonnes A"]).all()
    assert (orders["Tonnes change"].fillna(0) != 0).sum() >= len(canada)

    inventory = _table(out, "Inventory", "InventoryCompared")
    w2030 = inventory[(inventory.Material == "W") & (inventory.FY == 2030)].iloc[0]
    assert w2030["Shortfall (t) change"] == pytest.approx(w2030["Shortfall (t) B"] - w2030["Shortfall (t) A"])

    fund = _table(out, "Fund", "FundCompared")
    closing = fund[fund["Item ($M)"] == "Closing balance"].set_index("Plan")
    assert closing.loc["Plan A", "FY2032"] == plan_a.tables["fund"].closing.iloc[-1]
    assert closing.loc["Change", "FY2032"] == pytest.approx(
        closing.loc["Plan B", "FY2032"] - closing.loc["Plan A", "FY2032"])
    assert len(load_workbook(out)["Fund"]._charts) == 1


def test_a_saved_plan_compares_like_its_scenario(scenarios, tmp_path: Path) -> None:
    a, b = scenarios
    saved = tmp_path / "a.xlsx"
    assert runner.invoke(app, ["solve", str(a), "-o", str(saved)]).exit_code == 0
    from_file, from_scenario = load_side("A", saved), load_side("A", a)
    assert from_file.how == "saved plan"
    for key in ("weighted_shortfall", "discounted_net_cost"):  # recomputed from the saved tables
        assert from_file.kpis[key] == pytest.approx(from_scenario.kpis[key], rel=1e-9, abs=1e-6), key
    for key in ("solvency_horizon", "total_shortfall_tonne_years", "total_deficit", "end_fund_balance",
                "tonnes_ordered", "end_coverage"):
        assert from_file.kpis[key] == from_scenario.kpis[key], key

    out = tmp_path / "diff.xlsx"
    result = runner.invoke(app, ["compare", str(saved), str(b), "-o", str(out)])
    assert result.exit_code == 0, result.output
    figures = _table(out, "Headline", "Headline")["Figure"].tolist()
    assert {"Weighted relative shortfall (objective)", "Discounted net cost ($M)", "Total purchase cost ($M)"} <= set(figures)


def test_compare_refuses_to_overwrite_without_force(scenarios, tmp_path: Path) -> None:
    a, b = scenarios
    out = tmp_path / "diff.xlsx"
    out.write_bytes(b"earlier comparison")
    result = runner.invoke(app, ["compare", str(a), str(b), "-o", str(out)])
    assert result.exit_code == 2 and "--force" in result.output
    assert out.read_bytes() == b"earlier comparison"
    assert runner.invoke(app, ["compare", str(a), str(b), "-o", str(out), "--force"]).exit_code == 0
    assert zipfile.is_zipfile(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["diff.xlsx"]


def test_compare_reports_bad_inputs_without_a_traceback(scenarios, tmp_path: Path) -> None:
    a, _ = scenarios
    for bad in (tmp_path / "missing.toml", tmp_path / "missing.xlsx"):
        result = runner.invoke(app, ["compare", str(a), str(bad)])
        assert result.exit_code == 2 and bad.name in result.output and "Traceback" not in result.output
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"not a workbook")
    result = runner.invoke(app, ["compare", str(fake), str(a)])
    assert result.exit_code == 2 and "fake.xlsx" in result.output
    result = runner.invoke(app, ["compare", str(a), str(a), "--solver", "gurobi"])
    assert result.exit_code == 2


def test_orders_only_one_plan_places_count_as_zero_in_the_other() -> None:
    a = pd.DataFrame(dict(fy=[2027, 2027], material=["X", "X"], option=["P", "Q"], tonnes=[10.0, 5.0],
                          cost=[1e6, 5e5]))
    b = pd.DataFrame(dict(fy=[2027, 2028], material=["X", "X"], option=["P", "R"], tonnes=[12.0, 7.0],
                          cost=[1.2e6, 7e5]))
    merged = _merge(a, b, ["fy", "material", "option"], ["tonnes", "cost"], ["tonnes_change", "money_change"],
                    missing_is_zero=True).set_index("option")
    assert merged.loc["P", "tonnes_change"] == 2.0
    assert merged.loc["Q", "tonnes_change"] == -5.0 and pd.isna(merged.loc["Q", "tonnes_b"])
    assert merged.loc["R", "tonnes_change"] == 7.0 and merged.loc["R", "cost_change"] == 7e5
    empty = pd.DataFrame(columns=["fy", "material", "option", "tonnes", "cost"])
    assert _merge(empty, b, ["fy", "material", "option"], ["tonnes", "cost"], ["tonnes_change", "money_change"],
                  missing_is_zero=True).tonnes_change.tolist() == [12.0, 7.0]


def test_no_shortfall_counts_as_better_than_any_first_shortfall_fy(tmp_path: Path) -> None:
    short = solve(make_scenario(supply=[{"name": "A", "material": "X", "kind": "import", "country": "Canada",
                                         "capacity": 50.0, "price": 50_000.0}]))
    fine = solve(make_scenario())
    a = load_side("A", _save(short, tmp_path / "short.xlsx"))
    b = load_side("B", _save(fine, tmp_path / "fine.xlsx"))
    rows = {row["label"]: row for row in compared_figures(a, b)}
    assert rows["First shortfall"]["a"] == 2027 and rows["First shortfall"]["b"] == "none"
    assert rows["First shortfall"]["better"] is True
    assert rows["Solvent through"]["a"] == "not solvent" and rows["Solvent through"]["b"] == 2029
    assert rows["Solvent through"]["better"] is True
    assert rows["Total shortfall (tonne-years)"]["better"] is True


def _save(plan, path: Path) -> Path:
    write_workbook(plan, path)
    return path


def test_comparison_is_text_safe_and_repeatable(tmp_path: Path) -> None:
    hostile = solve(build(make_scenario(name=FORMULA_NAME)))
    side = load_side("A", _save(hostile, tmp_path / "hostile.xlsx"))
    first, second = tmp_path / "one.xlsx", tmp_path / "two.xlsx"
    write_comparison(side, side, first)
    write_comparison(side, side, second)
    assert first.read_bytes() == second.read_bytes()
    wb = load_workbook(first)
    names = [c for row in wb["Headline"].iter_rows() for c in row if c.value == FORMULA_NAME]
    assert len(names) == 2 and all(c.data_type == "s" for c in names)
    with zipfile.ZipFile(first) as archive:
        assert not any("<f>" in archive.read(n).decode() for n in archive.namelist() if "worksheets/sheet" in n)


@needs_soffice
def test_libreoffice_opens_the_comparison(scenarios, tmp_path: Path) -> None:
    a, b = scenarios
    out = tmp_path / "diff.xlsx"
    assert runner.invoke(app, ["compare", str(a), str(b), "-o", str(out)]).exit_code == 0
    pdf = convert(out, "pdf", tmp_path / "pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and SOFFICE
