"""Baseline data: provenance on every row, figures that match USGS, and a loader that rejects bad files."""

from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path

import pytest

from stockpile.scenario.data import DATA_DIR_ENV, DEFAULT_DATA_DIR, FILES, load_data
from stockpile.errors import InputError, InputErrors

STATUSES = {"official", "secondary", "inferred", "assumption"}
DATA_FILES = sorted(f"{name}.csv" for name in FILES)


def read_rows(path: Path) -> list[dict[str, str]]:
    """The file's rows as dicts, read with the csv module alone (independent of the loader)."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def line_of(path: Path, **match: str) -> int:
    """The line (header = 1) of the first row whose cells equal ``match``."""
    for line, row in enumerate(read_rows(path), start=2):
        if all(row[k] == v for k, v in match.items()):
            return line
    raise AssertionError(f"no row {match} in {path.name}")


@pytest.fixture(scope="module")
def data():
    return load_data()


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DEFAULT_DATA_DIR, tmp_path / "data"))


def set_cell(path: Path, line: int, column: str, value: str) -> None:
    with open(path, newline="", encoding="utf-8") as f:
        records = list(csv.reader(f))
    records[line - 1][records[0].index(column)] = value
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(records)


# --- provenance on every row -------------------------------------------------------------------

@pytest.mark.parametrize("file_name", DATA_FILES)
def test_every_row_has_source_status_and_needed_note(file_name):
    rows = read_rows(DEFAULT_DATA_DIR / file_name)
    assert rows, f"{file_name} has no rows"
    for line, row in enumerate(rows, start=2):
        assert row["source"].strip(), f"{file_name} line {line}: empty source"
        assert row["status"] in STATUSES, f"{file_name} line {line}: status {row['status']!r}"
        if row["status"] in {"inferred", "assumption"}:
            assert row["note"].strip(), f"{file_name} line {line}: {row['status']} row without a note"


def test_assumptions_are_labelled_as_such(data):
    assert set(data.assumptions["status"]) <= {"assumption", "inferred"}
    assert (data.assumptions["source"] == "stockpile planning assumption").all()


def test_provenance_lists_every_row_of_every_file(data):
    provenance = data.provenance()
    for name, spec in FILES.items():
        table = getattr(data, name)
        rows = provenance[provenance["file"] == f"{name}.csv"]
        assert len(rows) == len(table) * max(1, len(spec.figures))
        assert set(rows["line"]) == set(table.index)
    assert provenance["source"].str.strip().ne("").all()
    w_price = provenance[(provenance["file"] == "prices.csv") & (provenance["what"] == "W 2024 price per t metal")]
    assert w_price[["value", "unit", "status"]].values.tolist() == [[31526.0, "usd_per_t", "inferred"]]


# --- figures match the USGS tables ---------------------------------------------------------------

@pytest.mark.parametrize(("material", "leader", "percent"), [
    # MCS 2025 table 5, Leading_source_country / Leading_source_precent_world (2024e)
    ("Sb", "China", 60), ("Co", "Congo (Kinshasa)", 76), ("Li", "Australia", 37), ("W", "China", 83),
])
def test_leading_producer_share_matches_mcs2025_table5(data, material, leader, percent):
    country, share = data.leading_producer_share(material)
    assert country == leader
    assert round(share * 100) == percent


@pytest.mark.parametrize(("material", "year", "total"), [
    ("Sb", 2023, 106000), ("Sb", 2024, 100000), ("Co", 2023, 238000), ("Co", 2024, 290000),
    ("Li", 2023, 204000), ("Li", 2024, 240000), ("W", 2023, 79500), ("W", 2024, 81000),
])
def test_world_totals_match_mcs2025(data, material, year, total):
    assert data.world_total(material, year) == total


def test_production_leaves_out_aggregates_and_withheld_figures(data):
    lithium = data.production("Li", 2024)
    assert "United States" not in lithium  # USGS withholds U.S. lithium output
    assert "World total" not in lithium and "Other countries" not in lithium
    assert lithium["Chile"] == 49000
    assert list(lithium) == sorted(lithium)
    us_lithium = data.mine_production.query("material == 'Li' and country == 'United States'")
    assert us_lithium["tonnes"].isna().all() and us_lithium["note"].str.contains("withheld").all()


@pytest.mark.parametrize(("material", "year", "quoted", "usd_per_t"), [
    ("W", 2024, 250, 250 / 7.93 * 1000),  # $/mtu WO3, 7.93 kg W per mtu: 31,526 $/t
    ("Sb", 2024, 9.5, 9.5 / 0.45359237 * 1000),  # $/lb: 20,944 $/t
    ("Co", 2024, 17, 17 / 0.45359237 * 1000),  # $/lb cathode: 37,479 $/t
    ("Li", 2024, 14000, 14000 / 0.1879),  # $/t Li2CO3 at 18.79% Li: 74,508 $/t
])
def test_price_conversions_recompute(data, material, year, quoted, usd_per_t):
    row = data.prices.query("material == @material and year == @year").iloc[0]
    assert row["quoted_value"] == quoted
    assert row["usd_per_t_metal"] == pytest.approx(usd_per_t, abs=0.5)
    assert f"= {round(usd_per_t)} $/t" in row["conversion"]
    assert row["status"] == "inferred"


def test_lithium_carbonate_mass_fraction():
    li, c, o = 6.94, 12.011, 15.999
    assert round(2 * li / (2 * li + c + 3 * o), 4) == 0.1879


def test_price_history_covers_2020_to_2024_and_quotes_of_the_plans_start(data):
    """USGS annual averages for 2020-2024 for every material, and a quote of 2025 or later for
    each: 2025 for Sb, Co, W (secondary), January 2026 for lithium carbonate (inferred: its
    dollar conversion assumes an exchange rate, shown in the row)."""
    years = data.prices.groupby("material")["year"].apply(sorted).to_dict()
    history = [2020, 2021, 2022, 2023, 2024]
    assert years == {"Co": history + [2025], "Li": history + [2026], "Sb": history + [2025], "W": history + [2025]}
    quotes = data.prices[data.prices.year >= 2025]
    assert quotes.note.str.len().gt(0).all() and quotes.conversion.str.len().gt(0).all()
    assert set(quotes[quotes.year == 2025].status) == {"secondary"}
    lithium = quotes[quotes.material == "Li"].iloc[0]
    # 155,000 yuan/t with 13% VAT / 1.13 / 7.0 yuan per $ = 19,595 $/t Li2CO3; / 0.1879 = 104,284 $/t Li
    assert lithium.status == "inferred" and "155,000 yuan" in lithium.conversion
    assert lithium.quoted_value == round(155_000 / 1.13 / 7.0)
    assert lithium.usd_per_t_metal == pytest.approx(19_595 / 0.1879, abs=1)


def test_amp_lines_are_ceilings_of_one_fy_never_inventories(data):
    """data/amp.csv: FY2025's potential acquisitions (MCS 2026, secondary); lithium's line is
    "not available" (empty, and so says the note); no opening inventory equals an AMP figure."""
    amp = data.amp.set_index("material")
    assert (amp.fy == 2025).all() and set(amp.status) == {"secondary"}
    assert amp.tonnes.to_dict() == pytest.approx({"Sb": 700, "Co": 60, "W": 2041, "Li": math.nan}, nan_ok=True)
    assert "not available" in amp.loc["Li", "note"].lower()
    for code, tonnes in amp.tonnes.dropna().items():
        assert data.assumption("opening_inventory_t", code) != tonnes, code


def test_every_country_in_every_file_is_listed(data):
    known = set(data.countries["country"])
    producers = set(data.mine_production["country"]) - {"World total", "Other countries"}
    assert producers <= known
    for name in ("reserves", "country_tags", "projects"):
        assert set(getattr(data, name)["country"]) - {"World total", "Other countries"} <= known, name
    assert "North Korea" in producers and "Korea, North" not in known


def test_country_tags(data):
    assert data.countries_with_tag("covered") == ("China", "Iran", "North Korea", "Russia")
    assert data.tags_of("Republic of Korea") == ("fta", "msp")
    assert data.tags_of("Japan") == ("fta", "msp")
    assert data.tags_of("Congo (Kinshasa)") == ()
    assert "European Union" in data.countries_with_tag("msp")
    with pytest.raises(KeyError):
        data.tags_of("Atlantis")


def test_assumption_lookup_falls_back_to_every_material(data):
    assert data.assumption("goal_t", "Sb") == 24000
    assert data.assumption("import_share_of_output", "Sb") == data.assumption("import_share_of_output") == 0.05
    for material in data.materials["material"]:
        assert data.assumption("opening_inventory_t", material) >= 0
    with pytest.raises(KeyError):
        data.assumption("no_such_key")


def test_fund_opening_balance_adds_up(data):
    fund = data.fund.set_index(["key", "date_or_fy"])["value"]
    on_1_oct_2025 = {key: value for (key, when), value in fund.items() if when == "2025-10-01"}
    parts = on_1_oct_2025["unobligated_balance_mandatory"] + on_1_oct_2025["unobligated_balance_discretionary"]
    assert on_1_oct_2025["unobligated_balance"] == parts == 270740351


def test_the_x_accounts_books_add_up_year_by_year(data):
    """Each FY's inferred flows of the /X account are its SF-133 lines: the balance brought
    forward + new resources = total resources (line 2500), less obligations = line 2490; and the
    last year-end is the FY2026 apportionment's 1 Oct 2025 balance to the transcription's $0.1M."""
    fund = data.fund.set_index(["key", "date_or_fy"])["value"]
    brought_forward = fund[("unobligated_balance", "2022-10-01")]
    for fy in ("FY2023", "FY2024", "FY2025"):
        total = fund[("sf133_x_total_resources", fy)]
        assert brought_forward + fund[("x_new_resources", fy)] == pytest.approx(total, abs=1)
        assert total - fund[("x_obligations", fy)] == pytest.approx(fund[("sf133_x_unobligated_end", fy)], abs=1)
        brought_forward = fund[("sf133_x_unobligated_end", fy)]
    assert abs(brought_forward - fund[("unobligated_balance", "2025-10-01")]) < 0.05e6


def test_sha256_is_deterministic_and_tracks_content(data, data_copy):
    assert load_data(data_copy).sha256 == data.sha256
    path = data_copy / "fund.csv"
    set_cell(path, line_of(path, key="collections"), "note", "edited")
    assert load_data(data_copy).sha256 != data.sha256


def test_data_dir_from_environment(data_copy, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(data_copy))
    assert load_data().data_dir == data_copy


# --- corrupted copies are rejected with file, line and column ----------------------------------

# name: (file, row to corrupt, column, new value, words the reason must contain)
CORRUPTIONS = {
    "missing source": ("mine_production.csv", {"material": "Sb", "country": "China", "year": "2024"},
                       "source", "", "must not be empty"),
    "bad status": ("reserves.csv", {"material": "W", "country": "China"}, "status", "estimate",
                   "Input should be 'official'"),
    "negative tonnes": ("mine_production.csv", {"material": "Co", "country": "Cuba", "year": "2023"},
                        "tonnes", "-5", "greater than or equal to 0"),
    "yield 1.5": ("recycling.csv", {"stream": "li-ion-batteries-co", "parameter": "recovery_yield"},
                  "value", "1.5", "fraction"),
    "unknown material": ("projects.csv", {"project": "Perpetua Stibnite", "parameter": "first_fy"},
                         "material", "Nd", "unknown material 'Nd'"),
    "unknown country": ("mine_production.csv", {"material": "W", "country": "Spain", "year": "2024"},
                        "country", "Atlantis", "unknown country"),
    "non-numeric value": ("assumptions.csv", {"key": "goal_t", "material": "W"}, "value", "twelve",
                          "valid number"),
    "thousands separator": ("us_salient.csv", {"material": "Sb", "year": "2024", "statistic": "imports_oxide"},
                            "value", "20,000", "valid number"),
    "assumption without note": ("assumptions.csv", {"key": "goal_t", "material": "Co"}, "note", "",
                                "needs a note"),
    "empty figure not withheld": ("mine_production.csv", {"material": "Sb", "country": "Russia", "year": "2024"},
                                  "tonnes", "", "withheld"),
    "wrong conversion": ("prices.csv", {"material": "W", "year": "2024"}, "usd_per_t_metal", "31000",
                         "converts to 31526"),
    "bad month": ("country_tags.csv", {"country": "Estonia", "tag": "msp"}, "since", "2024-13", "must be a date"),
    "bad day": ("events.csv", {"event": "cn_w_export_controls"}, "date", "2025-02-30", "must be a date"),
    "duplicate key": ("events.csv", {"event": "cn_w_export_controls"}, "event", "cn_sb_export_ban_us",
                      "duplicate key"),
    "infinite value": ("fund.csv", {"key": "collections"}, "value", "inf", "finite number"),
    "empty AMP line not said unavailable": ("amp.csv", {"material": "Co", "fy": "2025"}, "tonnes", "",
                                            "not available"),
    "AMP action": ("amp.csv", {"material": "W", "fy": "2025"}, "action", "disposal", "acquisition"),
    "wrong unit": ("projects.csv", {"project": "Albemarle Kings Mountain", "parameter": "nds_share"},
                   "unit", "percent", "in 'fraction'"),
}


@pytest.mark.parametrize(("file_name", "match", "column", "value", "reason"), CORRUPTIONS.values(),
                         ids=CORRUPTIONS.keys())
def test_corrupted_cell_is_reported(data_copy, file_name, match, column, value, reason):
    path = data_copy / file_name
    line = line_of(path, **match)
    set_cell(path, line, column, value)
    with pytest.raises(InputError) as caught:
        load_data(data_copy)
    error = caught.value
    assert Path(error.file).name == file_name
    assert error.where == f"line {line}, column {column}"
    assert reason in error.reason
    assert f"{file_name}: line {line}, column {column}: " in error.message


def test_unknown_column_is_reported(data_copy):
    path = data_copy / "reserves.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0] + ",colour"] + [line + ",red" for line in lines[1:]]) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_data(data_copy)
    assert Path(caught.value.file).name == "reserves.csv"
    assert caught.value.where == "line 1, column colour"
    assert "unknown column" in caught.value.reason


def test_missing_column_is_reported(data_copy):
    path = data_copy / "events.csv"
    rows = read_rows(path)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, [c for c in rows[0] if c != "source"], extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(InputError) as caught:
        load_data(data_copy)
    assert (Path(caught.value.file).name, caught.value.where, caught.value.reason) == \
        ("events.csv", "line 1, column source", "missing column")


def test_all_problems_in_a_file_are_reported_together(data_copy):
    path = data_copy / "reserves.csv"
    first, second = line_of(path, material="Sb", country="China"), line_of(path, material="Co", country="Cuba")
    set_cell(path, first, "tonnes", "-1")
    set_cell(path, second, "status", "guess")
    with pytest.raises(InputErrors) as caught:
        load_data(data_copy)
    wheres = [error.where for error in caught.value.errors]
    assert set(wheres) == {f"line {first}, column tonnes", f"line {second}, column status"}
    assert wheres == sorted(wheres, key=lambda where: int(where.split()[1].rstrip(",")))  # in file order


def test_missing_per_material_assumption_is_reported(data_copy):
    path = data_copy / "assumptions.csv"
    kept = [row for row in read_rows(path) if not (row["key"] == "goal_t" and row["material"] == "Li")]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, list(kept[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    with pytest.raises(InputError, match="goal_t is missing for material Li") as caught:
        load_data(data_copy)
    assert Path(caught.value.file).name == "assumptions.csv"


def test_missing_file_is_reported(data_copy):
    (data_copy / "prices.csv").unlink()
    with pytest.raises(InputError, match="data file not found") as caught:
        load_data(data_copy)
    assert Path(caught.value.file).name == "prices.csv"


def test_numbers_are_finite(data):
    for name, spec in FILES.items():
        for column in spec.figures:
            values = getattr(data, name)[column].dropna()
            assert all(math.isfinite(v) and v >= 0 for v in values), (name, column)
