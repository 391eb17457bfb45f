"""The benchmark's scenario generator: deterministic, valid, solvable (no timings asserted).

The benchmark itself (``python -m bench``) is not part of the test suite; these tests only check
that what it feeds stockpile is sound: the same seed gives the same scenario, the scenario
validates and solves with its audit passing, it survives a round trip through TOML, and the K
futures are deterministic and valid, as K scenarios and as the ``[uncertainty]`` tree of
``stockpile hedge``.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import future_scenarios, generate, generate_futures, to_toml, with_uncertainty  # noqa: E402

from stockpile.scenario.load import scenario_from_dict  # noqa: E402

from conftest import solve  # noqa: E402


def test_same_seed_same_scenario_and_another_seed_another():
    first, again = generate(6, 10, 8, seed=7), generate(6, 10, 8, seed=7)
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
    assert json.dumps(generate(6, 10, 8, seed=8), sort_keys=True) != json.dumps(first, sort_keys=True)


def test_generated_scenario_has_the_baselines_shapes():
    raw = generate(8, 12, 10, seed=1, tier_share=0.5)
    scenario = scenario_from_dict(raw)
    assert len(scenario.materials) == 8 and len(scenario.options) == 8 * 12
    assert len(scenario.fys) == 10
    kinds = {getattr(o, "kind", "recycling") for o in scenario.options}
    assert kinds == {"import", "domestic", "partner_project", "recycling"}
    assert any(o.tiers for o in scenario.supply)
    prices = [o.price.at(scenario.horizon.first_fy) for o in scenario.supply]
    assert 5_000 < min(prices) and max(prices) < 150_000          # $/t, like the baseline's 10k-80k
    assert scenario.policy.trusted_share and scenario.fund.opening_balance > 0


@pytest.mark.parametrize("cap", [None, 0.7])
def test_generated_scenario_solves_and_passes_its_audit(cap):
    scenario = scenario_from_dict(generate(5, 8, 6, seed=3, concentration_cap=cap))
    plan = solve(scenario)
    assert plan.audit.ok, plan.audit.summary
    assert not plan.tables["orders"].empty


def test_toml_round_trip():
    raw = generate(4, 6, 5, seed=2)
    assert tomllib.loads(to_toml(raw)) == raw


def test_futures_are_deterministic_and_valid():
    raw = generate(4, 8, 6, seed=4)
    futures = generate_futures(raw, 5, seed=1)
    assert futures == generate_futures(raw, 5, seed=1)
    assert [f["name"] for f in futures] == [f"future-{i:03d}" for i in range(1, 6)]
    assert sum(f["probability"] for f in futures) == pytest.approx(1.0)
    for future, scenario in zip(futures, future_scenarios(raw, futures)):
        assert set(future["events"]) <= set(scenario["events"])
        scenario_from_dict(scenario)
    tree = with_uncertainty(raw, futures)      # the input of stockpile hedge
    assert tomllib.loads(to_toml(tree)) == tree
    hedged = scenario_from_dict(tree)
    assert set(hedged.uncertainty.futures) == {f["name"] for f in futures}
    assert all(event.from_fy >= hedged.uncertainty.decision_fy
               for future in hedged.uncertainty.futures.values() for event in future.events.values())


def test_sweep_bench_runs_the_sweeps_own_path():
    """bench.sweep times the sweep's own points (every one warm and optimal, its assertion), the
    independently audited first, middle and last apart from the LP-checked rest."""
    from bench.sweep import point_against_resolve

    from stockpile.scenario.load import load_scenario

    measured = point_against_resolve(load_scenario(ROOT / "scenarios" / "baseline.toml"), 6)
    assert measured["sweep_points"] == 6
    assert all(measured[key] > 0 for key in ("sweep_point_s", "sweep_highs_s", "sweep_whole_s", "sweep_whole_highs_s"))
