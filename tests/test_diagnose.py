"""Infeasibility diagnosis: the smallest set of hard limits to move, by how much, by scenario key.

Each instance below is infeasible for a reason worked out by hand in its docstring. The tests check
that the report names exactly the keys that must move (and only those), that each moves by the
amount the arithmetic gives, that the set is minimal (holding any one of its limits at its
scenario value leaves the scenario infeasible), and that applying the report to the raw scenario
gives a scenario that solves and passes its audit.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import build, make_scenario
from typer.testing import CliRunner

from stockpile.cli.app import app
from stockpile.solve.diagnose import InfeasibleError, diagnose, diagnose_failure
from stockpile.solve.relaxations import Relaxation, apply_relaxations
from stockpile.errors import SolveError
from stockpile.plan.pipeline import plan_scenario
from stockpile.scenario.load import load_scenario, scenario_from_dict
from stockpile.scenario.schema import to_plain

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
runner = CliRunner()

COUNTRIES = {"United States": ["domestic"], "Canada": ["fta"], "China": ["covered"]}


def crafted_raw() -> dict:
    """Three conflicts, one limit each to move (FY2027..FY2029, material X, goal 100 t):

    * option A (Canada, untrusted: only ``domestic`` is trusted) must order 300 t in FY2028, but the
      trusted-share floor of 50% with no trusted option allows no orders at all: the fixed order
      must fall to 0 (lowering the floor would also need A's capacity of 100 t raised: two limits);
    * option C (China, covered) must order 50 t in FY2027, but a ban covers it from FY2027: the
      fixed order must fall to 0 (moving the ban alone would still break the share floor);
    * committed payments of $25M in FY2029 exceed the $10M obligation cap: the cap must rise to $25M.
    """
    return make_scenario(
        countries=COUNTRIES,
        supply=[{"name": "A", "material": "X", "kind": "import", "country": "Canada", "capacity": 100.0,
                 "price": 50_000.0, "fixed": {"2028": 300.0}},
                {"name": "C", "material": "X", "kind": "import", "country": "China", "capacity": 1000.0,
                 "price": 20_000.0, "fixed": {"2027": 50.0}}],
        fund={"opening_balance": 1e9, "obligation_cap": 10e6, "committed_payments": {"2029": 25e6}},
        policy={"trusted_tags": ["domestic"], "trusted_share": {"X": 0.5},
                "bans": [{"material": "X", "tag": "covered", "from_fy": 2027, "reason": "test ban"}]},
    )


def diagnosis_of(raw: dict):
    scenario = build(raw)
    with pytest.raises(InfeasibleError) as caught:
        plan_scenario(scenario)
    return scenario, caught.value.diagnosis


def assert_relaxing_solves(scenario, diagnosis) -> None:
    relaxed = scenario_from_dict(diagnosis.apply(to_plain(scenario)), source="<relaxed>")
    plan = plan_scenario(relaxed)
    assert plan.audit.ok


def assert_minimal(scenario, diagnosis) -> None:
    """Holding any one reported limit at its scenario value leaves the scenario infeasible."""
    for held in diagnosis.relaxations:
        others = [r for r in diagnosis.relaxations if r is not held]
        partial = scenario_from_dict(apply_relaxations(to_plain(scenario), others, list(scenario.fys)))
        with pytest.raises(InfeasibleError):
            plan_scenario(partial)


def test_crafted_scenario_names_the_minimal_limits_and_relaxing_them_solves() -> None:
    scenario, diagnosis = diagnosis_of(crafted_raw())
    moves = {r.key: (r.current, r.required) for r in diagnosis.relaxations}
    assert moves == {"fund.obligation_cap.2029": (10e6, 25e6),
                     "supply[1].fixed.2028": (300.0, 0.0),
                     "supply[2].fixed.2027": (50.0, 0.0)}
    assert diagnosis.minimal and diagnosis.confirmed
    report = diagnosis.report()
    for key in moves:
        assert key in report
    assert "from $10.0M to $25.0M (+$15.0M)" in report
    assert_relaxing_solves(scenario, diagnosis)
    assert_minimal(scenario, diagnosis)


def test_the_same_diagnosis_when_cbc_finds_the_infeasibility() -> None:
    scenario = build(crafted_raw())
    with pytest.raises(InfeasibleError) as caught:
        plan_scenario(scenario, solver="cbc")
    assert {r.key for r in caught.value.diagnosis.relaxations} == {
        "fund.obligation_cap.2029", "supply[1].fixed.2028", "supply[2].fixed.2027"}


def _single(**overrides) -> dict:
    return make_scenario(countries=COUNTRIES, **overrides)


# (raw scenario, the keys that may be reported, derivation)
SINGLE_CONFLICTS = {
    "fixed order above capacity": (
        _single(supply=[{"name": "A", "material": "X", "kind": "import", "country": "Canada", "capacity": 100.0,
                         "price": 50_000.0, "fixed": {"2028": 160.0}}]),
        # Either capacity rises to 160 t in FY2028 or the fixed order falls to 100 t: one limit.
        {"supply[1].capacity.2028": 160.0, "supply[1].fixed.2028": 100.0}),
    "fixed order from a banned option": (
        _single(supply=[{"name": "C", "material": "X", "kind": "import", "country": "China", "capacity": 100.0,
                         "price": 50_000.0, "fixed": {"2028": 40.0}}],
                policy={"bans": [{"material": "X", "tag": "covered", "from_fy": 2027}]}),
        # The ban must start in FY2029, or the fixed order must be 0.
        {"policy.bans[1].from_fy": 2029, "supply[1].fixed.2028": 0.0}),
    "fixed untrusted order under a floor": (
        _single(supply=[{"name": "A", "material": "X", "kind": "import", "country": "Canada", "capacity": 100.0,
                         "price": 50_000.0, "fixed": {"2027": 80.0}},
                        {"name": "D", "material": "X", "kind": "domestic", "country": "United States",
                         "capacity": 20.0, "price": 90_000.0}],
                policy={"trusted_tags": ["domestic"], "trusted_share": {"X": 0.5}}),
        # 20 t trusted at most against 80 t untrusted: the floor must fall to 20/100 = 20%, or the
        # fixed order to 20 t (equal to the trusted 20 t).
        {"policy.trusted_share.X.2027": 0.2, "supply[1].fixed.2027": 20.0}),
    "fixed order above the single-country cap": (
        _single(supply=[{"name": "A", "material": "X", "kind": "import", "country": "Canada", "capacity": 100.0,
                         "price": 50_000.0, "fixed": {"2029": 90.0}},
                        {"name": "D", "material": "X", "kind": "domestic", "country": "United States",
                         "capacity": 30.0, "price": 90_000.0}],
                policy={"concentration_cap": 0.6}),
        # Canada 90 t of at most 120 t is 75% > 60%: the cap must rise to 75%, or the fixed order fall
        # to 45 t (45 / (45 + 30) = 60%).
        {"policy.concentration_cap.2029": 0.75, "supply[1].fixed.2029": 45.0}),
    "fixed order above the AMP limit": (
        _single(materials={"X": {"amp_limit": 70.0}},
                supply=[{"name": "A", "material": "X", "kind": "import", "country": "Canada", "capacity": 100.0,
                         "price": 50_000.0, "fixed": {"2027": 90.0}}]),
        {"materials.X.amp_limit.2027": 90.0, "supply[1].fixed.2027": 70.0}),
    "committed payments above the obligation cap": (
        _single(fund={"opening_balance": 1e9, "obligation_cap": {"2027": 40e6, "2028": 5e6},
                      "committed_payments": {"2028": 12.5e6}}),
        # Nothing to buy can help: the FY2028 cap must rise to the $12.5M committed.
        {"fund.obligation_cap.2028": 12.5e6}),
    "fixed order past a bounded last tier": (
        _single(supply=[{"name": "A", "material": "X", "kind": "import", "country": "Canada", "capacity": 500.0,
                         "price": 50_000.0, "fixed": {"2027": 260.0},
                         "tiers": [{"up_to": 100.0, "factor": 1.0}, {"up_to": 200.0, "factor": 2.0}]}]),
        # The tiers allow 200 t a year: the last tier's top must rise to 260 t, or the order fall to 200 t.
        {"supply[1].tiers[2].up_to": 260.0, "supply[1].fixed.2027": 200.0}),
    "fixed recycling above feedstock x yield": (
        _single(recycling=[{"name": "R", "material": "X", "feedstock": 100.0, "recovery_yield": 0.5,
                            "cost": 10_000.0, "fixed": {"2028": 80.0}}]),
        # 50 t recoverable: feedstock must rise to 80 / 0.5 = 160 t, or the order fall to 50 t.
        {"recycling[1].feedstock.2028": 160.0, "recycling[1].fixed.2028": 50.0}),
    "fixed order while an event cuts supply": (
        _single(supply=[{"name": "A", "material": "X", "kind": "import", "country": "Canada", "capacity": 100.0,
                         "price": 50_000.0, "fixed": {"2028": 30.0}}],
                events={"strike": {"country": "Canada", "from_fy": 2028, "to_fy": 2028, "availability": 0.0}}),
        # The event must let 30 of 100 t through (availability 30%), or the fixed order be 0.
        {"events.strike.availability": 0.3, "supply[1].fixed.2028": 0.0}),
}


@pytest.mark.parametrize("case", sorted(SINGLE_CONFLICTS), ids=str)
def test_one_conflict_one_limit_by_the_amount_worked_out(case: str) -> None:
    raw, allowed = SINGLE_CONFLICTS[case]
    scenario, diagnosis = diagnosis_of(raw)
    assert len(diagnosis.relaxations) == 1, diagnosis.report()
    (relaxation,) = diagnosis.relaxations
    assert relaxation.key in allowed, diagnosis.report()
    assert relaxation.required == pytest.approx(allowed[relaxation.key], rel=1e-3, abs=1e-6), diagnosis.report()
    assert relaxation.key in diagnosis.report() and diagnosis.confirmed
    assert_relaxing_solves(scenario, diagnosis)


def test_a_feasible_scenario_has_no_diagnosis() -> None:
    assert diagnose(build(make_scenario())) is None


def test_a_time_limit_is_reported_as_it_is_not_diagnosed() -> None:
    scenario = build(crafted_raw())
    stopped = SolveError("scenario 'x': no optimal plan in the deficit stage: the solver reached the time limit")
    assert diagnose_failure(scenario, stopped) is stopped
    interrupted = SolveError("scenario 'x': no optimal plan in the deficit stage: the solve was interrupted")
    assert diagnose_failure(scenario, interrupted) is interrupted


def test_apply_writes_each_kind_of_key_into_the_raw_scenario() -> None:
    fys = [2027, 2028, 2029]
    raw = {"supply": [{"capacity": {"ramp": {"2027": 10.0, "2029": 30.0}}, "fixed": {"FY2028": 5.0}}],
           "policy": {"trusted_share": {"X": 0.5}, "bans": [{"from_fy": 2027}]},
           "events": {"e": {"availability": 0.0}}}
    relaxations = [
        Relaxation(("supply", 0, "capacity"), 2028, "per_fy", "", "t", "raise", 20.0, 25.0),
        Relaxation(("supply", 0, "fixed"), 2028, "schedule", "", "t", "set", 5.0, 3.0),
        Relaxation(("policy", "trusted_share", "X"), 2029, "per_fy", "", "share", "lower", 0.5, 0.25),
        Relaxation(("policy", "bans", 0, "from_fy"), None, "value", "", "FY", "later", 2027, 2030),
        Relaxation(("events", "e", "availability"), None, "value", "", "availability", "raise", 0.0, 0.4),
    ]
    assert [r.key for r in relaxations] == ["supply[1].capacity.2028", "supply[1].fixed.2028",
                                            "policy.trusted_share.X.2029", "policy.bans[1].from_fy",
                                            "events.e.availability"]
    out = apply_relaxations(raw, relaxations, fys)
    assert out["supply"][0]["capacity"] == {"2027": 10.0, "2028": 25.0, "2029": 30.0}
    assert out["supply"][0]["fixed"] == {"2028": 3.0}
    assert out["policy"]["trusted_share"]["X"] == {"2027": 0.5, "2028": 0.5, "2029": 0.25}
    assert out["policy"]["bans"][0]["from_fy"] == 2030 and isinstance(out["policy"]["bans"][0]["from_fy"], int)
    assert out["events"]["e"]["availability"] == 0.4
    assert raw["supply"][0]["fixed"] == {"FY2028": 5.0}  # the input is left as it was


def infeasible_file(folder: Path) -> Path:
    """The baseline with three conflicts a planner could write by hand."""
    path = folder / "infeasible.toml"
    path.write_text(f'''name = "Crafted infeasible: hard limits that cannot all be met"
extends = "{BASELINE.as_posix()}"

[[supply]]
name = "China tungsten import"            # covered: banned by policy.bans[1] (10 U.S.C. 4872)
fixed = {{ 2028 = 500 }}                  # ... yet a fixed order of 500 t in FY2028

[[supply]]
name = "Congo (Kinshasa) cobalt import"   # untrusted
fixed = {{ 2029 = 2000 }}                 # more than trusted cobalt can match at a 50% floor

[fund]
committed_payments = {{ 2027 = 180e6 }}   # payments on orders placed before the horizon
obligation_cap = 150e6                    # below the FY2027 committed payments
''', encoding="utf-8")
    return path


def test_cli_exits_1_with_the_report_and_writes_nothing(tmp_path: Path) -> None:
    path = infeasible_file(tmp_path)
    out = tmp_path / "plan.xlsx"
    result = runner.invoke(app, ["solve", str(path), "-o", str(out), "--json", str(tmp_path / "s.json")])
    assert result.exit_code == 1, result.output
    assert "is infeasible" in result.output and "Traceback" not in result.output
    # The option's position in the resolved scenario (the data's options come before it).
    position = next(i for i, o in enumerate(load_scenario(path).supply, start=1) if o.name == "China tungsten import")
    fixed_key = f"supply[{position}].fixed.2028"
    for key in ("fund.obligation_cap.2027", fixed_key):
        assert key in result.output
    assert "policy.trusted_share.Co.2029" in result.output or "fixed.2029" in result.output
    assert not out.exists() and not (tmp_path / "s.json").exists()
    assert not list(tmp_path.glob(".*.tmp*"))

    # Relaxing the limits exactly as reported makes the scenario solvable.
    scenario = load_scenario(path)
    with pytest.raises(InfeasibleError) as caught:
        plan_scenario(scenario)
    diagnosis = caught.value.diagnosis
    assert {r.key for r in diagnosis.relaxations} >= {"fund.obligation_cap.2027", fixed_key}
    assert_relaxing_solves(scenario, diagnosis)
    assert_minimal(scenario, diagnosis)

    explained = runner.invoke(app, ["explain", str(path)])
    assert explained.exit_code == 1 and "fund.obligation_cap.2027" in explained.output
