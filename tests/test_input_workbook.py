"""Input workbooks (#17): a scenario written as a workbook reads back to the same scenario, a
planner's bad cell is reported by sheet, cell and key path (exit 2, nothing written), and an
untrusted workbook is read without evaluating formulas or expanding XML entities."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from stockpile.cli.app import app
from stockpile.outputs.template import write_template
from stockpile.scenario.layout import uncovered_fields
from stockpile.scenario.load import load_scenario
from stockpile.scenario.toml_text import scenario_toml

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted((REPO / "scenarios").glob("*.toml")) + [REPO / "stockpile" / "examples" / "example.toml"]
EXAMPLE = REPO / "stockpile" / "examples" / "example.toml"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_every_scenario_field_has_a_place_in_the_workbook() -> None:
    """The layout is read off the schema; a field no sheet holds would be silently dropped."""
    assert uncovered_fields() == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_toml_to_workbook_to_toml_keeps_the_scenario(path: Path, tmp_path: Path) -> None:
    """TOML -> workbook -> scenario, and workbook -> TOML -> scenario: the same resolved scenario
    (equal models, so the same SHA-256 the JSON summary reports)."""
    original = load_scenario(path)
    workbook = tmp_path / "inputs.xlsx"
    write_template(original, workbook, str(path))
    from_workbook = load_scenario(workbook)
    assert from_workbook.plain_json() == original.plain_json()  # the same values in the same order
    assert from_workbook.sha256 == original.sha256
    toml = tmp_path / "back.toml"
    toml.write_text(scenario_toml(from_workbook), encoding="utf-8")
    assert load_scenario(toml).sha256 == original.sha256


@pytest.mark.parametrize("name", ["baseline", "recycling-push"])
def test_solving_the_workbook_gives_the_plan_of_the_toml(name: str, tmp_path: Path) -> None:
    """`stockpile template S -o x.xlsx && stockpile solve x.xlsx --json a.json`: the JSON's
    scenario.sha256 and objectives are those of solving S itself."""
    toml = REPO / "scenarios" / f"{name}.toml"
    workbook = tmp_path / "x.xlsx"
    assert run("template", toml, "-o", workbook).exit_code == 0
    results = []
    for source, out in ((toml, tmp_path / "a.json"), (workbook, tmp_path / "b.json")):
        result = run("solve", source, "--json", out)
        assert result.exit_code == 0, result.output
        results.append(json.loads(out.read_text()))
    a, b = results
    assert a["scenario"]["sha256"] == b["scenario"]["sha256"] == load_scenario(toml).sha256
    assert a["objectives"] == b["objectives"] and a["objectives"]
    assert (a["kpis"], a["headline"]) == (b["kpis"], b["headline"])


def test_compare_takes_an_input_workbook_as_a_scenario(example_workbook: Path) -> None:
    """An input workbook is a scenario to solve, not a saved plan: comparing it with its TOML
    shows no change."""
    result = run("compare", example_workbook, EXAMPLE)
    assert result.exit_code == 0, result.output
    assert "Total purchase cost" in result.output and "(+0.0)" in result.output


def test_the_packaged_baseline_is_the_resolved_baseline() -> None:
    """`stockpile init` projects extend stockpile/examples/baseline.toml; it must be the shipped
    baseline resolved. Refresh it with
    python -m stockpile template scenarios/baseline.toml -o stockpile/examples/baseline.toml --force"""
    packaged = load_scenario(REPO / "stockpile" / "examples" / "baseline.toml")
    assert packaged.sha256 == load_scenario(REPO / "scenarios" / "baseline.toml").sha256


def test_init_makes_a_project_that_solves_without_the_repository(tmp_path: Path, monkeypatch) -> None:
    """`stockpile init demo && cd demo && stockpile solve scenarios/*.toml`; data/ is made
    unreachable, as on a fresh install, so the project must need nothing but the package."""
    monkeypatch.chdir(tmp_path)
    assert run("init", "demo").exit_code == 0
    monkeypatch.chdir(tmp_path / "demo")
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv("STOCKPILE_DATA_DIR", str(empty))
    tomls = sorted(Path("scenarios").glob("*.toml"))
    assert [p.name for p in tomls] == ["my-scenario.toml"]
    assert "stockpile solve scenarios/my-scenario.xlsx" in Path("README.md").read_text()
    result = run("solve", *tomls, "--json", "a.json")
    assert result.exit_code == 0, result.output
    assert json.loads(Path("a.json").read_text())["scenario"]["name"].startswith("My scenario")
    # The workbook is the same scenario as the TOML beside it.
    assert load_scenario("scenarios/my-scenario.xlsx").sha256 == load_scenario(tomls[0]).sha256
    assert load_scenario(tomls[0]).fund.appropriation.at(2030) == 75e6
    assert run("init", ".").exit_code == 2  # not empty


def test_template_with_no_scenario_writes_the_baseline_expanded(tmp_path: Path) -> None:
    workbook = tmp_path / "inputs.xlsx"
    assert run("template", "-o", workbook).exit_code == 0
    baseline = load_scenario(REPO / "scenarios" / "baseline.toml")
    assert load_scenario(workbook).sha256 == baseline.sha256
    sources = openpyxl.load_workbook(workbook, read_only=True)["Sources"]
    assert sum(1 for row in sources.iter_rows(min_row=2, values_only=True) if row[4]) == len(baseline.provenance)
    materials = openpyxl.load_workbook(workbook)["Materials"]
    opening = materials[f"{column(materials, 'opening_inventory')}2"]
    assert opening.comment.text.startswith("From data/assumptions.csv:") and "(assumption)" in opening.comment.text
    assert opening.fill.fgColor.rgb.endswith("FFE699")  # amber, as on the plan's Inputs sheet


def test_from_workbook_writes_commented_toml(tmp_path: Path) -> None:
    workbook, toml = tmp_path / "inputs.xlsx", tmp_path / "scenario.toml"
    assert run("template", EXAMPLE, "-o", workbook).exit_code == 0
    assert run("template", "--from", workbook, "-o", toml).exit_code == 0
    text = toml.read_text()
    assert text.startswith("# ") and "# t/FY;" in text
    assert load_scenario(toml).sha256 == load_scenario(EXAMPLE).sha256
    again = run("template", "--from", workbook, "-o", toml)
    assert again.exit_code == 2 and "already exists" in again.output


def test_an_explicitly_empty_value_survives_or_the_toml_is_refused(tmp_path: Path) -> None:
    """"(none)" in a cell whose field has another default (a ban by countries only, no tag) reads
    as None. TOML has no null: `template --from` writes it only if leaving the key out means the
    same (the default is None); otherwise it refuses (exit 2) and writes nothing."""
    from stockpile.scenario.schema import Ban

    workbook = tmp_path / "inputs.xlsx"
    write_template(load_scenario(EXAMPLE), workbook)
    wb = openpyxl.load_workbook(workbook)
    ws = wb["Bans"]
    ws[f"{column(ws, 'tag')}2"], ws[f"{column(ws, 'countries')}2"] = "(none)", "China"
    wb.save(workbook)
    scenario = load_scenario(workbook)
    assert scenario.policy.bans[0].tag is None and scenario.policy.bans[0].countries == ("China",)
    toml = tmp_path / "back.toml"
    result = run("template", "--from", workbook, "-o", toml)
    if Ban.model_fields["tag"].default is None:
        assert result.exit_code == 0 and load_scenario(toml).sha256 == scenario.sha256
    else:
        assert result.exit_code == 2 and "cannot be written as TOML exactly" in result.output
        assert not toml.exists()


def test_the_workbook_offers_drop_downs_units_and_sources(example_workbook: Path) -> None:
    """Materials, countries, tags, option kinds and solver names as drop-downs; the unit and limits
    in each header's comment."""
    wb = openpyxl.load_workbook(example_workbook)
    supply = wb["Supply"]

    def validation_of(ws, cell: str) -> str:
        return next(v.formula1 for v in ws.data_validations.dataValidation if cell in v.sqref)

    assert validation_of(supply, f"{column(supply, 'kind')}2") == '"import,domestic,partner_project"'
    assert validation_of(supply, f"{column(supply, 'material')}9").startswith("Lists!$A$2")
    assert validation_of(supply, f"{column(supply, 'country')}2").startswith("Lists!$B$2")
    bans = wb["Bans"]
    assert validation_of(bans, f"{column(bans, 'tag')}2").startswith("Lists!$C$2")
    solver = wb["Objective and solver"]
    assert validation_of(solver, f"B{key_row(solver, 'solver.name')}") == '"highs,highs-ipm,highs-pulp,cbc"'
    assert [c.value for c in wb["Lists"][1]] == ["materials", "countries", "tags", "option kinds", "solvers"]
    capacity = supply[f"{column(supply, 'capacity')}1"].comment.text
    assert capacity.startswith("t/FY;") and ">= 0" in capacity and "required" in capacity


# --- bad cells ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def example_workbook(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "inputs.xlsx"
    write_template(load_scenario(EXAMPLE), path, str(EXAMPLE))
    return path


def column(ws, header: str) -> str:
    return next(c.column_letter for c in ws[1] if c.value == header)


def key_row(ws, key: str) -> int:
    return next(c.row for c in ws["A"] if c.value == key)


def edited(source: Path, tmp_path: Path, edit) -> Path:
    wb = openpyxl.load_workbook(source)
    edit(wb)
    path = tmp_path / "edited.xlsx"
    wb.save(path)
    return path


def set_cell(sheet: str, header: str, row: int, value):
    def edit(wb):
        ws = wb[sheet]
        ws[f"{column(ws, header)}{row}"] = value
    return edit


def fund_value(key: str, value):
    def edit(wb):
        ws = wb["Fund"]
        ws[f"B{key_row(ws, key)}"] = value
    return edit


def add_header(sheet: str, header: str, value=None):
    """A new last column headed ``header``, with ``value`` on the first entry's row."""
    def edit(wb):
        ws = wb[sheet]
        col = ws.max_column + 1
        ws.cell(row=1, column=col, value=header)
        ws.cell(row=2, column=col, value=value)
    return edit


def blank_series(sheet: str, field: str, row: int):
    def edit(wb):
        ws = wb[sheet]
        for cell in ws[1]:
            if cell.value == field or str(cell.value).startswith(field + " FY"):
                ws.cell(row=row, column=cell.column).value = None
    return edit


def copy_name(wb):
    ws = wb["Supply"]
    letter = column(ws, "name")
    ws[f"{letter}3"] = ws[f"{letter}2"].value


BAD_CELLS = {
    # kind: (edit, the cell and key path the message names, words of the reason)
    "text in a number": (set_cell("Supply", "capacity", 2, "lots"), "Supply!{capacity}2 (supply[1].capacity)",
                         "must be a number"),
    "negative capacity": (set_cell("Supply", "capacity", 3, -5.0), "Supply!{capacity}3 (supply[2].capacity)",
                          "greater than or equal to 0"),
    "unknown material": (set_cell("Supply", "material", 2, "Unobtainium"), "Supply!{material}2 (supply[1].material)",
                         "unknown material 'Unobtainium'"),
    "unknown country": (set_cell("Supply", "country", 2, "Atlantis"), "Supply!{country}2 (supply[1].country)",
                        "unknown country 'Atlantis'"),
    "FY column outside the horizon": (add_header("Supply", "capacity FY2045", 100.0),
                                      "Supply!{new}2 (supply[1].capacity.2045)",
                                      "FY2045 is outside the horizon FY2027..FY2032"),
    "FY column outside the horizon, key rows": (add_header("Fund", "FY2026", 5e6),
                                                "Fund!{new}2 (fund.opening_balance.2026)", "FY2026 is outside"),
    "duplicate option name": (copy_name, "Supply!{name}3 (supply[2].name)", "is already used by supply[1]"),
    "a formula": (fund_value("fund.opening_balance", "=1+1"), "Fund!B{fund.opening_balance}",
                  "a formula with no saved value"),
    "an empty required cell": (blank_series("Materials", "goal", 2), "Materials!{goal}2 (materials.Sb.goal)",
                               "empty required cell"),
    "text in an FY cell": (set_cell("Supply", "capacity FY2029", 2, "n/a"),
                           "Supply!{capacity FY2029}2 (supply[1].capacity.2029)", "must be a number"),
    "a whole number with a fraction": (set_cell("Supply", "lead_time", 2, 1.5),
                                       "Supply!{lead_time}2 (supply[1].lead_time)", "must be a whole number"),
    "unknown column": (add_header("Materials", "colour"), "Materials!{new}1", "unknown column 'colour'"),
}


@pytest.mark.parametrize("kind", list(BAD_CELLS))
def test_a_bad_cell_is_named_by_sheet_cell_and_key_path(kind: str, example_workbook: Path, tmp_path: Path) -> None:
    edit, where, why = BAD_CELLS[kind]
    path = edited(example_workbook, tmp_path, edit)
    wb = openpyxl.load_workbook(path)
    sheet = where.split("!")[0]
    ws = wb[sheet]
    where = where.replace("{new}", openpyxl.utils.get_column_letter(ws.max_column))
    for header in [c.value for c in ws[1] if c.value]:
        where = where.replace("{" + str(header) + "}", column(ws, header))
    if sheet == "Fund" and "{fund" in where:
        where = where.replace("{fund.opening_balance}", str(key_row(ws, "fund.opening_balance")))
    plan = tmp_path / "plan.xlsx"
    result = run("solve", path, "-o", plan)
    assert result.exit_code == 2, result.output
    assert f"{path}: {where}" in result.output, result.output
    assert why in result.output
    assert "Traceback" not in result.output
    assert not plan.exists()
    assert run("validate", path).exit_code == 2


# --- untrusted workbooks -----------------------------------------------------------------------

def rewrite_part(source: Path, target: Path, part: str, change) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            data = old.read(item)
            new.writestr(item, change(data) if item.filename == part else data)


def test_xml_declaring_entities_is_refused_unread(example_workbook: Path, tmp_path: Path) -> None:
    """A "billion laughs" DTD is refused before any XML is parsed, so nothing is expanded."""
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>')
    target = tmp_path / "bomb.xlsx"
    rewrite_part(example_workbook, target, "xl/workbook.xml", lambda data: bomb + data.split(b"?>", 1)[-1])
    result = run("validate", target)
    assert result.exit_code == 2
    assert "xl/workbook.xml: XML declaring a DTD or entities" in result.output


def test_a_sheet_claiming_the_whole_grid_reads_only_its_cells(example_workbook: Path, tmp_path: Path) -> None:
    """A sheet whose <dimension> claims all 17 billion cells is read cell by cell as stored (openpyxl
    would otherwise pad every row to 16,384 columns), and still gives the same scenario."""
    target = tmp_path / "wide.xlsx"
    rewrite_part(example_workbook, target, "xl/worksheets/sheet4.xml",
                 lambda data: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', data))
    assert b"XFD1048576" in zipfile.ZipFile(target).read("xl/worksheets/sheet4.xml")
    assert load_scenario(target).sha256 == load_scenario(EXAMPLE).sha256


def test_oversized_and_non_workbook_files_are_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.xlsx"
    big.write_bytes(b"\0" * 5_000_001)
    assert "input workbooks are limited to 5,000,000 bytes" in run("validate", big).output
    macros = tmp_path / "macros.xlsm"
    shutil.copy(big, macros)
    assert "a macro-enabled workbook" in run("validate", macros).output
    text = tmp_path / "text.xlsx"
    text.write_text("name = 'x'")
    result = run("validate", text)
    assert result.exit_code == 2 and "not an .xlsx workbook" in result.output


def test_a_misspelled_sheet_is_an_error_not_ignored(example_workbook: Path, tmp_path: Path) -> None:
    path = edited(example_workbook, tmp_path, lambda wb: setattr(wb["Events"], "title", "Event"))
    result = run("validate", path)
    assert result.exit_code == 2 and "Event!A1: unknown sheet" in result.output


# --- LibreOffice -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def resaved_by_libreoffice(tmp_path_factory) -> tuple[Path, Path]:
    """The baseline's workbook with the Fund's operating cost typed as a formula, re-saved once by
    LibreOffice headless (which computes and saves the formula's value)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    folder = tmp_path_factory.mktemp("libreoffice")
    original = folder / "inputs.xlsx"
    write_template(load_scenario(REPO / "scenarios" / "baseline.toml"), original)
    wb = openpyxl.load_workbook(original)
    ws = wb["Fund"]
    ws[f"B{key_row(ws, 'fund.operating_cost')}"] = "=40000000+20000000"   # a scalar in the baseline
    source = folder / "edited.xlsx"
    wb.save(source)
    out = folder / "out"
    subprocess.run([soffice, "--headless", "--calc", "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir",
                    str(out), str(source)], check=True, capture_output=True, timeout=180,
                   env={"HOME": str(folder), "PATH": "/usr/bin:/bin"})
    return original, out / "edited.xlsx"


def test_a_workbook_resaved_by_libreoffice_reads_and_solves(resaved_by_libreoffice, tmp_path: Path) -> None:
    """LibreOffice keeps every value to 15 significant digits (so a price such as
    34678.600000000006 comes back as 34678.6: the same plan to solver precision, a different
    SHA-256); a formula comes back with its saved value, which is read, never evaluated."""
    original, resaved = resaved_by_libreoffice
    a, b = load_scenario(original), load_scenario(resaved)
    assert b.fund.operating_cost.at(2030) == 60e6
    for x, y in zip(a.supply, b.supply):
        assert x.name == y.name
        for fy in a.fys:
            assert y.price.at(fy) == pytest.approx(x.price.at(fy), rel=1e-14)
            assert y.capacity.at(fy) == pytest.approx(x.capacity.at(fy), rel=1e-14)
    result = run("solve", resaved, "--json", tmp_path / "b.json")
    assert result.exit_code == 0, result.output
    assert "audit passed" in result.output
