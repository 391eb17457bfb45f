"""Two-stage hedging: hand-solved tree, degenerate trees, sampling, CVaR, CLI and workbook."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from stockpile.outputs.excel.sheet import named_ranges
from stockpile.cli.app import app
from stockpile.errors import InputError
from stockpile.analysis import executor
from stockpile.analysis.hedge.tree import average_future, build_hedge, futures_of, hedge, solve_hedge
from stockpile.model.build import build
from stockpile.scenario.load import load_scenario, scenario_from_dict
from stockpile.scenario.schema import to_plain
from stockpile.solve.lexicographic import solve_model

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def two_futures(**uncertainty) -> dict:
    """One material, goal 0 in FY2027 and 100 t in FY2028; decision FY2028 (FY2027 orders shared).

    A: Canada, $15,000/t, lead time 1, orderable in FY2027 only (delivers FY2028).
    B: Chile, $10,000/t, up to 100 t, lead time 0, orderable from FY2028.
    Futures, each p = 0.5: "calm" (B available) and "ban" (Chile cut off from FY2028).
    """
    raw = {
        "name": "two futures", "horizon": {"first_fy": 2027, "last_fy": 2028},
        "countries": {"Canada": ["fta"], "Chile": [], "United States": []},
        "materials": {"X": {"name": "Testium", "goal": {"2027": 0, "2028": 100}}},
        "supply": [
            {"name": "A", "material": "X", "kind": "import", "country": "Canada", "capacity": 1000,
             "price": 15000, "lead_time": 1, "last_fy": 2027},
            {"name": "B", "material": "X", "kind": "import", "country": "Chile", "capacity": 100,
             "price": 10000, "lead_time": 0, "first_fy": 2028},
        ],
        "fund": {"opening_balance": 1e9},
        "uncertainty": {"decision_fy": 2028, "futures": {
            "calm": {"probability": 0.5},
            "ban": {"probability": 0.5, "events": {"chile-ban": {
                "country": "Chile", "material": "X", "from_fy": 2028, "availability": 0.0}}}}},
    }
    raw["uncertainty"].update(uncertainty)
    return raw


def test_hand_solved_two_future_instance():
    """Solvency is free (a $1B Fund); readiness first, then cost.

    Hedged (RP): only the FY2027 order q from A reaches FY2028 in the ban future, so readiness
    needs q = 100 t: expected shortfall 0, cost 100 x 15,000 = $1.5M (B is not needed).
    Foresight (WS): calm buys 100 t of B ($1.0M), ban 100 t of A ($1.5M): cost 1.25, shortfall 0.
    Average future: B holds 50 t on average, so its plan buys 50 t of B and 50 t of A; fixing
    q = 50 in the tree leaves the ban future 50 t short: EEV shortfall 0.5 x 50/100 = 0.25 and
    cost 0.75 + 0.5 x 0.5 = $1.0M.
    VSS = EEV - RP = (0, 0.25, -0.5); EVPI = RP - WS = (0, 0, 0.25).
    """
    result = hedge(scenario_from_dict(two_futures()))
    shared = result.shared_orders
    assert list(zip(shared.option, shared.fy)) == [("A", 2027)]
    assert shared.tonnes.iloc[0] == pytest.approx(100.0, abs=1e-6)
    m = result.measures.set_index("priority")
    assert m.loc["shortfall", "hedged_RP"] == pytest.approx(0.0, abs=1e-6)
    assert m.loc["cost", "hedged_RP"] == pytest.approx(1.5, rel=1e-6)
    assert m.loc["cost", "wait_and_see_WS"] == pytest.approx(1.25, rel=1e-6)
    assert m.loc["shortfall", "average_future_EEV"] == pytest.approx(0.25, rel=1e-6)
    assert m.loc["cost", "average_future_EEV"] == pytest.approx(1.0, rel=1e-6)
    assert m.loc["shortfall", "VSS"] == pytest.approx(0.25, rel=1e-6)
    assert m.loc["cost", "VSS"] == pytest.approx(-0.5, rel=1e-6)
    assert m.loc["deficit", "VSS"] == 0.0 and m.loc["shortfall", "EVPI"] == pytest.approx(0.0, abs=1e-6)
    assert m.loc["cost", "EVPI"] == pytest.approx(0.25, rel=1e-6)
    outcomes = result.outcomes.set_index("future")
    assert outcomes.loc["calm", "own_optimum_cost"] == pytest.approx(1.0, rel=1e-6)
    assert outcomes.loc["ban", "own_optimum_cost"] == pytest.approx(1.5, rel=1e-6)
    assert all(plan.audit.ok for plan in result.plans.values())


def test_one_future_hedge_is_the_deterministic_plan():
    raw = two_futures()
    raw["uncertainty"]["futures"] = {"only": raw["uncertainty"]["futures"]["ban"] | {"probability": 1.0}}
    result = hedge(scenario_from_dict(raw))
    deterministic_raw = copy.deepcopy(raw)
    deterministic_raw.pop("uncertainty")
    deterministic_raw["events"] = raw["uncertainty"]["futures"]["only"]["events"]
    alone = solve_model(build(scenario_from_dict(deterministic_raw)))
    for name in ("deficit", "shortfall", "cost"):
        assert result.expected[name] == pytest.approx(alone.objective_values[name], rel=1e-6, abs=1e-9)
    m = result.measures.set_index("priority")
    assert (m.VSS == 0).all() and (m.EVPI == 0).all()


def test_identical_futures_have_no_value_of_hedging_or_information():
    raw = two_futures()
    ban = raw["uncertainty"]["futures"]["ban"]
    raw["uncertainty"]["futures"] = {"one": ban, "two": copy.deepcopy(ban)}
    result = hedge(scenario_from_dict(raw))
    m = result.measures.set_index("priority")
    assert (m.VSS == 0).all() and (m.EVPI == 0).all()


def test_cvar_at_level_half_of_two_equal_futures_is_the_worse_one():
    """Money for 60 t only ($0.9M at $15,000/t, A in FY2027; B never available): shortfall 40 t in
    both futures would tie, so make the ban future need more: goal 100 in 'ban', 50 in 'calm'
    via a draw of 50 t in 'ban'... Simpler: with CVaR at 0.5 and weight 1 over two equiprobable
    futures, the readiness objective is the larger of the two futures' shortfalls."""
    raw = two_futures(cvar={"level": 0.5, "weight": 1.0})
    raw["fund"] = {"opening_balance": 0.9e6}
    raw["supply"][1]["capacity"] = 30  # calm future: 30 t more from B at $10,000/t
    result = hedge(scenario_from_dict(raw), measures=False)
    per_future = result.outcomes.set_index("future").shortfall
    assert result.solution.objective_values["shortfall"] == pytest.approx(per_future.max(), rel=1e-6)


def test_sampled_trees_are_reproducible():
    scenario = load_scenario(ROOT / "scenarios" / "hedge-sampled.toml")
    first, again = futures_of(scenario), futures_of(scenario)
    assert [f.description for f in first] == [f.description for f in again]
    assert [f.scenario.canonical_json() for f in first] == [f.scenario.canonical_json() for f in again]
    raw = to_plain(scenario)
    raw["uncertainty"]["sample"]["seed"] = 8
    other = futures_of(scenario_from_dict(raw))
    assert [f.description for f in other] != [f.description for f in first]
    assert sum(f.probability for f in first) == pytest.approx(1.0)
    assert any("FY20" in f.description for f in first)  # some futures are disrupted


@pytest.mark.parametrize("change, where, reason", [
    (lambda u: u["futures"]["calm"].update(probability=0.6), "uncertainty", "sum to 1.1"),
    (lambda u: u.update(decision_fy=2027), "uncertainty.decision_fy", "must be after the first FY"),
    (lambda u: u.update(sample={"n": 2, "seed": 1, "disruptions": [{"country": "Chile", "start_probability": 0.1,
                                                                    "end_probability": 0.5}]}),
     "uncertainty", "not both"),
    (lambda u: u["futures"]["ban"]["events"]["chile-ban"].update(country="Narnia"),
     "uncertainty.futures.ban.events.chile-ban.country", "unknown country"),
])
def test_bad_trees_are_input_errors(change, where, reason):
    raw = two_futures()
    change(raw["uncertainty"])
    with pytest.raises(InputError) as caught:
        scenario_from_dict(raw, source="tree.toml")
    assert f"tree.toml: {where}" in str(caught.value) and reason in str(caught.value)


def test_eev_by_future_equals_the_tree_with_the_average_orders_fixed():
    """EEV solves each future alone under the average future's here-and-now orders; the tree with
    those orders fixed, solved whole, gives the same expectations."""
    scenario = load_scenario(ROOT / "scenarios" / "hedge-disruptions.toml")
    result = hedge(scenario)
    futures = futures_of(scenario)
    model = build_hedge(scenario, futures, scenario.uncertainty.decision_fy)
    ev_model = build(average_future(scenario, futures))
    ev = solve_model(ev_model)
    lp = ev_model.lp
    fixed = {(lp.col_family[c], lp.col_key[c]): ev.x[c] for c in range(lp.n_cols)
             if model.is_shared(lp.col_family[c], lp.col_key[c])}
    whole = solve_hedge(model, fixed_shared=fixed).objective_values
    measures = result.measures.set_index("priority")
    for name in ("deficit", "shortfall", "cost"):
        assert measures.loc[name, "average_future_EEV"] == pytest.approx(whole[name], rel=1e-6, abs=1e-9)


def test_futures_evaluated_on_processes_give_the_same_measures(monkeypatch):
    scenario = load_scenario(ROOT / "scenarios" / "hedge-disruptions.toml")
    serial = hedge(scenario)
    monkeypatch.setattr(executor, "PARENT_SOLVES", False)  # every future solved by the pool
    pooled = hedge(scenario, workers=2)
    assert serial.executor == "1 process" and pooled.executor.startswith("2 processes (2 of 2 tasks")
    pd.testing.assert_frame_equal(serial.measures, pooled.measures, check_exact=True)
    pd.testing.assert_frame_equal(serial.outcomes, pooled.outcomes, check_exact=True)


def test_futures_evaluated_on_dask_give_the_same_measures():
    distributed = pytest.importorskip("distributed")
    scenario = load_scenario(ROOT / "scenarios" / "hedge-disruptions.toml")
    serial = hedge(scenario)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_dask = hedge(scenario, dask_address=cluster.scheduler_address)
    assert on_dask.executor == f"Dask at {cluster.scheduler_address}"
    pd.testing.assert_frame_equal(serial.measures, on_dask.measures, check_exact=True)


def test_cli_hedge_on_the_shipped_tree_writes_the_workbook(tmp_path: Path):
    out = tmp_path / "hedge.xlsx"
    result = runner.invoke(app, ["hedge", str(ROOT / "scenarios" / "hedge-disruptions.toml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "audit: passed in every future (4)" in result.output and "VSS" in result.output
    wb = load_workbook(out)
    assert wb.sheetnames == ["Summary", "Shared orders", "Futures", "Distribution"]
    assert named_ranges(wb)["ValueOfHedging"][0].title == "Summary" and len(wb["Distribution"]._charts) == 2
    futures = wb["Futures"]
    ref = named_ranges(wb)["Futures"][1]
    rows = [[c.value for c in row] for row in futures[ref]]
    assert len(rows) == 1 + 4 and all(r[-1].startswith("passed") for r in rows[1:])
    again = runner.invoke(app, ["hedge", str(ROOT / "scenarios" / "hedge-disruptions.toml"), "-o", str(out)])
    assert again.exit_code == 2


def test_hedge_without_a_tree_is_an_input_error():
    result = runner.invoke(app, ["hedge", str(ROOT / "scenarios" / "baseline.toml")])
    assert result.exit_code == 2 and "no [uncertainty] section" in result.output
