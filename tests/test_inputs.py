"""Bad scenario files: exit 2, a message naming file, key path and reason, no traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stockpile.cli.app import app
from stockpile.errors import InputError
from stockpile.scenario.load import load_scenario
from stockpile.scenario.merge import merge_overrides

EXAMPLE = Path(__file__).resolve().parent.parent / "stockpile" / "examples" / "example.toml"
runner = CliRunner()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(EXAMPLE, tmp_path / "base.toml")
    return tmp_path


def child(folder: Path, body: str, name: str = "child.toml") -> Path:
    path = folder / name
    path.write_text('extends = "base.toml"\n' + body, encoding="utf-8")
    return path


# (file body after `extends = "base.toml"`, expected key path, expected words of the reason)
BAD_SCENARIOS = {
    "misspelled key": ('[materials.Sb]\nwieght = 3\n', "materials.Sb.wieght", "unknown key"),
    "unknown top-level key": ('budjet = 3\n', "budjet", "unknown key"),
    "wrong type": ('[fund]\nopening_balance = "lots"\n', "fund.opening_balance", "valid number"),
    "bool for number": ('[fund]\nopening_balance = true\n', "fund.opening_balance", "valid number"),
    "nan": ('[fund]\nopening_balance = nan\n', "fund.opening_balance", "finite"),
    "infinity": ('[fund]\nappropriation = inf\n', "fund.appropriation", "finite"),
    "negative capacity in one FY": (
        '[[supply]]\nname = "China antimony import"\ncapacity = {2027 = 5, 2029 = -3}\n',
        "supply[1].capacity.2029", "greater than or equal to 0"),
    "negative price": ('[[supply]]\nname = "Chile lithium import"\nprice = -1\n',
                       "supply[7].price", "greater than or equal to 0"),
    "yield above 1": ('[[recycling]]\nname = "Lead-acid battery antimony"\nrecovery_yield = 1.5\n',
                      "recycling[1].recovery_yield", "less than or equal to 1"),
    "yield below 0": ('[[recycling]]\nname = "Lead-acid battery antimony"\nrecovery_yield = {2027 = -0.1}\n',
                      "recycling[1].recovery_yield.2027", "greater than or equal to 0"),
    "FY after the horizon": ('[fund]\nappropriation = {2027 = 5, 2045 = 3}\n', "fund.appropriation.2045",
                             "outside the horizon"),
    "FY before the horizon": ('[materials.Co]\npipeline = {2020 = 5}\n', "materials.Co.pipeline.2020",
                              "outside the horizon"),
    "table starting late": ('[materials.Co]\ngoal = {2029 = 5}\n', "materials.Co.goal", "starts at FY2029"),
    "not a fiscal year": ('[materials.Co]\ngoal = {"20x7" = 5}\n', "materials.Co.goal", "not a fiscal year"),
    "unknown material": ('[[supply]]\nname = "new"\nmaterial = "Xx"\nkind = "import"\ncountry = "Chile"\n'
                         'capacity = 1\nprice = 1\n', "supply[10].material", "unknown material 'Xx'"),
    "unknown country": ('[[supply]]\nname = "new"\nmaterial = "Sb"\nkind = "import"\ncountry = "Narnia"\n'
                        'capacity = 1\nprice = 1\n', "supply[10].country", "unknown country 'Narnia'"),
    "unknown tag in policy": ('[policy]\ntrusted_tags = ["msq"]\n', "policy.trusted_tags[1]", "unknown tag 'msq'"),
    "unknown material in policy": ('[policy.trusted_share]\nXx = 0.5\n', "policy.trusted_share.Xx",
                                   "unknown material"),
    "unknown kind": ('[[supply]]\nname = "China antimony import"\nkind = "barter"\n', "supply[1].kind",
                     "must be 'import', 'domestic' or 'partner_project'"),
    "duplicate option name": ('[[recycling]]\nname = "China antimony import"\nmaterial = "Sb"\nfeedstock = 1\n'
                              'recovery_yield = 0.5\ncost = 1\n', "recycling[4].name", "already used"),
    "horizon reversed": ('[horizon]\nfirst_fy = 2030\nlast_fy = 2027\n', "horizon", "before first_fy"),
    "horizon too long": ('[horizon]\nlast_fy = 2200\n', "horizon", "longer than"),
    "non-convex tiers": ('[[supply]]\nname = "China antimony import"\ntiers = [{up_to = 10, factor = 2.0}, '
                         '{factor = 1.0}]\n', "supply[1]", "must not get cheaper"),
    "event ends before it starts": ('[events.x]\nfrom_fy = 2030\nto_fy = 2028\n', "events.x", "before from_fy"),
    "ban with unknown tag": ('[policy]\nbans = [{tag = "coverd", from_fy = 2027}]\n', "policy.bans[1].tag",
                             "unknown tag 'coverd'"),
}


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS), ids=str)
def test_bad_scenario_is_reported_with_file_key_and_reason(folder: Path, case: str) -> None:
    body, key_path, reason = BAD_SCENARIOS[case]
    path = child(folder, body)
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert "child.toml" in message
    assert f": {key_path}: " in message, message
    assert reason in message, message

    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert key_path in result.output and reason in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("content, reason", [
    (b'name = "x\n[horizon', "not valid TOML"),
    (b"\xff\xfe\x00n\x00a", "not UTF-8"),
    (b"", "required key is missing"),
    (b"[" * 5000, "not valid TOML"),
], ids=["malformed", "utf16", "empty", "deeply nested"])
def test_unreadable_files(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes(content)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "s.toml" in result.output and reason in result.output
    assert "Traceback" not in result.output


def test_missing_file_and_missing_parent(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2 and "nope.toml: file not found" in result.output
    path = tmp_path / "c.toml"
    path.write_text('extends = "gone.toml"\n')
    result = runner.invoke(app, ["solve", str(path)])
    assert result.exit_code == 2 and "c.toml: extends: 'gone.toml' not found" in result.output


def test_extends_cycle(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    result = runner.invoke(app, ["validate", str(tmp_path / "a.toml")])
    assert result.exit_code == 2
    assert "extends cycle: a.toml -> b.toml -> a.toml" in result.output


def test_solve_refuses_to_overwrite_and_keeps_the_file(folder: Path) -> None:
    existing = folder / "plan.xlsx"
    existing.write_bytes(b"precious")
    result = runner.invoke(app, ["solve", str(folder / "base.toml"), "-o", str(existing)])
    assert result.exit_code == 2 and "--force" in result.output
    assert existing.read_bytes() == b"precious"


def test_bad_scenario_leaves_existing_outputs_untouched(folder: Path) -> None:
    existing = folder / "plan.xlsx"
    existing.write_bytes(b"precious")
    bad = child(folder, "[fund]\nopening_balance = -inf\n")
    result = runner.invoke(app, ["solve", str(bad), "-o", str(existing), "--force"])
    assert result.exit_code == 2
    assert existing.read_bytes() == b"precious"
    assert sorted(p.name for p in folder.iterdir()) == ["base.toml", "child.toml", "plan.xlsx"]


def test_merge_overrides_semantics() -> None:
    base = {"fund": {"appropriation": {"2027": 1, "2030": 2}, "floor": 0},
            "supply": [{"name": "a", "price": 1, "capacity": 5}, {"name": "b", "price": 2}]}
    override = {"fund": {"appropriation": {"2027": 9}},
                "supply": [{"name": "a", "price": 3}, {"name": "b", "remove": True}, {"name": "c", "price": 4}]}
    merged = merge_overrides(base, override)
    assert merged["fund"] == {"appropriation": {"2027": 9}, "floor": 0}  # a series is replaced whole
    assert merged["supply"] == [{"name": "a", "price": 3, "capacity": 5}, {"name": "c", "price": 4}]
    assert base["supply"][0]["price"] == 1  # the parent is not modified


def test_child_scenario_overrides_parent(folder: Path) -> None:
    path = child(folder, 'name = "Child"\n[fund]\nappropriation = 1e9\n'
                         '[[supply]]\nname = "China antimony import"\nremove = true\n')
    scenario = load_scenario(path)
    base = load_scenario(folder / "base.toml")
    assert scenario.name == "Child"
    assert scenario.fund.appropriation.at(2031) == 1e9
    assert [o.name for o in scenario.supply] == [o.name for o in base.supply if o.name != "China antimony import"]
    assert scenario.materials == base.materials


def test_removing_an_unknown_option_is_an_error(folder: Path) -> None:
    path = child(folder, '[[supply]]\nname = "No such option"\nremove = true\n')
    with pytest.raises(InputError, match=r"child.toml: supply\[1\].remove: there is no supply entry named"):
        load_scenario(path)
