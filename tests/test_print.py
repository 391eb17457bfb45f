"""Every workbook kind (plan, compare, sweep, hedge) in two real clients: LibreOffice renders each
to PDF, and every page of a sheet with a long table shows that table's header, no page is empty
and no text prints under 8 pt; Gnumeric's ssconvert reads each with nothing on stderr (no
"Unexpected element", no unhandled conditional format, no GLib critical).

Each workbook is written and rendered once (module-scoped fixture), all in one soffice call.
Font sizes come from ``pdftotext -bbox``: a word's box is 1.3 times its font size high in
Carlito (LibreOffice's metric twin of Calibri) and in the fonts it falls back on, so a box under
8 x 1.3 pt is text under 8 pt. A word of a rotated axis title has its box turned: its size is
read from the box's width.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from stockpile.cli.app import app
from stockpile.outputs.excel.sheet import SMALLEST_PRINTED_POINTS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "stockpile" / "examples" / "example.toml"
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
POPPLER = shutil.which("pdftotext")
SSCONVERT = shutil.which("ssconvert")
BOX_PER_POINT = 1.3
runner = CliRunner()

needs_render = pytest.mark.skipif(SOFFICE is None or POPPLER is None,
                                  reason="LibreOffice (soffice) or poppler-utils (pdftotext) is not installed")
needs_gnumeric = pytest.mark.skipif(SSCONVERT is None, reason="Gnumeric (ssconvert) is not installed")


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("print")
    books = {kind: folder / f"{kind}.xlsx" for kind in ("plan", "compare", "sweep", "hedge")}
    commands = {
        "plan": ["solve", str(EXAMPLE), "-o", str(books["plan"])],
        "compare": ["compare", str(EXAMPLE), str(ROOT / "scenarios" / "baseline.toml"), "-o", str(books["compare"])],
        "sweep": ["sweep", str(EXAMPLE), "--vary", "fund.appropriation=0,4e8", "--vary",
                  "prices.multiplier=x1:x1.5:2", "-o", str(books["sweep"]), "--workers", "1"],
        "hedge": ["hedge", str(ROOT / "scenarios" / "hedge-disruptions.toml"), "-o", str(books["hedge"]),
                  "--workers", "1"],
    }
    for kind, command in commands.items():
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (kind, result.output)
    return books


@pytest.fixture(scope="module")
def pdfs(workbooks) -> dict[str, Path]:
    if SOFFICE is None or POPPLER is None:
        pytest.skip("LibreOffice (soffice) or poppler-utils (pdftotext) is not installed")
    folder = next(iter(workbooks.values())).parent
    subprocess.run([SOFFICE, "--headless", "--convert-to", "pdf", "--outdir", str(folder / "pdf"),
                    *map(str, workbooks.values())], check=True, capture_output=True, timeout=300)
    return {kind: folder / "pdf" / f"{kind}.pdf" for kind in workbooks}


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return text.split("\f")[:-1]


def _sheet_of(page: str, sheets: list[str]) -> str:
    """The sheet a page belongs to, from its footer ("<sheet>   Page n of N"; a chart's axis
    text may share the footer's line)."""
    footer = re.search(r"^(.*)Page \d+ of \d+\s*$", page, re.M)
    assert footer, page[-300:]
    named = [sheet for sheet in sheets if re.search(rf"(^|\s){re.escape(sheet)}(\s|$)", footer.group(1))]
    assert named, page[-400:]  # the footer names the sheet on the footer's own line
    return max(named, key=len)


@needs_render
@pytest.mark.parametrize("kind", ["plan", "compare", "sweep", "hedge"])
def test_every_page_shows_its_tables_header_and_is_not_empty(kind, workbooks, pdfs) -> None:
    wb = load_workbook(workbooks[kind])
    headers = {}  # sheet -> the first word of each label of the header row it repeats
    for ws in wb.worksheets:
        if ws.print_title_rows:
            row = int(ws.print_title_rows.split(":")[0].strip("$"))
            headers[ws.title] = [str(c.value).split()[0] for c in ws[row] if c.value is not None][:3]
    pages = _pages(pdfs[kind])
    assert pages
    seen, headed = set(), set()  # sheets printed; sheets whose long table has begun
    for number, page in enumerate(pages, start=1):
        sheet = _sheet_of(page, wb.sheetnames)
        seen.add(sheet)
        body = re.sub(r".*Page \d+ of \d+.*", "", page).strip()
        assert body, f"{kind} page {number} ({sheet}) is empty"
        words = headers.get(sheet, [])
        if sheet in headed:  # from its first page on, the long table's header tops every page
            for word in words:
                assert word in page, f"{kind} page {number} ({sheet}) lacks its table's header word {word!r}"
        elif words and all(word in page for word in words):
            headed.add(sheet)
    assert headed == set(headers), (kind, set(headers) - headed)
    visible = {ws.title for ws in wb.worksheets if ws.sheet_state == "visible"}
    assert seen == visible  # every sheet printed
    assert headers, kind  # the long tables do repeat their headers


@needs_render
@pytest.mark.parametrize("kind", ["plan", "compare", "sweep", "hedge"])
def test_no_text_prints_under_8_points(kind, pdfs) -> None:
    html = subprocess.run(["pdftotext", "-bbox", str(pdfs[kind]), "-"], capture_output=True, text=True,
                          check=True).stdout
    smallest = {}
    for number, page in enumerate(html.split("<page ")[1:], start=1):
        for x0, y0, x1, y1, word in re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                                               r'yMax="([\d.]+)">([^<]*)<', page):
            if len(word) < 4:  # too short to tell a turned word from an upright one
                continue
            width, height = float(x1) - float(x0), float(y1) - float(y0)
            points = (width if height > width else height) / BOX_PER_POINT
            if points < smallest.get(number, (99, ""))[0]:
                smallest[number] = (points, word)
    small = {page: found for page, found in smallest.items() if found[0] < SMALLEST_PRINTED_POINTS - 0.05}
    assert not small, f"{kind}: text under 8 pt on pages {small}"


@needs_gnumeric
@pytest.mark.parametrize("kind", ["plan", "compare", "sweep", "hedge"])
def test_gnumeric_reads_and_prints_without_a_warning(kind, workbooks, tmp_path: Path) -> None:
    result = subprocess.run([SSCONVERT, str(workbooks[kind]), str(tmp_path / f"{kind}.pdf")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr[:2000]
