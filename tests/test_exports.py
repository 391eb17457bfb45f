"""Exported models carry stockpile's names: ``--write-lp`` files from the default backend name their
rows and columns ``family(key)`` (``balance(Sb,2028)``) in the LP format's characters, unique, and
another solver (GLPK's ``glpsol``) reads both the LP and the free MPS file and finds the same
readiness optimum."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import highspy
import pytest
from typer.testing import CliRunner

from stockpile.cli.app import app
from stockpile.model.build import build
from stockpile.plan.pipeline import plan_scenario
from stockpile.scenario.load import load_scenario
from stockpile.solve.backends.highs import exportable_rows
from stockpile.solve.backends.names import ALLOWED, MAX_LENGTH, file_name, file_names

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"
runner = CliRunner()
GLPSOL = shutil.which("glpsol")
needs_glpsol = pytest.mark.skipif(GLPSOL is None, reason="glpsol (GLPK, apt-get install glpk-utils) is not installed")


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, Path]:
    """The baseline's readiness model as ``stockpile solve --write-lp`` writes it, LP and MPS."""
    folder = tmp_path_factory.mktemp("exports")
    paths = {}
    for suffix in ("lp", "mps"):
        path = folder / f"baseline.{suffix}"
        result = runner.invoke(app, ["solve", str(BASELINE), "-o", str(folder / f"plan-{suffix}.xlsx"),
                                     "--write-lp", str(path)])
        assert result.exit_code == 0, result.output
        paths[suffix] = path
    return paths


def names_in(path: Path) -> tuple[list[str], list[str]]:
    """The column and row names of a model file, as HiGHS reads them."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    assert h.readModel(str(path)) == highspy.HighsStatus.kOk
    lp = h.getLp()
    return list(lp.col_names_), list(lp.row_names_)


@pytest.mark.parametrize("suffix", ["lp", "mps"])
def test_exported_rows_and_columns_carry_stockpile_names(exported, suffix) -> None:
    cols, rows = names_in(exported[suffix])
    assert "balance(Sb,2028)" in rows and "lexicographic(deficit)" in rows
    assert "inv(Sb,2028)" in cols
    assert any(re.fullmatch(r"order\(Sb,[A-Za-z_]+,2028\)", name) for name in cols)
    assert not any(re.fullmatch(r"[cr]\d+", name) for name in cols + rows)
    for name in cols + rows:
        assert set(name) <= ALLOWED and len(name) <= MAX_LENGTH and not name[0].isdigit(), name
    assert len(set(cols)) == len(cols) and len(set(rows)) == len(rows)


def test_the_exported_names_are_the_models_own(exported) -> None:
    """Every column of the model appears under its own name (rows: all but the inactive one and
    any without terms)."""
    lp = build(load_scenario(BASELINE)).lp
    cols, rows = names_in(exported["mps"])
    assert cols == file_names(lp.col_name(c) for c in range(lp.n_cols))
    model_rows = file_names(lp.row_name(r) for r in exportable_rows(lp))
    assert rows[:lp.n_rows] == model_rows


def test_file_names_keep_the_allowed_characters_and_stay_unique() -> None:
    assert file_name("balance[Sb,2028]") == "balance(Sb,2028)"
    assert file_name("order[Sb,Vietnam antimony import,2028]") == "order(Sb,Vietnam_antimony_import,2028)"
    assert file_name("capacity[W,Tungsten-X (pilot),2030]") == "capacity(W,Tungsten_X_(pilot),2030)"
    assert file_name("2028") == "_2028" and file_name(".x") == "_.x" and file_name("e1") == "_e1"
    assert len(file_name("x" * 400)) == MAX_LENGTH
    assert file_names(["a b[1]", "a_b[1]", "a-b[1]", "a_b(1)~2"]) == ["a_b(1)", "a_b(1)~2", "a_b(1)~3", "a_b(1)~2~2"]
    long = ["y" * 300, "y" * 300 + "z"]
    first, second = file_names(long)
    assert first != second and len(first) == len(second) == MAX_LENGTH


SCENARIOS = sorted(BASELINE.parent.glob("*.toml"))
GLPSOL_FLAGS = {"lp": "--lp", "mps": "--freemps"}


def glpsol_optimum(path: Path, report: Path) -> float:
    """GLPK's optimum of a model file (its report prints 10 significant digits)."""
    done = subprocess.run([GLPSOL, GLPSOL_FLAGS[path.suffix[1:]], str(path), "-o", str(report)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    # GLPK's presolve may find the optimum itself (the backtest's readiness LP buys nothing).
    assert re.search(r"OPTIMAL (LP )?SOLUTION FOUND", done.stdout), done.stdout
    return float(re.search(r"Objective:\s+\S+ = (\S+)", report.read_text()).group(1))


def row_lengths(path: Path) -> list[int]:
    """The number of terms of each row of a model file, as HiGHS reads it."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    assert h.readModel(str(path)) == highspy.HighsStatus.kOk
    lp = h.getLp()
    if lp.a_matrix_.format_ != highspy.MatrixFormat.kColwise:
        raise AssertionError("expected a column-wise matrix")
    lengths = [0] * lp.num_row_
    for row in lp.a_matrix_.index_:
        lengths[row] += 1
    return lengths


@needs_glpsol
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_glpsol_reads_every_shipped_export_and_finds_the_readiness_optimum(path, tmp_path) -> None:
    """Every shipped scenario's --write-lp, in both formats: no row without terms, and GLPK's
    optimum is stockpile's readiness objective to 1e-6 (msp-only.toml has partner_share rows a
    100% floor empties; they are left out)."""
    readiness = None
    for suffix in ("lp", "mps"):
        model = tmp_path / f"model.{suffix}"
        plan = plan_scenario(load_scenario(path), write_model=model)
        readiness = plan.objective_values["shortfall"]
        assert min(row_lengths(model)) >= 1, f"{model.name} has a row with no terms"
        assert glpsol_optimum(model, tmp_path / "glpsol.txt") == pytest.approx(readiness, rel=1e-6, abs=1e-9)


@needs_glpsol
@pytest.mark.parametrize("solver", ["cbc", "highs-pulp"])
def test_exports_through_pulp_carry_names_and_no_empty_row(solver, tmp_path) -> None:
    """The PuLP routes write the same names (``balance(Sb,2028)``) and leave out the same empty rows."""
    path = BASELINE.parent / "msp-only.toml"
    for suffix in ("lp", "mps"):
        model = tmp_path / f"model.{suffix}"
        plan = plan_scenario(load_scenario(path), solver=solver, write_model=model)
        cols, rows = names_in(model)
        assert "balance(Sb,2028)" in rows and "inv(Sb,2028)" in cols
        assert min(row_lengths(model)) >= 1
        assert glpsol_optimum(model, tmp_path / "glpsol.txt") == pytest.approx(
            plan.objective_values["shortfall"], rel=1e-6, abs=1e-9)
